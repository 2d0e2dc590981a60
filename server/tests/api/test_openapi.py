"""The OpenAPI document is the contract the SDK and console rely on (api.md 1.1, 1.7, 1.8)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.fixtures.objects import World
from tests.fixtures.openapi import Operation, live_document, operations

OPERATIONS = operations()
PAGE_META = "#/components/schemas/PageMeta"
ERROR = "#/components/schemas/ErrorEnvelope"
# api.md 1.8: "The events feed is the one cursor-paginated list".
CURSOR_LISTS = {"list_events"}
# Errors the spec shapes differently: RFC 6749 5.2 for the token endpoint, the readiness report on 503.
OWN_ERROR_SHAPES = {("/api/v1/oauth/token", "*"), ("/readyz", "503")}


def resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def success_schema(doc: dict, op: Operation) -> dict | None:
    for status, response in op.spec["responses"].items():
        if status.startswith("2"):
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            return resolve(doc, schema) if schema else None
    return None


def is_list(doc: dict, op: Operation) -> bool:
    schema = success_schema(doc, op)
    data = resolve(doc, (schema or {}).get("properties", {}).get("data", {}))
    return op.method == "GET" and data.get("type") == "array"


def query_names(op: Operation) -> set[str]:
    return {p["name"] for p in op.spec.get("parameters", []) if p["in"] == "query"}


def test_document_is_openapi_3_1_with_unique_snake_case_operation_ids():
    doc = live_document()
    assert doc["openapi"].startswith("3.1.")
    ids = [op.spec.get("operationId") for op in OPERATIONS]
    assert all(ids), [str(op) for op in OPERATIONS if not op.spec.get("operationId")]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"duplicate operationIds: {duplicates}"
    bad = [i for i in ids if not re.fullmatch(r"[a-z]+(_[a-z0-9]+)+|healthz|readyz|login|logout", i)]
    assert not bad, f"operationIds must be snake_case verb_noun: {bad}"


def test_every_operation_has_a_summary_from_its_docstring():
    missing = [str(op) for op in OPERATIONS if not op.spec.get("description")]
    assert not missing, f"handlers without a docstring: {missing}"
    assert all(op.spec["summary"] == op.spec["description"].strip().splitlines()[0] for op in OPERATIONS)


def expected_errors(op: Operation) -> set[str]:
    expected = {"400", "500"}
    if op.rule not in ("public", "undeclared"):
        expected |= {"401", "403", "429"}
    if "{" in op.path:
        expected.add("404")
    if op.method != "GET":
        expected.add("413")
    if op.has_body:
        expected |= {"415", "422"}
    return expected


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_operation_documents_its_errors(op: Operation):
    responses = op.spec["responses"]
    missing = expected_errors(op) - set(responses)
    assert not missing, f"{op} does not document {sorted(missing)}"
    for status, response in responses.items():
        if status >= "400":
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            assert schema, f"{op} {status} has no JSON schema"
            if (op.path, status) not in OWN_ERROR_SHAPES and (op.path, "*") not in OWN_ERROR_SHAPES:
                assert schema == {"$ref": ERROR}, f"{op} {status} is not the error envelope"


def test_list_operations_are_paginated_consistently():
    doc = live_document()
    lists = [op for op in OPERATIONS if is_list(doc, op)]
    assert lists, "no list operation found"
    for op in lists:
        meta = success_schema(doc, op)["properties"]["meta"]
        if op.operation_id in CURSOR_LISTS:
            assert "page" not in query_names(op) and "after" in query_names(op), op
            continue
        assert meta == {"$ref": PAGE_META}, f"{op}: meta must be PageMeta, is {meta}"
        assert {"page", "per_page"} <= query_names(op), f"{op} lacks page/per_page"
        assert {"sort_by", "sort_order"} <= query_names(op), f"{op} lacks sort_by/sort_order"
    page_meta = resolve(doc, {"$ref": PAGE_META})
    assert set(page_meta["required"]) == {"total", "page", "per_page", "total_pages"}


LISTS = [op for op in OPERATIONS if is_list(live_document(), op) and op.operation_id not in CURSOR_LISTS]


@pytest.mark.parametrize("op", LISTS, ids=[op.operation_id for op in LISTS])
def test_list_meta_matches_the_document(op: Operation, client, world: World):
    path = world.fill(op.path)
    h = world.tenant.headers()
    r = client.get(path, params={"page": 1, "per_page": 1}, headers=h)
    assert r.status_code == 200, r.text
    meta = r.json()["meta"]
    assert set(meta) == {"total", "page", "per_page", "total_pages"}
    assert (meta["page"], meta["per_page"]) == (1, 1) and len(r.json()["data"]) <= 1
    assert meta["total_pages"] == meta["total"]
    beyond = client.get(path, params={"page": meta["total"] + 1, "per_page": 1}, headers=h).json()
    assert beyond["data"] == [] and beyond["meta"]["total"] == meta["total"]
