"""`client.services` and `client.assets.list_services` (blocking and asyncio) against the real platform app."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from s4e import AsyncS4EClient, S4EClient, errors
from s4e.models import Service

BASE_URL = "http://testserver/api/v1"


def record_services(asset_id: str, *observations) -> None:
    """What a port scan stores (scans have no API to write services)."""
    from s4e_platform.asset.models import Asset
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.inventory import store

    with unit_of_work() as s:
        store.record_services(s, asset=s.get(Asset, asset_id), scan_id=None, services=list(observations))


@pytest.fixture
def scanned(platform):
    from s4e_platform.scanners.base import ServiceObservation

    client = platform.client()
    web = client.assets.create(name="203.0.113.80", type="ip")
    mail = client.assets.create(name="mail.example.com", type="domain")
    record_services(web.id, ServiceObservation(ip="203.0.113.80", port=443, service="https", product="nginx",
                                               tls=True, tls_summary={"versions": ["TLSv1.3"]}, banner="HTTP/1.1"),
                    ServiceObservation(ip="203.0.113.80", port=22, service="ssh", product="OpenSSH"))
    record_services(mail.id, ServiceObservation(ip="198.51.100.25", port=25, service="smtp", host="mail.example.com"),
                    ServiceObservation(ip="198.51.100.25", port=161, protocol="udp", state="filtered"))
    return web, mail


def test_list_filter_and_get_services(platform, recorder, scanned):
    web, mail = scanned
    client = S4EClient(api_key=platform.tenant.keys["viewer"], base_url=BASE_URL,
                       http_client=httpx.Client(transport=recorder))
    every = [*client.services.list(sort_by="port", sort_order="asc", per_page=3)]
    assert all(isinstance(s, Service) for s in every)
    assert [s.port for s in every] == [22, 25, 161, 443]
    assert len(recorder.sent("/services")) == 2  # two pages of 3
    https = client.services.get(every[-1].id)
    assert https == every[-1] and https.asset_id == web.id and https.tls is True
    assert https.tls_summary == {"versions": ["TLSv1.3"]} and https.banner == "HTTP/1.1"

    tls = [s.port for s in client.services.list(port=[443, 25], tls=True, protocol="tcp", state=["open"])]
    sent = recorder.requests[-1].url.params
    assert tls == [443] and sent["port"] == "443,25" and sent["tls"] == "true" and sent["state"] == "open"
    assert [s.port for s in client.services.list(asset_id=[mail.id], service="smtp", product="")] == [25]
    assert [s.port for s in client.services.list(product="openssh")] == [22]

    own = [s.port for s in client.assets.list_services(web.id, sort_by="port", sort_order="asc")]
    assert own == [22, 443]
    assert [s.port for s in client.assets.list_services(mail.id, state="filtered")] == [161]
    assert recorder.requests[-1].url.path == f"/api/v1/assets/{mail.id}/services"

    with pytest.raises(errors.NotFoundError):
        client.services.get("svc_01hv8x5m3t9q4zc2n7k1r6pbde")
    with pytest.raises(errors.NotFoundError):
        [*client.assets.list_services("ast_01hv8x5m3t9q4zc2n7k1r6pbde")]
    with pytest.raises(errors.BadRequestError) as bad:
        [*client.services.list(protocol="sctp")]
    assert bad.value.code == "invalid_parameter"
    with pytest.raises(errors.PermissionDeniedError) as denied:
        S4EClient(api_key=platform.tenant.key(["read:events"]), base_url=BASE_URL,
                  http_client=platform.http).services.get(https.id)
    assert denied.value.code == "insufficient_scope"
    with pytest.raises(ValueError):
        client.services.get("")


def test_async_services(platform, scanned):
    web, _ = scanned

    async def scenario() -> tuple[list[int], Service, list[int]]:
        transport = httpx.ASGITransport(app=platform.http.app)
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncS4EClient(api_key=platform.tenant.keys["admin"], base_url=BASE_URL, http_client=http)
            ports = [s.port async for s in client.services.list(sort_by="port", sort_order="desc")]
            first = await client.services.get([s async for s in client.services.list(port=22)][0].id)
            own = [s.port async for s in client.assets.list_services(web.id, tls=False)]
            return ports, first, own

    ports, ssh, own = asyncio.run(scenario())
    assert ports == [443, 161, 25, 22] and ssh.product == "OpenSSH" and own == [22]


NMAP = b"""<?xml version="1.0"?>
<nmaprun scanner="nmap" version="7.93"><host><status state="up"/><address addr="93.184.216.40" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="23"><state state="open"/><service name="telnet"/></port></ports></host>
</nmaprun>"""


def test_import_nmap_sync_and_async(platform, tmp_path):
    from s4e.models import ServiceImport

    client = platform.client()
    asset = client.assets.create(name="93.184.216.40", type="ip")
    path = tmp_path / "scan.xml"
    path.write_bytes(NMAP)
    result = client.assets.import_nmap(asset.id, path)
    assert isinstance(result, ServiceImport)
    assert result.scan.status == "completed" and result.open_services == 1 and result.finding_counts.new == 1
    assert [s.port for s in client.assets.list_services(asset.id)] == [23]

    async def run() -> ServiceImport:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=platform.http.app)) as http:
            ac = AsyncS4EClient(api_key=platform.tenant.keys["analyst"], base_url=BASE_URL, http_client=http)
            return await ac.assets.import_nmap(asset.id, NMAP)

    again = asyncio.run(run())
    assert again.finding_counts.seen == 1 and again.scan.id != result.scan.id
    with pytest.raises(errors.ValidationError) as bad:
        client.assets.import_nmap(asset.id, b"<html/>")
    assert bad.value.details[0]["code"] == "not_nmap"
