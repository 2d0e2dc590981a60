"""Finding comments (author/admin rules), sightings and history through the API."""

from __future__ import annotations

import pytest

from tests.finding.api_helpers import API, events_of, make_asset, seed


@pytest.fixture
def finding_id(tenant):
    asset = make_asset(tenant.workspace_id)
    return seed(tenant.workspace_id, asset, "tls.old")[0]


def comment(client, tenant, finding_id, body="Needs a patch window.", role="analyst"):
    return client.post(f"{API}/findings/{finding_id}/comments", json={"body": body}, headers=tenant.headers(role))


def test_add_list_edit_delete(client, tenant, finding_id):
    r = comment(client, tenant, finding_id, "**Confirmed** on prod")
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    assert r.headers["location"] == f"/api/v1/findings/{finding_id}/comments/{created['id']}"
    assert created["author"]["user_id"] == tenant.users["analyst"] and created["body"] == "**Confirmed** on prod"
    [event] = events_of(tenant.workspace_id, "finding.updated")
    assert event.data["changes"] == ["comment"] and event.data["finding"]["id"] == finding_id
    comment(client, tenant, finding_id, "second")
    listed = client.get(f"{API}/findings/{finding_id}/comments?sort_order=asc", headers=tenant.headers("viewer"))
    assert [c["body"] for c in listed.json()["data"]] == ["**Confirmed** on prod", "second"]
    path = f"{API}/findings/{finding_id}/comments/{created['id']}"
    r = client.patch(path, json={"body": "edited"}, headers=tenant.headers("analyst"))
    assert r.status_code == 200 and r.json()["data"]["body"] == "edited"
    assert client.delete(path, headers=tenant.headers("analyst")).status_code == 204
    assert client.patch(path, json={"body": "gone"}, headers=tenant.headers("analyst")).status_code == 404
    assert client.get(f"{API}/findings/{finding_id}/comments", headers=tenant.headers()).json()["meta"]["total"] == 1


def test_only_author_or_admin_may_change(client, tenant, finding_id):
    created = comment(client, tenant, finding_id).json()["data"]
    path = f"{API}/findings/{finding_id}/comments/{created['id']}"
    r = client.patch(path, json={"body": "not mine"}, headers=tenant.headers("developer"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert client.delete(path, headers=tenant.headers("developer")).status_code == 403
    # An admin-role member holding only write:findings is not acting as admin.
    narrow = {"Authorization": f"Bearer {tenant.key(['write:findings'], role='admin')}"}
    assert client.delete(path, headers=narrow).status_code == 403
    r = client.patch(path, json={"body": "moderated"}, headers=tenant.headers("admin"))
    assert r.status_code == 200 and r.json()["data"]["body"] == "moderated"
    assert client.delete(path, headers=tenant.headers("admin")).status_code == 204


def test_comment_of_another_finding_is_404(client, tenant, finding_id):
    other, = seed(tenant.workspace_id, make_asset(tenant.workspace_id, "b.example.com"), "x")
    created = comment(client, tenant, finding_id).json()["data"]
    r = client.patch(f"{API}/findings/{other}/comments/{created['id']}", json={"body": "x"},
                     headers=tenant.headers())
    assert r.status_code == 404


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {"body": "x" * 10_001}, {}, {"text": "hi"}])
def test_bad_comment_is_422(client, tenant, finding_id, body):
    r = client.post(f"{API}/findings/{finding_id}/comments", json=body, headers=tenant.headers())
    assert r.status_code == 422
    assert events_of(tenant.workspace_id, "finding.updated") == []


def test_sightings_newest_first_with_excerpt(client, tenant):
    asset = make_asset(tenant.workspace_id)
    fid, = seed(tenant.workspace_id, asset, "tls.old", scan_id="scn_01hv8x5m3t9q4zc2n7k1r6pbd1",
                task_id="tsk_01hv8x5m3t9q4zc2n7k1r6pbd1", evidence={"response": "A" * 5000})
    seed(tenant.workspace_id, asset, "tls.old", scan_id="scn_01hv8x5m3t9q4zc2n7k1r6pbd2",
         task_id="tsk_01hv8x5m3t9q4zc2n7k1r6pbd2", evidence={"output": "second"})
    r = client.get(f"{API}/findings/{fid}/sightings", headers=tenant.headers("viewer"))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [s["scan_id"] for s in data] == ["scn_01hv8x5m3t9q4zc2n7k1r6pbd2", "scn_01hv8x5m3t9q4zc2n7k1r6pbd1"]
    assert data[0]["evidence"] == {"output": "second"} and data[1]["task_id"] == "tsk_01hv8x5m3t9q4zc2n7k1r6pbd1"
    assert len(data[1]["evidence"]["response"]) < 1100 and r.json()["meta"]["total"] == 2


def test_history_lists_changes_with_actor(client, tenant, finding_id):
    h = tenant.headers("analyst")
    client.post(f"{API}/findings/{finding_id}/status", headers=h,
                json={"status": "false_positive", "justification": "scanner misread the banner"})
    client.post(f"{API}/findings/{finding_id}/assign", headers=h, json={"assignee_id": tenant.users["analyst"]})
    r = client.get(f"{API}/findings/{finding_id}/history", headers=tenant.headers("viewer"))
    assert r.status_code == 200, r.text
    rows = r.json()["data"]
    assert [(x["field"], x["from"], x["to"]) for x in rows] == [
        ("assignee", None, tenant.users["analyst"]), ("status", "open", "false_positive")]
    assert rows[1]["justification"] == "scanner misread the banner" and rows[1]["actor"]["type"] == "api_key"
    assert rows[0]["at"].endswith("Z")
    asc = client.get(f"{API}/findings/{finding_id}/history?sort_order=asc&per_page=1", headers=h).json()
    assert asc["data"][0]["field"] == "status" and asc["meta"]["total_pages"] == 2
