"""GET /events: cursor, filters, asset restrictions, retention gaps and the json/ecs/cef/leef formats
(events.md 3.1, api.md 2.6)."""

from __future__ import annotations

from datetime import datetime

from s4e_platform import __version__ as V
from s4e_platform.event import publisher

from tests.event.helpers import envelope, expire, finding, publish, publish_audit
from tests.fixtures.asset import create_asset

FEED = "/api/v1/events"
ANA = {"type": "user", "id": "usr_01hv9c4k2m7q8r5t3w6x0y1z2f", "name": "ana@example.com"}


def _asset_events(n: int) -> list[tuple[str, dict, str]]:
    return [("asset.updated", {"asset": {"id": f"ast_01hv9c4k2m7q8r5t3w6x0y1z{i:02d}", "name": f"h{i}.example.com",
                                         "type": "domain"}, "changes": ["tags"]}, None) for i in range(n)]


def _ms(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def test_cursor_pages_until_nothing_is_new(client, tenant):
    ids = publish(tenant.workspace_id, *_asset_events(5))
    h = tenant.headers("viewer")
    page = client.get(f"{FEED}?limit=2", headers=h).json()
    assert [e["id"] for e in page["data"]] == ids[:2]
    assert page["meta"] == {"next_after": ids[1], "has_more": True, "limit": 2, "gap": False}
    page = client.get(f"{FEED}?limit=2&after={ids[1].upper()}", headers=h).json()  # ids are case-insensitive
    assert [e["id"] for e in page["data"]] == ids[2:4] and page["meta"]["has_more"] is True
    page = client.get(f"{FEED}?limit=2&after={ids[3]}", headers=h).json()
    assert [e["id"] for e in page["data"]] == ids[4:]
    assert page["meta"] == {"next_after": ids[4], "has_more": False, "limit": 2, "gap": False}
    page = client.get(f"{FEED}?after={ids[4]}", headers=h).json()
    assert page["data"] == [] and page["meta"] == {"next_after": ids[4], "has_more": False, "limit": 100,
                                                   "gap": False}
    later = publish(tenant.workspace_id, *_asset_events(1))
    assert [e["id"] for e in client.get(f"{FEED}?after={ids[4]}", headers=h).json()["data"]] == later


def test_bad_query_is_400_and_scope_is_required(client, tenant):
    h = tenant.headers()
    for query, param in (("after=ast_01hv9c4k2m7q8r5t3w6x0y1z2a", "after"), ("event=fin*", "event"),
                         ("asset_id=evt_01hv9c4k2m7q8r5t3w6x0y1z2a", "asset_id"), ("format=xml", "format"),
                         ("limit=0", "limit"), ("limit=1001", "limit")):
        r = client.get(f"{FEED}?{query}", headers=h)
        assert r.status_code == 400, query
        assert r.json()["error"]["code"] == "invalid_parameter"
        assert r.json()["error"]["details"][0]["path"] == f"query.{param}"
    r = client.get(f"{FEED}?token={tenant.keys['admin']}", headers=h)  # query tokens only on /events/stream
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_parameter"
    r = client.get(FEED, headers={"Authorization": f"Bearer {tenant.key(['read:assets'])}"})
    assert r.status_code == 403 and r.json()["error"]["details"] == {"required": ["read:events"]}


def test_event_filter_with_wildcards(client, tenant):
    ws = tenant.workspace_id
    publish(ws, ("asset.created", {"asset": {"id": "ast_01hv9c4k2m7q8r5t3w6x0y1z2d"}}, None),
            ("finding.new", {"finding": finding()}, None), ("scan.failed", {"scan_id": "scn_1"}, None),
            ("finding.resolved", {"finding": finding(status="resolved"), "old_status": "open",
                                  "new_status": "resolved", "resolution": "auto", "scan_id": "scn_1"}, None))
    publish_audit(ws, "audit.login_failed", target_id=None)
    h = tenant.headers("viewer")

    def types(query: str) -> list[str]:
        r = client.get(f"{FEED}?{query}", headers=h)
        assert r.status_code == 200, r.text
        return [e["event"] for e in r.json()["data"]]

    assert types("event=finding.*,audit.login_failed") == ["finding.new", "finding.resolved", "audit.login_failed"]
    assert types("event=*.failed") == ["scan.failed"]  # `*` is one segment: audit.login_failed does not end so
    assert types("event=*") == ["asset.created", "finding.new", "scan.failed", "finding.resolved",
                                "audit.login_failed"]
    assert types("event=asset.created, scan.failed") == ["asset.created", "scan.failed"]
    assert types("event=finding.updated") == []


def test_asset_filter_restricted_keys_and_other_workspaces(client, tenant, other_tenant):
    a = create_asset(client, tenant, name="a.example.com", tags=["prod"])
    b = create_asset(client, tenant, name="b.example.com")
    publisher.drain()
    publish_audit(tenant.workspace_id, "audit.settings_changed", target_type="workspace")
    h = tenant.headers()
    everything = client.get(FEED, headers=h).json()["data"]
    assert [e["event"] for e in everything] == ["asset.created", "asset.created", "audit.settings_changed"]
    b_event = everything[1]["id"]
    only_a = client.get(f"{FEED}?asset_id={a['id']}", headers=h).json()["data"]
    assert [e["data"]["asset"]["id"] for e in only_a] == [a["id"]]
    both = client.get(f"{FEED}?asset_id={a['id']},{b['id']}", headers=h).json()["data"]
    assert len(both) == 2
    for restriction in ({"asset_ids": [a["id"]], "tags": []}, {"asset_ids": [], "tags": ["prod"]}):
        key = {"Authorization": f"Bearer {tenant.key(['read:events'], asset_restriction=restriction)}"}
        seen = client.get(FEED, headers=key).json()["data"]
        assert [e["data"]["asset"]["id"] for e in seen] == [a["id"]]  # no B, no workspace-level audit event
        assert client.get(f"{FEED}?asset_id={b['id']}", headers=key).json()["data"] == []
        assert client.get(f"{FEED}/{b_event}", headers=key).status_code == 404
        assert client.get(f"{FEED}?format=cef", headers=key).text.count("\n") == 1
    other = other_tenant.headers()
    assert client.get(FEED, headers=other).json()["data"] == []
    assert client.get(f"{FEED}/{b_event}", headers=other).status_code == 404
    assert client.get(f"{FEED}/{b_event}", headers=h).json()["data"]["id"] == b_event
    assert client.get(f"{FEED}/not-an-id", headers=h).status_code == 404


def test_cursor_older_than_retention_restarts_at_oldest_with_gap(client, tenant):
    ids = publish(tenant.workspace_id, *_asset_events(4))
    expire(ids[:2])
    h = tenant.headers()
    page = client.get(f"{FEED}?after={ids[0]}", headers=h).json()
    assert [e["id"] for e in page["data"]] == ids[2:]
    assert page["meta"] == {"next_after": ids[3], "has_more": False, "limit": 100, "gap": True}
    assert client.get(f"{FEED}?after={ids[2]}", headers=h).json()["meta"]["gap"] is False
    r = client.get(f"{FEED}?after={ids[1]}&format=leef&limit=1", headers=h)
    assert r.headers["x-s4e-gap"] == "true" and r.headers["x-s4e-has-more"] == "true"
    assert r.headers["x-s4e-next-after"] == ids[2]
    # nothing after the restart point matches: the cursor still moves past the expired range
    page = client.get(f"{FEED}?after={ids[0]}&event=scan.*", headers=h).json()
    assert page["data"] == [] and page["meta"]["gap"] is True and page["meta"]["next_after"] == ids[2]
    assert client.get(f"{FEED}?after={ids[2]}&event=scan.*", headers=h).json()["meta"]["gap"] is False


def _status_change_event() -> tuple[str, dict, str]:
    data = {"finding": finding(title="Weak TLS | legacy \\ protocols^v1\r\nenabled", status="accepted_risk",
                               description="Accepts TLS=1.0 \\ 1.1 | SSLv3\r\nsee RFC 8996"),
            "old_status": "open", "new_status": "accepted_risk", "justification": "Legacy clients; owner=ops",
            "accepted_until": "2026-06-01T00:00:00.000Z"}
    return "finding.status_changed", data, "ast_01hv9c4k2m7q8r5t3w6x0y1z2d"


def test_cef_feed_is_text_with_exact_lines_and_cursor_headers(client, tenant):
    [event_id] = publish(tenant.workspace_id, _status_change_event(), actor=ANA)
    stored = client.get(f"{FEED}/{event_id}", headers=tenant.headers()).json()["data"]
    r = client.get(f"{FEED}?format=cef", headers=tenant.headers("viewer"))
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["x-s4e-next-after"] == event_id and r.headers["x-s4e-has-more"] == "false"
    assert "x-s4e-gap" not in r.headers
    assert r.text == (
        rf"CEF:0|S4E|Platform|{V}|finding.status_changed|Weak TLS \| legacy \\ protocols^v1  enabled|5|"
        rf"rt={_ms(stored['timestamp'])} externalId={event_id} cat=tls dhost=app.example.com "
        r"dst=203.0.113.10 dpt=443 proto=TCP request=https://app.example.com/login?next\=/ suser=ana@example.com "
        r"reason=Legacy clients; owner\=ops msg=Accepts TLS\=1.0 \\ 1.1 | SSLv3\r\nsee RFC 8996 "
        r"cs1Label=finding_id cs1=fnd_01hv9c4k2m7q8r5t3w6x0y1z2c cs2Label=severity cs2=medium "
        r"cs3Label=cvss cs3=5.3 cs4Label=asset_id cs4=ast_01hv9c4k2m7q8r5t3w6x0y1z2d cs5Label=cve "
        r"cs5=CVE-2011-3389 cs6Label=check_id cs6=tls-legacy-protocols flexString1Label=status "
        r"flexString1=accepted_risk flexString2Label=fingerprint flexString2=9f86d081884c7d65 cn1Label=cwe cn1=326 "
        r"cn2Label=risk_score cn2=42 cn3Label=kev cn3=0 cfp1Label=epss cfp1=0.00123" "\n")
    empty = client.get(f"{FEED}?format=cef&after={event_id}", headers=tenant.headers())
    assert empty.text == "" and empty.headers["x-s4e-next-after"] == event_id


def test_leef_feed_is_text_with_exact_lines(client, tenant):
    [event_id] = publish(tenant.workspace_id, _status_change_event(), actor=ANA)
    stored = client.get(f"{FEED}/{event_id}", headers=tenant.headers()).json()["data"]
    r = client.get(f"{FEED}?format=leef", headers=tenant.headers())
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == (
        f"LEEF:2.0|S4E|Platform|{V}|finding.status_changed|^|devTime={_ms(stored['timestamp'])}^cat=tls^sev=5"
        "^resource=app.example.com^dst=203.0.113.10^dstPort=443^proto=TCP^url=https://app.example.com/login?next=/"
        f"^usrName=ana@example.com^eventId={event_id}^findingId=fnd_01hv9c4k2m7q8r5t3w6x0y1z2c"
        "^assetId=ast_01hv9c4k2m7q8r5t3w6x0y1z2d^title=Weak TLS | legacy \\ protocols v1  enabled"
        "^status=accepted_risk^cvss=5.3^cve=CVE-2011-3389^cwe=CWE-326,CWE-327^checkId=tls-legacy-protocols"
        "^fingerprint=9f86d081884c7d65^riskScore=42^kev=0^epss=0.00123^scanId=scn_01hv9c4k2m7q8r5t3w6x0y1z2e"
        "^link=http://127.0.0.1:8000/console/findings/fnd_01hv9c4k2m7q8r5t3w6x0y1z2c\n")


def test_text_formats_keep_one_record_per_line_for_real_events(client, tenant):
    create_asset(client, tenant, name="one.example.com", description="line one\nline two")
    create_asset(client, tenant, name="two.example.com")
    publisher.drain()
    publish_audit(tenant.workspace_id, "audit.login_failed", target_id=tenant.users["viewer"],
                  details={"email": "x@example.com\r\nInjected: yes"})
    ids = [e["id"] for e in client.get(FEED, headers=tenant.headers()).json()["data"]]
    for fmt, prefix in (("cef", "CEF:0|S4E|Platform|"), ("leef", "LEEF:2.0|S4E|Platform|")):
        r = client.get(f"{FEED}?format={fmt}&limit=2", headers=tenant.headers())
        lines = r.text.split("\n")
        assert len(lines) == 3 and lines[2] == "" and all(line.startswith(prefix) for line in lines[:2])
        assert r.headers["x-s4e-has-more"] == "true" and r.headers["x-s4e-next-after"] == ids[1]
        rest = client.get(f"{FEED}?format={fmt}&after={ids[1]}", headers=tenant.headers())
        assert rest.text.count("\n") == 1 and rest.headers["x-s4e-has-more"] == "false"
    created = client.get(f"{FEED}?format=cef&limit=1", headers=tenant.headers()).text
    assert "|asset.created|Asset created|1|" in created and "msg=Asset created: one.example.com" in created
    assert "cs1Label=object_id cs1=ast_" in created and "dhost=one.example.com" in created
    failed = client.get(f"{FEED}?format=leef&after={ids[1]}", headers=tenant.headers()).text
    assert f"^sev=5^usrName=someone@example.com^eventId={ids[2]}^objectId={tenant.users['viewer']}^" in failed
    assert failed.endswith(f"^summary=Login failed: user {tenant.users['viewer']}\n")


def test_ecs_feed_has_documents_in_the_json_envelope(client, tenant):
    asset = create_asset(client, tenant, name="ecs.example.com", tags=["prod"])
    publisher.drain()
    [finding_event] = publish(tenant.workspace_id, ("finding.new", {"finding": finding()}, asset["id"]))
    publish_audit(tenant.workspace_id, "audit.api_key_created", target_type="api_key",
                  target_id="key_01hv9c4k2m7q8r5t3w6x0y1z2g", actor=ANA)
    r = client.get(f"{FEED}?format=ecs&limit=2", headers=tenant.headers("viewer"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["meta"] == {"next_after": finding_event, "has_more": True, "limit": 2, "gap": False}
    created, new = body["data"]
    assert created["event"]["action"] == "asset.created" and created["event"]["category"] == ["host"]
    assert created["message"] == "Asset created: ecs.example.com" and created["tags"] == ["prod"]
    assert created["host"] == {"name": "ecs.example.com", "hostname": "ecs.example.com"}
    assert created["s4e"]["asset"]["id"] == asset["id"] and created["event"]["severity"] == 1
    assert "user" not in created and created["s4e"]["actor"]["type"] == "api_key"  # a key is no ECS user
    assert new["event"]["id"] == finding_event and new["event"]["kind"] == "alert"
    assert new["vulnerability"]["id"] == "CVE-2011-3389" and new["event"]["severity"] == 5
    rest = client.get(f"{FEED}?format=ecs&after={finding_event}", headers=tenant.headers()).json()["data"]
    assert rest[0]["event"]["category"] == ["iam"] and rest[0]["event"]["type"] == ["creation"]
    assert rest[0]["user"] == {"id": ANA["id"], "name": ANA["name"]}
    assert rest[0]["s4e"]["data"]["target"] == {"type": "api_key", "id": "key_01hv9c4k2m7q8r5t3w6x0y1z2g"}


def test_envelope_helper_matches_the_feed_shape(client, tenant):
    [event_id] = publish(tenant.workspace_id, ("scan.failed", {"scan_id": "scn_1"}, None))
    stored = client.get(f"{FEED}/{event_id}", headers=tenant.headers()).json()["data"]
    assert set(stored) == set(envelope("scan.failed", {}))
