"""POST /findings/export: CSV (RFC 4180, formula injection defused) and JSON, filters, restriction, streaming,
rate limit."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.finding.api_helpers import API, make_asset, seed, set_columns


@pytest.fixture
def seeded(tenant):
    ws = tenant.workspace_id
    web = make_asset(ws, "web.example.com", criticality="high", tags=["web"])
    db = make_asset(ws, "db.example.com", criticality="high", tags=["db"])
    ids = seed(ws, web, "formula", "quotes", severity="high")
    set_columns(ids[0], title="=HYPERLINK(\"http://evil\",\"x\")", description="@SUM(1)")
    set_columns(ids[1], title='Says "hello",\r\nthen leaves', cve_ids=["CVE-2021-44228", "CVE-2022-0001"])
    other = seed(ws, db, "+cmd", "-neg", "\ttab", severity="low")
    return {"web": web, "db": db, "ids": ids, "other": other}


def export(client, headers, **body):
    return client.post(f"{API}/findings/export", json=body, headers=headers)


def test_csv_is_rfc4180_and_defuses_formulas(client, tenant, seeded):
    r = export(client, tenant.headers("viewer"), format="csv", fields=["id", "title", "description", "check_id",
                                                                       "cve_ids", "asset_name", "severity"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="findings-')
    text = r.content.decode()
    assert text.endswith("\r\n") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["id", "title", "description", "check_id", "cve_ids", "asset_name", "severity"]
    by_id = {row[0]: row for row in rows[1:]}
    assert len(by_id) == 5
    formula = by_id[seeded["ids"][0]]
    assert formula[1] == "'=HYPERLINK(\"http://evil\",\"x\")" and formula[2] == "'@SUM(1)"
    quoted = by_id[seeded["ids"][1]]
    assert quoted[1] == 'Says "hello",\r\nthen leaves' and quoted[4] == "CVE-2021-44228; CVE-2022-0001"
    assert quoted[5] == "web.example.com"
    checks = {row[3] for row in rows[1:]}
    assert {"'+cmd", "'-neg", "'\ttab"} <= checks


def test_json_is_one_array_with_filters(client, tenant, seeded):
    r = export(client, tenant.headers(), format="json", filters={"severity": "high", "tag": ["web"]},
               fields=["id", "severity", "asset_tags", "discovered_at", "port"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    data = json.loads(r.content)
    assert sorted(d["id"] for d in data) == sorted(seeded["ids"])
    assert all(d["asset_tags"] == ["web"] and d["port"] == 443 and d["discovered_at"].endswith("Z") for d in data)
    empty = export(client, tenant.headers(), format="json", filters={"severity": "critical"})
    assert json.loads(empty.content) == []
    default = json.loads(export(client, tenant.headers(), format="json").content)
    assert len(default) == 5 and "title" in default[0] and "evidence" not in default[0]


def test_restricted_key_exports_only_allowed_assets(client, tenant, seeded):
    key = tenant.key(["read:findings"], asset_restriction={"asset_ids": [seeded["db"]]})
    r = export(client, {"Authorization": f"Bearer {key}"}, format="json", fields=["id"])
    assert sorted(d["id"] for d in json.loads(r.content)) == sorted(seeded["other"])


@pytest.mark.parametrize("body", [{"format": "xlsx"}, {"format": "csv", "fields": ["password"]},
                                  {"format": "csv", "fields": []}, {"format": "csv", "filters": {"severity": "x"}},
                                  {"format": "csv", "filters": {"colour": "red"}}, {}])
def test_bad_export_is_422(client, tenant, seeded, body):
    r = client.post(f"{API}/findings/export", json=body, headers=tenant.headers())
    assert r.status_code == 422, r.text


def test_export_streams_in_chunks(client, tenant, monkeypatch):
    """More rows than one chunk arrive as several body chunks (never one buffered blob)."""
    from s4e_platform.finding import export as exp

    monkeypatch.setattr(exp, "CHUNK", 7)
    asset = make_asset(tenant.workspace_id)
    seed(tenant.workspace_id, asset, *[f"check-{i}" for i in range(30)])
    with client.stream("POST", f"{API}/findings/export", json={"format": "csv", "fields": ["id"]},
                       headers=tenant.headers()) as r:
        assert r.status_code == 200
        chunks = [c for c in r.iter_raw() if c]
    assert len(chunks) >= 5  # header + 30 rows in chunks of 7
    assert b"".join(chunks).decode().count("\r\n") == 31


def test_export_rate_limit_is_5_per_minute(client, tenant, seeded, settings):
    settings.rate_limit_enabled = True
    statuses = [export(client, tenant.headers(), format="json", fields=["id"]).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert client.get(f"{API}/findings", headers=tenant.headers()).status_code == 200  # only export is capped


def test_export_is_not_stored_for_idempotent_replay(client, tenant, seeded):
    """An export is a read of any size: the Idempotency-Key layer passes it through instead of buffering it."""
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.idempotency.models import IdempotencyRecord
    from sqlalchemy import func, select

    headers = {**tenant.headers(), "Idempotency-Key": "export-1"}
    first = client.post(f"{API}/findings/export", json={"format": "json", "fields": ["id"]}, headers=headers)
    set_columns(seeded["ids"][0], status="false_positive")
    second = client.post(f"{API}/findings/export", json={"format": "json", "fields": ["id"]}, headers=headers)
    assert first.status_code == second.status_code == 200 and "idempotency-replayed" not in second.headers
    assert len(json.loads(first.content)) == 5 and len(json.loads(second.content)) == 4  # answered afresh
    with unit_of_work(readonly=True) as s:
        assert s.execute(select(func.count()).select_from(IdempotencyRecord)).scalar_one() == 0
