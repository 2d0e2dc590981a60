"""Persisting what scans observe on an asset: services (open ports) and scanner metadata.

Services are upserted by (asset, ip, protocol, port). A service a later scan does not report again is kept as last
observed (its `state` and `last_seen_at` say how fresh it is): a scan may cover fewer ports than the previous one,
so absence is not evidence of closure. A later observation that could not identify the product (no banner, no
service name) keeps what an earlier one learned; `state`, `tls` and the time stamps always follow the latest.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.inventory.models import Service
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id
from s4e_platform.scanners.base import BANNER_LIMIT, ServiceObservation, clip_text

log = logging.getLogger(__name__)

PROTOCOLS = ("tcp", "udp")
STATES = ("open", "closed", "filtered")
SOURCES = ("scanner", "agent_inventory", "nmap_import")
# Column widths (inventory/models.py): text from the wild is cut to fit rather than failing a scan's results.
_WIDTHS = {"host": 2048, "service": 64, "product": 256, "version": 128}
# Learned facts a later, less informed observation does not erase (see the module docstring).
_KEPT_WHEN_UNKNOWN = ("service", "product", "version", "banner", "tls_summary")
_OBSERVATION_FIELDS = {f.name for f in fields(ServiceObservation)}

Key = tuple[str, str, int]  # (ip, protocol, port)


def _observation(value: ServiceObservation | Mapping[str, Any]) -> ServiceObservation:
    """Accept the dataclass or its `to_dict()` form (results that travelled through a queue or the database)."""
    if isinstance(value, ServiceObservation):
        return value
    return ServiceObservation(**{k: v for k, v in value.items() if k in _OBSERVATION_FIELDS})


def strip_nul(value: Any) -> Any:
    """NUL characters removed from strings, also inside JSON documents: raw banners carry them, and PostgreSQL
    refuses them in text and JSONB values."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {strip_nul(str(k)): strip_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strip_nul(v) for v in value]
    return value


def _short(value: Any, width: int) -> str | None:
    """Text cut to the column width (text from the wild must not fail a scan's results); empty is None."""
    return None if value is None else (strip_nul(str(value))[:width] or None)


def _clean(obs: ServiceObservation) -> dict[str, Any]:
    """The observation as column values. Malformed port/protocol/state/address is a scanner bug: ValueError."""
    try:
        ip = str(ipaddress.ip_address(str(obs.ip).strip()))
    except ValueError:
        raise ValueError(f"service observation with an invalid address {obs.ip!r}") from None
    port, protocol, state = obs.port, (obs.protocol or "tcp").lower(), obs.state or "open"
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ValueError(f"service observation with an invalid port {port!r}")
    if protocol not in PROTOCOLS or state not in STATES:
        raise ValueError(f"service observation with protocol {protocol!r} / state {state!r}")
    source = obs.source if obs.source in SOURCES else "scanner"
    values = {name: _short(getattr(obs, name), width) for name, width in _WIDTHS.items()}
    if values["service"]:
        values["service"] = values["service"].lower()
    return {"ip": ip, "port": port, "protocol": protocol, "state": state, **values,
            "cpe": [strip_nul(str(c)) for c in obs.cpe or [] if c][:50],
            "banner": clip_text(strip_nul(obs.banner) or None, BANNER_LIMIT), "tls": bool(obs.tls),
            "tls_summary": strip_nul(dict(obs.tls_summary)) if obs.tls_summary else None,
            "details": strip_nul(dict(obs.details or {})), "source": source}


def _prepare(services: Iterable[ServiceObservation | Mapping[str, Any]]) -> dict[Key, dict[str, Any]]:
    """One row per key: a task that reports the same port twice has seen it once (the last report wins)."""
    out: dict[Key, dict[str, Any]] = {}
    for value in services:
        row = _clean(_observation(value))
        out[(row["ip"], row["protocol"], row["port"])] = row
    return out


def _merge(row: Service, values: dict[str, Any], *, now: datetime, scan_id: str | None) -> None:
    for name, value in values.items():
        if name in _KEPT_WHEN_UNKNOWN and value is None:
            continue
        if name == "cpe" and not value:
            continue
        if name == "details":
            value = {**(row.details or {}), **value}
        setattr(row, name, value)
    row.last_seen_at = now
    row.last_scan_id = scan_id


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT ... ON CONFLICT DO NOTHING; returns the ids actually inserted (a concurrent task may have written
    the same key meanwhile: that row is then updated like any existing one)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Service.__table__
    stmt = dialect.insert(table).on_conflict_do_nothing(
        index_elements=[table.c.asset_id, table.c.ip, table.c.protocol, table.c.port])
    session.execute(stmt, rows)
    inserted: set[str] = set()
    ids = [r["id"] for r in rows]
    for i in range(0, len(ids), 500):
        inserted.update(session.execute(select(Service.id).where(Service.id.in_(ids[i:i + 500]))).scalars())
    return inserted


def record_services(session: Session, *, asset: Asset, scan_id: str | None,
                    services: Iterable[ServiceObservation | Mapping[str, Any]]) -> dict[str, int]:
    """Upsert one task's service observations on `asset`; returns `{new, updated}` and refreshes
    `asset.service_count` (open services). Never commits."""
    prepared = _prepare(services)
    now = utcnow()
    counts = {"new": 0, "updated": 0}
    if prepared:
        existing = {(r.ip, r.protocol, r.port): r for r in session.execute(
            select(Service).where(Service.asset_id == asset.id)).scalars()}
        fresh = [{"id": new_id("svc"), "workspace_id": asset.workspace_id, "asset_id": asset.id, **values,
                  "first_seen_at": now, "last_seen_at": now, "last_scan_id": scan_id}
                 for key, values in prepared.items() if key not in existing]
        inserted = _insert_new(session, fresh) if fresh else set()
        counts["new"] = len(inserted)
        created = {(r["ip"], r["protocol"], r["port"]) for r in fresh if r["id"] in inserted}
        if len(created) < len(fresh):  # some keys were written by a concurrent task: load them to update
            existing.update(((r.ip, r.protocol, r.port), r) for r in session.execute(
                select(Service).where(Service.asset_id == asset.id)).scalars())
        for key, values in prepared.items():
            if key not in created:
                _merge(existing[key], values, now=now, scan_id=scan_id)
                counts["updated"] += 1
        session.flush()
    refresh_service_count(session, asset)
    return counts


def refresh_service_count(session: Session, asset: Asset) -> int:
    """`asset.service_count` = services of the asset whose last observed state is open."""
    count = session.execute(select(func.count()).select_from(Service).where(
        Service.asset_id == asset.id, Service.state == "open")).scalar_one()
    if asset.service_count != count:
        asset.service_count = count
    return count


def merge_asset_metadata(session: Session, asset: Asset, metadata: Mapping[str, Any] | None) -> list[str]:
    """Shallow-merge scanner metadata (e.g. `dns`, `email`) into `asset.metadata`: each given top-level key
    replaces the stored one, other keys are kept. Returns the keys whose value changed."""
    if not metadata:
        return []
    metadata = strip_nul(dict(metadata))
    current = dict(asset.meta or {})
    changed = [k for k, v in metadata.items() if current.get(k) != v]
    if changed:
        current.update({k: metadata[k] for k in changed})
        asset.meta = current  # a new dict, so the JSON column is seen as changed
        session.flush()
    return changed


TECHNOLOGY_LIMIT = 200


def merge_technologies(session: Session, asset: Asset, technologies: Iterable[Any]) -> int:
    """Add products a scan saw to `asset.metadata.technologies` (api.md 3.1: `{name, version, cpe, categories,
    confidence}`), one entry per (name, version); a later sighting refreshes cpe/categories/confidence. Returns the
    number of entries added. `cve_match` will read these."""
    current = [dict(t) for t in (asset.meta or {}).get("technologies") or [] if isinstance(t, dict)]
    index = {(str(t.get("name", "")).lower(), t.get("version")): t for t in current}
    added = 0
    for tech in technologies:
        data = tech.to_dict() if hasattr(tech, "to_dict") else dict(tech)
        name = _short(data.get("name"), 128)
        if not name:
            continue
        entry = {"name": name, "version": _short(data.get("version"), 64), "cpe": _short(data.get("cpe"), 256),
                 "categories": [strip_nul(str(c))[:64] for c in data.get("categories") or []][:10],
                 "confidence": max(0, min(100, int(data.get("confidence") or 0)))}
        key = (name.lower(), entry["version"])
        if key in index:
            index[key].update({k: v for k, v in entry.items() if k != "name" and v not in (None, [])})
        elif len(index) < TECHNOLOGY_LIMIT:
            index[key] = entry
            added += 1
    merged = list(index.values())
    if merged != current:
        asset.meta = {**(asset.meta or {}), "technologies": merged}
        session.flush()
    return added
