"""Finding path and query dependencies: scoped principals, the finding from the path (404 here, once), and
the list filters parsed from the query string."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from s4e_platform.auth.dependencies import DbSession, apply_rate_limit, require
from s4e_platform.auth.principal import Principal
from s4e_platform.finding import service
from s4e_platform.finding.models import Finding
from s4e_platform.finding.queries import FindingFilters, parse_filters, query_error

ReadFindings = Annotated[Principal, Depends(require("read:findings"))]
WriteFindings = Annotated[Principal, Depends(require("write:findings"))]
FindingId = Annotated[str, Path(description="Finding id (fnd_...)", max_length=64)]
EXPORT_RATE = (5, 0)  # api.md 1.9: 5/min, no burst


def finding_for_read(finding_id: FindingId, principal: ReadFindings, session: DbSession) -> Finding:
    return service.get(session, principal, finding_id)


def finding_for_write(finding_id: FindingId, principal: WriteFindings, session: DbSession) -> Finding:
    return service.get(session, principal, finding_id)


ReadableFinding = Annotated[Finding, Depends(finding_for_read)]
WritableFinding = Annotated[Finding, Depends(finding_for_write)]

_Csv = Annotated[str | None, Query(max_length=20_000, description="Comma list")]
_Bool = Annotated[str | None, Query(pattern="^(true|false)$", description="true or false")]


def list_filters(
    severity: _Csv = None,
    status: Annotated[str | None, Query(max_length=512, description="Comma list (default: all but "
                                                                     "false_positive)")] = None,
    asset_id: _Csv = None,
    scan_id: Annotated[str | None, Query(max_length=20_000, description="First or latest detecting scan")] = None,
    service_id: _Csv = None,
    scanner: _Csv = None,
    check_id: _Csv = None,
    category: _Csv = None,
    cve: Annotated[str | None, Query(max_length=20_000, description="CVE ids, e.g. CVE-2021-44228")] = None,
    cwe: Annotated[str | None, Query(max_length=20_000, description="CWE ids, e.g. CWE-79")] = None,
    tag: Annotated[str | None, Query(max_length=20_000, description="Asset tags; any matches")] = None,
    criticality: Annotated[str | None, Query(max_length=256, description="Asset criticality")] = None,
    assignee_id: Annotated[str | None, Query(max_length=20_000, description="usr_ ids; `none` = unassigned")]
    = None,
    kev: _Bool = None,
    epss_min: Annotated[float | None, Query(ge=0, le=1)] = None,
    cvss_min: Annotated[float | None, Query(ge=0, le=10)] = None,
    cvss_max: Annotated[float | None, Query(ge=0, le=10)] = None,
    risk_min: Annotated[int | None, Query(ge=0, le=100)] = None,
    sla_breached: _Bool = None,
    from_: Annotated[datetime | None, Query(alias="from", description="discovered_at >= (inclusive)")] = None,
    to: Annotated[datetime | None, Query(description="discovered_at < (exclusive)")] = None,
    search: Annotated[str | None, Query(max_length=256, description="Title, description, CVE ids")] = None,
) -> FindingFilters:
    raw = {"severity": severity, "status": status, "asset_id": asset_id, "scan_id": scan_id,
           "service_id": service_id, "scanner": scanner, "check_id": check_id, "category": category, "cve": cve,
           "cwe": cwe, "tag": tag, "criticality": criticality, "assignee_id": assignee_id,
           "kev": None if kev is None else kev == "true", "epss_min": epss_min, "cvss_min": cvss_min,
           "cvss_max": cvss_max, "risk_min": risk_min,
           "sla_breached": None if sla_breached is None else sla_breached == "true", "from": from_, "to": to,
           "search": search}
    return parse_filters(raw, query_error)


ListFilters = Annotated[FindingFilters, Depends(list_filters)]


def export_limit(request: Request, principal: ReadFindings) -> None:
    apply_rate_limit(request, principal.rate_key() + ":export", EXPORT_RATE)
