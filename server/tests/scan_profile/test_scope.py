"""Which assets a profile covers (scanning.md 3 scope)."""

from __future__ import annotations

import pytest
from s4e_platform.db.session import unit_of_work
from s4e_platform.scan_profile import scope

from tests.scan_profile.conftest import API, make_asset


@pytest.fixture
def estate(client, tenant) -> dict[str, str]:
    root = make_asset(client, tenant, "example.com", tags=["production"])
    child = make_asset(client, tenant, "api.example.com", parent_id=root["id"])
    grandchild = make_asset(client, tenant, "v1.api.example.com", parent_id=child["id"])
    ip = make_asset(client, tenant, "192.0.2.1", "ip", tags=["production"])
    staging = make_asset(client, tenant, "shop.test", tags=["staging"])
    url = make_asset(client, tenant, "https://x.example.net/", "url", tags=["production", "do-not-scan"])
    parked = make_asset(client, tenant, "old.example.org", tags=["production"], verified=True)
    r = client.patch(f"{API}/assets/{parked['id']}", json={"status": "inactive"}, headers=tenant.headers())
    assert r.status_code == 200, r.text
    return {"root": root["id"], "child": child["id"], "grandchild": grandchild["id"], "ip": ip["id"],
            "staging": staging["id"], "url": url["id"], "parked": parked["id"]}


def resolve(tenant, restriction=None, **doc) -> set[str]:
    with unit_of_work(readonly=True) as s:
        return set(scope.resolve_ids(s, workspace_id=tenant.workspace_id, scope=doc, restriction=restriction))


def names(estate, ids: set[str]) -> set[str]:
    back = {v: k for k, v in estate.items()}
    return {back[i] for i in ids}


def test_tags_are_any_of_and_selectors_combine(tenant, estate):
    assert names(estate, resolve(tenant, tags=["production"])) == {"root", "ip", "url"}  # parked is inactive
    assert names(estate, resolve(tenant, tags=["production", "staging"])) == {"root", "ip", "url", "staging"}
    # Every selector given must match: production-tagged domains only.
    assert names(estate, resolve(tenant, tags=["production"], asset_types=["domain"])) == {"root"}
    assert names(estate, resolve(tenant, asset_types=["ip", "url"])) == {"ip", "url"}


def test_asset_ids_are_a_union_with_the_selectors(tenant, estate):
    got = resolve(tenant, asset_ids=[estate["staging"]], asset_types=["ip"])
    assert names(estate, got) == {"staging", "ip"}
    # An explicitly listed inactive asset stays out.
    assert resolve(tenant, asset_ids=[estate["parked"]]) == set()


def test_include_children_follows_child_domains(tenant, estate):
    assert names(estate, resolve(tenant, asset_ids=[estate["root"]])) == {"root"}
    got = resolve(tenant, asset_ids=[estate["root"]], include_children=True)
    assert names(estate, got) == {"root", "child", "grandchild"}
    got = resolve(tenant, tags=["production"], include_children=True, exclude_asset_ids=[estate["child"]])
    assert names(estate, got) == {"root", "ip", "url", "grandchild"}


def test_exclusions(tenant, estate):
    got = resolve(tenant, tags=["production"], exclude_tags=["do-not-scan"])
    assert names(estate, got) == {"root", "ip"}
    got = resolve(tenant, asset_types=["domain"], exclude_asset_ids=[estate["staging"], estate["child"]])
    assert names(estate, got) == {"root", "grandchild"}


def test_restriction_limits_a_manual_resolution(tenant, estate):
    got = resolve(tenant, {"asset_ids": [estate["ip"]], "tags": []}, tags=["production"])
    assert names(estate, got) == {"ip"}
    got = resolve(tenant, {"asset_ids": [], "tags": ["staging"]}, asset_types=["domain"])
    assert names(estate, got) == {"staging"}


def test_other_workspaces_assets_never_match(client, tenant, other_tenant, estate):
    theirs = make_asset(client, other_tenant, "example.com", tags=["production"])
    assert theirs["id"] not in resolve(tenant, tags=["production"], asset_ids=[theirs["id"]])
