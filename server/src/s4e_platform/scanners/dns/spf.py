"""SPF (RFC 7208) as far as policy quality goes: the record(s), the `all` qualifier in effect, and how many
DNS-querying terms evaluation needs (the RFC caps it at 10; beyond, receivers return permerror)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from s4e_platform.scanners.dns.client import Dns, Lookup

LOOKUP_LIMIT = 10
MAX_DEPTH = 10
_TERM = re.compile(r"^([+\-~?]?)([a-z0-9]+)(?:[:=](.*))?$", re.IGNORECASE)
_LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})


def txt_values(found: Lookup) -> list[str]:
    """TXT records as strings (multi-string records joined, as SPF and DMARC require)."""
    if found.status != "ok" or found.rrset is None:
        return []
    return [b"".join(rd.strings).decode("utf-8", "replace") for rd in found.rrset]


def spf_records(values: list[str]) -> list[str]:
    return [v for v in values if v.lower() == "v=spf1" or v.lower().startswith("v=spf1 ")]


@dataclass
class Policy:
    record: str
    all_qualifier: str | None = None  # "+", "-", "~", "?"; None: no `all` anywhere (neutral by default)
    lookups: int = 0
    problems: list[str] = field(default_factory=list)  # includes that could not be followed


def _terms(record: str) -> list[tuple[str, str, str | None]]:
    out = []
    for raw in record.split()[1:]:
        found = _TERM.match(raw)
        if found:
            out.append((found.group(1) or "+", found.group(2).lower(), found.group(3)))
    return out


async def evaluate(client: Dns, domain: str, record: str) -> Policy:
    policy = Policy(record)
    policy.all_qualifier = await _walk(client, domain, record, policy, depth=0, seen={domain})
    return policy


async def _walk(client: Dns, domain: str, record: str, policy: Policy, *, depth: int, seen: set[str]) -> str | None:
    """Count lookups through includes and redirects; return the `all` qualifier this record ends up with."""
    terms = _terms(record)
    qualifier = next((prefix for prefix, name, _value in terms if name == "all"), None)
    redirect = next((value for _prefix, name, value in terms if name == "redirect" and value), None)
    for _prefix, name, value in terms:
        if policy.lookups > LOOKUP_LIMIT:
            break  # over the limit: the exact count no longer matters
        if name in _LOOKUP_MECHANISMS:
            policy.lookups += 1
            if name == "include" and value:
                await _follow(client, value, policy, depth=depth, seen=seen)
    if redirect:
        policy.lookups += 1
    if qualifier is None and redirect and policy.lookups <= LOOKUP_LIMIT:
        # RFC 7208 6.1: a redirect applies only when the record has no `all` term
        return await _follow(client, redirect, policy, depth=depth, seen=seen)
    return qualifier


async def _follow(client: Dns, target: str, policy: Policy, *, depth: int, seen: set[str]) -> str | None:
    target = target.strip().rstrip(".").lower()
    if "%" in target or depth >= MAX_DEPTH or target in seen:
        return None  # macros depend on the sender; loops and depth are capped
    seen.add(target)
    found = await client.lookup(target, "TXT")
    records = spf_records(txt_values(found))
    if len(records) != 1:
        policy.problems.append(f"{target}: {'no' if not records else len(records)} SPF record(s) ({found.status})")
        return None
    return await _walk(client, target, records[0], policy, depth=depth + 1, seen=seen)
