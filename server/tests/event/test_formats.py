"""CEF, LEEF 2.0 and ECS renderings and the severity mapping (events.md 4.1-4.4), on spec-shaped envelopes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from s4e_platform import __version__ as V
from s4e_platform.event.formats import severity_number, to_cef, to_ecs, to_leef
from s4e_platform.kit.clock import isoformat, utcnow

from tests.event.helpers import envelope, finding

ANA = {"type": "user", "id": "usr_01hv9c4k2m7q8r5t3w6x0y1z2f", "name": "ana@example.com"}


def _status_change() -> dict:
    """A `finding.status_changed` whose texts need every kind of escaping."""
    data = {"finding": finding(title="Weak TLS | legacy \\ protocols^v1\r\nenabled\t1.1", status="accepted_risk",
                               description="Accepts TLS=1.0 \\ 1.1 | SSLv3\r\nsee RFC 8996\tnow"),
            "old_status": "open", "new_status": "accepted_risk", "justification": "Legacy clients; owner=ops",
            "accepted_until": "2026-06-01T00:00:00.000Z"}
    return envelope("finding.status_changed", data, actor=ANA)


def test_cef_line_of_a_status_change_is_exact_and_escaped():
    assert to_cef(_status_change()) == (
        rf"CEF:0|S4E|Platform|{V}|finding.status_changed|Weak TLS \| legacy \\ protocols^v1  enabled" "\t" r"1.1|5|"
        r"rt=1777377600000 externalId=evt_01hv9c4k2m7q8r5t3w6x0y1z2a cat=tls dhost=app.example.com "
        r"dst=203.0.113.10 dpt=443 proto=TCP request=https://app.example.com/login?next\=/ suser=ana@example.com "
        r"reason=Legacy clients; owner\=ops msg=Accepts TLS\=1.0 \\ 1.1 | SSLv3\r\nsee RFC 8996" "\t"
        r"now cs1Label=finding_id cs1=fnd_01hv9c4k2m7q8r5t3w6x0y1z2c cs2Label=severity cs2=medium "
        r"cs3Label=cvss cs3=5.3 cs4Label=asset_id cs4=ast_01hv9c4k2m7q8r5t3w6x0y1z2d cs5Label=cve "
        r"cs5=CVE-2011-3389 cs6Label=check_id cs6=tls-legacy-protocols flexString1Label=status "
        r"flexString1=accepted_risk flexString2Label=fingerprint flexString2=9f86d081884c7d65 cn1Label=cwe cn1=326 "
        r"cn2Label=risk_score cn2=42 cn3Label=kev cn3=0 cfp1Label=epss cfp1=0.00123")


def test_leef_line_of_a_status_change_is_exact_with_caret_delimiter():
    assert to_leef(_status_change()) == (
        f"LEEF:2.0|S4E|Platform|{V}|finding.status_changed|^|devTime=1777377600000^cat=tls^sev=5"
        "^resource=app.example.com^dst=203.0.113.10^dstPort=443^proto=TCP^url=https://app.example.com/login?next=/"
        "^usrName=ana@example.com^eventId=evt_01hv9c4k2m7q8r5t3w6x0y1z2a^findingId=fnd_01hv9c4k2m7q8r5t3w6x0y1z2c"
        "^assetId=ast_01hv9c4k2m7q8r5t3w6x0y1z2d^title=Weak TLS | legacy \\ protocols v1  enabled 1.1"
        "^status=accepted_risk^cvss=5.3^cve=CVE-2011-3389^cwe=CWE-326,CWE-327^checkId=tls-legacy-protocols"
        "^fingerprint=9f86d081884c7d65^riskScore=42^kev=0^epss=0.00123^scanId=scn_01hv9c4k2m7q8r5t3w6x0y1z2e"
        "^link=http://127.0.0.1:8000/console/findings/fnd_01hv9c4k2m7q8r5t3w6x0y1z2c")


def test_new_finding_names_no_user_and_omits_empty_keys():
    env = envelope("finding.new", {"finding": finding(cve_ids=[], kev=None, epss=None, cvss=None, severity="high",
                                                      location={"ip": None, "port": None, "protocol": None})})
    line = to_cef(env)
    assert line.startswith(f"CEF:0|S4E|Platform|{V}|finding.new|TLS 1.0 enabled|8|")
    for absent in ("suser=", "reason=", "dst=", "dpt=", "proto=", "cs3Label", "cs5Label", "cn3Label", "cfp1"):
        assert absent not in line
    assert "dhost=app.example.com" in line
    leef = to_leef(env)
    assert "^sev=8^" in leef and "usrName" not in leef and "^cve=" not in leef and "^kev=" not in leef


def test_ipv6_goes_to_c6a3_and_mapped_ipv4_to_dst():
    v6 = envelope("finding.new", {"finding": finding(location={"ip": "2001:db8::10"})})
    line = to_cef(v6)
    assert " c6a3Label=destination_ipv6 c6a3=2001:db8::10 dpt=443 " in line
    assert " dst=" not in line
    assert "^dst=" not in to_leef(v6) and "^resource=app.example.com^dstPort=443^" in to_leef(v6)
    mapped = envelope("finding.new", {"finding": finding(location={"ip": "::ffff:203.0.113.10"})})
    assert " dst=203.0.113.10 " in to_cef(mapped) and "^dst=203.0.113.10^" in to_leef(mapped)
    assert to_ecs(v6)["destination"] == {"ip": "2001:db8::10", "port": 443}


def test_long_values_are_cut_before_escaping():
    env = envelope("finding.new", {"finding": finding(description="a" * 1022 + "=tail" + "b" * 5000,
                                                      check_id="c" * 5000, title="t" * 2000,
                                                      location={"url": "https://x.example/" + "p" * 2000})})
    line = to_cef(env)
    ext = dict(part.split("=", 1) for part in line.split("|", 7)[7].split(" ") if "=" in part)
    assert ext["msg"] == "a" * 1022 + "\\="  # 1,023 characters, then escaped
    assert ext["cs6"] == "c" * 4000
    assert len(ext["request"]) == 1023
    leef_title = next(a for a in to_leef(env).split("^") if a.startswith("title="))
    assert leef_title == "title=" + "t" * 1023


@pytest.mark.parametrize(("severity", "cvss", "cef", "leef"), [
    ("critical", 9.8, 9, 9), ("critical", 10.0, 10, 10), ("critical", 6.1, 9, 9), ("critical", None, 10, 10),
    ("high", 9.9, 8, 8), ("high", 7.5, 7, 7), ("high", None, 8, 8),
    ("medium", 5.3, 5, 5), ("medium", 4.0, 4, 4), ("medium", 6.9, 6, 6), ("medium", None, 5, 5),
    ("low", 0.0, 1, 1), ("low", 3.7, 3, 3), ("low", None, 3, 3),
    ("info", None, 0, 1), ("info", 5.0, 0, 1),
])
def test_finding_severity_number_stays_in_its_band(severity, cvss, cef, leef):
    env = envelope("finding.new", {"finding": finding(severity=severity, cvss=cvss)})
    assert severity_number(env) == cef
    assert severity_number(env, leef=True) == leef
    assert f"|{cef}|rt=" in to_cef(env) and f"^sev={leef}^" in to_leef(env)
    assert to_ecs(env)["event"]["severity"] == cef
    assert to_ecs(env)["vulnerability"]["severity"] == severity.capitalize()


@pytest.mark.parametrize(("event", "number"), [
    ("scan.failed", 5), ("action.failed", 5), ("audit.login_failed", 5), ("audit.api_key_created", 3),
    ("audit.logout", 3), ("asset.created", 1), ("scan.completed", 1),
])
def test_non_finding_severity(event, number):
    assert severity_number(envelope(event, {})) == number
    assert severity_number(envelope(event, {}), leef=True) == number


def test_scan_failure_renders_object_and_summary():
    env = envelope("scan.failed", {"scan_id": "scn_01hv9c4k2m7q8r5t3w6x0y1z2e",
                                   "asset_id": "ast_01hv9c4k2m7q8r5t3w6x0y1z2d", "scan_type": "quick",
                                   "error": {"code": "timeout", "message": "target=slow\nno answer"},
                                   "duration": 600})
    assert to_cef(env) == (
        rf"CEF:0|S4E|Platform|{V}|scan.failed|Scan failed|5|rt=1777377600000 "
        r"externalId=evt_01hv9c4k2m7q8r5t3w6x0y1z2a cat=scan suser=scanner "
        r"msg=Scan failed: scn_01hv9c4k2m7q8r5t3w6x0y1z2e (target\=slow\nno answer) "
        r"cs1Label=object_id cs1=scn_01hv9c4k2m7q8r5t3w6x0y1z2e cs4Label=asset_id cs4=ast_01hv9c4k2m7q8r5t3w6x0y1z2d")
    assert to_leef(env) == (
        f"LEEF:2.0|S4E|Platform|{V}|scan.failed|^|devTime=1777377600000^cat=scan^sev=5^usrName=scanner"
        "^eventId=evt_01hv9c4k2m7q8r5t3w6x0y1z2a^objectId=scn_01hv9c4k2m7q8r5t3w6x0y1z2e"
        "^assetId=ast_01hv9c4k2m7q8r5t3w6x0y1z2d^summary=Scan failed: scn_01hv9c4k2m7q8r5t3w6x0y1z2e "
        "(target=slow no answer)")
    doc = to_ecs(env)
    assert doc["event"]["outcome"] == "failure" and doc["event"]["dataset"] == "s4e.event"
    assert "category" not in doc["event"] and "vulnerability" not in doc
    assert doc["s4e"]["scan"] == {"id": "scn_01hv9c4k2m7q8r5t3w6x0y1z2e"}


def test_ecs_document_of_a_new_finding():
    before = utcnow() - timedelta(seconds=1)
    doc = to_ecs(envelope("finding.new", {"finding": finding(severity="critical", cvss=9.8,
                                                             cve_ids=["CVE-2014-3566", "CVE-2011-3389"])}))
    assert doc["@timestamp"] == "2026-04-28T12:00:00.000Z" and doc["message"] == "TLS 1.0 enabled"
    assert doc["ecs"] == {"version": "8.11.0"}
    event = doc["event"]
    assert isoformat(before) <= event["created"] <= isoformat(utcnow())  # delivery time, not the event time
    assert {k: event[k] for k in ("id", "action", "kind", "category", "type", "severity", "risk_score", "module",
                                  "dataset", "provider", "start", "end")} == {
        "id": "evt_01hv9c4k2m7q8r5t3w6x0y1z2a", "action": "finding.new", "kind": "alert",
        "category": ["vulnerability"], "type": ["info"], "severity": 9, "risk_score": 42.0, "module": "s4e",
        "dataset": "s4e.finding", "provider": "s4e", "start": "2026-04-28T11:59:00.000Z",
        "end": "2026-04-28T12:00:00.000Z"}
    assert event["reference"] == event["url"] == finding()["console_url"]
    assert doc["vulnerability"] == {
        "id": "CVE-2014-3566", "enumeration": "CVE", "classification": "CVSS",
        "score": {"base": 9.8, "version": "3.1"}, "severity": "Critical", "category": ["tls"],
        "description": "Server accepts TLS 1.0", "reference": ["https://www.rfc-editor.org/rfc/rfc8996"],
        "report_id": "scn_01hv9c4k2m7q8r5t3w6x0y1z2e", "scanner": {"vendor": "S4E"}}
    assert doc["host"] == {"name": "app.example.com", "hostname": "app.example.com", "ip": ["203.0.113.10"]}
    assert doc["url"] == {"full": "https://app.example.com/login?next=/", "scheme": "https",
                          "domain": "app.example.com", "path": "/login", "query": "next=/"}
    assert doc["destination"] == {"ip": "203.0.113.10", "port": 443} and doc["network"] == {"transport": "tcp"}
    assert doc["observer"] == {"vendor": "S4E", "product": "S4E Platform", "type": "scanner", "version": V}
    assert doc["related"] == {"ip": ["203.0.113.10"], "hosts": ["app.example.com"]}
    assert doc["tags"] == ["prod", "web"] and doc["labels"] == {"workspace_id": "wsp_01hv9c4k2m7q8r5t3w6x0y1z2b"}
    assert "user" not in doc  # the scanner is not a user
    assert doc["s4e"]["finding"]["check_id"] == "tls-legacy-protocols" and doc["s4e"]["finding"]["kev"] is False
    assert doc["s4e"]["asset"]["criticality"] == "high"
    assert doc["s4e"]["data"]["finding"]["assignee_id"] is None  # raw data keeps its nulls


def test_ecs_without_cve_uses_the_check_and_status_change_fields():
    doc = to_ecs(_status_change() | {"data": {**_status_change()["data"],
                                              "finding": finding(cve_ids=[], cvss_vector="CVSS:4.0/AV:N")}})
    assert doc["vulnerability"]["id"] == "tls-legacy-protocols" and doc["vulnerability"]["enumeration"] == "S4E"
    assert doc["vulnerability"]["score"] == {"base": 5.3, "version": "4.0"}
    assert doc["event"]["kind"] == "event"
    assert doc["user"] == {"id": ANA["id"], "name": ANA["name"]}
    assert doc["s4e"]["finding"]["old_status"] == "open"
    assert doc["s4e"]["finding"]["justification"] == "Legacy clients; owner=ops"
    assert doc["s4e"]["actor"] == ANA


@pytest.mark.parametrize(("event", "category", "kind", "outcome"), [
    ("finding.reopened", ["vulnerability"], ["info"], None), ("asset.created", ["host"], ["info"], None),
    ("asset.updated", ["host"], ["change"], None), ("asset.deleted", ["host"], ["end"], None),
    ("audit.login_succeeded", ["authentication"], ["start"], "success"),
    ("audit.login_failed", ["authentication"], ["start"], "failure"),
    ("audit.logout", ["authentication"], ["end"], None), ("audit.api_key_created", ["iam"], ["creation"], None),
    ("audit.api_key_revoked", ["iam"], ["deletion"], None), ("audit.member_removed", ["iam"], ["deletion"], None),
    ("audit.role_changed", ["iam"], ["change"], None), ("scan.completed", None, None, "success"),
    ("report.generated", None, None, None),
])
def test_ecs_category_type_and_outcome(event, category, kind, outcome):
    data = {"finding": finding()} if event.startswith("finding.") else {}
    doc = to_ecs(envelope(event, data))
    assert doc["event"].get("category") == category and doc["event"].get("type") == kind
    assert doc["event"].get("outcome") == outcome
    assert doc["event"]["kind"] == ("alert" if event == "finding.reopened" else "event")
