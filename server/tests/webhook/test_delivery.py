"""Deliveries to a real loopback receiver: signatures, retries, disabling, redirects, Retry-After, redelivery."""

from __future__ import annotations

import threading
from datetime import timedelta

from s4e_platform.db.session import unit_of_work
from s4e_platform.event import publisher
from s4e_platform.kit.clock import as_utc, utcnow
from s4e_platform.webhook import worker
from s4e_platform.webhook.models import Delivery, Webhook
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier

from tests.fixtures.asset import create_asset
from tests.webhook.conftest import create_webhook, run_deliveries


def _deliveries(client, tenant, hook_id: str, query: str = "") -> list[dict]:
    r = client.get(f"/api/v1/webhooks/{hook_id}/deliveries{query}", headers=tenant.headers())
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _statuses(client, tenant, hook_id: str) -> list[str]:
    return [d["status"] for d in _deliveries(client, tenant, hook_id)]


def test_signed_request_verifies_with_standard_webhooks(client, tenant, receiver, loopback):
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"],
                          headers={"Authorization": "Bearer receiver-token"})
    create_asset(client, tenant, name="signed.example.com")
    run_deliveries(lambda: len(receiver.requests) == 1)
    req = receiver.requests[0]
    payload = Verifier(hook["secret"]).verify(req.body, req.headers)
    event = client.get("/api/v1/events?event=asset.created", headers=tenant.headers()).json()["data"][0]
    assert payload == event  # the body is exactly the event envelope
    assert req.headers["webhook-id"] == event["id"]
    assert req.headers["content-type"] == "application/json"
    assert req.headers["user-agent"].startswith("S4E-Webhooks/")
    assert req.headers["authorization"] == "Bearer receiver-token"
    assert req.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert b" " not in req.body.split(b'"data"')[0]  # compact JSON
    [names] = [[k.lower() for k, _ in req.raw_headers]]
    assert names.index("webhook-signature") < names.index("authorization")  # custom headers come last
    [d] = _deliveries(client, tenant, hook["id"])
    assert d["status"] == "succeeded" and d["event_id"] == event["id"] and d["attempt_count"] == 1
    attempt = d["attempts"][0]
    assert attempt["status_code"] == 200 and attempt["resolved_ip"] == "127.0.0.1"
    assert attempt["response_excerpt"] == "ok" and attempt["error_class"] is None
    got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers()).json()["data"]
    assert got["last_success_at"] is not None and got["failing_since"] is None


def test_both_secrets_sign_during_rotation(client, tenant, receiver, loopback):
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    new = client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=tenant.headers()).json()["data"]
    create_asset(client, tenant, name="rotated.example.com")
    run_deliveries(lambda: len(receiver.requests) == 1)
    req = receiver.requests[0]
    assert len(req.headers["webhook-signature"].split(" ")) == 2
    Verifier(hook["secret"]).verify(req.body, req.headers)
    Verifier(new["secret"]).verify(req.body, req.headers)
    with unit_of_work() as s:  # 24 h later the old secret stops signing
        s.get(Webhook, hook["id"]).previous_secret_expires_at = utcnow() - timedelta(seconds=1)
    create_asset(client, tenant, name="rotated2.example.com")
    run_deliveries(lambda: len(receiver.requests) == 2)
    req = receiver.requests[1]
    assert len(req.headers["webhook-signature"].split(" ")) == 1
    Verifier(new["secret"]).verify(req.body, req.headers)


def test_retries_until_success_with_the_same_webhook_id(client, tenant, receiver, loopback):
    calls = []

    def flaky(req):
        calls.append(req)
        return (500, {}, b"busy") if len(calls) <= 3 else (200, {}, b"thanks")

    receiver.responder = flaky
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    create_asset(client, tenant, name="flaky.example.com")
    run_deliveries(lambda: _statuses(client, tenant, hook["id"]) == ["succeeded"])
    assert len(receiver.requests) == 4
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    for r in receiver.requests:
        Verifier(hook["secret"]).verify(r.body, r.headers)
    [d] = _deliveries(client, tenant, hook["id"])
    assert d["attempt_count"] == 4 and [a["number"] for a in d["attempts"]] == [1, 2, 3, 4]
    assert [a["error_class"] for a in d["attempts"]] == ["http_status"] * 3 + [None]
    assert d["attempts"][0]["status_code"] == 500 and d["attempts"][0]["response_excerpt"] == "busy"
    worker.process_due()
    assert len(receiver.requests) == 4  # delivered exactly once: nothing further is sent


def test_gives_up_after_the_schedule(client, tenant, receiver, loopback):
    loopback.webhook_retry_schedule = "0.05,0.05"
    receiver.responder = lambda r: (500, {}, b"down")
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    create_asset(client, tenant, name="down.example.com")
    run_deliveries(lambda: _statuses(client, tenant, hook["id"]) == ["failed"])
    assert len(receiver.requests) == 3
    got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers()).json()["data"]
    assert got["failing_since"] is not None and got["status"] == "enabled"


def test_410_disables_and_cancels_pending(client, tenant, receiver, loopback):
    receiver.responder = lambda r: (410, {}, b"gone")
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    create_asset(client, tenant, name="a.example.com")
    create_asset(client, tenant, name="b.example.com")
    publisher.drain()
    assert worker.process_due(limit=1) == 1
    got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers()).json()["data"]
    assert got["status"] == "disabled" and got["disabled_reason"] == "gone" and got["active"] is False
    assert sorted(_statuses(client, tenant, hook["id"])) == ["cancelled", "failed"]
    assert worker.process_due() == 0 and len(receiver.requests) == 1
    publisher.drain()
    kinds = [e["event"] for e in client.get("/api/v1/events?event=audit.*", headers=tenant.headers()).json()["data"]]
    assert kinds == ["audit.webhook_disabled"]
    create_asset(client, tenant, name="c.example.com")  # a disabled endpoint gets no new deliveries
    publisher.drain()
    assert len(_deliveries(client, tenant, hook["id"])) == 2


def test_redirect_is_a_failure_and_never_followed(client, tenant, receiver, loopback):
    receiver.responder = lambda r: (302, {"Location": receiver.url("/elsewhere")}, b"")
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    create_asset(client, tenant, name="redirect.example.com")
    publisher.drain()
    worker.process_due()
    [d] = _deliveries(client, tenant, hook["id"])
    assert d["status"] == "pending" and d["attempts"][0]["error_class"] == "redirect"
    assert d["attempts"][0]["status_code"] == 302
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_retry_after_is_honoured(client, tenant, receiver, loopback):
    answers = iter([(429, {"Retry-After": "2"}, b"slow down")])
    receiver.responder = lambda r: next(answers, (200, {}, b"ok"))
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    create_asset(client, tenant, name="throttled.example.com")
    publisher.drain()
    worker.process_due()
    [d] = _deliveries(client, tenant, hook["id"])
    started = as_utc(_parse(d["attempts"][0]["started_at"]))
    assert d["status"] == "pending" and _parse(d["next_attempt_at"]) - started >= timedelta(seconds=1.9)
    assert worker.process_due() == 0  # the 0.05 s schedule does not override Retry-After
    run_deliveries(lambda: _statuses(client, tenant, hook["id"]) == ["succeeded"], timeout=6)
    assert receiver.requests[1].at - receiver.requests[0].at >= 1.9


def _parse(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_redeliver_keeps_the_webhook_id(client, tenant, receiver, loopback):
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    create_asset(client, tenant, name="again.example.com")
    run_deliveries(lambda: len(receiver.requests) == 1)
    [d] = _deliveries(client, tenant, hook["id"])
    r = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}/redeliver", headers=tenant.headers())
    assert r.status_code == 202 and r.json()["data"]["status"] == "pending"
    run_deliveries(lambda: len(receiver.requests) == 2)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == d["event_id"]
    assert first.body == second.body
    Verifier(hook["secret"]).verify(second.body, second.headers)
    got = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}", headers=tenant.headers()).json()
    assert got["data"]["status"] == "succeeded" and got["data"]["attempt_count"] == 2
    client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=tenant.headers())
    r = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}/redeliver", headers=tenant.headers())
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state"


def test_redeliver_failed_requeues_the_range(client, tenant, receiver, loopback):
    loopback.webhook_retry_schedule = "0.05"
    down = threading.Event()
    down.set()
    receiver.responder = lambda r: (503, {}, b"") if down.is_set() else (200, {}, b"ok")
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    before = utcnow() - timedelta(seconds=1)
    create_asset(client, tenant, name="r1.example.com")
    create_asset(client, tenant, name="r2.example.com")
    run_deliveries(lambda: _statuses(client, tenant, hook["id"]) == ["failed", "failed"])
    assert [d["id"] for d in _deliveries(client, tenant, hook["id"], "?status=failed&event=asset.*")]
    down.clear()
    body = {"from": before.isoformat(), "to": (utcnow() + timedelta(seconds=1)).isoformat()}
    r = client.post(f"/api/v1/webhooks/{hook['id']}/redeliver-failed", json=body, headers=tenant.headers())
    assert r.status_code == 202 and r.json()["data"] == {"requeued": 2}
    run_deliveries(lambda: _statuses(client, tenant, hook["id"]) == ["succeeded", "succeeded"])
    ok = [r for r in receiver.requests if r.headers["webhook-id"]][-2:]
    assert {r.headers["webhook-id"] for r in ok} == {d["event_id"] for d in _deliveries(client, tenant, hook["id"])}
    r = client.post(f"/api/v1/webhooks/{hook['id']}/redeliver-failed", headers=tenant.headers(),
                    json={"from": body["to"], "to": body["from"]})
    assert r.status_code == 422


def test_test_ping_is_signed_synchronous_and_not_stored(client, tenant, receiver, loopback):
    hook = create_webhook(client, tenant, receiver.url(), events=["*"])
    r = client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=tenant.headers())
    assert r.status_code == 200, r.text
    result = r.json()["data"]
    assert result["success"] is True and result["status_code"] == 200 and result["error_class"] is None
    assert result["duration_ms"] >= 0 and result["resolved_ip"] == "127.0.0.1"
    [req] = receiver.requests
    payload = Verifier(hook["secret"]).verify(req.body, req.headers)
    assert payload["event"] == "webhook.test" and req.headers["webhook-id"] == result["webhook_id"]
    publisher.drain()
    assert client.get("/api/v1/events", headers=tenant.headers()).json()["data"] == []
    assert _deliveries(client, tenant, hook["id"]) == []
    receiver.responder = lambda r: (500, {}, b"nope")
    result = client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=tenant.headers()).json()["data"]
    assert result["success"] is False and result["status_code"] == 500 and result["error_class"] == "http_status"
    assert result["response_excerpt"] == "nope"


def test_filters_select_events(client, tenant, receiver, loopback):
    from s4e_platform.event import service as events

    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created", "finding.*"],
                          filters={"asset_tags": ["prod"], "min_severity": "high"})
    create_asset(client, tenant, name="prod.example.com", tags=["prod"])
    create_asset(client, tenant, name="dev.example.com", tags=["dev"])
    asset = {"id": "ast_01hv8x5m3t9q4zc2n7k1r6pbde", "name": "prod.example.com", "type": "domain",
             "criticality": "high", "tags": ["prod"]}
    with unit_of_work() as s:
        for severity in ("low", "critical"):
            events.record(s, workspace_id=tenant.workspace_id, event="finding.new", asset_id=asset["id"],
                          actor={"type": "system", "id": None, "name": "scanner"},
                          data={"finding": {"id": f"fnd_{severity}", "severity": severity, "asset": asset}})
    run_deliveries(lambda: len(receiver.requests) == 2)
    worker.process_due()
    got = sorted((r.json["event"], (r.json["data"].get("finding") or {}).get("severity"),
                  (r.json["data"].get("asset") or {}).get("name")) for r in receiver.requests)
    assert got == [("asset.created", None, "prod.example.com"), ("finding.new", "critical", None)]
    assert len(_deliveries(client, tenant, hook["id"])) == 2  # filtered at fan-out: no rows for the others


def test_ssrf_blocked_attempt_is_not_retried(client, tenant, receiver, loopback):
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    loopback.outbound_allowlist = ""  # the operator closes loopback after the webhook was saved
    create_asset(client, tenant, name="blocked.example.com")
    publisher.drain()
    worker.process_due()
    [d] = _deliveries(client, tenant, hook["id"])
    assert d["status"] == "failed" and d["attempts"][0]["error_class"] == "ssrf_blocked"
    assert receiver.requests == []


def test_dns_failure_is_retried(client, tenant, loopback):
    hook = create_webhook(client, tenant, "https://unresolvable.invalid/hook", events=["asset.created"])
    create_asset(client, tenant, name="dns.example.com")
    publisher.drain()
    worker.process_due()
    [d] = _deliveries(client, tenant, hook["id"])
    assert d["status"] == "pending" and d["attempts"][0]["error_class"] == "dns"


def test_connect_and_timeout_errors(client, tenant, receiver, loopback):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed_port = sock.getsockname()[1]
    sock.close()
    loopback.webhook_timeout = 0.5
    receiver.responder = lambda r: (receiver.release.wait(5), (200, {}, b""))[1]
    refused = create_webhook(client, tenant, f"http://127.0.0.1:{closed_port}/", events=["asset.created"])
    hanging = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    create_asset(client, tenant, name="errors.example.com")
    publisher.drain()
    worker.process_due()
    assert _deliveries(client, tenant, refused["id"])[0]["attempts"][0]["error_class"] == "connect"
    attempt = _deliveries(client, tenant, hanging["id"])[0]["attempts"][0]
    assert attempt["error_class"] == "timeout" and attempt["duration_ms"] < 2000


def test_auto_disable_after_five_days_failing(client, tenant, receiver, loopback):
    receiver.responder = lambda r: (500, {}, b"")
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    with unit_of_work() as s:
        s.get(Webhook, hook["id"]).failing_since = utcnow() - timedelta(days=5, minutes=1)
    create_asset(client, tenant, name="one.example.com")
    create_asset(client, tenant, name="two.example.com")
    publisher.drain()
    worker.process_due(limit=1)
    got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers()).json()["data"]
    assert got["status"] == "disabled" and got["disabled_reason"] == "failing"
    assert _statuses(client, tenant, hook["id"]) == ["cancelled", "cancelled"]  # nothing left to send
    assert len(receiver.requests) == 1
    publisher.drain()
    audit = client.get("/api/v1/events?event=audit.webhook_disabled", headers=tenant.headers()).json()["data"]
    assert audit[0]["data"]["details"]["reason"] == "failing"
    r = client.post(f"/api/v1/webhooks/{hook['id']}/enable", headers=tenant.headers()).json()["data"]
    assert r["status"] == "enabled" and r["failing_since"] is None


def test_at_most_ten_in_flight_per_endpoint(client, tenant, receiver, loopback):
    receiver.responder = lambda r: (receiver.release.wait(10), (200, {}, b"ok"))[1]
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    for i in range(15):
        create_asset(client, tenant, name=f"n{i}.example.com")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, 20), daemon=True)
    thread.start()
    try:
        publisher.drain()  # the worker wakes on this publish
        assert receiver.wait_for(10, timeout=5)
        threading.Event().wait(0.5)
        assert receiver.max_active == 10 and len(receiver.requests) == 10
        receiver.release.set()
        assert receiver.wait_for(15, timeout=10)
        run_deliveries(lambda: _statuses(client, tenant, hook["id"]) == ["succeeded"] * 15)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 15


def test_deliveries_of_another_webhook_or_workspace_are_404(client, tenant, other_tenant, receiver, loopback):
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    other = create_webhook(client, tenant, receiver.url("/other"), events=["audit.*"])
    create_asset(client, tenant, name="x.example.com")
    publisher.drain()
    [d] = _deliveries(client, tenant, hook["id"])
    assert client.get(f"/api/v1/webhooks/{other['id']}/deliveries/{d['id']}",
                      headers=tenant.headers()).status_code == 404
    assert client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}",
                      headers=other_tenant.headers()).status_code == 404
    with unit_of_work(readonly=True) as s:
        assert s.execute(select(Delivery.target_id)).scalars().all() == [hook["id"]]


def test_connects_to_the_address_it_validated(client, tenant, receiver, loopback, zone):
    """`hook.test` exists only in the test's DNS server: the system resolver cannot find it, so the request
    reaches the receiver only by dialling the address the guard validated; a re-pointed name is refused."""
    zone.records["hook.test"] = ["127.0.0.1"]
    hook = create_webhook(client, tenant, f"http://hook.test:{receiver.port}/hook", events=["asset.created"])
    create_asset(client, tenant, name="pinned.example.com")
    run_deliveries(lambda: len(receiver.requests) == 1)
    assert receiver.requests[0].headers["host"] == f"hook.test:{receiver.port}"
    zone.records["hook.test"] = ["10.9.8.7"]
    create_asset(client, tenant, name="rebound.example.com")
    run_deliveries(lambda: "failed" in _statuses(client, tenant, hook["id"]))
    assert sorted(_statuses(client, tenant, hook["id"])) == ["failed", "succeeded"]
    assert len(receiver.requests) == 1


def test_keep_alive_survives_a_server_closing_idle_connections(client, tenant, receiver, loopback):
    """The worker keeps connections alive; a receiver that silently drops them costs no failed attempt."""
    receiver.close_after_response = True
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, 4), daemon=True)
    thread.start()
    try:
        for i in range(3):
            create_asset(client, tenant, name=f"k{i}.example.com")
            publisher.drain()
            assert receiver.wait_for(i + 1, timeout=5)
        run_deliveries(lambda: _statuses(client, tenant, hook["id"]) == ["succeeded"] * 3)
    finally:
        stop.set()
        thread.join(10)
    assert [d["attempt_count"] for d in _deliveries(client, tenant, hook["id"])] == [1, 1, 1]


def test_large_responses_are_cut(client, tenant, receiver, loopback):
    receiver.responder = lambda r: (200, {}, b"x" * 200_000)
    hook = create_webhook(client, tenant, receiver.url(), events=["asset.created"])
    create_asset(client, tenant, name="large.example.com")
    run_deliveries(lambda: _statuses(client, tenant, hook["id"]) == ["succeeded"])
    assert _deliveries(client, tenant, hook["id"])[0]["attempts"][0]["response_excerpt"] == "x" * 4096
