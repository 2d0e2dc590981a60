"""The finding summary carried in event data (events.md 1.2): never evidence bodies, long texts cut."""

from __future__ import annotations

from typing import Any

from s4e_platform.asset.models import Asset
from s4e_platform.config import get_settings
from s4e_platform.finding.models import Finding
from s4e_platform.kit.clock import isoformat

TEXT_LIMIT = 4000
# Columns an ingest RETURNING clause needs to build a summary without reading the row again.
SUMMARY_COLUMNS = ("id", "title", "severity", "original_severity", "cvss", "cvss_vector", "status", "category",
                   "scanner", "check_id", "cve_ids", "cwe_ids", "risk_score", "kev", "epss", "epss_percentile",
                   "fingerprint", "location", "scan_id", "assignee_id", "sla_due_at", "discovered_at",
                   "last_seen_at", "description", "remediation", "references")


def columns() -> list:
    return [Finding.__table__.c[name] for name in SUMMARY_COLUMNS]


def asset_ref(asset: Asset) -> dict[str, Any]:
    return {"id": asset.id, "name": asset.name, "type": asset.type, "criticality": asset.criticality,
            "tags": list(asset.tags or [])}


def summary(row: Any, asset: Asset) -> dict[str, Any]:
    """`row` is a Finding or a RETURNING row with SUMMARY_COLUMNS."""
    loc = row.location or {}
    out: dict[str, Any] = {
        "id": row.id, "title": row.title, "severity": row.severity, "original_severity": row.original_severity,
        "cvss": row.cvss, "cvss_vector": row.cvss_vector, "status": row.status, "category": row.category,
        "scanner": row.scanner, "check_id": row.check_id, "cve_ids": list(row.cve_ids or []),
        "cwe_ids": list(row.cwe_ids or []), "risk_score": row.risk_score, "kev": bool(row.kev), "epss": row.epss,
        "epss_percentile": row.epss_percentile, "fingerprint": row.fingerprint, "asset": asset_ref(asset),
        "location": {k: loc.get(k) for k in ("host", "ip", "port", "protocol", "url")},
        "scan_id": row.scan_id, "assignee_id": row.assignee_id, "sla_due_at": isoformat(row.sla_due_at),
        "discovered_at": isoformat(row.discovered_at), "last_seen_at": isoformat(row.last_seen_at),
        "references": list(row.references or []),
        "console_url": f"{get_settings().base_url.rstrip('/')}/console/findings/{row.id}",
    }
    for key in ("description", "remediation"):
        text = getattr(row, key) or ""
        out[key] = text[:TEXT_LIMIT]
        if len(text) > TEXT_LIMIT:
            out["shortened"] = True
    return out
