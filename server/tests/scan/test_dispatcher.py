"""Task expansion (scanning.md 1.1): scanner x target, networks in chunks of <= 256 addresses, at most 4096 tasks."""

from __future__ import annotations

import ipaddress
import time

import pytest
from s4e_platform.asset.models import Asset
from s4e_platform.errors import Unprocessable
from s4e_platform.scan import dispatcher
from s4e_platform.scan.models import PRIORITIES, Scan

from tests.scan.conftest import SCANS, scan_count, task_rows, verified_asset


def _asset(type: str, name: str) -> Asset:
    return Asset(id="ast_01hv8x5m3t9q4zc2n7k1r6pbde", workspace_id="wsp_01hv8x5m3t9q4zc2n7k1r6pbde", name=name,
                 type=type, verified=True, network_zone="external")


def _scan(scanners: list[str], priority: str = "normal") -> Scan:
    return Scan(id="scn_01hv8x5m3t9q4zc2n7k1r6pbde", workspace_id="wsp_01hv8x5m3t9q4zc2n7k1r6pbde",
                asset_id="ast_01hv8x5m3t9q4zc2n7k1r6pbde", scanners=scanners, priority=priority)


@pytest.mark.parametrize(("network", "chunks"), [
    ("198.51.100.0/24", ["198.51.100.0/24"]),
    ("198.51.100.7/32", ["198.51.100.7/32"]),
    ("198.51.100.0/23", ["198.51.100.0/24", "198.51.101.0/24"]),
    ("2001:db8::/120", ["2001:db8::/120"]),
    ("2001:db8::/119", ["2001:db8::/120", "2001:db8::100/120"]),
])
def test_networks_split_into_chunks_of_at_most_256_addresses(network, chunks):
    tasks = dispatcher.expand(_scan(["port_scan"]), _asset("network", network))
    assert [t.target for t in tasks] == [{"type": "network", "value": c} for c in chunks]


def test_a_slash_16_is_256_chunks_covering_it_exactly_and_quickly():
    start = time.perf_counter()
    tasks = dispatcher.expand(_scan(["port_scan"], "high"), _asset("network", "10.20.0.0/16"))
    assert time.perf_counter() - start < 1.0
    nets = [ipaddress.ip_network(t.target["value"]) for t in tasks]
    assert len(nets) == 256 and all(n.num_addresses == 256 for n in nets)
    assert nets == sorted(nets) and nets[0] == ipaddress.ip_network("10.20.0.0/24")
    assert nets[-1] == ipaddress.ip_network("10.20.255.0/24")
    assert len({t.id for t in tasks}) == 256
    assert {(t.priority_rank, t.queue, t.weight, t.route, t.status) for t in tasks} == {
        (PRIORITIES["high"], "scans", 3.0, "platform", "queued")}


@pytest.mark.parametrize(("network", "scanners"), [
    ("10.0.0.0/8", ["port_scan"]),
    ("2001:db8::/64", ["port_scan"]),
    ("10.0.0.0/12", ["port_scan", "port_scan"]),  # 4,096 chunks x 2
])
def test_more_than_4096_tasks_is_refused_before_building_them(network, scanners):
    start = time.perf_counter()
    with pytest.raises(Unprocessable) as info:
        dispatcher.expand(_scan(scanners), _asset("network", network))
    assert info.value.details[0]["code"] == "too_many_tasks"
    assert time.perf_counter() - start < 0.5


def test_one_task_per_scanner_and_target_for_other_asset_types():
    url = "https://app.example.com/login"
    tasks = dispatcher.expand(_scan(["tls", "http_headers", "subdomain_discovery"], "low"), _asset("url", url))
    assert [(t.scanner, t.target) for t in tasks] == [(s, {"type": "url", "value": url})
                                                      for s in ("tls", "http_headers", "subdomain_discovery")]
    assert [t.queue for t in tasks] == ["scans", "scans", "crawl"]
    assert [t.weight for t in tasks] == [1.0, 1.0, 2.0]
    assert {t.priority_rank for t in tasks} == {PRIORITIES["low"]}
    assert all(t.scan_id == "scn_01hv8x5m3t9q4zc2n7k1r6pbde" and t.max_attempts == 3 for t in tasks)
    ip = dispatcher.expand(_scan(["port_scan"]), _asset("ip", "203.0.113.5"))
    assert [t.target for t in ip] == [{"type": "ip", "value": "203.0.113.5"}]


def test_network_scans_through_the_api(client, tenant, create):
    big = verified_asset(client, tenant, "10.20.0.0/16", "network")
    scan = create(big["id"], "port")
    assert scan["task_summary"]["total"] == 256 and len(task_rows(scan["id"])) == 256
    huge = verified_asset(client, tenant, "10.0.0.0/8", "network")
    r = client.post(SCANS, json={"asset_id": huge["id"], "scan_type": "port"}, headers=tenant.headers())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "too_many_tasks", r.text
    assert scan_count() == 1
