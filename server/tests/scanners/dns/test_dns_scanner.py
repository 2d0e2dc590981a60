"""`dns` scanner against the loopback DNS lab: the weak zone shows every planted flaw, the signed well-configured
zone shows none, broken DNSSEC is told apart from absent DNSSEC, and direct queries obey the scan route."""

from __future__ import annotations

import pytest
from s4e_platform.scanners.base import InvalidOptions, InvalidTarget, ScanContext, ScanTarget
from s4e_platform.scanners.dns import DnsScanner
from s4e_platform.scanners.dns.scanner import DNS_CHECKS


def _scan(lab, domain: str, ctx: ScanContext | None = None):
    return DnsScanner(lab.config).run(ScanTarget(type="domain", value=domain), {}, ctx or lab.ctx())


def _found(result) -> set[tuple[str, str, str]]:
    return {(f.check_id, f.location.host, f.location.parameter) for f in result.findings}


def test_weak_zone_has_every_planted_flaw(lab):
    result = _scan(lab, "weak.test")
    assert result.status == "completed", result.issues
    assert _found(result) == {
        ("axfr_allowed", "weak.test", "AXFR"), ("ns_lame", "weak.test", "NS"),
        ("dnssec_missing", "weak.test", "DS"), ("caa_missing", "weak.test", "CAA"),
        ("wildcard_dns", "*.weak.test", "A"), ("dangling_cname", "old.weak.test", "CNAME"),
        ("dangling_cname", "shop.weak.test", "CNAME")}
    by = {(f.check_id, f.location.host): f for f in result.findings}
    assert {c: by[(c, h)].severity for c, h in [("axfr_allowed", "weak.test"), ("dangling_cname", "old.weak.test"),
                                                 ("dnssec_missing", "weak.test"), ("ns_lame", "weak.test"),
                                                 ("caa_missing", "weak.test"), ("wildcard_dns", "*.weak.test")]} == {
        "axfr_allowed": "high", "dangling_cname": "high", "dnssec_missing": "low", "ns_lame": "low",
        "caa_missing": "info", "wildcard_dns": "info"}
    axfr = by[("axfr_allowed", "weak.test")]
    assert axfr.evidence["extracted"] == ["ns1.weak.test (127.0.0.1)"]  # ns2 refuses
    assert {"old.weak.test", "shop.weak.test", "_spf.weak.test"} <= set(axfr.evidence["data"]["names"])
    assert by[("ns_lame", "weak.test")].evidence["extracted"] == ["ns2.weak.test"]
    assert by[("wildcard_dns", "*.weak.test")].evidence["extracted"] == ["127.0.0.9"]
    assert "gone.nowhere.test does not exist" in by[("dangling_cname", "old.weak.test")].evidence["output"]
    shop = by[("dangling_cname", "shop.weak.test")]
    assert shop.evidence["extracted"] == ["weak-shop.herokuapp.com", "Heroku"]
    assert any(h["host"].startswith("shop.weak.test") for _path, h in lab.http_requests)
    assert set(result.coverage["checks"]) == set(DNS_CHECKS)
    assert "weak.test/CAA" in result.coverage["dns"]
    meta = result.asset_metadata["dns"]
    assert meta["zone"] == "weak.test" and meta["dnssec"] == "unsigned"
    assert meta["records"]["NS"] == ["ns1.weak.test.", "ns2.weak.test."]
    assert meta["nameservers"] == {"ns1.weak.test": ["127.0.0.1"], "ns2.weak.test": ["127.0.0.2"]}


def test_well_configured_signed_zone_yields_nothing(lab):
    result = _scan(lab, "good.test")
    assert result.status == "completed", result.issues
    assert result.findings == []
    assert set(result.coverage["checks"]) == set(DNS_CHECKS)
    assert result.asset_metadata["dns"]["dnssec"] == "signed"
    assert result.asset_metadata["dns"]["records"]["CAA"] == ['0 issue "letsencrypt.org"']


@pytest.mark.parametrize(("domain", "problem"), [
    ("mismatch.test", "no DNSKEY matches the DS record at the parent"),
    ("expired.test", "the DNSKEY signature does not validate"),
])
def test_broken_dnssec_is_medium_not_missing(lab, domain, problem):
    result = _scan(lab, domain)
    assert _found(result) == {("dnssec_broken", domain, "DNSKEY")}
    finding = result.findings[0]
    assert finding.severity == "medium" and finding.evidence["extracted"][0].startswith(problem)
    assert result.asset_metadata["dns"]["dnssec"] == "broken"


def test_name_servers_outside_the_scan_route_are_not_queried_or_judged(lab):
    result = _scan(lab, "weak.test", ScanContext(allowed_networks=["127.0.0.1/32"], allow_public=False))
    assert result.status == "partial"
    assert ("ns_lame", "weak.test", "NS") not in _found(result)
    assert ("axfr_allowed", "weak.test", "AXFR") in _found(result)  # ns1 is inside the route
    assert "ns_lame" not in result.coverage["checks"]  # so auto-resolve cannot close an old ns_lame finding
    assert any(i.code == "address_not_allowed" and "ns2.weak.test" in i.target for i in result.issues)


def test_subdomain_target_reports_its_own_cname_and_its_zone(lab):
    result = _scan(lab, "old.weak.test")
    assert ("dangling_cname", "old.weak.test", "CNAME") in _found(result)
    assert ("axfr_allowed", "weak.test", "AXFR") in _found(result)
    assert result.asset_metadata["dns"]["records"]["CNAME"] == ["gone.nowhere.test."]


def test_a_domain_that_does_not_exist_fails_without_findings(lab):
    result = _scan(lab, "nothing-here.test")
    assert result.status == "failed" and result.findings == []
    assert [i.code for i in result.issues] == ["domain_not_found"]


@pytest.mark.parametrize("target", [
    ScanTarget(type="ip", value="127.0.0.1"), ScanTarget(type="domain", value="bad name.test"),
    ScanTarget(type="domain", value="127.0.0.1"), ScanTarget(type="domain", value="localhost"),
    ScanTarget(type="domain", value="a/b.test"),
])
def test_bad_targets_are_rejected_before_any_query(lab, target):
    with pytest.raises(InvalidTarget):
        DnsScanner(lab.config).run(target)


def test_options_must_be_an_object(lab):
    with pytest.raises(InvalidOptions) as exc:
        DnsScanner(lab.config).run(ScanTarget(type="domain", value="good.test"), ["x"])  # type: ignore[arg-type]
    assert exc.value.details[0]["path"] == "$.options"
    assert DnsScanner().validate({"ports": "all"}) is not None  # other scanners' keys are ignored
