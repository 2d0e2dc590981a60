"""The `port_scan` scanner as the orchestration sees it: catalog entry, options, targets, address policy, a
clean target, cancellation and progress."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from s4e_platform.scanners import registry
from s4e_platform.scanners.base import InvalidOptions, InvalidTarget, ScanContext, ScanTarget
from s4e_platform.scanners.portscan.scanner import PortScanner

from tests.scanners.portscan import servers
from tests.scanners.portscan.conftest import FAST

SCANNER = registry.get("port_scan")


def test_catalog_entry():
    entry = next(e for e in registry.catalog() if e["id"] == "port_scan")
    assert entry["category"] == "network" and entry["active"] is True and entry["phase"] == "port_scanning"
    assert entry["target_types"] == ["ip", "network", "domain", "url"]
    props = entry["options_schema"]["properties"]
    assert props["ports"]["default"] == "top-1000" and props["port_timeout_ms"]["default"] == 1000
    assert props["port_concurrency"]["default"] == 1024 and props["probe"]["default"] is True
    with pytest.raises(ValueError):
        registry.register(PortScanner())  # a second scanner under the same id


def test_options():
    opts = SCANNER.validate({"ports": "top-100", "timeout_ms": 250, "concurrency": 64, "template_ids": ["x"]})
    assert len(opts.port_list) == 100 and opts.port_timeout_ms == 250 and opts.port_concurrency == 64
    assert SCANNER.validate(None).port_list[:3] == (80, 443, 22)
    with pytest.raises(InvalidOptions) as caught:
        SCANNER.validate({"ports": "22,99999", "port_timeout_ms": "fast", "probe": "yes"})
    paths = {d["path"] for d in caught.value.details}
    assert paths == {"$.options.ports", "$.options.port_timeout_ms", "$.options.probe"}
    with pytest.raises(InvalidOptions):
        SCANNER.validate(["ports"])


@pytest.mark.parametrize("target, code", [
    (ScanTarget("ip", "999.1.1.1"), "invalid_target"),
    (ScanTarget("network", "10.0.0.0/8"), "target_too_large"),
    (ScanTarget("domain", "exa mple.com"), "invalid_target"),
    (ScanTarget("domain", "user@example.com"), "invalid_target"),
    (ScanTarget("domain", "127.0.0.1"), "invalid_target"),
    (ScanTarget("url", "ftp://example.com/"), "invalid_target"),
    (ScanTarget("ip", ""), "invalid_target"),
    (ScanTarget("mobile_app", "x"), "unsupported_target"),
])
def test_bad_targets_are_refused_before_any_traffic(target, code):
    with pytest.raises(InvalidTarget) as caught:
        SCANNER.run(target, {"ports": "80"})
    assert caught.value.code == code


def test_platform_workers_do_not_scan_private_addresses(peers, zone):
    """The default context (platform worker) refuses loopback, also behind a name (DNS rebinding): nothing is
    sent."""
    port = peers.start(servers.ssh)
    zone.records["rebound.s4e.test"] = ["127.0.0.1"]
    for target in (ScanTarget("ip", "127.0.0.1"), ScanTarget("domain", "rebound.s4e.test"),
                   ScanTarget("url", "https://rebound.s4e.test/login")):
        result = SCANNER.run(target, {"ports": str(port)}, ScanContext())
        assert result.status == "failed" and result.services == []
        assert [i.code for i in result.issues] == ["address_not_allowed"]
    assert peers.connections.get(port, 0) == 0


def test_domain_target_scans_what_the_name_resolves_to(peers, loopback_ctx, zone):
    port = peers.start(servers.ssh)
    zone.records["svc.s4e.test"] = ["127.0.0.1", "10.9.9.9"]
    result = SCANNER.run(ScanTarget("domain", "svc.s4e.test"), {"ports": str(port), **FAST}, loopback_ctx)
    assert [(s.ip, s.port, s.host, s.service) for s in result.services] == [
        ("127.0.0.1", port, "svc.s4e.test", "ssh")]
    assert result.status == "partial"  # 10.9.9.9 is outside the allowed networks: reported, not scanned
    assert [(i.code, i.target) for i in result.issues] == [("address_not_allowed", "10.9.9.9")]


def test_clean_target_yields_nothing(closed_ports, loopback_ctx):
    result = SCANNER.run(ScanTarget("network", "127.0.0.1/32"), {"ports": closed_ports, **FAST}, loopback_ctx)
    assert result.status == "completed"
    assert result.services == [] and result.findings == [] and result.technologies == []
    assert result.stats["closed"] == len(closed_ports) and result.stats["open"] == 0
    assert result.coverage["checks"] and "127.0.0.1" in result.coverage["hosts"]


def test_without_probes_services_are_named_by_port(peers, loopback_ctx):
    port = peers.start(servers.ssh)
    result = SCANNER.run(ScanTarget("ip", "127.0.0.1"), {"ports": [port], "probe": False}, loopback_ctx)
    [service] = result.services
    assert service.method == "port" and service.product is None
    assert peers.connections.get(port, 0) <= 1  # the sweep's connect only, no probe
    assert set(result.coverage["checks"]) == {"telnet_exposed", "database_port_exposed", "smb_exposed",
                                              "rdp_exposed"}


def test_hosts_open_on_every_port_are_not_probed_to_exhaustion(peers, loopback_ctx, monkeypatch):
    from s4e_platform.scanners.portscan import scanner

    monkeypatch.setattr(scanner, "MAX_PROBED_PER_HOST", 2)
    ports = sorted(peers.start(servers.ssh) for _ in range(3))
    result = SCANNER.run(ScanTarget("ip", "127.0.0.1"), {"ports": ports, **FAST}, loopback_ctx)
    assert result.status == "partial" and [i.code for i in result.issues] == ["too_many_open_ports"]
    assert [s.method for s in result.services] == ["probe", "probe", "port"]
    assert peers.connections.get(ports[2], 0) <= 1  # swept, never probed


def _stop_after(seconds: float):
    started = time.monotonic()
    return lambda: time.monotonic() - started > seconds


def test_cancellation_during_the_sweep(loopback_ctx):
    ctx = ScanContext(stop_check=_stop_after(0.3), allowed_networks=["127.0.0.0/8"])
    started = time.monotonic()
    result = SCANNER.run(ScanTarget("ip", "127.0.0.1"), {"ports": "all", "port_rate_limit": 2000}, ctx)
    elapsed = time.monotonic() - started
    assert result.status == "cancelled" and elapsed < 2.5  # 65,535 ports at 2,000/s would take 33 s
    assert 0 < result.stats["attempts"] < 65535
    assert result.coverage == {}  # a cancelled run proves nothing about ports it did not reach


def test_cancellation_during_service_detection(peers):
    silent = [peers.start(servers.tarpit) for _ in range(3)]
    ctx = ScanContext(stop_check=_stop_after(0.5), allowed_networks=["127.0.0.0/8"])
    started = time.monotonic()
    result = SCANNER.run(ScanTarget("ip", "127.0.0.1"), {"ports": silent, "probe_timeout_ms": 20000}, ctx)
    assert result.status == "cancelled" and time.monotonic() - started < 3.0  # probes would wait 20 s
    assert sorted(s.port for s in result.services) == sorted(silent)  # open ports found so far are kept
    assert all(s.method == "port" for s in result.services)


def test_progress_reports_phases(peers, loopback_ctx):
    updates = []
    port = peers.start(servers.ssh)
    ctx = ScanContext(on_progress=updates.append, allowed_networks=["127.0.0.0/8"])
    SCANNER.run(ScanTarget("ip", "127.0.0.1"), {"ports": [port], **FAST}, ctx)
    phases = [u.phase for u in updates]
    assert phases[0] == "resolving" and phases[-1] == "finalizing"
    assert "port_scanning" in phases and "service_detection" in phases
    fractions = [u.fraction for u in updates]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_sync_run_refuses_a_running_loop(loopback_ctx):
    async def inside():
        with pytest.raises(RuntimeError, match="arun"):
            SCANNER.run(ScanTarget("ip", "127.0.0.1"), {"ports": "1"}, loopback_ctx)
        return await SCANNER.arun(ScanTarget("ip", "127.0.0.1"), {"ports": "1"}, loopback_ctx)

    assert asyncio.run(inside()).status == "completed"


def test_runs_from_worker_threads(closed_ports, loopback_ctx):
    results = []

    def worker():
        results.append(SCANNER.run(ScanTarget("ip", "127.0.0.1"), {"ports": closed_ports}, loopback_ctx))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.status for r in results] == ["completed"] * 3


def test_unreachable_name_is_reported(loopback_ctx, zone):
    result = SCANNER.run(ScanTarget("domain", "does-not-exist.s4e.test"), {"ports": "80"}, loopback_ctx)
    assert result.status == "failed" and result.issues[0].code == "resolution_failed"
