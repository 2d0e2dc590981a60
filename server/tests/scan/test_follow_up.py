"""New TLS services found by a port scan queue a TLS scan of exactly those ports (auto_scan_new_services)."""

from __future__ import annotations

from datetime import datetime, timezone

from s4e_platform.db.session import unit_of_work
from s4e_platform.scan import runner_record
from s4e_platform.scan.models import Scan, ScanTask
from s4e_platform.scan.runner import Claim
from s4e_platform.scanners.base import ScanResult, ServiceObservation
from sqlalchemy import select

from tests.scan.conftest import events_of, verified_asset


def _record(scan_id: str, asset_id: str, services: list[ServiceObservation]) -> None:
    now = datetime.now(timezone.utc)
    with unit_of_work() as s:
        task = s.execute(select(ScanTask).where(ScanTask.scan_id == scan_id)).scalars().first()
        claim = Claim(task_id=task.id, scan_id=scan_id, workspace_id=task.workspace_id, asset_id=asset_id,
                      scanner="port_scan", target=dict(task.target), options={}, network_zone="external",
                      attempt=1, worker_id="w", deadline_at=None)
        runner_record.record(s, task, claim, ScanResult(scanner="port_scan", status="completed", started_at=now,
                                                        finished_at=now, services=services))


def _follow_ups() -> list[Scan]:
    with unit_of_work(readonly=True) as s:
        rows = s.execute(select(Scan).where(Scan.scan_type == "custom").order_by(Scan.created_at)).scalars().all()
        s.expunge_all()
    return list(rows)


def _services(*tls_ports: int, plain: tuple[int, ...] = (80,)) -> list[ServiceObservation]:
    return ([ServiceObservation(ip="93.184.216.34", port=p, service="https", tls=True) for p in tls_ports]
            + [ServiceObservation(ip="93.184.216.34", port=p, service="http") for p in plain])


def test_new_tls_services_queue_one_tls_scan_of_those_ports(client, tenant, create):
    asset = verified_asset(client, tenant, "93.184.216.34", "ip")
    first = create(asset["id"], "port")
    _record(first["id"], asset["id"], _services(8443, 443))
    [follow] = _follow_ups()
    assert follow.scanners == ["tls"] and follow.options["tls_ports"] == "443,8443"
    assert follow.triggered_by == {"type": "discovery", "id": first["id"]} and follow.status == "queued"
    assert events_of("scan.created")[-1].data["triggered_by"]["type"] == "discovery"

    # The same services seen again are not new: no second follow-up; a new TLS port is.
    second = create(asset["id"], "port")
    _record(second["id"], asset["id"], _services(8443, 443))
    assert len(_follow_ups()) == 1
    third = create(asset["id"], "port")
    _record(third["id"], asset["id"], _services(8443, 443, 9443))
    assert [s.options["tls_ports"] for s in _follow_ups()] == ["443,8443", "9443"]


def test_setting_off_or_unverified_asset_means_no_follow_up(client, tenant, create):
    asset = verified_asset(client, tenant, "93.184.216.35", "ip")
    r = client.patch(f"/api/v1/workspaces/{tenant.workspace_id}",
                     json={"settings": {"auto_scan_new_services": False}}, headers=tenant.headers())
    assert r.status_code == 200
    scan = create(asset["id"], "port")
    _record(scan["id"], asset["id"], _services(443))
    assert _follow_ups() == []

    client.patch(f"/api/v1/workspaces/{tenant.workspace_id}", json={"settings": {"auto_scan_new_services": True}},
                 headers=tenant.headers())
    revoked = client.delete(f"/api/v1/assets/{asset['id']}/verification", headers=tenant.headers())
    assert revoked.status_code == 204, revoked.text
    _record(scan["id"], asset["id"], _services(8443))  # a task that was already running records its results
    assert _follow_ups() == []  # tls is active and the asset is no longer verified: skipped, the task is fine
