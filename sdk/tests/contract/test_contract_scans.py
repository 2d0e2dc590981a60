"""`client.scans` (blocking and asyncio) against the real platform app, in-process. Tasks do not run here: a scan
is made terminal by cancelling it or by updating its row, as the execution runtime would."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest

from s4e import AsyncS4EClient, S4EClient, errors
from s4e.models import Scan, ScanOutputLine, ScanStatus, ScanTask

BASE_URL = "http://testserver/api/v1"


def _verified(client: S4EClient, name: str = "example.com", type: str = "domain") -> str:
    asset = client.assets.create(name=name, type=type)
    client.assets.verification.override(asset.id, reason="vouched for by the SDK tests")
    return asset.id


def _finish_later(scan_id: str, delay: float, **values) -> threading.Thread:
    from tests.scan.conftest import set_scan

    def run() -> None:
        time.sleep(delay)
        set_scan(scan_id, **values)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_create_get_list_status_tasks(platform, recorder):
    client = S4EClient(api_key=platform.tenant.keys["analyst"], base_url=BASE_URL,
                       http_client=httpx.Client(transport=recorder))
    asset_id = _verified(platform.client())
    scan = client.scans.create(asset_id, scan_type="custom", scanners=["tls", "http_headers"], priority="high",
                               options={"tls_ports": "443,8443"})
    assert isinstance(scan, Scan) and scan.status == "queued" and not scan.is_terminal
    assert scan.scanners == ["tls", "http_headers"] and scan.options["tls_ports"] == "443,8443"
    assert scan.asset.name == "example.com" and scan.task_summary.total == 2
    sent = json.loads(recorder.sent("/scans")[0].content)
    assert sent == {"asset_id": asset_id, "scan_type": "custom", "scanners": ["tls", "http_headers"],
                    "options": {"tls_ports": "443,8443"}, "priority": "high"}
    assert recorder.sent("/scans")[0].headers["idempotency-key"]
    assert client.scans.get(scan.id) == scan
    status = client.scans.status(scan.id)
    assert isinstance(status, ScanStatus) and status.scan_id == scan.id and status.task_summary.queued == 2
    quick = client.scans.create(asset_id, scan_type="quick")
    assert quick.scanners == ["port_scan", "tls"] and quick.options["ports"] == "top-100"

    listed = [s.id for s in client.scans.list(sort_by="priority", sort_order="desc", per_page=1)]
    assert listed == [scan.id, quick.id]
    assert [s.id for s in client.scans.list(scan_type=["quick"], priority="normal,low")] == [quick.id]
    assert recorder.requests[-1].url.params["scan_type"] == "quick"
    assert [s.id for s in client.scans.list(asset_id=asset_id, status="running")] == []

    tasks = [*client.scans.list_tasks(scan.id, sort_by="scanner", sort_order="asc")]
    assert all(isinstance(t, ScanTask) for t in tasks)
    assert [t.scanner for t in tasks] == ["http_headers", "tls"] and tasks[0].target["value"] == "example.com"
    assert [t.scanner for t in client.scans.list_tasks(scan.id, scanner="tls", status="queued")] == ["tls"]


def test_validation_errors_name_the_field(platform):
    client = platform.client()
    asset_id = _verified(client)
    with pytest.raises(errors.ValidationError) as bad:
        client.scans.create(asset_id, scan_type="custom", scanners=["tls", "nuclei"])
    assert bad.value.errors[0].path == "$.scanners[1]" and bad.value.errors[0].code == "unknown_scanner"
    with pytest.raises(errors.ValidationError) as option:
        client.scans.create(asset_id, scan_type="port", options={"ports": "nope"})
    assert option.value.errors[0].path == "$.options.ports"
    unverified = client.assets.create(name="pending.example.org", type="domain")
    with pytest.raises(errors.ValidationError) as refused:
        client.scans.create(unverified.id, scan_type="ssl")
    assert refused.value.code == "asset_not_verified"
    with pytest.raises(errors.PermissionDeniedError):
        platform.client("viewer").scans.create(asset_id, scan_type="ssl")


def test_cancel_rerun_output_and_wait(platform):
    client = platform.client()
    asset_id = _verified(client)
    scan = client.scans.create(asset_id, scan_type="ssl")
    cancelled = client.scans.cancel(scan.id)
    assert cancelled.status == "cancelled" and cancelled.is_terminal and cancelled.task_summary.cancelled == 1
    with pytest.raises(errors.ConflictError) as again:
        client.scans.cancel(scan.id)
    assert again.value.code == "invalid_state"
    assert client.scans.wait(scan.id, poll_interval=0.05) == client.scans.get(scan.id)

    rerun = client.scans.rerun(scan.id)
    assert rerun.rerun_of == scan.id and rerun.triggered_by.type == "rerun" and rerun.status == "queued"

    from s4e_platform.scan.models import ScanTask as TaskRow
    from tests.scan.conftest import set_tasks

    set_tasks(rerun.id, TaskRow.scanner == "tls", raw_output='tls report\n{"template-id":"weak-cipher"}\n')
    lines = list(client.scans.output(rerun.id))
    assert all(isinstance(line, ScanOutputLine) for line in lines)
    assert [(line.scanner, line.output) for line in lines] == [("tls", "tls report"), ("tls", None)]
    assert lines[1].model_extra == {"template-id": "weak-cipher"} and lines[1].task_id == lines[0].task_id
    with pytest.raises(errors.NotFoundError):
        client.scans.output("scn_01hv8x5m3t9q4zc2n7k1r6pbde")
    with client.scans.output(rerun.id) as stream:
        assert next(iter(stream)).output == "tls report"  # leaving early closes the response

    seen: list[ScanStatus] = []
    _finish_later(rerun.id, 0.3, status="completed", progress=100)
    done = client.scans.wait(rerun.id, poll_interval=0.05, timeout=10, on_progress=seen.append)
    assert done.status == "completed" and done.progress == 100 and done.id == rerun.id
    assert seen[0].status == "queued" and seen[-1].status == "completed" and len(seen) >= 2


def test_wait_times_out_with_a_timeout_error(platform):
    client = platform.client()
    scan = client.scans.create(_verified(client), scan_type="ssl")
    started = time.monotonic()
    with pytest.raises(errors.WaitTimeoutError) as info:
        client.scans.wait(scan.id, timeout=0.3, poll_interval=0.1)
    assert isinstance(info.value, TimeoutError) and 0.3 <= time.monotonic() - started < 3
    assert info.value.scan_id == scan.id and info.value.status.status == "queued"
    with pytest.raises(ValueError):
        client.scans.wait(scan.id, poll_interval=0)


def test_async_scans(platform):
    admin = platform.client()
    asset_id = _verified(admin)

    async def scenario() -> tuple[Scan, list[str], Scan, list[int]]:
        transport = httpx.ASGITransport(app=platform.http.app)
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncS4EClient(api_key=platform.tenant.keys["admin"], base_url=BASE_URL, http_client=http)
            scan = await client.scans.create(asset_id, scan_type="dns")
            names = [t.scanner async for t in client.scans.list_tasks(scan.id, sort_by="scanner", sort_order="asc")]
            listed = [s.id async for s in client.scans.list(status="queued")]
            assert listed == [scan.id] and (await client.scans.status(scan.id)).status == "queued"
            assert (await client.scans.get(scan.id)).id == scan.id
            progress: list[int] = []

            async def on_progress(status: ScanStatus) -> None:
                progress.append(status.progress)

            _finish_later(scan.id, 0.2, status="failed", progress=60,
                          error={"code": "scan_timeout", "message": "timed out"})
            ended = await client.scans.wait(scan.id, poll_interval=0.05, timeout=10, on_progress=on_progress)
            again = await client.scans.rerun(scan.id)
            assert [line async for line in await client.scans.output(again.id)] == []
            cancelled = await client.scans.cancel(again.id)
            assert cancelled.status == "cancelled"
            with pytest.raises(errors.WaitTimeoutError):
                await client.scans.wait((await client.scans.create(asset_id, scan_type="ssl")).id, timeout=0.1,
                                        poll_interval=0.05)
            return scan, names, ended, progress

    scan, names, ended, progress = asyncio.run(scenario())
    assert names == ["dns", "email_security", "subdomain_discovery"]
    assert ended.status == "failed" and ended.error.code == "scan_timeout" and progress[-1] == 60
