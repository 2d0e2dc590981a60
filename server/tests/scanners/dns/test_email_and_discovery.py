"""`email_security` and `subdomain_discovery` against the loopback DNS lab."""

from __future__ import annotations

import re
import time

import pytest
from s4e_platform.scanners.base import InvalidOptions, ScanTarget
from s4e_platform.scanners.dns import DnsConfig, EmailSecurityScanner, SubdomainDiscoveryScanner
from s4e_platform.scanners.dns.scanner import EMAIL_CHECKS
from s4e_platform.scanners.dns.subdomains import wordlist


def _email(lab, domain: str, scanner: EmailSecurityScanner | None = None):
    scanner = scanner or EmailSecurityScanner(lab.config)
    return scanner.run(ScanTarget(type="domain", value=domain), {}, lab.ctx())


def _found(result) -> set[tuple[str, str]]:
    return {(f.check_id, f.location.host) for f in result.findings}


def test_weak_mail_domain(lab):
    result = _email(lab, "weak.test")
    assert result.status == "completed", result.issues
    assert _found(result) == {
        ("spf_pass_all", "weak.test"), ("spf_too_many_lookups", "weak.test"), ("dmarc_missing", "_dmarc.weak.test"),
        ("dkim_missing", "_domainkey.weak.test"), ("mta_sts_missing", "_mta-sts.weak.test"),
        ("tls_rpt_missing", "_smtp._tls.weak.test")}
    severity = {f.check_id: f.severity for f in result.findings}
    assert severity["spf_pass_all"] == "high" and severity["dmarc_missing"] == "medium"
    assert severity["spf_too_many_lookups"] == "medium" and severity["dkim_missing"] == "info"
    lookups = next(f for f in result.findings if f.check_id == "spf_too_many_lookups")
    assert int(lookups.evidence["extracted"][0]) > 10
    assert set(result.coverage["checks"]) == set(EMAIL_CHECKS)
    assert result.asset_metadata["email"]["spf"] == ["v=spf1 a mx include:_spf.weak.test +all"]


def test_soft_policies(lab):
    result = _email(lab, "soft.test")
    assert _found(result) == {
        ("spf_multiple_records", "soft.test"), ("spf_soft_all", "soft.test"),
        ("dmarc_policy_none", "_dmarc.soft.test"), ("dmarc_no_rua", "_dmarc.soft.test"),
        ("dkim_missing", "_domainkey.soft.test"), ("mta_sts_invalid", "_mta-sts.soft.test"),
        ("tls_rpt_missing", "_smtp._tls.soft.test")}
    severity = {f.check_id: f.severity for f in result.findings}
    assert severity == {"spf_multiple_records": "medium", "spf_soft_all": "low", "dmarc_policy_none": "low",
                        "dmarc_no_rua": "info", "dkim_missing": "info", "mta_sts_invalid": "low",
                        "tls_rpt_missing": "info"}


def test_well_configured_mail_domain_yields_nothing(lab):
    result = _email(lab, "good.test")
    assert result.status == "completed" and result.findings == []
    assert result.asset_metadata["email"]["dkim_selectors"] == ["default"]


def test_subdomain_inherits_the_organisational_dmarc_policy_and_skips_inbound_checks_without_mx(lab):
    result = _email(lab, "mailer.good.test")
    assert result.status == "completed" and result.findings == []
    assert result.asset_metadata["email"]["dmarc"] == ["v=DMARC1; p=reject; rua=mailto:dmarc@good.test"]


def test_resolvers_come_from_settings_by_default(lab, settings):
    settings.dns_nameservers = f"127.0.0.1:{lab.dns_port}"
    result = _email(lab, "soft.test", EmailSecurityScanner())
    assert ("spf_multiple_records", "soft.test") in _found(result)


@pytest.fixture(scope="module")
def discovered(lab):
    out = {}
    for domain in ("good.test", "weak.test"):
        started = time.monotonic()
        result = SubdomainDiscoveryScanner(lab.config).run(ScanTarget(type="domain", value=domain), {}, lab.ctx())
        out[domain] = result, time.monotonic() - started
    return out


def test_discovery_combines_wordlist_certificate_and_record_names(discovered):
    result, _elapsed = discovered["good.test"]
    assert result.status == "completed" and result.findings == []
    assert {(a.value, a.source, tuple(a.addresses)) for a in result.discovered_assets} == {
        ("www.good.test", "certificate", ("127.0.0.11",)), ("portal-7f3.good.test", "certificate", ("127.0.0.13",)),
        ("mx1.good.test", "dns_record", ("127.0.0.1",)), ("ns1.good.test", "dns_record", ("127.0.0.1",)),
        ("api.good.test", "wordlist", ("127.0.0.12",)), ("vpn.good.test", "wordlist", ("::1",))}
    assert all(a.type == "domain" for a in result.discovered_assets)
    assert result.stats["candidates"] >= 5000 and result.stats["certificate_names"] == 5


def test_discovery_filters_wildcard_answers_but_keeps_real_and_dangling_names(discovered):
    result, _elapsed = discovered["weak.test"]
    assert result.status == "completed"
    names = {a.value: a for a in result.discovered_assets}
    assert set(names) == {"www.weak.test", "mail.weak.test", "ns1.weak.test", "ns2.weak.test", "old.weak.test",
                          "shop.weak.test"}
    assert names["old.weak.test"].details == {"cname": "gone.nowhere.test", "dangling": True}
    assert names["shop.weak.test"].details == {"cname": "weak-shop.herokuapp.com"}
    assert result.stats["wildcard"] == ["127.0.0.9"] and result.stats["wildcard_filtered"] > 4900


def test_wordlists_have_the_promised_sizes_of_valid_labels():
    default, large = wordlist(), wordlist(True)
    assert len(default) == len(set(default)) == 5000 and len(large) == len(set(large)) == 50000
    assert default[:3] == ("www", "mail", "api") and set(default) < set(large)
    assert all(re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", label) for label in large)


def test_discovery_options_and_cancellation(lab):
    scanner = SubdomainDiscoveryScanner(lab.config)
    assert scanner.validate({"enable_bruteforce": True}).enable_bruteforce is True
    with pytest.raises(InvalidOptions) as exc:
        scanner.validate({"enable_bruteforce": "yes"})
    assert exc.value.details[0]["path"] == "$.options.enable_bruteforce"
    started = time.monotonic()
    result = scanner.run(ScanTarget(type="domain", value="good.test"), {"enable_bruteforce": True},
                         lab.ctx(stop_check=lambda: True))
    assert time.monotonic() - started < 3
    assert result.status == "cancelled" and result.coverage == {}
    assert result.stats["resolved"] < 50000


def test_unusable_resolvers_fail_the_run_quickly(lab):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    config = DnsConfig(nameservers=(("127.0.0.1", dead),), authoritative_port=dead, timeout=0.5, lifetime=1.0)
    started = time.monotonic()
    result = SubdomainDiscoveryScanner(config).run(ScanTarget(type="domain", value="good.test"), {}, lab.ctx())
    assert result.status == "failed" and result.discovered_assets == []
    assert [i.code for i in result.issues] == ["resolvers_failing", "wildcard_not_tested"]
    assert result.stats["resolved"] < 1000 and time.monotonic() - started < 10
