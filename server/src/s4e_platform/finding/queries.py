"""Finding reads: the list filters of api.md 2.5 (query string or JSON object), sorting, and the workspace- and
restriction-scoped repository every finding read goes through."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, case, cast, func, or_, select
from sqlalchemy.orm import defer

from s4e_platform.asset.models import Asset, AssetTag
from s4e_platform.auth.restriction import asset_condition
from s4e_platform.db.repository import ScopedRepository
from s4e_platform.errors import APIError, BadRequest, validation_error
from s4e_platform.finding.models import SEVERITIES, STATUSES, Finding
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.text import like_escape

DEFAULT_STATUSES = tuple(s for s in STATUSES if s != "false_positive")
CRITICALITIES = ("low", "medium", "high", "critical")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CWE = re.compile(r"^CWE-\d{1,6}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.:/@+-]{1,256}$")
# Severity sorts by rank (critical highest), never alphabetically.
SEVERITY_RANK = case({s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}, value=Finding.severity, else_=0)
SORTS = {"discovered_at": Finding.discovered_at, "last_seen_at": Finding.last_seen_at, "severity": SEVERITY_RANK,
         "cvss": Finding.cvss, "risk_score": Finding.risk_score, "sla_due_at": Finding.sla_due_at,
         "title": Finding.title, "status": Finding.status}
NULLABLE_SORTS = {"cvss", "sla_due_at"}


@dataclass
class FindingFilters:
    """Validated filters; None = not filtered."""

    severities: list[str] | None = None
    statuses: list[str] | None = None
    asset_ids: list[str] | None = None
    scan_ids: list[str] | None = None
    service_ids: list[str] | None = None
    scanners: list[str] | None = None
    check_ids: list[str] | None = None
    categories: list[str] | None = None
    cves: list[str] | None = None
    cwes: list[str] | None = None
    tags: list[str] | None = None
    criticalities: list[str] | None = None
    assignee_ids: list[str] | None = None
    unassigned: bool = False
    kev: bool | None = None
    epss_min: float | None = None
    cvss_min: float | None = None
    cvss_max: float | None = None
    risk_min: int | None = None
    sla_breached: bool | None = None
    start: datetime | None = None
    end: datetime | None = None
    search: str | None = None
    matches_nothing: bool = False  # a malformed id was given: nothing can match it


class _Parser:
    """Turns raw values (comma strings or lists) into FindingFilters; `error(name, message)` builds the 4xx."""

    def __init__(self, error: Callable[[str, str], APIError]) -> None:
        self.error = error
        self.out = FindingFilters()

    def values(self, raw: Any, name: str) -> list[str] | None:
        if raw is None:
            return None
        items = raw if isinstance(raw, list) else str(raw).split(",")
        values = [str(v).strip() for v in items if str(v).strip()]
        if not values:
            raise self.error(name, "give at least one value")
        if len(values) > 1000:
            raise self.error(name, "at most 1000 values")
        return values

    def choice(self, raw: Any, name: str, allowed: tuple[str, ...]) -> list[str] | None:
        values = self.values(raw, name)
        if values is None:
            return None
        values = [v.lower() for v in values]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise self.error(name, f"unknown value {bad[0]!r}; allowed: {', '.join(allowed)}")
        return values

    def ids(self, raw: Any, name: str, prefix: str) -> list[str] | None:
        values = self.values(raw, name)
        if values is None:
            return None
        parsed = [parse_id(v, prefix) for v in values]
        good = [p for p in parsed if p]
        if len(good) < len(parsed):  # a malformed id names nothing, like an unknown one
            self.out.matches_nothing = self.out.matches_nothing or not good
        return good or None

    def pattern(self, raw: Any, name: str, regex: re.Pattern, upper: bool = False) -> list[str] | None:
        values = self.values(raw, name)
        if values is None:
            return None
        values = [v.upper() if upper else v for v in values]
        bad = [v for v in values if not regex.match(v)]
        if bad:
            raise self.error(name, f"malformed value {bad[0]!r}")
        return values


def parse_filters(raw: dict[str, Any], error: Callable[[str, str], APIError]) -> FindingFilters:
    """`raw` has the list's query names (`from`, `to` ...); values are strings, lists, numbers or booleans."""
    p = _Parser(error)
    f = p.out
    f.severities = p.choice(raw.get("severity"), "severity", SEVERITIES)
    f.statuses = p.choice(raw.get("status"), "status", STATUSES)
    f.asset_ids = p.ids(raw.get("asset_id"), "asset_id", "ast")
    f.scan_ids = p.ids(raw.get("scan_id"), "scan_id", "scn")
    f.service_ids = p.ids(raw.get("service_id"), "service_id", "svc")
    f.scanners = p.pattern(raw.get("scanner"), "scanner", _TOKEN)
    f.check_ids = p.pattern(raw.get("check_id"), "check_id", _TOKEN)
    f.categories = p.pattern(raw.get("category"), "category", _TOKEN)
    f.cves = p.pattern(raw.get("cve"), "cve", _CVE, upper=True)
    f.cwes = p.pattern(raw.get("cwe"), "cwe", _CWE, upper=True)
    tags = p.values(raw.get("tag"), "tag")
    f.tags = [t.lower() for t in tags] if tags else None
    f.criticalities = p.choice(raw.get("criticality"), "criticality", CRITICALITIES)
    assignees = p.values(raw.get("assignee_id"), "assignee_id")
    if assignees:
        f.unassigned = any(a.lower() == "none" for a in assignees)
        rest = [a for a in assignees if a.lower() != "none"]
        f.assignee_ids = p.ids(rest, "assignee_id", "usr") if rest else None
    f.kev, f.sla_breached = raw.get("kev"), raw.get("sla_breached")
    f.epss_min, f.cvss_min, f.cvss_max = raw.get("epss_min"), raw.get("cvss_min"), raw.get("cvss_max")
    f.risk_min = raw.get("risk_min")
    f.start, f.end, f.search = raw.get("from"), raw.get("to"), raw.get("search")
    if f.cvss_min is not None and f.cvss_max is not None and f.cvss_min > f.cvss_max:
        raise error("cvss_min", "cvss_min must not exceed cvss_max")
    return f


def query_error(name: str, message: str) -> APIError:
    return BadRequest(f"{name}: {message}", code="invalid_parameter",
                      details=[{"path": f"query.{name}", "message": message, "code": "invalid_parameter"}])


def body_error(prefix: str) -> Callable[[str, str], APIError]:
    return lambda name, message: validation_error(f"{prefix}.{name}", message, "invalid_value")


def filters_from_body(body: Any, prefix: str) -> FindingFilters:
    """FindingFilterBody -> FindingFilters (422 naming `$.filter.<key>` on bad values)."""
    raw = body.model_dump(by_alias=True) if body is not None else {}
    return parse_filters(raw, body_error(prefix))


class FindingRepository(ScopedRepository[Finding]):
    model = Finding

    def restriction_condition(self):
        return asset_condition(self.restriction, Finding.asset_id)

    def filtered(self, f: FindingFilters, *, with_evidence: bool = False) -> Select:
        """The filtered SELECT; lists never load evidence (it is the bulk of a row)."""
        stmt = self.select()
        if not with_evidence:
            stmt = stmt.options(defer(Finding.evidence))
        return stmt.where(*self.conditions(f))

    def scope(self, f: FindingFilters) -> list:
        """Workspace, key restriction and filter conditions, for hand-built SELECTs (summary, export)."""
        restricted = self.restriction_condition()
        return [Finding.workspace_id == self.workspace_id, *([restricted] if restricted is not None else []),
                *self.conditions(f)]

    def conditions(self, f: FindingFilters) -> list:
        if f.matches_nothing:
            return [Finding.id.is_(None)]
        c: list = [Finding.status.in_(f.statuses or DEFAULT_STATUSES)]
        for values, col in ((f.severities, Finding.severity), (f.asset_ids, Finding.asset_id),
                            (f.service_ids, Finding.service_id), (f.scanners, Finding.scanner),
                            (f.check_ids, Finding.check_id), (f.categories, Finding.category)):
            if values:
                c.append(col.in_(values))
        if f.scan_ids:
            c.append(or_(Finding.scan_id.in_(f.scan_ids), Finding.last_scan_id.in_(f.scan_ids)))
        # JSON arrays of well-formed ids (validated above): a quoted LIKE matches one element, on both dialects.
        for values, col in ((f.cves, Finding.cve_ids), (f.cwes, Finding.cwe_ids)):
            if values:
                c.append(or_(*(cast(col, String).like(f'%"{v}"%') for v in values)))
        if f.tags:
            c.append(Finding.asset_id.in_(select(AssetTag.asset_id).where(
                AssetTag.workspace_id == self.workspace_id, AssetTag.tag.in_(f.tags))))
        if f.criticalities:
            c.append(Finding.asset_id.in_(select(Asset.id).where(
                Asset.workspace_id == self.workspace_id, Asset.criticality.in_(f.criticalities))))
        if f.unassigned or f.assignee_ids:
            parts = ([Finding.assignee_id.is_(None)] if f.unassigned else []) + (
                [Finding.assignee_id.in_(f.assignee_ids)] if f.assignee_ids else [])
            c.append(or_(*parts))
        c.extend(self._scalars(f))
        if f.search:
            term = "%" + like_escape(f.search.lower()) + "%"
            c.append(or_(func.lower(Finding.title).like(term, escape="\\"),
                         func.lower(Finding.description).like(term, escape="\\"),
                         func.lower(cast(Finding.cve_ids, String)).like(term, escape="\\")))
        return c

    @staticmethod
    def _scalars(f: FindingFilters) -> list:
        c: list = []
        if f.kev is not None:
            c.append(Finding.kev.is_(f.kev))
        if f.sla_breached is not None:
            c.append(Finding.sla_breached.is_(f.sla_breached))
        if f.epss_min is not None:
            c.append(Finding.epss >= f.epss_min)
        if f.cvss_min is not None:
            c.append(Finding.cvss >= f.cvss_min)
        if f.cvss_max is not None:
            c.append(Finding.cvss <= f.cvss_max)
        if f.risk_min is not None:
            c.append(Finding.risk_score >= f.risk_min)
        if f.start is not None:
            c.append(Finding.discovered_at >= f.start)
        if f.end is not None:
            c.append(Finding.discovered_at < f.end)
        return c

    def assets(self, ids: set[str]) -> dict[str, Asset]:
        """The assets of a page of findings, in one query."""
        if not ids:
            return {}
        rows = self.session.execute(select(Asset).where(Asset.workspace_id == self.workspace_id,
                                                        Asset.id.in_(sorted(ids)))).scalars()
        return {a.id: a for a in rows}


def sort(stmt: Select, sort_by: str | None, sort_order: str) -> Select:
    key = sort_by or "discovered_at"
    if key not in SORTS:
        raise BadRequest(f"sort_by must be one of {', '.join(sorted(SORTS))}", code="invalid_parameter",
                         details=[{"path": "query.sort_by", "message": "unknown sort field",
                                   "code": "invalid_parameter"}])
    col = SORTS[key]
    primary = col.asc() if sort_order == "asc" else col.desc()
    if key in NULLABLE_SORTS:  # the same order on SQLite and PostgreSQL: unknown values last
        primary = primary.nulls_last()
    tie = Finding.id.asc() if sort_order == "asc" else Finding.id.desc()
    return stmt.order_by(primary, tie)

