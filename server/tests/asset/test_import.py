"""POST /assets/import: CSV (text/csv or multipart), per-line errors, dry run, partial."""

from __future__ import annotations

from tests.asset.test_bulk import events, total
from tests.fixtures.asset import create_asset

HEADER = "name,type,tags,criticality,description,owner_email"


def post_csv(client, tenant, body: bytes | str, role: str = "admin", content_type: str = "text/csv", **params):
    data = body.encode() if isinstance(body, str) else body
    return client.post("/api/v1/assets/import", content=data, params=params,
                       headers={**tenant.headers(role), "Content-Type": content_type})


def test_ten_thousand_rows_with_bad_lines_is_rejected_whole(client, tenant):
    lines = [HEADER] + [f"h{i}.example.com,domain,bulk;g{i % 7},low,,"for i in range(10_000)]
    lines[101] = "bad name.example.com,domain,,,,"  # data row 101 -> file line 102
    lines[5001] = "h5000.example.com,domain,,urgent,,"
    lines[9999] = "h9998.example.com,planet,,,,"
    r = post_csv(client, tenant, "\n".join(lines) + "\n")
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    assert [(d["line"], d["column"]) for d in details] == [(102, "name"), (5002, "criticality"), (10000, "type")]
    assert details[0]["path"] == "line 102, name" and details[0]["code"] == "invalid_name"
    assert total(client, tenant) == 0 and events(client, tenant) == []

    r = post_csv(client, tenant, "\n".join(lines) + "\n", partial="true")
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["counts"] == {"created": 9997, "valid": 0, "exists": 0, "error": 3}
    assert data["results"][100] == {"line": 102, "status": "error", "id": None, "error": {
        "column": "name", "code": "invalid_name", "message": "domain contains characters that are not allowed"}}
    assert total(client, tenant) == 9997 and total(client, tenant, tag="g3", source="csv") > 1000
    assert len(events(client, tenant, "asset.created")) == 9997


def test_dry_run_reports_and_writes_nothing(client, tenant):
    create_asset(client, tenant, name="old.example.com")
    body = f"{HEADER}\nnew.example.com,domain,a;b,high,hello,\nold.example.com,domain,,,,\n"
    r = post_csv(client, tenant, body, dry_run="true")
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["dry_run"] is True
    assert [(x["line"], x["status"]) for x in data["results"]] == [(2, "valid"), (3, "exists")]
    assert data["counts"] == {"created": 0, "valid": 1, "exists": 1, "error": 0}
    assert total(client, tenant) == 1
    # a dry run with a bad row answers exactly like the real import would
    r = post_csv(client, tenant, body + "-bad.example.com,domain,,,,\n", dry_run="true")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["line"] == 4
    assert len(events(client, tenant, "asset.created")) == 1


def test_columns_owner_email_bom_and_quoting(client, tenant):
    viewer_email = tenant.emails["viewer"].upper()
    body = ("\ufeffType , NAME,owner_email,description\n"
            f'ip, 192.168.1.10 ,{viewer_email},"multi\nline, quoted"\n'
            "\n"
            "domain,x.example.com,stranger@example.com,\n")
    r = post_csv(client, tenant, body.encode("utf-8"), partial="true")
    assert r.status_code == 200, r.text
    res = r.json()["data"]["results"]
    assert res[1] == {"line": 5, "status": "error", "id": None, "error": {
        "column": "owner_email", "code": "not_a_member",
        "message": "stranger@example.com is not a member of this workspace"}}
    ip = client.get(f"/api/v1/assets/{res[0]['id']}", headers=tenant.headers()).json()["data"]
    assert ip["name"] == "192.168.1.10" and ip["owner_id"] == tenant.users["viewer"]
    assert ip["description"] == "multi\nline, quoted" and ip["source"] == "csv"
    assert ip["network_zone"] == "internal"


def test_multipart_upload(client, tenant):
    csv_bytes = f"{HEADER}\nhttps://Example.com:443/a,url,web,,,\n".encode()
    r = client.post("/api/v1/assets/import", files={"file": ("assets.csv", csv_bytes, "text/csv")},
                    headers=tenant.headers())
    assert r.status_code == 200, r.text
    assert r.json()["data"]["results"][0]["status"] == "created"
    assert client.get("/api/v1/assets", headers=tenant.headers()).json()["data"][0]["name"] == \
        "https://example.com/a"
    r = client.post("/api/v1/assets/import", files={"other": ("a.csv", csv_bytes, "text/csv")},
                    headers=tenant.headers())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.file"


def test_file_level_errors(client, tenant):
    cases = {
        "unknown_column": f"{HEADER},colour\na.example.com,domain,,,,,red\n",
        "missing_column": "name,tags\na.example.com,x\n",
        "duplicate_column": "name,type,name\na.example.com,domain,b\n",
        "missing_header": "",
        "malformed_csv": f'{HEADER}\n"a.example.com,domain,,,,\n',
    }
    for code, body in cases.items():
        r = post_csv(client, tenant, body, partial="true")
        assert r.status_code == 422, (code, r.text)
        assert r.json()["error"]["details"][0]["code"] == code, (code, r.text)
    r = post_csv(client, tenant, f"{HEADER}\na.example.com,domain\n", partial="true")
    assert r.json()["data"]["results"][0]["error"]["code"] == "wrong_field_count"
    r = post_csv(client, tenant, f"{HEADER}\ncaf\xe9.example.com,domain,,,,\n".encode("latin-1"))
    assert r.status_code == 422
    assert r.json()["error"]["details"][0] | {"message": ""} == {
        "path": "line 2", "line": 2, "column": None, "code": "invalid_encoding", "message": ""}
    too_many = HEADER + "\n" + "".join(f"h{i}.example.com,domain,,,,\n" for i in range(10_001))
    r = post_csv(client, tenant, too_many)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "too_many_rows"
    assert total(client, tenant) == 0


def test_media_types_and_access(client, tenant):
    body = f"{HEADER}\na.example.com,domain,,,,\n"
    r = post_csv(client, tenant, body, content_type="application/json")
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    assert post_csv(client, tenant, body, content_type="text/csv; charset=latin-1").status_code == 415
    assert post_csv(client, tenant, body, content_type="text/csv; charset=UTF-8").status_code == 200
    r = post_csv(client, tenant, body, role="viewer")
    assert r.status_code == 403
    assert post_csv(client, tenant, body, colour="red").status_code == 400
