"""A full `port_scan` run against planted loopback services: exact open set, identified services, findings."""

from __future__ import annotations

import pytest
from s4e_platform.scanners.base import ScanContext, ScanTarget
from s4e_platform.scanners.portscan.sweep import format_ranges
from s4e_platform.scanners.registry import get

from tests.scanners.portscan import servers, servers_data
from tests.scanners.portscan.conftest import FAST

PLANTED = {
    "banner": servers.banner, "http": servers_data.http, "ssh": servers.ssh, "ftp": servers.ftp_anonymous,
    "redis": servers_data.redis_no_auth, "smtp": servers.smtp_plain, "telnet": servers.telnet,
    "vnc": servers.vnc_no_auth, "elasticsearch": servers_data.elasticsearch,
}


@pytest.fixture(scope="module")
def planted(peers):
    ports = {name: peers.start(handler) for name, handler in PLANTED.items()}
    ports["https"] = peers.start(servers_data.http, tls=servers.self_signed_context())
    return ports


@pytest.fixture(scope="module")
def scan(planted):
    """One scan over the planted ports plus ports bound but not listening (closed)."""
    import socket

    holders = []
    for _ in range(10):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        holders.append(s)
    closed = [s.getsockname()[1] for s in holders]
    ports = sorted(planted.values()) + closed
    ctx = ScanContext(allowed_networks=["127.0.0.0/8"])
    result = get("port_scan").run(ScanTarget("ip", "127.0.0.1"), {"ports": ",".join(map(str, ports)), **FAST}, ctx)
    for s in holders:
        s.close()
    return result, closed, ports


def _service(result, port):
    return next(s for s in result.services if s.port == port)


def test_open_set_is_exactly_the_planted_ports(scan, planted):
    result, closed, ports = scan
    assert result.status == "completed"
    assert sorted(s.port for s in result.services) == sorted(planted.values())
    assert all(s.state == "open" and s.ip == "127.0.0.1" for s in result.services)
    assert result.stats["closed"] == len(closed)
    assert result.coverage["hosts"] == {"127.0.0.1": format_ranges(ports)}


def test_services_are_identified(scan, planted):
    result = scan[0]
    http = _service(result, planted["http"])
    assert (http.service, http.product, http.version, http.tls) == ("http", "nginx", "1.25.3", False)
    assert http.cpe == ["cpe:2.3:a:f5:nginx:1.25.3:*:*:*:*:*:*:*"]
    assert http.details["title"] == "Loopback test page"
    ssh = _service(result, planted["ssh"])
    assert (ssh.service, ssh.product, ssh.version) == ("ssh", "OpenSSH", "9.6p1")
    assert ssh.cpe == ["cpe:2.3:a:openbsd:openssh:9.6:p1:*:*:*:*:*:*"]
    assert ssh.banner == "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5"
    ftp = _service(result, planted["ftp"])
    assert (ftp.service, ftp.product, ftp.version) == ("ftp", "vsftpd", "3.0.5")
    assert ftp.details["anonymous_login"] is True and ftp.details["auth_tls"] is False
    redis = _service(result, planted["redis"])
    assert (redis.service, redis.product, redis.version) == ("redis", "Redis", "6.2.14")
    smtp = _service(result, planted["smtp"])
    assert (smtp.service, smtp.product, smtp.details["starttls"]) == ("smtp", "Postfix", False)
    assert "PIPELINING" in smtp.details["extensions"]
    assert _service(result, planted["telnet"]).service == "telnet"
    assert "login:" in _service(result, planted["telnet"]).banner
    vnc = _service(result, planted["vnc"])
    assert (vnc.service, vnc.details["auth_required"]) == ("vnc", False)
    elastic = _service(result, planted["elasticsearch"])
    assert (elastic.service, elastic.product, elastic.version) == ("elasticsearch", "Elasticsearch", "8.13.4")


def test_unknown_banner_is_kept(scan, planted):
    result = scan[0]
    generic = _service(result, planted["banner"])
    assert generic.banner == "S4E-TEST service ready (build 7)"
    assert generic.method == "port"


def test_tls_service_has_a_summary(scan, planted):
    result = scan[0]
    https = _service(result, planted["https"])
    assert https.service == "http" and https.tls is True and https.product == "nginx"
    summary = https.tls_summary
    assert summary["subject_cn"] == "s4e-test.local"
    assert summary["self_signed"] is True
    assert summary["version"] in ("TLSv1.2", "TLSv1.3")
    assert summary["san"] == ["s4e-test.local"]
    assert len(summary["sha256"]) == 64


def test_expected_findings_and_nothing_else(scan, planted):
    result = scan[0]
    got = sorted((f.check_id, f.location.port) for f in result.findings)
    assert got == sorted([
        ("ftp_anonymous", planted["ftp"]), ("ftp_no_tls", planted["ftp"]),
        ("redis_unauthenticated", planted["redis"]), ("cleartext_mail_no_starttls", planted["smtp"]),
        ("telnet_exposed", planted["telnet"]), ("vnc_unauthenticated", planted["vnc"]),
        ("elasticsearch_unauthenticated", planted["elasticsearch"]),
    ])  # loopback is not the internet: no database/SMB/RDP exposure findings
    redis = next(f for f in result.findings if f.check_id == "redis_unauthenticated")
    assert redis.severity == "critical" and redis.cwe_ids == ["CWE-306"]
    assert redis.location.ip == "127.0.0.1" and redis.location.protocol == "tcp"
    assert "redis_version:6.2.14" in redis.evidence["output"]
    assert redis.evidence["matched_at"] == f"127.0.0.1:{planted['redis']}"
    assert redis.remediation and redis.description and redis.references


def test_probes_spoke_the_protocols(scan, planted, peers):
    """What the peers received: FTP anonymous login, telnet options refused, Redis INFO, one HTTP request."""
    ftp_sent = b"".join(peers.received[planted["ftp"]])
    assert b"USER anonymous\r\n" in ftp_sent and b"QUIT\r\n" in ftp_sent
    telnet_sent = b"".join(peers.received[planted["telnet"]])
    assert bytes([255, 254, 1, 255, 254, 3, 255, 252, 24, 255, 252, 31]) in telnet_sent
    assert b"INFO" in b"".join(peers.received[planted["redis"]])
    http_sent = b"".join(peers.received[planted["http"]])
    assert b"GET / HTTP/1.1\r\nHost: 127.0.0.1:" in http_sent and b"User-Agent: S4E-Scanner/" in http_sent


def test_raw_output_and_technologies(scan, planted):
    result = scan[0]
    assert f"{planted['ssh']}/tcp" in result.raw_output and "OpenSSH 9.6p1" in result.raw_output
    assert "ssl/http" in result.raw_output
    names = {(t.name, t.version) for t in result.technologies}
    assert {("nginx", "1.25.3"), ("OpenSSH", "9.6p1"), ("Redis", "6.2.14")} <= names
    result_dict = result.to_dict()
    assert result_dict["status"] == "completed" and isinstance(result_dict["started_at"], str)
