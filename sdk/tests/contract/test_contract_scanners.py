"""`client.scanners` (blocking and asyncio) against the real platform app, in-process."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from s4e import AsyncS4EClient, S4EClient, errors
from s4e.models import Scanner

BASE_URL = "http://testserver/api/v1"


def test_list_and_get_scanners(platform, recorder):
    client = S4EClient(api_key=platform.tenant.keys["viewer"], base_url=BASE_URL,
                       http_client=httpx.Client(transport=recorder))
    every = [*client.scanners.list(sort_by="id", sort_order="asc", per_page=2)]
    assert all(isinstance(s, Scanner) for s in every)
    ids = [s.id for s in every]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {"port_scan", "tls", "http_headers", "dns", "email_security"} <= set(ids)
    assert len(recorder.sent("/scanners")) == -(-len(ids) // 2)  # every page fetched once
    port_scan = client.scanners.get("port_scan")
    assert port_scan.category == "network" and port_scan.active is True and "ip" in port_scan.target_types
    assert port_scan.options_schema["type"] == "object" and "ports" in port_scan.options_schema["properties"]
    assert port_scan == next(s for s in every if s.id == "port_scan")

    passive = [s.id for s in client.scanners.list(active=False, category=["dns", "discovery"])]
    assert "email_security" in passive and "port_scan" not in passive
    sent = recorder.requests[-1].url.params
    assert sent["active"] == "false" and sent["category"] == "dns,discovery"
    by_ip = {s.id for s in client.scanners.list(target_type="ip", search="tls")}
    assert by_ip == {"tls"}

    with pytest.raises(errors.NotFoundError) as info:
        client.scanners.get("no_such_scanner")
    assert info.value.code == "not_found"
    with pytest.raises(errors.PermissionDeniedError) as denied:
        S4EClient(api_key=platform.tenant.key(["read:assets"]), base_url=BASE_URL,
                  http_client=platform.http).scanners.get("tls")
    assert denied.value.code == "insufficient_scope"


def test_async_scanners(platform):
    async def scenario() -> tuple[list[str], Scanner]:
        transport = httpx.ASGITransport(app=platform.http.app)
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncS4EClient(api_key=platform.tenant.keys["admin"], base_url=BASE_URL, http_client=http)
            names = [s.id async for s in client.scanners.list(category="tls")]
            return names, await client.scanners.get("dns")

    names, dns = asyncio.run(scenario())
    assert names == ["tls"] and dns.category == "dns" and dns.target_types == ["domain"]
