from datetime import timedelta

import pytest
from s4e_platform.errors import Unprocessable
from s4e_platform.event.models import Event
from s4e_platform.finding import ingest as ing
from s4e_platform.finding import lifecycle
from s4e_platform.finding.models import Finding, FindingHistory
from s4e_platform.kit.clock import utcnow
from sqlalchemy import select

from tests.finding.conftest import candidate

ACTOR = {"type": "user", "id": "usr_x", "name": "analyst@example.com"}
WHY = "verified by hand, not exploitable"


@pytest.fixture
def finding(db, asset):
    ing.ingest(db, workspace_id=asset.workspace_id, asset=asset, scanner="tls", scan_id="scn_1", task_id="tsk_1",
               candidates=[candidate()], actor=None)
    return db.execute(select(Finding)).scalar_one()


def finding_events(db):
    return [(e.event, e.data.get("old_status"), e.data.get("new_status"))
            for e in db.execute(select(Event).where(Event.event != "finding.new").order_by(Event.seq)).scalars()]


ALLOWED = [(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets]
ALL = ["open", "confirmed", "in_progress", "resolved", "reopened", "false_positive", "accepted_risk"]
FORBIDDEN = [(a, b) for a in ALL for b in ALL if a != b and (a, b) not in ALLOWED]


def test_transition_table_matches_the_spec():
    assert lifecycle.TRANSITIONS["resolved"] == {"reopened"}
    assert lifecycle.TRANSITIONS["in_progress"] == {"confirmed", "resolved", "false_positive", "accepted_risk"}
    assert ("open", "reopened") in FORBIDDEN and ("false_positive", "resolved") in FORBIDDEN


@pytest.mark.parametrize(("start", "target"), ALLOWED)
def test_allowed_transitions_write_history_and_one_event(db, finding, start, target):
    finding.status = start
    assert lifecycle.change_status(db, finding, status=target, actor=ACTOR, justification=WHY)
    assert finding.status == target
    expected = {"resolved": "finding.resolved", "reopened": "finding.reopened"}.get(target, "finding.status_changed")
    assert finding_events(db) == [(expected, start, target)]
    history = db.execute(select(FindingHistory)).scalar_one()
    assert (history.from_value, history.to_value, history.actor) == (start, target, ACTOR)


@pytest.mark.parametrize(("start", "target"), FORBIDDEN)
def test_forbidden_transitions_are_422_and_change_nothing(db, finding, start, target):
    finding.status = start
    with pytest.raises(Unprocessable) as exc:
        lifecycle.change_status(db, finding, status=target, actor=ACTOR, justification=WHY)
    assert exc.value.code == "invalid_transition" and exc.value.status_code == 422
    assert finding.status == start and finding_events(db) == []


def test_same_status_is_a_noop(db, finding):
    assert lifecycle.change_status(db, finding, status="open", actor=ACTOR) is False
    assert finding_events(db) == [] and db.execute(select(FindingHistory)).first() is None


@pytest.mark.parametrize("text", [None, "too short", "x" * 2001])
def test_justification_required(db, finding, text):
    with pytest.raises(Unprocessable) as exc:
        lifecycle.change_status(db, finding, status="false_positive", actor=ACTOR, justification=text)
    assert exc.value.details[0]["path"] == "$.justification" and finding.status == "open"


@pytest.mark.parametrize("days", [-1, 366])
def test_accepted_risk_expiry_bounds(db, finding, days):
    with pytest.raises(Unprocessable) as exc:
        lifecycle.change_status(db, finding, status="accepted_risk", actor=ACTOR, justification=WHY,
                                expires_at=utcnow() + timedelta(days=days))
    assert exc.value.details[0]["path"] == "$.expires_at"


def test_unknown_status_rejected(db, finding):
    with pytest.raises(Unprocessable) as exc:
        lifecycle.change_status(db, finding, status="deleted", actor=ACTOR)
    assert exc.value.details[0]["path"] == "$.status"


def test_accepted_risk_expires_back_to_open_and_sla_resumes(db, finding, asset):
    due = finding.sla_due_at
    lifecycle.change_status(db, finding, status="accepted_risk", actor=ACTOR, justification=WHY,
                            expires_at=utcnow() + timedelta(days=30))
    assert finding.sla_due_at is None and asset.security_score == 95  # medium at half weight
    remaining = due - finding.status_changed_at
    assert lifecycle.expire_accepted_risk(db, utcnow() + timedelta(days=29)) == 0
    later = utcnow() + timedelta(days=31)
    assert lifecycle.expire_accepted_risk(db, later) == 1
    assert finding.status == "open" and finding.accepted_until is None
    assert abs((finding.sla_due_at - later) - remaining) < timedelta(seconds=5)
    last = db.execute(select(Event).order_by(Event.seq.desc())).scalars().first()
    assert last.event == "finding.status_changed" and last.actor["type"] == "system"
    assert asset.security_score == 90
