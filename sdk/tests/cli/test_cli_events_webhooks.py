"""`s4e events ...` and `s4e webhooks ...` against the real app in-process: tables, --json, --quiet, SIEM export
formats, and the webhook lifecycle with a loopback receiver."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest


@pytest.fixture
def published(s4e):
    """Two assets created with the command, their events published."""
    from s4e_platform.event import publisher

    for name in ("e1.example.com", "e2.example.com"):
        assert s4e("assets", "create", name, "--type", "domain").exit_code == 0
    publisher.drain()


def test_events_list_get(s4e, s4e_json, published):
    table = s4e("events", "list", "--event", "asset.created")
    assert table.exit_code == 0, table.output
    assert table.stdout.count("asset.created") == 2 and "e1.example.com" in table.stdout
    assert "continue with --after evt_" in table.stdout
    listed = s4e_json("events", "list", "--event", "asset.*", "--limit", "1", "--all")
    assert [e["data"]["asset"]["name"] for e in listed] == ["e1.example.com", "e2.example.com"]
    ids = s4e("events", "list", "--event", "asset.created", "-q").stdout.split()
    assert ids == [e["id"] for e in listed]
    shown = s4e("events", "get", ids[0])
    assert shown.exit_code == 0 and "asset.created" in shown.stdout and "api_key" in shown.stdout
    assert s4e_json("events", "get", ids[1])["data"]["asset"]["name"] == "e2.example.com"
    bad = s4e("events", "list", "--after", "not-an-event")
    assert bad.exit_code == 1 and "invalid_parameter" in bad.stderr


def test_events_export_for_siems(s4e, s4e_json, published):
    cef = s4e("events", "export", "--format", "cef", "--event", "asset.created")
    assert cef.exit_code == 0, cef.output
    lines = cef.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("CEF:0|S4E|") for line in lines)
    first_id = s4e("events", "list", "--event", "asset.created", "-q").stdout.split()[0]
    assert first_id in lines[0] and "continue with --after evt_" in cef.stderr
    leef = s4e("events", "export", "-f", "leef", "--event", "asset.created", "--after", first_id)
    assert len(leef.stdout.splitlines()) == 1 and leef.stdout.startswith("LEEF:2.0|S4E|")
    ecs = s4e("events", "export", "--format", "ecs", "--event", "asset.created", "--limit", "1", "--all")
    docs = [json.loads(line) for line in ecs.stdout.splitlines()]
    assert [d["event"]["action"] for d in docs] == ["asset.created"] * 2 and docs[0]["@timestamp"].endswith("Z")
    wrapped = s4e_json("events", "export", "--format", "ecs", "--event", "asset.created", "--limit", "1")
    assert len(wrapped["records"]) == 1 and wrapped["has_more"] is True and wrapped["next_after"] == first_id
    assert s4e("events", "export", "--format", "xml").exit_code == 2


def test_webhook_lifecycle(s4e, s4e_json, receiver):
    created = s4e("webhooks", "create", "siem", "--url", receiver.url(), "-e", "asset.created",
                  "--header", "X-Team=blue")
    assert created.exit_code == 0, created.output
    assert "whsec_" in created.stdout and "not shown again" in created.stderr
    hook_id = next(w for w in created.stdout.split() if w.startswith("whk_"))
    listed = s4e("webhooks", "list", "--status", "enabled")
    assert listed.exit_code == 0 and "siem" in listed.stdout and "1 total" in listed.stdout
    assert [h["id"] for h in s4e_json("webhooks", "list", "--sort-by", "name", "--per-page", "1")] == [hook_id]
    assert s4e_json("webhooks", "get", hook_id)["headers"] == {"X-Team": "********"}
    assert s4e_json("webhooks", "update", hook_id, "--name", "siem-2")["name"] == "siem-2"
    ping = s4e("webhooks", "test", hook_id)
    assert ping.exit_code == 0 and "200" in ping.stdout
    secret = s4e("webhooks", "rotate-secret", hook_id, "-q").stdout.strip()
    assert secret.startswith("whsec_")
    assert s4e("assets", "create", "hooked.example.com", "--type", "domain").exit_code == 0
    from tests.webhook.conftest import run_deliveries

    run_deliveries(lambda: len(receiver.requests) == 2)
    deliveries = s4e("webhooks", "deliveries", hook_id, "--event", "asset.created")
    assert deliveries.exit_code == 0 and "succeeded" in deliveries.stdout
    delivery_id = s4e("webhooks", "deliveries", hook_id, "-q").stdout.split()[0]
    detail = s4e("webhooks", "delivery", hook_id, delivery_id)
    assert detail.exit_code == 0 and "127.0.0.1" in detail.stdout  # the attempts table
    assert s4e_json("webhooks", "redeliver", hook_id, delivery_id)["id"] == delivery_id
    now = datetime.now(timezone.utc)
    requeued = s4e_json("webhooks", "redeliver-failed", hook_id, "--from", (now - timedelta(hours=1)).isoformat(),
                        "--to", (now + timedelta(hours=1)).isoformat())
    assert requeued == {"requeued": 0}
    assert s4e_json("webhooks", "update", hook_id, "--inactive")["status"] == "disabled"
    assert s4e_json("webhooks", "enable", hook_id)["status"] == "enabled"
    assert s4e("webhooks", "delete", hook_id, "--yes").exit_code == 0
    assert s4e("webhooks", "get", hook_id).exit_code == 3


def test_a_failing_webhook_test_exits_1(s4e, receiver):
    receiver.responder = lambda request: (500, {}, b"nope")
    hook_id = s4e("webhooks", "create", "down", "--url", receiver.url(), "-e", "*", "--json")
    result = s4e("webhooks", "test", json.loads(hook_id.stdout)["id"])
    assert result.exit_code == 1 and "500" in result.stdout
