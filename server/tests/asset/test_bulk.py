"""POST /assets/bulk: create, update, delete; all-or-nothing unless partial."""

from __future__ import annotations

from s4e_platform.event import publisher

from tests.fixtures.asset import create_asset


def bulk(client, tenant, operation: str, items: list, role: str = "admin", **extra):
    return client.post("/api/v1/assets/bulk", json={"operation": operation, "items": items, **extra},
                       headers=tenant.headers(role))


def events(client, tenant, kind: str | None = None) -> list[dict]:
    publisher.drain()
    out, after = [], None
    while True:
        params = {"limit": 1000, **({"after": after} if after else {}), **({"event": kind} if kind else {})}
        page = client.get("/api/v1/events", params=params, headers=tenant.headers()).json()["data"]
        if not page:
            return out
        out.extend(page)
        after = page[-1]["id"]


def total(client, tenant, **params) -> int:
    return client.get("/api/v1/assets", params=params, headers=tenant.headers()).json()["meta"]["total"]


def test_create_reports_created_and_exists_and_emits_one_event_each(client, tenant):
    existing = create_asset(client, tenant, name="old.example.com")
    r = bulk(client, tenant, "create", [
        {"name": "A.Example.com", "type": "domain", "tags": ["Prod"], "criticality": "high"},
        {"name": "old.example.com", "type": "domain"},
        {"name": "10.0.0.0/8", "type": "network"},
        {"name": "a.example.com.", "type": "domain"},  # same asset as item 0 once normalised
    ])
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["counts"] == {"created": 2, "updated": 0, "deleted": 0, "exists": 2, "error": 0}
    res = data["results"]
    assert [x["status"] for x in res] == ["created", "exists", "created", "exists"]
    assert res[1]["id"] == existing["id"] and res[3]["id"] == res[0]["id"]
    got = client.get(f"/api/v1/assets/{res[0]['id']}", headers=tenant.headers()).json()["data"]
    assert got["name"] == "a.example.com" and got["tags"] == ["prod"] and got["criticality"] == "high"
    assert got["source"] == "bulk" and got["status"] == "pending_verification"
    assert total(client, tenant, tag="prod") == 1  # tag rows written, not only the denormalised column
    created = events(client, tenant, "asset.created")
    assert sorted(e["data"]["asset"]["id"] for e in created) == sorted([existing["id"], res[0]["id"], res[2]["id"]])


def test_any_error_rejects_everything_and_lists_every_item(client, tenant):
    r = bulk(client, tenant, "create", [
        {"name": "good.example.com", "type": "domain"},
        {"name": "10.0.0.1/24", "type": "network"},
        {"name": "x.example.com", "type": "domain", "colour": "red"},
        {"name": "y.example.com", "type": "domain", "tags": ["Bad Tag!"]},
        {"name": "z.example.com", "type": "planet"},
        {"name": "w.example.com", "type": "domain", "owner_id": "usr_01hv8x5m3t9q4zc2n7k1r6pbde"},
    ])
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    paths = {d["path"] for d in err["details"]}
    assert {"$.items[1].name", "$.items[2].colour", "$.items[3].tags", "$.items[4].type",
            "$.items[5].owner_id"} <= paths
    assert "$.items[0]" not in " ".join(paths)
    assert total(client, tenant) == 0
    assert events(client, tenant) == []


def test_partial_writes_the_good_items(client, tenant):
    r = bulk(client, tenant, "create", [
        {"name": "good.example.com", "type": "domain"},
        {"name": "not a domain", "type": "domain"},
        {"name": "https://app.example.com:443/login#x", "type": "url"},
    ], partial=True)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["counts"]["created"] == 2 and data["counts"]["error"] == 1
    bad = data["results"][1]
    assert bad["status"] == "error" and bad["id"] is None
    assert bad["error"]["path"] == "$.items[1].name" and bad["error"]["code"] == "invalid_name"
    assert total(client, tenant) == 2
    url = client.get(f"/api/v1/assets/{data['results'][2]['id']}", headers=tenant.headers()).json()["data"]
    assert url["name"] == "https://app.example.com/login"
    assert len(events(client, tenant, "asset.created")) == 2


def test_owner_and_parent_checked_like_single_create(client, tenant, other_tenant):
    parent = create_asset(client, tenant, name="example.com")
    foreign = create_asset(client, other_tenant, name="example.org")
    r = bulk(client, tenant, "create", [
        {"name": "a.example.com", "type": "domain", "owner_id": tenant.users["viewer"], "parent_id": parent["id"]},
        {"name": "b.example.com", "type": "domain", "owner_id": other_tenant.users["admin"]},
        {"name": "c.example.com", "type": "domain", "parent_id": foreign["id"]},
    ], partial=True)
    res = r.json()["data"]["results"]
    assert res[0]["status"] == "created"
    assert res[1]["error"] == {"code": "not_a_member", "message": "owner must be a member of the workspace",
                               "path": "$.items[1].owner_id"}
    assert res[2]["error"]["path"] == "$.items[2].parent_id"
    child = client.get(f"/api/v1/assets/{res[0]['id']}", headers=tenant.headers()).json()["data"]
    assert child["owner_id"] == tenant.users["viewer"] and child["parent_id"] == parent["id"]


def test_request_shape_limits_and_access(client, tenant):
    assert bulk(client, tenant, "create", []).status_code == 422
    too_many = [{"name": f"h{i}.example.com", "type": "domain"} for i in range(10_001)]
    r = bulk(client, tenant, "create", too_many)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.items"
    assert bulk(client, tenant, "merge", [{"id": "x"}]).status_code == 422
    r = bulk(client, tenant, "create", [{"name": "a.example.com", "type": "domain"}], role="viewer")
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    assert total(client, tenant) == 0


def test_update_all_or_nothing_then_partial_isolates_failures(client, tenant, other_tenant):
    a = create_asset(client, tenant, name="a.example.com")
    b = create_asset(client, tenant, name="b.example.com")
    foreign = create_asset(client, other_tenant, name="example.org")
    items = [
        {"id": a["id"], "criticality": "critical", "tags": ["crown-jewel"]},
        {"id": b["id"], "tags": ["touched"], "status": "inactive"},  # unverified: status cannot change
        {"id": foreign["id"], "criticality": "low"},
        {"id": a["id"].upper(), "description": "case-insensitive id"},
    ]
    r = bulk(client, tenant, "update", items)
    assert r.status_code == 422
    assert {d["path"] for d in r.json()["error"]["details"]} == {"$.items[1].status", "$.items[2].id"}
    after = client.get(f"/api/v1/assets/{a['id']}", headers=tenant.headers()).json()["data"]
    assert after["criticality"] == "medium" and after["tags"] == []

    r = bulk(client, tenant, "update", items, partial=True)
    assert r.status_code == 200
    data = r.json()["data"]
    assert [x["status"] for x in data["results"]] == ["updated", "error", "error", "updated"]
    assert data["counts"]["updated"] == 2 and data["counts"]["error"] == 2
    after = client.get(f"/api/v1/assets/{a['id']}", headers=tenant.headers()).json()["data"]
    assert after["criticality"] == "critical" and after["tags"] == ["crown-jewel"]
    assert after["description"] == "case-insensitive id"
    # the failing item's tag change was rolled back with it
    assert client.get(f"/api/v1/assets/{b['id']}", headers=tenant.headers()).json()["data"]["tags"] == []
    assert total(client, tenant, tag="touched") == 0
    changes = [e["data"]["changes"] for e in events(client, tenant, "asset.updated")]
    assert sorted(changes) == [["description"], ["tags", "criticality"]]
    assert client.get(f"/api/v1/assets/{foreign['id']}", headers=other_tenant.headers()).json()["data"][
        "criticality"] == "medium"


def test_delete_children_first_cascade_and_dependents(client, tenant):
    parent = create_asset(client, tenant, name="example.com")
    child = create_asset(client, tenant, name="www.example.com", parent_id=parent["id"])
    other = create_asset(client, tenant, name="example.net")
    other_child = create_asset(client, tenant, name="www.example.net", parent_id=other["id"])
    # A parent listed before its child needs no cascade when both go.
    r = bulk(client, tenant, "delete", [{"id": parent["id"]}, {"id": child["id"]}])
    assert r.status_code == 200 and r.json()["data"]["counts"]["deleted"] == 2
    r = bulk(client, tenant, "delete", [{"id": other["id"]}])
    assert r.status_code == 422
    assert r.json()["error"]["details"][0] == {"path": "$.items[0].id", "code": "has_dependents", "index": 0,
                                               "message": "Asset has children, services or findings; "
                                                          "delete with ?cascade=true"}
    r = bulk(client, tenant, "delete", [{"id": other["id"]}, {"id": other_child["id"]}, {"id": other["id"]}],
             cascade=True)
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["data"]["results"]] == ["deleted"] * 3
    assert total(client, tenant) == 0
    deleted = events(client, tenant, "asset.deleted")
    assert sorted(e["data"]["name"] for e in deleted) == ["example.com", "example.net", "www.example.com",
                                                          "www.example.net"]


def test_bulk_creates_under_verified_domain_inherit(client, tenant):
    domain = create_asset(client, tenant, name="example.com")
    r = client.post(f"/api/v1/assets/{domain['id']}/verification/override",
                    json={"reason": "registrar account checked by hand"}, headers=tenant.headers())
    assert r.status_code == 200
    r = bulk(client, tenant, "create", [{"name": "api.example.com", "type": "domain"},
                                        {"name": "https://shop.example.com/", "type": "url"},
                                        {"name": "example.community", "type": "domain"}])
    ids = [x["id"] for x in r.json()["data"]["results"]]
    got = [client.get(f"/api/v1/assets/{i}", headers=tenant.headers()).json()["data"] for i in ids]
    assert [g["verified"] for g in got] == [True, True, False]
    assert got[0]["verification"]["method"] == "inherited" and got[0]["status"] == "active"
    assert got[0]["verification"]["inherited_from"] == domain["id"]
    verified = events(client, tenant, "asset.verified")
    assert [(e["data"]["asset"]["id"], e["data"]["method"]) for e in verified] == [
        (domain["id"], "override"), (ids[0], "inherited"), (ids[1], "inherited")]


def test_bulk_rate_limit_is_five_per_minute(client, tenant, settings):
    settings.rate_limit_enabled = True
    codes = [bulk(client, tenant, "create", [{"name": f"h{i}.example.com", "type": "domain"}]).status_code
             for i in range(6)]
    assert codes == [200] * 5 + [429]
    r = client.post("/api/v1/assets/import", content=b"name,type\nx.example.com,domain\n",
                    headers={**tenant.headers(), "Content-Type": "text/csv"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    # other endpoints keep their own, larger budget
    assert client.get("/api/v1/assets", headers=tenant.headers()).status_code == 200


def test_restricted_key_creates_only_with_its_tags_and_sees_no_foreign_ids(client, tenant):
    hidden = create_asset(client, tenant, name="hidden.example.com")
    key = tenant.key(["write:assets"], asset_restriction={"asset_ids": [], "tags": ["team-a"]})
    r = client.post("/api/v1/assets/bulk", headers={"Authorization": f"Bearer {key}"}, json={
        "operation": "create", "partial": True, "items": [
            {"name": "mine.example.com", "type": "domain", "tags": ["team-a"]},
            {"name": "untagged.example.com", "type": "domain"},
            {"name": "hidden.example.com", "type": "domain", "tags": ["team-a"]},
        ]})
    res = r.json()["data"]["results"]
    assert res[0]["status"] == "created"
    assert res[1]["error"]["code"] == "forbidden" and res[1]["error"]["path"] == "$.items[1].tags"
    assert res[2]["status"] == "exists" and res[2]["id"] is None  # exists, but not visible to this key
    r = client.post("/api/v1/assets/bulk", headers={"Authorization": f"Bearer {key}"},
                    json={"operation": "delete", "items": [{"id": hidden["id"]}]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "not_found"
