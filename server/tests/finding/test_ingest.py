from datetime import timedelta

import pytest
from s4e_platform.event.models import Event
from s4e_platform.finding import ingest as ing
from s4e_platform.finding import lifecycle
from s4e_platform.finding.models import Finding, FindingSighting
from sqlalchemy import func, select

from tests.finding.conftest import candidate

ACTOR = {"type": "system", "id": None, "name": "scanner"}


def run(db, asset, cands, task="tsk_1", scanner="tls"):
    return ing.ingest(db, workspace_id=asset.workspace_id, asset=asset, scanner=scanner, scan_id="scn_1",
                      task_id=task, candidates=cands, actor=ACTOR)


def events(db, name):
    return list(db.execute(select(Event).where(Event.event == name)).scalars())


def test_ingest_twice_dedups_and_counts_sightings(db, asset):
    assert run(db, asset, [candidate(evidence={"response": "a"}), candidate("other")]) == \
        {"new": 2, "reopened": 0, "seen": 0}
    assert run(db, asset, [candidate(evidence={"response": "b"}), candidate("other")], task="tsk_2") == \
        {"new": 0, "reopened": 0, "seen": 2}
    rows = list(db.execute(select(Finding)).scalars())
    assert len(rows) == 2
    assert {r.sighting_count for r in rows} == {2}
    assert db.execute(select(func.count()).select_from(FindingSighting)).scalar_one() == 4
    assert len(events(db, "finding.new")) == 2
    one = next(r for r in rows if r.check_id == "tls.weak_protocol")
    assert one.evidence == {"response": "b"} and one.status == "open"
    summary = events(db, "finding.new")[0].data["finding"]
    assert summary["asset"]["id"] == asset.id and "evidence" not in summary
    assert asset.finding_summary["medium"] == 2 and asset.security_score == 82


def test_resolved_finding_seen_again_is_reopened(db, asset):
    run(db, asset, [candidate()])
    finding = db.execute(select(Finding)).scalar_one()
    lifecycle.change_status(db, finding, status="resolved", actor=ACTOR)
    assert run(db, asset, [candidate()], task="tsk_2") == {"new": 0, "reopened": 1, "seen": 0}
    db.refresh(finding)
    assert (finding.status, finding.reopen_count, finding.resolved_at) == ("reopened", 1, None)
    # The SLA clock restarts at the reopen: medium = 90 days from the reopen time.
    assert finding.sla_due_at - finding.status_changed_at == timedelta(days=90)
    assert len(events(db, "finding.reopened")) == 1
    assert run(db, asset, [candidate()], task="tsk_3") == {"new": 0, "reopened": 0, "seen": 1}
    assert len(events(db, "finding.reopened")) == 1


@pytest.mark.parametrize(("status", "score"), [("false_positive", 100), ("accepted_risk", 95)])
def test_triaged_status_carries_over(db, asset, status, score):
    run(db, asset, [candidate()])
    finding = db.execute(select(Finding)).scalar_one()
    lifecycle.change_status(db, finding, status=status, actor=ACTOR, justification="scanner misread it")
    assert run(db, asset, [candidate(evidence={"response": "new body"})], task="tsk_2")["seen"] == 1
    db.refresh(finding)
    assert finding.status == status and finding.sighting_count == 2
    assert asset.security_score == score
    # Triaged findings are never auto-resolved either.
    assert ing.auto_resolve(db, workspace_id=asset.workspace_id, asset_id=asset.id, scanner="tls", task_id="tsk_9",
                            executed_checks=["tls.weak_protocol"], coverage={"hosts": {"203.0.113.10": "443"}}) == 0


def test_rejects_unknown_severity_and_foreign_asset(other_tenant, db, asset):
    with pytest.raises(ValueError):
        run(db, asset, [candidate(severity="urgent")])
    with pytest.raises(ValueError):
        ing.ingest(db, workspace_id=other_tenant.workspace_id, asset=asset, scanner="tls", scan_id=None,
                   task_id=None, candidates=[candidate()], actor=ACTOR)
    assert db.execute(select(func.count()).select_from(Finding)).scalar_one() == 0


def test_auto_resolve_only_inside_a_complete_covering_run(db, asset):
    run(db, asset, [candidate(port=443), candidate(port=8443), candidate("other.check", port=443)])
    kwargs = {"workspace_id": asset.workspace_id, "asset_id": asset.id, "scanner": "tls", "task_id": "tsk_2"}
    # Ports 1-1000 only: 8443 is outside the coverage; `other.check` was not executed.
    resolved = ing.auto_resolve(db, executed_checks=["tls.weak_protocol"],
                                coverage={"hosts": {"203.0.113.10": "1-1000"}}, **kwargs)
    assert resolved == 1
    statuses = {(f.check_id, f.location["port"]): (f.status, f.resolution)
                for f in db.execute(select(Finding)).scalars()}
    assert statuses == {("tls.weak_protocol", 443): ("resolved", "auto"),
                        ("tls.weak_protocol", 8443): ("open", None), ("other.check", 443): ("open", None)}
    assert len(events(db, "finding.resolved")) == 1


def test_auto_resolve_keeps_findings_seen_by_the_task(db, asset):
    run(db, asset, [candidate()], task="tsk_2")
    assert ing.auto_resolve(db, workspace_id=asset.workspace_id, asset_id=asset.id, scanner="tls", task_id="tsk_2",
                            executed_checks=["tls.weak_protocol"], coverage={"hosts": {"203.0.113.10": "443"}}) == 0
    assert ing.auto_resolve(db, workspace_id=asset.workspace_id, asset_id=asset.id, scanner="tls", task_id="tsk_3",
                            executed_checks=["tls.weak_protocol"], coverage={}) == 0


def test_evidence_kept_for_latest_sightings_only(db, asset, monkeypatch):
    monkeypatch.setattr(ing, "EVIDENCE_KEPT", 2)
    for i in range(4):
        run(db, asset, [candidate(evidence={"n": i})], task=f"tsk_{i}")
    rows = db.execute(select(FindingSighting.evidence).order_by(FindingSighting.id)).scalars().all()
    assert rows == [None, None, {"n": 2}, {"n": 3}]


def test_large_batch_spans_chunks(db, asset):
    cands = [candidate(port=p) for p in range(1, 1201)] + [candidate(port=1)]
    assert run(db, asset, cands)["new"] == 1200
    assert run(db, asset, cands, task="tsk_2")["seen"] == 1200


def test_events_publish_after_commit(db, asset):
    from s4e_platform.db.session import commit
    from s4e_platform.event import publisher

    run(db, asset, [candidate(), candidate("other")])
    commit(db)
    publisher.drain()
    published = list(db.execute(select(Event).where(Event.event == "finding.new")).scalars())
    assert len(published) == 2 and all(e.id and e.id.startswith("evt_") for e in published)
    assert {e.asset_id for e in published} == {asset.id}
