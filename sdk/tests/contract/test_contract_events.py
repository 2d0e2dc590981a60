"""The events feed in every format through the SDK: JSON envelopes, ECS documents and CEF/LEEF lines share one
cursor, and an expired cursor is reported as a gap."""

from __future__ import annotations

from datetime import datetime

import pytest

from s4e import S4EClient, errors
from s4e.models import EcsDocument, Event

OLDEST_POSSIBLE = "evt_00000000000000000000000000"


@pytest.fixture
def events(platform) -> list[Event]:
    from s4e_platform.event import publisher

    client = platform.client()
    for name in ("f1.example.com", "f2.example.com", "f3.example.com"):
        client.assets.create(name=name, type="domain", tags=["siem"])
    publisher.drain()
    return [*client.events.list(event="asset.created")]


def test_ecs_documents_follow_the_same_cursor(platform, events):
    client = platform.client()
    feed = client.events.list_ecs(event="asset.created", limit=2)
    docs = [*feed]
    assert all(isinstance(d, EcsDocument) for d in docs)
    assert [d.event["id"] for d in docs] == [e.id for e in events] and feed.cursor == events[-1].id
    first = docs[0].to_dict()
    assert datetime.fromisoformat(first["@timestamp"].replace("Z", "+00:00")) == events[0].timestamp
    assert first["@timestamp"].endswith("Z") and first["event"]["action"] == "asset.created"
    assert first["tags"] == ["siem"] and first["labels"]["workspace_id"] == platform.tenant.workspace_id
    resumed = client.events.list_ecs(after=events[0].id, event="asset.created")
    assert [d.event["id"] for d in resumed] == [e.id for e in events[1:]]


def test_cef_and_leef_lines_with_cursor_headers(platform, events):
    client = platform.client()
    cef = client.events.list_text(format="cef", event="asset.created", limit=2)
    lines = [*cef]
    assert len(lines) == 3 and all(line.startswith("CEF:0|S4E|") for line in lines)
    assert [e.id in line for e, line in zip(events, lines)] == [True] * 3
    assert cef.cursor == events[-1].id
    page = client.events.list_text(format="cef", event="asset.created", limit=2).first_page()
    assert page.meta.has_more and page.meta.next_after == events[1].id and page.meta.limit == 2
    leef = client.events.list_text(format="leef", after=events[0].id, event="asset.created")
    leef_lines = [*leef]
    assert len(leef_lines) == 2 and all(line.startswith("LEEF:2.0|S4E|") for line in leef_lines)
    idle = client.events.list_text(format="cef", after=leef.cursor, event="asset.created")
    assert [*idle] == [] and idle.cursor == events[-1].id  # nothing new: poll again from the same cursor


def test_an_expired_cursor_is_reported_as_a_gap(platform, events):
    client = platform.client()
    restarted = client.events.list_text(format="leef", after=OLDEST_POSSIBLE, event="asset.created").first_page()
    assert restarted.meta.gap is True and len(restarted.data) == 3
    ecs = client.events.list_ecs(after=OLDEST_POSSIBLE, event="asset.created").first_page()
    assert ecs.meta.gap is True
    assert client.events.list(after=events[0].id).first_page().meta.gap is False


def test_feed_errors(platform, events):
    client = platform.client()
    with pytest.raises(errors.BadRequestError) as bad:
        [*client.events.list_text(format="cef", event="asset created!")]
    assert bad.value.code == "invalid_parameter" and bad.value.details[0]["path"] == "query.event"
    with pytest.raises(errors.BadRequestError):
        client.events.list_ecs(after="ast_01hv8x5m3t9q4zc2n7k1r6pbde").first_page()
    with pytest.raises(ValueError):
        client.events.list_text(format="json")
    assets_only = S4EClient(api_key=platform.tenant.key(["read:assets"]), base_url="http://testserver/api/v1",
                            http_client=platform.http)
    with pytest.raises(errors.PermissionDeniedError) as denied:
        assets_only.events.list_text(format="cef").first_page()
    assert denied.value.required_scopes == ["read:events"]
    with pytest.raises(errors.NotFoundError):
        client.events.get("evt_01hv8x5m3t9q4zc2n7k1r6pbde")
