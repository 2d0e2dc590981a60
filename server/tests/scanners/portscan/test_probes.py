"""Individual probes against loopback peers, the port -> probe hints, and hostile peers."""

from __future__ import annotations

import asyncio
import time

import pytest
from s4e_platform.scanners.portscan import detect, probe_data, probe_web, probe_windows
from s4e_platform.scanners.portscan.probe_data import mysql_handshake
from s4e_platform.scanners.portscan.probes import ProbeConfig, ProbeTarget

from tests.scanners.portscan import servers, servers_data

# The greeting a real MariaDB 10.11 (Debian 12) sent to a client, captured from the wire.
MARIADB_GREETING = bytes.fromhex(
    "640000000a352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100210000003f5f4167633a395000fef72d"
    "0200ff81150000000000001d0000006323227e79666f7b3f66664a006d7973716c5f6e61746976655f70617373776f726400")


def _target(port: int, ip: str = "127.0.0.1", host: str | None = None) -> ProbeTarget:
    return ProbeTarget(ip, port, host, ProbeConfig(timeout=1.0, banner_wait=0.5))


def _run(probe, port: int, **kwargs):
    found, tls = asyncio.run(probe.run(_target(port, **kwargs)))
    return found, tls


def test_hints_follow_the_usual_service():
    assert detect.hinted_probe(6379) is probe_data.REDIS
    assert detect.hinted_probe(5432) is probe_data.POSTGRESQL
    assert detect.hinted_probe(11211) is probe_data.MEMCACHED
    assert detect.hinted_probe(27017) is probe_data.MONGODB
    assert detect.hinted_probe(3389) is probe_windows.RDP
    assert detect.hinted_probe(445) is probe_windows.SMB
    assert detect.hinted_probe(443) is probe_web.TLS and detect.hinted_probe(8443) is probe_web.TLS
    assert detect.hinted_probe(80) is probe_web.HTTP and detect.hinted_probe(9200) is probe_web.HTTP
    assert detect.hinted_probe(22) is None and detect.hinted_probe(21) is None  # server-first: banner stage


def test_memcached(peers):
    found, _ = _run(probe_data.MEMCACHED, peers.start(servers_data.memcached))
    assert (found.service, found.product, found.version) == ("memcached", "Memcached", "1.6.21")
    assert found.details["auth_required"] is False


def test_mongodb_without_access_control(peers):
    found, _ = _run(probe_data.MONGODB, peers.start(servers_data.mongodb_no_auth))
    assert (found.service, found.product, found.version) == ("mongodb", "MongoDB", "7.0.8")
    assert found.details["auth_required"] is False and found.details["max_wire_version"] == 21


def test_redis_with_password_is_not_open(peers):
    found, _ = _run(probe_data.REDIS, peers.start(servers_data.redis_with_password))
    assert found.service == "redis" and found.details["auth_required"] is True
    assert found.version is None  # INFO is never sent once a password is asked for


def test_rdp_reports_nla(peers):
    found, _ = _run(probe_windows.RDP, peers.start(servers_data.rdp_nla))
    assert found.service == "rdp" and found.details == {"security": "credssp", "nla": True}


def test_smb2_dialect_and_signing(peers):
    found, _ = _run(probe_windows.SMB, peers.start(servers_data.smb2))
    assert found.service == "smb"
    assert found.details == {"smb1": False, "dialect": "3.0.2", "signing_required": True}


def test_mysql_greeting_from_a_real_server():
    found = mysql_handshake(MARIADB_GREETING)
    assert (found.service, found.product, found.version) == ("mysql", "MariaDB", "10.11.19")
    assert found.details["ssl"] is False and found.banner == "5.5.5-10.11.19-MariaDB-0+deb12u1"
    assert mysql_handshake(b"HTTP/1.1 400 Bad Request\r\n") is None
    error = b"\x45\x00\x00\x00\xff\x6a\x04Host '10.0.0.9' is not allowed to connect to this MariaDB server"
    assert mysql_handshake(error).details["error_code"] == 1130


def test_tls_records_sni_and_identifies_http_inside(peers):
    port = peers.start(servers_data.http, tls=servers.self_signed_context("svc.s4e-test.local"))
    found, summary = _run(probe_web.TLS, port, host="svc.s4e-test.local")
    assert found.service == "http" and found.product == "nginx"
    assert summary["sni"] == "svc.s4e-test.local" and summary["subject_cn"] == "svc.s4e-test.local"
    assert b"Host: svc.s4e-test.local:" in b"".join(peers.received[port])


def test_plain_http_is_not_tls(peers):
    found, summary = _run(probe_web.TLS, peers.start(servers_data.http))
    assert found is None and summary is None


def test_identify_over_ipv6(peers):
    try:
        port = peers.start(servers.ssh, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    observed = asyncio.run(detect.identify(_target(port, ip="::1")))
    assert (observed.ip, observed.service, observed.product) == ("::1", "ssh", "OpenSSH")


async def _flood(reader, writer) -> None:
    """A hostile peer: an endless stream of junk."""
    chunk = b"\x00garbage\xff" * 4096
    for _ in range(400):
        writer.write(chunk)
        await writer.drain()


def test_hostile_peers_cost_little(peers):
    flood, silent = peers.start(_flood), peers.start(servers.tarpit)
    started = time.monotonic()
    flooded = asyncio.run(detect.identify(_target(flood)))
    assert len(flooded.banner.encode()) <= 1024 and flooded.service == "unknown"
    quiet = asyncio.run(detect.identify(_target(silent)))
    assert quiet.service == "unknown" and quiet.banner is None and quiet.method == "port"
    assert time.monotonic() - started < 8  # banner wait + three 1 s probes, never the peer's 30 s


def _sends(data: bytes):
    async def handler(reader, writer) -> None:
        writer.write(data)
        await writer.drain()
        await reader.read(100)

    return handler


@pytest.mark.parametrize("greeting, service", [
    (b'INFO {"a":' + b"[" * 3000 + b"\r\n", "nats"),  # nesting deep enough to blow the JSON parser's stack
    ("2\u00b22 hostile reply\r\n".encode("latin-1"), "unknown"),  # a Latin-1 superscript two is not a digit
    (b"220-" + b"x" * 70000, "unknown"),  # a reply that never ends
    (b"SSH-2.0-" + bytes(range(256)) + b"\r\n", "ssh"),
    (b"\x05\x00\x00\x00\x0a\xff\xff\xff\xff", "unknown"),  # a MySQL-looking greeting with no version
])
def test_malformed_greetings_never_break_identification(peers, greeting, service):
    observed = asyncio.run(detect.identify(_target(peers.start(_sends(greeting)))))
    assert observed.service == service
    assert observed.banner is None or len(observed.banner.encode()) <= 1024
