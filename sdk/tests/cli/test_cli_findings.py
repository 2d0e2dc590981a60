"""`s4e findings ...` against the real app in-process."""

from __future__ import annotations

import json

import pytest

WHY = "false alarm: the banner is a honeypot"


@pytest.fixture
def seeded(platform):
    from tests.finding.api_helpers import make_asset, seed

    ws = platform.tenant.workspace_id
    asset = make_asset(ws, "cli.example.com", criticality="high", tags=["cli"])
    ids = seed(ws, asset, "a", "b", "c", severity="medium")
    crit, = seed(ws, asset, "d", severity="critical", kev=True, evidence={"output": "proof"})
    return {"asset": asset, "ids": ids, "crit": crit}


def test_list_get_summary(s4e, s4e_json, seeded):
    listed = s4e("findings", "list", "--sort-by", "severity")
    assert listed.exit_code == 0, listed.output
    assert "cli.example.com" in listed.stdout and "critical" in listed.stdout and "4 total" in listed.stdout
    assert s4e("findings", "list", "--kev", "-q").stdout.split() == [seeded["crit"]]
    assert len(s4e_json("findings", "list", "--severity", "medium", "--tag", "cli")) == 3
    got = s4e_json("findings", "get", seeded["crit"])
    assert got["evidence"] == {"output": "proof"} and got["asset"]["name"] == "cli.example.com"
    shown = s4e("findings", "get", seeded["crit"])
    assert shown.exit_code == 0 and "proof" in shown.stdout
    assert s4e("findings", "get", "fnd_01hv8x5m3t9q4zc2n7k1r6pbde").exit_code == 3
    summary = s4e_json("findings", "summary", "-f", "severity=critical,medium")
    assert summary["total"] == 4 and summary["kev"] == 1
    table = s4e("findings", "summary")
    assert table.exit_code == 0 and "critical" in table.stdout and "4 total" in table.stdout
    assert s4e("findings", "summary", "-f", "colour=red").exit_code == 2
    assert s4e("findings", "list", "--severity", "urgent").exit_code == 1


def test_triage_commands(s4e, s4e_json, seeded, platform):
    fid = seeded["ids"][0]
    result = s4e("findings", "set-status", fid, "false_positive", "--justification", WHY)
    assert result.exit_code == 0, result.output
    assert s4e_json("findings", "get", fid)["status"] == "false_positive"
    bad = s4e("findings", "set-status", fid, "resolved")
    assert bad.exit_code == 1 and "invalid_transition" in bad.stderr
    updated = s4e_json("findings", "update", fid, "--severity", "high", "--justification", WHY, "--tag", "pci",
                       "--due-date", "2027-05-01")
    assert updated["severity"] == "high" and updated["tags"] == ["pci"] and updated["due_date"] == "2027-05-01"
    cleared = s4e_json("findings", "update", fid, "--clear-override", "--clear-tags", "--due-date", "none")
    assert cleared["severity"] == "medium" and cleared["tags"] == [] and cleared["due_date"] is None
    bulk = s4e("findings", "bulk-status", "confirmed", "--id", seeded["ids"][1], "--id", seeded["ids"][2])
    assert bulk.exit_code == 0 and "changed 2" in bulk.stderr
    by_filter = s4e_json("findings", "bulk-status", "in_progress", "-f", "severity=critical")
    assert by_filter == {"matched": 1, "changed": 1, "unchanged": 0}
    assert s4e("findings", "bulk-status", "open").exit_code == 2  # neither --id nor --filter
    viewer = platform.tenant.users["viewer"]
    assigned = s4e_json("findings", "assign", fid, viewer, "--due-date", "2027-06-01")
    assert assigned["assignee_id"] == viewer
    assert s4e("findings", "bulk-assign", viewer, "-f", "tag=cli", "-q").stdout.strip() == "3"
    assert s4e_json("findings", "assign", fid, "none")["assignee_id"] is None
    history = s4e_json("findings", "history", fid)
    assert history[0]["field"] == "assignee" and history[-1]["to"] == "false_positive"
    assert "false_positive" in s4e("findings", "history", fid).stdout
    assert s4e("findings", "assign", fid, viewer, key="viewer").exit_code == 1  # viewers cannot triage


def test_comments_sightings_export(s4e, s4e_json, seeded, tmp_path):
    fid = seeded["crit"]
    cid = s4e("findings", "comments", "add", fid, "Ticket **OPS-1** opened", "-q").stdout.strip()
    assert cid.startswith("cmt_")
    assert s4e_json("findings", "comments", "edit", fid, cid, "-", input="from stdin")["body"] == "from stdin"
    listed = s4e("findings", "comments", "list", fid)
    assert listed.exit_code == 0 and "from stdin" in listed.stdout
    assert s4e("findings", "comments", "edit", fid, cid, "mine now", key="developer").exit_code == 1
    assert s4e("findings", "comments", "delete", fid, cid).exit_code == 2  # no tty: needs --yes
    assert s4e("findings", "comments", "delete", fid, cid, "--yes").exit_code == 0
    assert s4e_json("findings", "comments", "list", fid) == []
    sightings = s4e_json("findings", "sightings", fid)
    assert len(sightings) == 1 and sightings[0]["evidence"] == {"output": "proof"}
    assert s4e("findings", "sightings", fid, "-q").stdout.split() == [str(sightings[0]["id"])]
    out = tmp_path / "export.csv"
    done = s4e("findings", "export", "-o", str(out), "-f", "kev=true", "--field", "id", "--field", "title")
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == f"id,title\r\n{fid},d issue\r\n".encode()
    streamed = s4e("findings", "export", "-o", "-", "--format", "json", "--field", "id")
    assert streamed.exit_code == 0 and len(json.loads(streamed.stdout)) == 4
    refused = s4e("findings", "export", "-o", str(tmp_path / "no.csv"), "--field", "password")
    assert refused.exit_code == 1 and "$.fields[0]" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]  # nothing written, no partial file
