"""`client.findings` against the real app: lazy lists with filters, summary, triage, comments, sightings,
history and the streamed export, sync and asyncio."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import httpx
import pytest

from s4e import AsyncS4EClient, errors
from s4e.models import FindingFilter

BASE_URL = "http://testserver/api/v1"

WHY = "mitigated by the reverse proxy configuration"


@pytest.fixture
def seeded(platform):
    from tests.finding.api_helpers import make_asset, seed

    ws = platform.tenant.workspace_id
    web = make_asset(ws, "web.example.com", criticality="high", tags=["web"])
    ids = seed(ws, web, *[f"check-{i:02d}" for i in range(7)], severity="medium")
    crit, = seed(ws, web, "log4shell", severity="critical", cve_ids=["CVE-2021-44228"], kev=True, cvss=10.0)
    return {"asset": web, "ids": ids, "crit": crit}


def test_list_pages_lazily_and_filters(platform, seeded, recorder):
    from s4e import S4EClient

    client = S4EClient(api_key=platform.tenant.keys["viewer"], base_url=BASE_URL,
                       http_client=httpx.Client(transport=recorder))
    pager = client.findings.list(per_page=3, sort_by="severity")
    assert recorder.requests == []  # nothing sent until used
    items = [*pager]
    assert len(items) == 8 and items[0].id == seeded["crit"] and items[0].severity == "critical"
    assert items[0].evidence is None and items[0].asset.name == "web.example.com"
    assert len(recorder.sent("/findings")) == 3
    assert [f.id for f in client.findings.list(cve="CVE-2021-44228", kev=True, tag=["web"])] == [seeded["crit"]]
    assert [*client.findings.list(severity=["low", "info"])] == []
    summary = client.findings.summary(severity="critical,medium", asset_id=seeded["asset"])
    assert summary.total == 8 and summary.by_severity.critical == 1 and summary.kev == 1
    full = client.findings.get(seeded["crit"])
    assert full.evidence == {} and full.cve_ids == ["CVE-2021-44228"]
    with pytest.raises(errors.NotFoundError):
        client.findings.get("fnd_01hv8x5m3t9q4zc2n7k1r6pbde")


def test_triage_status_assign_and_history(platform, seeded):
    client = platform.client("analyst")
    fid = seeded["ids"][0]
    updated = client.findings.update(fid, severity_override="high", severity_justification=WHY, tags=["pci"],
                                     due_date="2027-03-01")
    assert (updated.severity, updated.severity_reason, updated.tags) == ("high", WHY, ["pci"])
    assert str(updated.due_date) == "2027-03-01"
    assert client.findings.update(fid, severity_override=None).severity == "medium"
    with pytest.raises(errors.ValidationError) as bad:
        client.findings.set_status(fid, status="reopened")
    assert bad.value.code == "invalid_transition"
    moved = client.findings.set_status(fid, status="accepted_risk", justification=WHY)
    assert moved.status == "accepted_risk" and moved.justification == WHY
    me = platform.tenant.users["analyst"]
    assigned = client.findings.assign(fid, me, due_date="2027-04-01")
    assert assigned.assignee_id == me
    history = [*client.findings.list_history(fid, sort_order="asc")]
    assert [h.field for h in history] == ["severity", "tags", "due_date", "severity", "status", "assignee",
                                          "due_date"]
    assert history[4].from_ == "open" and history[4].to == "accepted_risk" and history[4].justification == WHY
    result = client.findings.bulk_set_status(status="confirmed", ids=seeded["ids"][1:4])
    assert (result.matched, result.changed, result.unchanged) == (3, 3, 0)
    with pytest.raises(errors.ValidationError) as refused:
        client.findings.bulk_set_status(status="confirmed", filter={"severity": "medium", "status": "accepted_risk"})
    assert refused.value.code == "invalid_transition"
    result = client.findings.bulk_assign(me, filter=FindingFilter(check_id=["check-05", "check-06"]))
    assert result.changed == 2
    assert {f.id for f in client.findings.list(assignee_id=me)} == {fid, *seeded["ids"][5:]}
    with pytest.raises(ValueError):
        client.findings.bulk_assign(me)
    with pytest.raises(errors.ValidationError):
        client.findings.assign(fid, platform.other.users["admin"])


def test_comments_and_sightings(platform, seeded):
    from tests.finding.api_helpers import seed

    fid = seeded["crit"]
    analyst, developer = platform.client("analyst"), platform.client("developer")
    comment = analyst.findings.add_comment(fid, body="Patched in **staging**")
    assert comment.author.user_id == platform.tenant.users["analyst"]
    with pytest.raises(errors.PermissionDeniedError):
        developer.findings.update_comment(fid, comment.id, body="not mine")
    edited = analyst.findings.update_comment(fid, comment.id, body="Patched everywhere")
    assert edited.body == "Patched everywhere"
    assert [c.body for c in developer.findings.list_comments(fid)] == ["Patched everywhere"]
    platform.client().findings.delete_comment(fid, comment.id)  # the workspace admin may
    assert [*analyst.findings.list_comments(fid)] == []
    seed(platform.tenant.workspace_id, seeded["asset"], "log4shell", severity="critical",
         scan_id="scn_01hv8x5m3t9q4zc2n7k1r6pbd9", evidence={"output": "again"})
    sightings = [*analyst.findings.list_sightings(fid)]
    assert len(sightings) == 2 and sightings[0].scan_id == "scn_01hv8x5m3t9q4zc2n7k1r6pbd9"
    assert sightings[0].evidence == {"output": "again"}


def test_export_streams_to_a_file_or_an_iterator(platform, seeded, tmp_path):
    client = platform.client("viewer")
    path = client.findings.export(format="csv", fields=["id", "severity", "cve_ids"], to=tmp_path / "f.csv",
                                  filters={"severity": "critical"})
    rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    assert rows == [["id", "severity", "cve_ids"], [seeded["crit"], "critical", "CVE-2021-44228"]]
    chunks = client.findings.export(format="json", fields=["id"], filters=FindingFilter(tag="web"))
    data = json.loads(b"".join(chunks))
    assert len(data) == 8 and not list(tmp_path.glob("*.part"))
    with pytest.raises(errors.ValidationError):
        client.findings.export(format="json", filters={"severity": "urgent"})


def test_async_client(platform, seeded, tmp_path):
    async def run() -> None:
        transport = httpx.ASGITransport(app=platform.http.app)
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncS4EClient(api_key=platform.tenant.keys["admin"], base_url=BASE_URL, http_client=http)
            ids = [f.id async for f in client.findings.list(per_page=5, sort_order="asc")]
            assert len(ids) == 8
            assert (await client.findings.summary(kev=True)).total == 1
            assert (await client.findings.get(seeded["crit"])).kev is True
            moved = await client.findings.set_status(seeded["crit"], status="in_progress")
            assert moved.status == "in_progress"
            await client.findings.update(seeded["crit"], tags=["async"])
            result = await client.findings.bulk_set_status(status="confirmed", ids=seeded["ids"][:2])
            assert result.changed == 2
            await client.findings.assign(seeded["crit"], platform.tenant.users["viewer"])
            await client.findings.bulk_assign(None, ids=[seeded["crit"]])
            c = await client.findings.add_comment(seeded["crit"], body="async note")
            await client.findings.update_comment(seeded["crit"], c.id, body="async note, edited")
            assert [x.body async for x in client.findings.list_comments(seeded["crit"])] == ["async note, edited"]
            await client.findings.delete_comment(seeded["crit"], c.id)
            assert len([s async for s in client.findings.list_sightings(seeded["crit"])]) == 1
            assert [h.field async for h in client.findings.list_history(seeded["crit"])][0] == "assignee"
            chunks = await client.findings.export(format="json", fields=["id"])
            assert len(json.loads(b"".join([c async for c in chunks]))) == 8
            path = await client.findings.export(format="csv", to=tmp_path / "a.csv")
            assert path.read_bytes().count(b"\r\n") == 9

    asyncio.run(run())
