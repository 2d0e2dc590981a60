import pytest
from s4e_platform.finding import scoring
from s4e_platform.workspace.service import DEFAULT_SETTINGS

from tests.finding.conftest import make_asset

WEIGHTS = DEFAULT_SETTINGS["risk_weights"]
RULES = DEFAULT_SETTINGS["severity_rules"]


@pytest.mark.parametrize(("cvss", "severity"), [(0, "info"), (0.1, "low"), (3.9, "low"), (4.0, "medium"),
                                                (6.9, "medium"), (7.0, "high"), (8.9, "high"), (9.0, "critical"),
                                                (10.0, "critical")])
def test_cvss_bands(cvss, severity):
    assert scoring.severity_from_cvss(cvss) == severity


def test_risk_score_spec_examples():
    assert scoring.risk_score(severity="critical", cvss=9.8, criticality="critical", network_zone="external",
                              epss_percentile=0.97, kev=True, weights=WEIGHTS) == 100
    assert scoring.risk_score(severity="medium", cvss=5.3, criticality="low", network_zone="internal",
                              epss_percentile=None, kev=False, weights=WEIGHTS) == 22
    assert scoring.risk_score(severity="info", cvss=None, criticality="critical", network_zone="external",
                              epss_percentile=1, kev=True, weights=WEIGHTS) == 0


# The spec's text says "one critical -> 53", but its own formula gives round(100 x e^-0.625) = round(53.53) = 54;
# the formula is what we implement (the discrepancy is reported to the spec owner).
@pytest.mark.parametrize(("severity", "score", "grade"), [("critical", 54, "D"), ("high", 78, "B"),
                                                          ("medium", 90, "A")])
def test_security_score_spec_examples(severity, score, grade):
    value = scoring.security_score(scoring.penalty(severity, kev=False, status="open"))
    assert (value, scoring.grade(value)) == (score, grade)


def test_kev_doubles_and_excluded_statuses():
    assert scoring.penalty("high", kev=True, status="reopened") == 20
    assert scoring.penalty("high", kev=False, status="accepted_risk") == 5
    assert scoring.penalty("critical", kev=True, status="false_positive") == 0
    assert scoring.penalty("critical", kev=True, status="resolved") == 0


def test_default_rules_reclassify(db, tenant):
    jewel = make_asset(db, tenant.workspace_id, "a.example.com", criticality="high", tags=["crown-jewel"])
    staging = make_asset(db, tenant.workspace_id, "b.example.com", criticality="low")
    plain = make_asset(db, tenant.workspace_id, "c.example.com", criticality="medium")
    cls = scoring.classify
    assert cls("high", rules=RULES, asset=jewel, scanner="tls", category="tls") == ("critical", "crown-jewels")
    assert cls("low", rules=RULES, asset=jewel, scanner="tls", category="tls") == ("low", None)
    assert cls("medium", rules=RULES, asset=staging, scanner="tls", category="tls") == ("low", "non-production")
    assert cls("critical", rules=RULES, asset=staging, scanner="tls", category="tls") == ("critical", None)
    assert cls("high", rules=RULES, asset=plain, scanner="tls", category="tls") == ("high", None)
    info_rule = [{"id": "x", "when_asset": {}, "action": {"shift": 2}}]
    assert cls("info", rules=info_rule, asset=plain, scanner="tls", category="tls") == ("info", None)
    set_rule = [{"id": "s", "when_asset": {"network_zone": ["external"]}, "scanners": ["tls"],
                 "action": {"set": "info"}}]
    assert cls("high", rules=set_rule, asset=plain, scanner="tls", category="tls") == ("info", "s")
    assert cls("high", rules=set_rule, asset=plain, scanner="dns", category="tls") == ("high", None)
    disabled = [{**RULES[0], "enabled": False}]
    assert cls("high", rules=disabled, asset=jewel, scanner="tls", category="tls") == ("high", None)


def test_sla_due_dates(db):
    from datetime import datetime, timedelta, timezone

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    days = DEFAULT_SETTINGS["sla_days"]
    assert scoring.sla_due("critical", start, days) == start + timedelta(days=7)
    assert scoring.sla_due("low", start, days) == start + timedelta(days=120)
    assert scoring.sla_due("info", start, days) is None
