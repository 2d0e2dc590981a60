"""nmap -oX import: data/nmap_loopback.xml was produced by nmap 7.93 (`nmap -sT -sV -n -Pn -p ... localhost`)
against this project's loopback services; the tests do not need nmap installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from s4e_platform.scanners.portscan import nmap_xml
from s4e_platform.scanners.portscan.nmap_xml import NmapImportError, parse_nmap_xml

SAMPLE = (Path(__file__).parent / "data" / "nmap_loopback.xml").read_bytes()


def test_sample_import():
    imported = parse_nmap_xml(SAMPLE)
    assert imported.nmap_version == "7.93" and imported.args.startswith("nmap -sT -sV")
    [host] = imported.hosts
    assert (host.ip, host.status, host.hostnames) == ("127.0.0.1", "up", ["localhost"])
    by_port = {s.port: s for s in imported.services}
    assert sorted(by_port) == [9, 1883, 3306, 5432, 6379, 46615, 58473]
    assert by_port[9].state == "closed"
    ssh = by_port[46615]
    assert (ssh.service, ssh.product, ssh.version, ssh.state) == ("ssh", "OpenSSH", "9.2p1", "open")
    assert ssh.cpe == ["cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*"]  # the versionless OS CPE is dropped
    assert ssh.details["nmap"]["version"] == "9.2p1 Debian 2+deb12u3" and ssh.details["nmap"]["ostype"] == "Linux"
    assert (ssh.method, ssh.source, ssh.host) == ("nmap", "nmap_import", "localhost")
    http = by_port[58473]
    assert (http.service, http.product, http.version) == ("http", "nginx", "1.22.1")
    postgres = by_port[5432]
    assert postgres.version is None and postgres.details["nmap"]["version"] == "9.6.0 or later"
    assert postgres.cpe == []
    assert by_port[6379].cpe == ["cpe:2.3:a:redislabs:redis:7.0.15:*:*:*:*:*:*:*"]
    assert by_port[3306].cpe == ["cpe:2.3:a:mariadb:mariadb:5.5.5-10.11.19-mariadb-0\\+deb12u1:*:*:*:*:*:*:*"]


def test_imported_services_go_through_the_finding_rules():
    imported = parse_nmap_xml(SAMPLE)
    assert imported.findings() == []  # 127.0.0.1 is not an internet address
    exposed = sorted((f.check_id, f.location.port) for f in imported.findings(lambda ip: True))
    assert exposed == [("database_port_exposed", 3306), ("database_port_exposed", 5432),
                       ("database_port_exposed", 6379)]


def test_ipv6_tls_tunnel_and_scripts():
    document = b"""<?xml version="1.0"?><nmaprun scanner="nmap" version="7.94"><host><status state="up"/>
    <address addr="2001:db8::1" addrtype="ipv6"/><address addr="00:11:22:33:44:55" addrtype="mac"/><ports>
    <port protocol="tcp" portid="990"><state state="open"/><service name="ftp" tunnel="ssl" product="vsftpd"
     version="3.0.3"><cpe>cpe:/a:vsftpd_project:vsftpd:3.0.3</cpe></service>
     <script id="ftp-anon" output="Anonymous FTP login allowed (FTP code 230)"/></port>
    <port protocol="udp" portid="161"><state state="open|filtered"/><service name="snmp"/></port>
    <port protocol="sctp" portid="38412"><state state="open"/></port>
    <port protocol="tcp" portid="70000"><state state="open"/></port>
    </ports></host><host><address addr="not-an-ip" addrtype="ipv4"/></host></nmaprun>"""
    imported = parse_nmap_xml(document)
    [host] = imported.hosts
    ftp, snmp = host.services
    assert (ftp.ip, ftp.tls, ftp.details["anonymous_login"]) == ("2001:db8::1", True, True)
    assert ftp.cpe == ["cpe:2.3:a:vsftpd_project:vsftpd:3.0.3:*:*:*:*:*:*:*"]
    assert (snmp.protocol, snmp.state) == ("udp", "filtered")
    assert [f.check_id for f in imported.findings()] == ["ftp_anonymous"]


@pytest.mark.parametrize("document, code", [
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
     b"<nmaprun>&lol2;</nmaprun>", "forbidden_xml"),
    (b'<!DOCTYPE nmaprun SYSTEM "file:///etc/passwd"><nmaprun/>', "forbidden_xml"),
    (b'<!DOCTYPE nmaprun PUBLIC "-//x//y" "http://127.0.0.1:9/x.dtd"><nmaprun/>', "forbidden_xml"),
    (b"<nmaprun>&xxe;</nmaprun>", "invalid_xml"),
    (b"<nmaprun><host>", "invalid_xml"),
    (b"not xml at all", "invalid_xml"),
    (b"<html><body/></html>", "not_nmap"),
    (b"<nmaprun>" + b"<a>" * 40 + b"</a>" * 40 + b"</nmaprun>", "too_large"),
])
def test_hostile_documents_are_refused(document, code):
    with pytest.raises(NmapImportError) as caught:
        parse_nmap_xml(document)
    assert caught.value.code == code


def test_size_cap(monkeypatch):
    monkeypatch.setattr(nmap_xml, "MAX_BYTES", len(SAMPLE) - 1)
    with pytest.raises(NmapImportError) as caught:
        parse_nmap_xml(SAMPLE)
    assert caught.value.code == "too_large"
