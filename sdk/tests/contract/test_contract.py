"""The SDK against the real platform app, in-process: shapes, errors and idempotency as a user sees them."""

from __future__ import annotations

import httpx
import pytest

from s4e import S4EClient, errors
from s4e.models import Asset, AssetBulkUpdate, AssetCreate

BASE_URL = "http://testserver/api/v1"


def test_asset_crud_round_trip(platform):
    client = platform.client()
    created = client.assets.create(name="Ex\u00e4mple.COM.", type="domain", tags=["Prod", "web"],
                                   criticality="high", description="shop")
    assert isinstance(created, Asset)
    assert created.name == "xn--exmple-cua.com" and created.tags == ["prod", "web"]
    assert created.status == "pending_verification" and created.verified is False
    assert created.created_at.tzinfo is not None and created.finding_summary.critical == 0
    assert client.assets.get(created.id) == created
    updated = client.assets.update(created.id, criticality="critical", owner_id=platform.tenant.users["viewer"])
    assert updated.criticality == "critical" and updated.owner_id == platform.tenant.users["viewer"]
    assert client.assets.update(created.id, owner_id=None).owner_id is None
    client.assets.delete(created.id)
    with pytest.raises(errors.NotFoundError) as info:
        client.assets.get(created.id)
    assert info.value.code == "not_found" and info.value.request_id.startswith("req_")


def test_list_filters_and_iterates_every_page(platform):
    client = platform.client()
    for i in range(5):
        client.assets.create(name=f"h{i}.example.com", type="domain", tags=["even" if i % 2 == 0 else "odd"])
    client.assets.create(name="10.0.0.1", type="ip")
    names = [a.name for a in client.assets.list(type="domain", tag="even", sort_by="name", sort_order="asc",
                                                per_page=1)]
    assert names == ["h0.example.com", "h2.example.com", "h4.example.com"]
    first = client.assets.list(type=["domain", "ip"], per_page=4).first_page()
    assert first.meta.total == 6 and first.meta.total_pages == 2 and len(first.data) == 4
    assert len([*client.assets.list(per_page=4)]) == 6


def test_api_errors_carry_code_message_and_request_id(platform):
    client = platform.client()
    client.assets.create(name="10.0.0.1", type="ip")
    with pytest.raises(errors.ConflictError) as conflict:
        client.assets.create(name="10.0.0.1", type="ip")
    assert conflict.value.code == "already_exists" and conflict.value.status_code == 409
    assert conflict.value.request_id == conflict.value.response.headers["x-request-id"]
    with pytest.raises(errors.ValidationError) as invalid:
        client.assets.create(name="10.0.0.1/24", type="network")
    assert invalid.value.errors[0].path == "$.name"
    with pytest.raises(errors.BadRequestError) as bad:
        [*client.assets.list(sort_by="colour")]
    assert bad.value.code == "invalid_parameter"
    asset = client.assets.list().first_page().data[0]
    with pytest.raises(errors.PermissionDeniedError) as denied:
        platform.client("viewer").assets.update(asset.id, criticality="low")
    assert denied.value.code == "insufficient_scope" and denied.value.required_scopes
    other = S4EClient(api_key=platform.other.keys["admin"], base_url=BASE_URL, http_client=platform.http)
    with pytest.raises(errors.NotFoundError):
        other.assets.get(asset.id)
    with pytest.raises(errors.AuthenticationError) as unauth:
        S4EClient(api_key="s4e_live_" + "x" * 40, base_url=BASE_URL, http_client=platform.http).assets.get(asset.id)
    assert unauth.value.code == "invalid_token"


class LosesFirstResponse(httpx.BaseTransport):
    """Forwards every request to the app, but answers the first with a 502, as a proxy that lost the
    response of a request the server had already processed."""

    def __init__(self, app_client: httpx.Client) -> None:
        self.app_client = app_client
        self.forwarded = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        upstream = self.app_client.send(request)
        self.forwarded += 1
        if self.forwarded == 1:
            return httpx.Response(502, text="Bad Gateway", request=request)
        return httpx.Response(upstream.status_code, headers=upstream.headers, content=upstream.content,
                              request=request)


def test_a_retried_create_never_creates_twice(platform, sleeps):
    lossy = LosesFirstResponse(platform.http)
    client = S4EClient(api_key=platform.tenant.keys["admin"], base_url=BASE_URL,
                       http_client=httpx.Client(transport=lossy))
    asset = client.assets.create(name="replayed.example.com", type="domain")
    assert lossy.forwarded == 2 and len(sleeps) == 1
    everything = [*platform.client().assets.list()]
    assert [a.id for a in everything] == [asset.id]  # the retry was replayed, not executed again


def test_reusing_an_idempotency_key_for_another_body_is_refused(platform):
    client = platform.client()
    first = client.assets.create(name="a.example.com", type="domain", idempotency_key="sync-42")
    again = client.assets.create(name="a.example.com", type="domain", idempotency_key="sync-42")
    assert again.id == first.id
    with pytest.raises(errors.ValidationError) as info:
        client.assets.create(name="b.example.com", type="domain", idempotency_key="sync-42")
    assert info.value.code == "idempotency_key_mismatch"


def test_bulk_import_and_verification(platform):
    client = platform.client()
    result = client.assets.bulk_create([AssetCreate(name="b1.example.com", type="domain"),
                                        AssetCreate(name="not a domain", type="domain")], partial=True)
    assert [r.status for r in result.results] == ["created", "error"]
    assert result.counts.created == 1 and result.results[1].error.path.startswith("$.items[1]")
    with pytest.raises(errors.ValidationError) as info:
        client.assets.bulk_create([AssetCreate(name="ok.example.com", type="domain"),
                                   AssetCreate(name="not a domain", type="domain")])
    assert info.value.errors and not [a for a in client.assets.list(search="ok.example.com")]
    updated = client.assets.bulk_update([AssetBulkUpdate(id=result.results[0].id, criticality="low")])
    assert updated.counts.updated == 1 and client.assets.get(result.results[0].id).criticality == "low"
    csv = b"name,type,tags,criticality,description,owner_email\nc1.example.com,domain,a;b,high,,\n"
    seen: list[tuple[int, int]] = []
    dry = client.assets.import_csv(csv, dry_run=True, progress=lambda sent, total: seen.append((sent, total)))
    assert dry.dry_run and dry.counts.valid == 1 and seen[-1] == (len(csv), len(csv))
    imported = client.assets.import_csv(csv)
    assert imported.counts.created == 1 and client.assets.get(imported.results[0].id).tags == ["a", "b"]
    info = client.assets.verification.get(imported.results[0].id)
    assert info.token.startswith("s4e-verification=") and {m.method for m in info.methods} >= {"dns_txt"}
    verified = client.assets.verification.override(imported.results[0].id, reason="owned by the security team")
    assert verified.verified and verified.verification.method == "override"
    client.assets.verification.revoke(imported.results[0].id)
    assert client.assets.get(imported.results[0].id).verified is False


def test_events_feed_and_principal(platform):
    from s4e_platform.event import publisher

    client = platform.client()
    created = [client.assets.create(name=f"e{i}.example.com", type="domain") for i in range(3)]
    publisher.drain()
    feed = client.events.list(event="asset.*", limit=2)
    events = [e for e in feed if e.event == "asset.created"]
    assert [e.data["asset"]["id"] for e in events] == [a.id for a in created]
    assert feed.cursor == events[-1].id and [*client.events.list(after=feed.cursor, event="asset.created")] == []
    assert client.events.get(events[0].id).actor.type == "api_key"
    me = client.auth.me()
    assert me.auth_method == "api_key" and me.workspace.id == platform.tenant.workspace_id and me.role == "admin"
    assert client.meta.get().mode in ("embedded", "scale_out")
