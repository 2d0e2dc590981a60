"""Finding rules: access checks everywhere, exposure checks only towards the internet."""

from __future__ import annotations

from s4e_platform.scanners.base import ServiceObservation
from s4e_platform.scanners.portscan.findings import CHECK_IDS, evaluate


def _svc(port: int, service: str, ip: str = "203.0.113.7", **kwargs) -> ServiceObservation:
    return ServiceObservation(ip=ip, port=port, service=service, **kwargs)


def _checks(services, internet: bool) -> list[tuple[str, int]]:
    return sorted((f.check_id, f.location.port) for f in evaluate(services, lambda ip: internet))


def test_database_smb_and_rdp_exposure_only_towards_the_internet():
    services = [_svc(5432, "postgresql"), _svc(3306, "mysql", method="port"), _svc(445, "microsoft-ds"),
                _svc(3389, "rdp", details={"nla": True}), _svc(443, "http", tls=True)]
    assert _checks(services, internet=True) == [("database_port_exposed", 3306), ("database_port_exposed", 5432),
                                                ("rdp_exposed", 3389), ("smb_exposed", 445)]
    assert _checks(services, internet=False) == []


def test_access_checks_fire_in_any_zone():
    services = [_svc(6379, "redis", details={"auth_required": False}),
                _svc(6380, "redis", details={"auth_required": True}),
                _svc(27017, "mongodb", details={"auth_required": False}),
                _svc(5432, "postgresql", details={"auth": "trust"}),
                _svc(5433, "postgresql", details={"auth": "sasl"}),
                _svc(21, "ftp", details={"anonymous_login": True, "auth_tls": True}),
                _svc(23, "telnet", method="port"),
                _svc(25, "smtp", details={"starttls": True}),
                _svc(110, "pop3", details={"starttls": False}),
                _svc(993, "imap", tls=True, details={"starttls": False})]
    assert _checks(services, internet=False) == [
        ("cleartext_mail_no_starttls", 110), ("ftp_anonymous", 21), ("mongodb_unauthenticated", 27017),
        ("postgresql_trust_auth", 5432), ("redis_unauthenticated", 6379), ("telnet_exposed", 23)]


def test_closed_and_filtered_ports_raise_nothing():
    services = [_svc(23, "telnet", state="filtered"), _svc(6379, "redis", state="closed",
                                                         details={"auth_required": False})]
    assert _checks(services, internet=True) == []


def test_candidate_fields():
    [finding] = evaluate([_svc(5432, "postgresql", ip="2001:db8::5", host="db.example.com", product="PostgreSQL",
                               version="16.2")], lambda ip: True)
    assert finding.title == "Database port reachable from the internet (PostgreSQL)"
    assert (finding.severity, finding.category, finding.cwe_ids) == ("high", "exposure", ["CWE-668"])
    assert finding.references == ["https://cwe.mitre.org/data/definitions/668.html"]
    assert finding.location.host == "db.example.com" and finding.location.ip == "2001:db8::5"
    assert finding.evidence["matched_at"] == "[2001:db8::5]:5432"
    assert finding.evidence["extracted"] == ["PostgreSQL", "16.2"]
    assert finding.discriminator == ""
    assert len(CHECK_IDS) == len(set(CHECK_IDS))


def test_evidence_is_capped():
    huge = "x" * 20000
    [finding] = evaluate([_svc(6379, "redis", details={"auth_required": False, "evidence": huge})], lambda ip: False)
    assert len(finding.evidence["output"].encode()) == 8192
