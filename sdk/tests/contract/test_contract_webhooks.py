"""Webhook deliveries through the SDK against the real app and a loopback receiver: the test ping, the delivery
log, redelivery of one and of every failed delivery, and re-enabling; each payload verified with
`s4e.webhooks.verify`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from s4e import errors, webhooks
from s4e.models import Delivery, WebhookTestResult


def deliver(until) -> None:
    from tests.webhook.conftest import run_deliveries

    run_deliveries(until)


def test_ping_log_and_redelivery(platform, receiver):
    client = platform.client()
    hook = client.webhooks.create(name="receiver", url=receiver.url(), events=["asset.created"])
    ping = client.webhooks.test(hook.id)
    assert isinstance(ping, WebhookTestResult) and ping.success and ping.status_code == 200
    assert webhooks.verify(receiver.requests[0].body, receiver.requests[0].headers, hook.secret).event == \
        "webhook.test"
    asset = client.assets.create(name="hooked.example.com", type="domain")
    deliver(lambda: len(receiver.requests) == 2)
    event = webhooks.verify(receiver.requests[1].body, receiver.requests[1].headers, hook.secret)
    assert event.event == "asset.created" and event.data["asset"]["id"] == asset.id
    [logged] = [*client.webhooks.deliveries.list(hook.id, status="succeeded", event="asset.created",
                                                 sort_by="created_at", sort_order="asc")]
    assert isinstance(logged, Delivery) and logged.event_id == event.id
    detail = client.webhooks.deliveries.get(hook.id, logged.id)
    assert detail.attempts[0].status_code == 200 and detail.attempts[0].resolved_ip == "127.0.0.1"
    queued = client.webhooks.deliveries.redeliver(hook.id, logged.id)
    assert queued.id == logged.id and queued.status in ("pending", "delivering")
    deliver(lambda: len(receiver.requests) == 3)
    assert receiver.requests[2].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"] == event.id
    with pytest.raises(errors.NotFoundError):
        client.webhooks.deliveries.get(hook.id, "dlv_01hv8x5m3t9q4zc2n7k1r6pbde")


def test_failed_deliveries_are_requeued_and_a_disabled_webhook_enabled(platform, receiver):
    client = platform.client()
    receiver.responder = lambda request: (503, {}, b"down")
    hook = client.webhooks.create(name="flaky", url=receiver.url(), events=["asset.created"])
    client.assets.create(name="lost.example.com", type="domain")
    deliver(lambda: [d.status for d in client.webhooks.deliveries.list(hook.id)] == ["failed"])
    receiver.responder = lambda request: (200, {}, b"back")
    now = datetime.now(timezone.utc)
    with pytest.raises(errors.ValidationError) as backwards:
        client.webhooks.redeliver_failed(hook.id, from_=now, to=now - timedelta(hours=1))
    assert backwards.value.errors[0].path == "$.to"
    assert client.webhooks.redeliver_failed(hook.id, from_=now - timedelta(hours=1), to=now + timedelta(minutes=1)) \
        .requeued == 1
    deliver(lambda: [d.status for d in client.webhooks.deliveries.list(hook.id)] == ["succeeded"])
    paused = client.webhooks.update(hook.id, active=False)
    assert paused.status == "disabled" and paused.disabled_reason == "manual"
    [delivery] = [*client.webhooks.deliveries.list(hook.id)]
    with pytest.raises(errors.ConflictError) as disabled:
        client.webhooks.deliveries.redeliver(hook.id, delivery.id)
    assert disabled.value.code == "invalid_state"
    enabled = client.webhooks.enable(hook.id)
    assert enabled.active and enabled.status == "enabled" and enabled.disabled_reason is None
