"""`email_security` checks (scanning.md 2.1), all from DNS: SPF, DMARC, and for domains that receive mail (MX
present and not a null MX) DKIM at common selectors, MTA-STS and TLS-RPT records."""

from __future__ import annotations

import asyncio
import re

from s4e_platform.scanners.dns import spf
from s4e_platform.scanners.dns.client import Dns
from s4e_platform.scanners.dns.findings import Collector, candidate

# Selectors commonly used by mail providers and signing software (our own list).
DKIM_SELECTORS = ("default", "dkim", "mail", "selector1", "selector2", "google", "k1", "k2", "s1", "s2", "smtp",
                  "mx", "key1", "mandrill", "everlytickey1", "zoho", "protonmail", "fm1", "dkim1", "sig1")
_STS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")


def tags(record: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in record.split(";"):
        key, eq, value = part.partition("=")
        if eq:
            out.setdefault(key.strip().lower(), value.strip())
    return out


async def check_spf(client: Dns, domain: str, out: Collector) -> None:
    found = await client.lookup(domain, "TXT")
    if found.status == "error":
        out.issue("spf_not_tested", found.error or "lookup failed", domain)
        return
    records = spf.spf_records(spf.txt_values(found))
    out.metadata["spf"] = records
    if not records:
        out.evaluated("spf_missing", "spf_multiple_records", "spf_pass_all", "spf_soft_all", "spf_too_many_lookups")
        out.add(candidate("spf_missing", domain, "TXT", f"TXT {domain}: no record starts with v=spf1"))
        return
    if len(records) > 1:
        out.add(candidate("spf_multiple_records", domain, "TXT", "\n".join(records), extracted=records))
    policy = await spf.evaluate(client, domain, records[0])
    out.evaluated("spf_missing", "spf_multiple_records", "spf_pass_all", "spf_soft_all")
    if policy.all_qualifier == "+":
        out.add(candidate("spf_pass_all", domain, "TXT", records[0], extracted=["+all"]))
    elif policy.all_qualifier in ("~", "?", None):
        term = f"{policy.all_qualifier}all" if policy.all_qualifier else "no all term"
        out.add(candidate("spf_soft_all", domain, "TXT", records[0], extracted=[term]))
    if policy.lookups > spf.LOOKUP_LIMIT:
        out.add(candidate("spf_too_many_lookups", domain, "TXT", f"{records[0]}\nDNS lookups: more than "
                          f"{spf.LOOKUP_LIMIT} (counted {policy.lookups} before stopping)",
                          extracted=[str(policy.lookups)]))
        out.evaluated("spf_too_many_lookups")
    elif not policy.problems:
        out.evaluated("spf_too_many_lookups")
    else:  # an include we could not read may hide more lookups
        out.issue("spf_lookups_incomplete", "; ".join(policy.problems), domain)


async def _dmarc_record(client: Dns, name: str) -> tuple[list[str], str] | None:
    found = await client.lookup(f"_dmarc.{name}", "TXT")
    if found.status == "error":
        return None
    return [v for v in spf.txt_values(found) if v.replace(" ", "").lower().startswith("v=dmarc1")], found.status


async def check_dmarc(client: Dns, domain: str, out: Collector) -> None:
    """The domain's own record, else the organisational domain's (approximated by walking up to two labels),
    whose `sp` (or `p`) then applies (RFC 7489 6.6.3)."""
    labels = domain.split(".")
    owner, records, inherited = f"_dmarc.{domain}", [], False
    for i in range(0, max(len(labels) - 1, 1)):
        name = ".".join(labels[i:])
        found = await _dmarc_record(client, name)
        if found is None:
            out.issue("dmarc_not_tested", "DMARC lookup failed", f"_dmarc.{name}")
            return
        if found[0]:
            records, inherited = found[0], i > 0
            break
    out.evaluated("dmarc_missing", "dmarc_policy_none", "dmarc_no_rua")
    out.metadata["dmarc"] = records
    if len(records) != 1:
        detail = f"{len(records)} DMARC records are published; receivers then apply none." if records else ""
        out.add(candidate("dmarc_missing", owner, "TXT", "\n".join(records) or f"TXT {owner}: no v=DMARC1 record",
                          detail=detail))
        return
    values = tags(records[0])
    policy = (values.get("sp") or values.get("p")) if inherited else values.get("p")
    if (policy or "none").lower() == "none":
        out.add(candidate("dmarc_policy_none", owner, "TXT", records[0], extracted=[f"p={policy or 'none'}"]))
    if not values.get("rua"):
        out.add(candidate("dmarc_no_rua", owner, "TXT", records[0]))


async def receives_mail(client: Dns, domain: str, out: Collector) -> bool | None:
    found = await client.lookup(domain, "MX")
    if found.status == "error":
        out.issue("mx_not_tested", found.error or "lookup failed", domain)
        return None
    hosts = [r.split()[-1] for r in found.records]
    out.metadata["mx"] = found.records
    return bool(hosts) and hosts != ["."]  # RFC 7505 null MX: the domain accepts no mail


async def check_inbound(client: Dns, domain: str, out: Collector) -> None:
    """DKIM, MTA-STS and TLS-RPT: meaningful only for a domain that handles mail."""
    dkim = await asyncio.gather(*(client.lookup(f"{s}._domainkey.{domain}", "TXT") for s in DKIM_SELECTORS))
    keys = [f"{s}: {v[:80]}" for s, found in zip(DKIM_SELECTORS, dkim, strict=True)
            for v in spf.txt_values(found) if "p=" in v.replace(" ", "")]
    if keys:
        out.evaluated("dkim_missing")
        out.metadata["dkim_selectors"] = [k.split(":", 1)[0] for k in keys]
    elif not any(found.status == "error" for found in dkim):
        out.evaluated("dkim_missing")
        out.add(candidate("dkim_missing", f"_domainkey.{domain}", "TXT",
                          "No DKIM key at selectors: " + ", ".join(DKIM_SELECTORS)))
    sts = await client.lookup(f"_mta-sts.{domain}", "TXT")
    rpt = await client.lookup(f"_smtp._tls.{domain}", "TXT")
    if sts.status != "error":
        out.evaluated("mta_sts_missing", "mta_sts_invalid")
        records = [v for v in spf.txt_values(sts) if v.lower().startswith("v=stsv1")]
        if not records:
            out.add(candidate("mta_sts_missing", f"_mta-sts.{domain}", "TXT", "no v=STSv1 record"))
        elif len(records) > 1 or not _STS_ID.match(tags(records[0]).get("id", "")):
            out.add(candidate("mta_sts_invalid", f"_mta-sts.{domain}", "TXT", "\n".join(records)))
    if rpt.status != "error":
        out.evaluated("tls_rpt_missing")
        if not any(v.lower().startswith("v=tlsrptv1") for v in spf.txt_values(rpt)):
            out.add(candidate("tls_rpt_missing", f"_smtp._tls.{domain}", "TXT", "no v=TLSRPTv1 record"))
