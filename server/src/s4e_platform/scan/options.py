"""Scan options (scanning.md 2.2): the keys every scan shares, unknown-key detection and per-scanner validation.

Scanners validate their own keys (`Scanner.validate`); the keys no scanner reads yet (`timeout`, `categories`,
template selection, crawler budgets ...) are checked here, so a typo is a 422 rather than a silently ignored key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from s4e_platform.errors import Unprocessable, jsonpath
from s4e_platform.scanners import registry
from s4e_platform.scanners.base import InvalidOptions

DEFAULT_TIMEOUT = 3600
CATEGORIES = ("network", "tls", "web", "dns", "discovery", "vuln")
CATEGORY_ALIASES = {"ssl": "tls", "headers": "web", "web_vuln": "vuln"}
Severity = Literal["critical", "high", "medium", "low", "info"]


class CommonOptions(BaseModel):
    """Keys of the scanning.md 2.2 table; scanner-specific keys pass through (`extra="allow"`)."""

    model_config = ConfigDict(extra="allow", strict=False)

    timeout: int = Field(DEFAULT_TIMEOUT, ge=60, le=86400, description="Whole-scan limit in seconds")
    categories: list[str] | None = Field(None, max_length=len(CATEGORIES) + len(CATEGORY_ALIASES))
    include_subdomains: bool = False
    enable_bruteforce: bool = False
    follow_redirects: bool = True
    submit_forms: bool = False
    max_depth: int = Field(5, ge=0, le=50)
    depth: Literal["shallow", "normal", "deep"] | None = None
    max_pages: int = Field(5000, ge=1, le=1_000_000)
    udp_ports: str | list[int | str] | None = None
    template_ids: list[str] | None = Field(None, max_length=10_000)
    template_tags: list[str] | None = Field(None, max_length=1000)
    template_severity: list[Severity] | None = None
    exclude_tags: list[str] | None = Field(None, max_length=1000)
    credentials_secret: str | None = Field(None, min_length=1, max_length=256)


TABLE_KEYS = frozenset({
    "ports", "udp_ports", "port_timeout_ms", "port_concurrency", "rate_limit", "global_rate_limit",
    "follow_redirects", "max_depth", "depth", "max_pages", "include_subdomains", "enable_bruteforce", "timeout",
    "categories", "template_ids", "template_tags", "template_severity", "exclude_tags", "headers", "user_agent",
    "credentials_secret", "submit_forms"})


def known_keys() -> frozenset[str]:
    """The table's keys plus every key a registered scanner declares in its options schema."""
    keys = set(TABLE_KEYS)
    for scanner in registry.all_scanners():
        keys.update((scanner.options_schema or {}).get("properties", {}))
    return frozenset(keys)


def _prefixed(path: str) -> str:
    return path if path.startswith("$.options") else "$.options" + path.removeprefix("$")


def categories(options: dict[str, Any]) -> list[str]:
    """`options.categories` with aliases resolved (validated by `validate`)."""
    out: list[str] = []
    for value in options.get("categories") or []:
        name = CATEGORY_ALIASES.get(value, value)
        if name not in out:
            out.append(name)
    return out


def _common_problems(options: dict[str, Any]) -> list[dict]:
    problems: list[dict] = []
    allowed = known_keys()
    for key in options:
        if key not in allowed:
            problems.append({"path": jsonpath(("options", key)), "message": f"unknown option {key!r}",
                             "code": "unknown_field"})
    try:
        CommonOptions.model_validate(options)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err.get("loc") or ())
            problems.append({"path": jsonpath(("options", *loc)), "code": err.get("type", "invalid"),
                             "message": str(err.get("msg", "invalid value")).removeprefix("Value error, ")})
    for i, value in enumerate(options.get("categories") or []):
        if isinstance(value, str) and CATEGORY_ALIASES.get(value, value) not in CATEGORIES:
            problems.append({"path": f"$.options.categories[{i}]", "code": "unknown_category",
                             "message": f"unknown category {value!r}; use {', '.join(CATEGORIES)} "
                                        f"(aliases {', '.join(CATEGORY_ALIASES)})"})
    return problems


def check_common(options: Any) -> dict[str, Any]:
    """The options object with the shared keys validated; raises a 422 naming every bad key."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise Unprocessable("options must be an object",
                            details=[{"path": "$.options", "message": "must be an object", "code": "type_error"}])
    problems = _common_problems(options)
    if problems:
        raise Unprocessable("Invalid scan options", details=problems)
    return dict(options)


def check_scanners(options: dict[str, Any], scanner_ids: Iterable[str]) -> None:
    """Each selected scanner's own validation; every problem is reported once, under `$.options`."""
    problems: list[dict] = []
    for scanner_id in scanner_ids:
        scanner = registry.get(scanner_id)
        if scanner is None:
            continue
        try:
            scanner.validate(options)
        except InvalidOptions as exc:
            for detail in exc.details:
                entry = {"path": _prefixed(str(detail.get("path", "$"))), "message": str(detail.get("message")),
                         "code": str(detail.get("code", "invalid")), "scanner": scanner_id}
                if not any(p["path"] == entry["path"] and p["message"] == entry["message"] for p in problems):
                    problems.append(entry)
    if problems:
        raise Unprocessable("Invalid scan options", details=problems)
