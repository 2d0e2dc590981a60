"""Assets found while scanning another (scanning.md 2.1 `subdomain_discovery`): child `domain` assets.

A discovered name becomes an asset of the scanned asset's workspace with `parent_id` = the scanned asset,
`source: discovery`, and `asset.discovered` as its only event (events.md 1.2). Names are normalised and validated
by the asset rules (asset/normalize.py, asset.service.build); a name that is invalid, not a strict subdomain of the
parent, or already an asset is skipped, and existing assets are never touched. Verification follows the rule every
new asset follows (asset/verification.py): `inherited` when a verified domain covers the name (the parent, or a
nearer verified ancestor), else `pending_verification`; no separate `asset.verified` event is written, the
`asset.discovered` summary already carries `verified`.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from s4e_platform.asset import normalize, verification
from s4e_platform.asset import service as asset_service
from s4e_platform.asset.models import Asset
from s4e_platform.asset.schemas import AssetCreate
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import APIError
from s4e_platform.event import service as events
from s4e_platform.inventory.store import strip_nul
from s4e_platform.kit.clock import utcnow
from s4e_platform.scanners.base import DiscoveredAssetObservation

log = logging.getLogger(__name__)

MAX_PER_CALL = 5_000  # new assets per call; the names left over are created by a later run (existing are skipped)
SCANNER_ACTOR = {"type": "system", "id": None, "name": "scanner"}
_OBSERVATION_FIELDS = {f.name for f in fields(DiscoveredAssetObservation)}
_CHUNK = 500


def _default(column) -> Any:
    d = column.default
    if d is None:
        return None
    return d.arg(None) if d.is_callable else d.arg


# Every column in every row (multi-row insert): attributes `build` left unset take the column default.
_COLUMNS = [(attr.key, attr.columns[0]) for attr in Asset.__mapper__.column_attrs]


def _observation(value: DiscoveredAssetObservation | Mapping[str, Any]) -> DiscoveredAssetObservation:
    if isinstance(value, DiscoveredAssetObservation):
        return value
    return DiscoveredAssetObservation(**{k: v for k, v in value.items() if k in _OBSERVATION_FIELDS})


def _system_principal(workspace_id: str) -> Principal:
    """Who creates discovered assets: the scanner subsystem, unrestricted inside the parent's workspace."""
    return Principal(type="system", user_id=None, name="scanner", workspace_id=workspace_id, role=None,
                     scopes=frozenset())


def _candidates(parent_domain: str, observations: Iterable) -> dict[str, DiscoveredAssetObservation]:
    """Normalised name -> observation, for valid strict subdomains of `parent_domain` (first report wins)."""
    out: dict[str, DiscoveredAssetObservation] = {}
    suffix = "." + parent_domain
    for value in observations:
        obs = _observation(value)
        if obs.type != "domain" or not isinstance(obs.value, str):
            continue
        try:
            name = normalize.normalize("domain", obs.value)
        except normalize.InvalidName:
            continue
        if name.endswith(suffix) and name not in out:
            out[name] = obs
    return out


def _addresses(values: Iterable[Any]) -> list[str]:
    out = []
    for value in values or []:
        try:
            addr = str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            continue
        if addr not in out:
            out.append(addr)
    return out


def _build(session: Session, principal: Principal, parent: Asset, name: str, obs: DiscoveredAssetObservation,
           *, scan_id: str | None, scanner: str) -> Asset | None:
    body = AssetCreate(name=name, type="domain", parent_id=parent.id)
    try:
        asset = asset_service.build(session, principal, body, source="discovery", parents={parent.id: parent})
    except APIError:  # refused by the asset rules (e.g. a name longer than the limits): not an asset
        return None
    addresses = _addresses(obs.addresses)
    discovery = {k: v for k, v in (obs.details or {}).items() if k not in ("source", "scanner", "scan_id")}
    asset.meta = strip_nul({"ip_addresses": addresses,
                            "discovery": {"source": obs.source, "scanner": scanner, "scan_id": scan_id, **discovery}})
    asset.network_zone = normalize.network_zone("domain", name, addresses)
    asset.scan_route = asset_service.scan_route(asset)
    return asset


def _row(asset: Asset, now) -> dict:
    values = asset.__dict__
    row = {column.name: values[key] if key in values else _default(column) for key, column in _COLUMNS}
    row["created_at"] = row["updated_at"] = now
    return row


def _insert(session: Session, assets: list[Asset]) -> set[str]:
    """Multi-row INSERT ... ON CONFLICT DO NOTHING: a name another transaction created meanwhile is skipped
    (it exists, which is all discovery wants). Returns the ids inserted."""
    if not assets:
        return set()
    now = utcnow()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Asset.__table__
    stmt = dialect.insert(table).on_conflict_do_nothing(
        index_elements=[table.c.workspace_id, table.c.type, table.c.name]).returning(table.c.id)
    return set(session.execute(stmt, [_row(a, now) for a in assets]).scalars())


def record_discovered(session: Session, *, parent: Asset, observations: Iterable, scan_id: str | None,
                      scanner: str) -> list[Asset]:
    """Create child domain assets of `parent` for newly discovered names; returns the created assets (loaded in
    `session`). Writes one `asset.discovered` event per created asset. Never commits."""
    parent_domain = verification.domain_of(parent.type, parent.name)
    if parent_domain is None:
        return []
    principal = _system_principal(parent.workspace_id)
    found = _candidates(parent_domain, observations)
    existing = asset_service.repo(session, principal).by_names([("domain", n) for n in found])
    names = [n for n in found if ("domain", n) not in existing]
    if len(names) > MAX_PER_CALL:
        log.warning("discovery on %s: %d new names, creating the first %d", parent.id, len(names), MAX_PER_CALL)
        names = names[:MAX_PER_CALL]
    built = [a for a in (_build(session, principal, parent, n, found[n], scan_id=scan_id, scanner=scanner)
                         for n in names) if a is not None]
    by_id = {a.id: a for a in built}
    for asset_id, (root_id, reason) in verification.sources(session, parent.workspace_id, built).items():
        asset_service.apply_verification(by_id[asset_id], method="inherited", verified_by=None, reason=reason,
                                         inherited_from=root_id)
    inserted = _insert(session, built)
    created = [a for a in built if a.id in inserted]
    discovered_by = {"scanner": scanner, "scan_id": scan_id}
    events.record_many(session, [
        {"workspace_id": a.workspace_id, "event": "asset.discovered", "actor": SCANNER_ACTOR, "asset_id": a.id,
         "data": {"asset": asset_service.summary(a), "parent_id": parent.id, "discovered_by": discovered_by}}
        for a in created])
    return _load(session, [a.id for a in created])


def _load(session: Session, ids: list[str]) -> list[Asset]:
    by_id: dict[str, Asset] = {}
    for i in range(0, len(ids), _CHUNK):
        by_id.update((a.id, a) for a in session.execute(
            select(Asset).where(Asset.id.in_(ids[i:i + _CHUNK]))).scalars())
    return [by_id[i] for i in ids if i in by_id]
