"""Follow-up scans for newly seen services (scanning.md 1.1 "Service tracking", workspace setting
`auto_scan_new_services`, default true).

When a port scan finds open TLS services the asset did not have before, a `custom` scan with the `tls` scanner on
exactly those ports is queued (`triggered_by: {type: discovery, id: <scan id>}`). It waits behind the running scan
(one running scan per asset) and never includes `port_scan`, so follow-ups cannot chain. HTTP(S) checks on
non-default ports are not followed up yet: `http_headers`/`exposed_files` scan the asset's own URL, not a port.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.errors import APIError
from s4e_platform.inventory.models import Service
from s4e_platform.scan.models import Scan
from s4e_platform.workspace.models import Workspace
from s4e_platform.workspace.service import settings_of

log = logging.getLogger("s4e.scan")
MAX_PORTS = 64


def new_tls_ports(session: Session, asset_id: str, scan_id: str) -> list[int]:
    """Open TLS ports first seen by `scan_id` (a row inserted by the scan has first_seen_at == last_seen_at)."""
    rows = session.execute(select(Service.port).where(
        Service.asset_id == asset_id, Service.last_scan_id == scan_id, Service.state == "open",
        Service.tls.is_(True), Service.first_seen_at == Service.last_seen_at)).scalars()
    return sorted(set(rows))[:MAX_PORTS]


def after_port_scan(session: Session, *, asset: Asset, scan_id: str) -> Scan | None:
    """Queue the TLS follow-up for new TLS services, when the workspace wants it; None when there is nothing to do.
    A follow-up the asset cannot take (e.g. its verification was revoked meanwhile) is skipped, never an error of
    the task that found the services."""
    if not settings_of(session.get(Workspace, asset.workspace_id)).get("auto_scan_new_services", True):
        return None
    ports = new_tls_ports(session, asset.id, scan_id)
    if not ports:
        return None
    from s4e_platform.scan.service import create_scan

    try:  # create_scan validates before it writes anything, so a refusal leaves the transaction clean
        return create_scan(session, asset=asset, scan_type="custom", scanners=["tls"],
                           options={"tls_ports": ",".join(map(str, ports))},
                           triggered_by={"type": "discovery", "id": scan_id}, created_by=None)
    except APIError as exc:
        log.info("no follow-up scan for new services of %s: %s", asset.id, exc)
        return None
