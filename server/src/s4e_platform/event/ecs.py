"""ECS documents for the `format=ecs` feed, Elasticsearch `_bulk` and SIEM webhooks (events.md 4.4).

Only fields that have a value are written (an ECS consumer treats a missing field and a null alike, and nulls
bloat every index); `s4e.data` keeps the raw event `data` unchanged (mapped as `flattened`).
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from s4e_platform.event import formats
from s4e_platform.kit.clock import isoformat

ECS_VERSION = "8.11.0"
_CVSS_VERSION = re.compile(r"^CVSS:(\d+\.\d+)/")
_IAM = {"audit.api_key_created": "creation", "audit.api_key_revoked": "deletion",
        "audit.oauth_client_created": "creation", "audit.oauth_client_revoked": "deletion",
        "audit.member_added": "creation", "audit.member_removed": "deletion", "audit.role_changed": "change"}
_FINDING_FIELDS = ("id", "status", "fingerprint", "check_id", "scanner", "cvss_vector", "cve_ids", "cwe_ids",
                   "remediation", "risk_score", "kev", "epss", "epss_percentile", "assignee_id", "sla_due_at")
_ASSET_FIELDS = ("id", "name", "type", "criticality", "tags", "network_zone")


def _prune(value):
    """Drop None, empty strings, lists and objects, recursively (False and 0 are values)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v is not None and v != "" and v != [] and v != {}}
    if isinstance(value, list):
        return [v for v in (_prune(v) for v in value) if v is not None and v != "" and v != [] and v != {}]
    return value


def category(event_type: str) -> tuple[list[str] | None, list[str] | None]:
    """`event.category` / `event.type`."""
    family, _, action = event_type.partition(".")
    if family == "finding":
        return ["vulnerability"], ["info"]
    if family == "asset":
        return ["host"], [{"updated": "change", "deleted": "end"}.get(action, "info")]
    if event_type.startswith("audit.login_"):
        return ["authentication"], ["start"]
    if event_type == "audit.logout":
        return ["authentication"], ["end"]
    if event_type in _IAM:
        return ["iam"], [_IAM[event_type]]
    return None, None


def outcome(event_type: str) -> str | None:
    if event_type.endswith(".completed") or event_type == "audit.login_succeeded":
        return "success"
    if event_type.endswith(".failed") or event_type == "audit.login_failed":
        return "failure"
    return None


def _url(url: str | None) -> dict | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return {"full": url}
    return {"full": url, "scheme": parts.scheme or None, "domain": parts.hostname, "port": port,
            "path": parts.path or None, "query": parts.query or None}


def _vulnerability(finding: dict, data: dict) -> dict:
    cves = [c for c in finding.get("cve_ids") or [] if isinstance(c, str) and c]
    cvss = formats.as_number(finding.get("cvss"))
    version = finding.get("cvss_version")
    match = _CVSS_VERSION.match(str(finding.get("cvss_vector") or ""))
    if not version and match:
        version = match.group(1)
    return {
        "id": cves[0] if cves else finding.get("check_id"),
        "enumeration": "CVE" if cves else ("S4E" if finding.get("check_id") else None),
        "classification": "CVSS" if cvss is not None else None,
        "score": {"base": cvss, "version": version if cvss is not None else None},
        "severity": formats.severity_word(finding).capitalize(),
        "category": [finding["category"]] if finding.get("category") else None,
        "description": finding.get("description"),
        "reference": [r for r in finding.get("references") or [] if isinstance(r, str)],
        "report_id": finding.get("scan_id") or data.get("scan_id"),
        "scanner": {"vendor": "S4E"},
    }


def _related(envelope: dict, where: dict, asset: dict | None) -> tuple[list[str], list[str]]:
    data = envelope.get("data") or {}
    ips = [str(where["ip"])] if where["ip"] else []
    for extra in (data.get("ip"), data.get("remote_addr")):  # audit client address, agent address
        ip = formats.parse_ip(extra)
        if ip is not None and str(ip) not in ips:
            ips.append(str(ip))
    hosts = [where["host"]] if where["host"] else []
    if asset and asset.get("type") == "domain" and asset.get("name") and asset["name"] not in hosts:
        hosts.append(asset["name"])
    return ips, hosts


def _asset(envelope: dict, finding: dict | None) -> dict | None:
    if finding is not None:
        return finding.get("asset") if isinstance(finding.get("asset"), dict) else None
    return formats.asset_of(envelope.get("data") or {})


def _agent(envelope: dict) -> dict | None:
    data = envelope.get("data") or {}
    if envelope.get("event", "").startswith("agent."):
        return {"id": data.get("agent_id"), "name": data.get("name"), "type": "opservant",
                "version": data.get("version")}
    by = data.get("discovered_by")
    if isinstance(by, dict) and by.get("agent_id"):
        return {"id": by["agent_id"], "type": "opservant"}
    return None


def _s4e(envelope: dict, finding: dict | None, asset: dict | None) -> dict:
    data = envelope.get("data") or {}
    actor = envelope.get("actor") or {}
    block = {"workspace_id": envelope.get("workspace_id"),
             "event": {"id": envelope.get("id"), "type": envelope.get("event")},
             "actor": {"type": actor.get("type"), "id": actor.get("id"), "name": actor.get("name")},
             "asset": {k: asset.get(k) for k in _ASSET_FIELDS} if asset else None,
             "scan": {"id": (finding or {}).get("scan_id") or data.get("scan_id")}}
    if finding is not None:
        block["finding"] = {**{k: finding.get(k) for k in _FINDING_FIELDS},
                            "old_status": data.get("old_status"), "justification": data.get("justification"),
                            "resolution": data.get("resolution")}
    block = _prune(block)
    block["data"] = data  # raw, unpruned: consumers may rely on explicit nulls
    return block


def document(envelope: dict, *, version: str, delivered_at: datetime) -> dict:
    """The ECS document of one envelope."""
    event_type = envelope.get("event", "")
    finding = formats.finding_of(envelope)
    where = formats.target(envelope)
    asset = _asset(envelope, finding)
    actor = envelope.get("actor") or {}
    categories, types = category(event_type)
    ips, hosts = _related(envelope, where, asset)
    console_url = (finding or {}).get("console_url") or (envelope.get("data") or {}).get("console_url")
    doc = {
        "@timestamp": envelope.get("timestamp"),
        "message": (finding or {}).get("title") or formats.summary(envelope),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "id": envelope.get("id"), "action": event_type, "created": isoformat(delivered_at),
            "kind": "alert" if event_type in ("finding.new", "finding.reopened") else "event",
            "category": categories, "type": types, "outcome": outcome(event_type),
            "severity": formats.severity_number(envelope),
            "risk_score": formats.as_number((finding or {}).get("risk_score")),
            "module": "s4e", "dataset": "s4e.finding" if finding is not None else "s4e.event", "provider": "s4e",
            "start": (finding or {}).get("discovered_at"), "end": (finding or {}).get("last_seen_at"),
            "reference": console_url, "url": console_url,
        },
        "vulnerability": _vulnerability(finding, envelope.get("data") or {}) if finding is not None else None,
        "host": {"name": (asset or {}).get("name"), "hostname": where["host"],
                 "ip": [str(where["ip"])] if where["ip"] else None} if asset or where["host"] else None,
        "url": _url(where["url"]),
        "destination": {"ip": str(where["ip"]) if where["ip"] else None, "port": where["port"]},
        "network": {"transport": where["proto"].lower() if where["proto"] else None},
        "observer": {"vendor": "S4E", "product": "S4E Platform", "type": "scanner" if finding else None,
                     "version": version},
        "agent": _agent(envelope),
        "related": {"ip": ips, "hosts": hosts},
        "tags": list((asset or {}).get("tags") or []),
        "labels": {"workspace_id": envelope.get("workspace_id")},
        "user": {"id": actor.get("id"), "name": actor.get("name")} if actor.get("type") == "user" else None,
    }
    doc = _prune(doc)
    doc["s4e"] = _s4e(envelope, finding, asset)
    return doc


__all__ = ["ECS_VERSION", "category", "document", "outcome"]
