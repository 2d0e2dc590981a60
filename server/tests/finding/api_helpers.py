"""Seeding findings for the API tests: committed rows made by the ingest service (as a scan would)."""

from __future__ import annotations

from s4e_platform.asset.models import Asset, AssetTag
from s4e_platform.db.session import unit_of_work
from s4e_platform.event import publisher
from s4e_platform.event.models import Event
from s4e_platform.finding import ingest
from s4e_platform.finding.models import Finding
from s4e_platform.kit.ids import new_id
from sqlalchemy import select, update

from tests.finding.conftest import candidate

API = "/api/v1"


def make_asset(workspace_id: str, name: str = "app.example.com", *, criticality: str = "medium",
               tags: list[str] | None = None, network_zone: str = "external") -> str:
    with unit_of_work() as s:
        asset = Asset(id=new_id("ast"), workspace_id=workspace_id, name=name, type="domain",
                      verification_token="t" * 32, criticality=criticality, tags=tags or [],
                      network_zone=network_zone)
        s.add(asset)
        s.flush()
        for tag in tags or []:
            s.add(AssetTag(asset_id=asset.id, tag=tag, workspace_id=workspace_id))
    return asset.id


def seed(workspace_id: str, asset_id: str, *checks: str, severity: str = "medium", scanner: str = "tls",
         scan_id: str | None = "scn_01hv8x5m3t9q4zc2n7k1r6pbde", task_id: str | None = None,
         evidence: dict | None = None, **columns) -> list[str]:
    """Ingest one finding per check id on the asset; `columns` are then set on those rows directly
    (cvss, kev, cve_ids ...). Returns the finding ids in `checks` order."""
    with unit_of_work() as s:
        asset = s.get(Asset, asset_id)
        ingest.ingest(s, workspace_id=workspace_id, asset=asset, scanner=scanner, scan_id=scan_id, task_id=task_id,
                      candidates=[candidate(c, severity=severity, host=asset.name, evidence=evidence)
                                  for c in checks])
        ids = dict(s.execute(select(Finding.check_id, Finding.id).where(
            Finding.asset_id == asset_id, Finding.scanner == scanner, Finding.check_id.in_(checks))).all())
        if columns:
            s.execute(update(Finding).where(Finding.id.in_(list(ids.values()))).values(**columns))
    return [ids[c] for c in checks]


def set_columns(finding_id: str, **columns) -> None:
    with unit_of_work() as s:
        s.execute(update(Finding).where(Finding.id == finding_id).values(**columns))


def row(finding_id: str) -> Finding:
    with unit_of_work(readonly=True) as s:
        return s.get(Finding, finding_id)


def events_of(workspace_id: str, prefix: str = "finding.") -> list[Event]:
    """Outbox rows of the workspace (published or not), in commit order."""
    publisher.drain()
    with unit_of_work(readonly=True) as s:
        return list(s.execute(select(Event).where(Event.workspace_id == workspace_id,
                                                  Event.event.like(prefix + "%")).order_by(Event.seq)).scalars())
