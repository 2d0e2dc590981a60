"""Finding comments (author or workspace admin may edit/delete), sightings and history reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import Forbidden, NotFound
from s4e_platform.event import service as events
from s4e_platform.finding import summary as summ
from s4e_platform.finding.models import Finding, FindingComment, FindingHistory, FindingSighting
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id, parse_id

EXCERPT = 1024  # characters kept of each evidence value in sighting lists
COMMENT_SORTS = {"created_at": FindingComment.created_at}
SIGHTING_SORTS = {"seen_at": FindingSighting.id}  # ids grow with time; the index is (finding_id, id)
HISTORY_SORTS = {"at": FindingHistory.id}


def comments_stmt(finding: Finding) -> Select:
    return select(FindingComment).where(FindingComment.workspace_id == finding.workspace_id,
                                        FindingComment.finding_id == finding.id)


def comment_read(c: FindingComment) -> dict[str, Any]:
    return {"id": c.id, "finding_id": c.finding_id, "author": c.author, "body": c.body,
            "created_at": c.created_at, "updated_at": c.updated_at}


def add_comment(session: Session, principal: Principal, finding: Finding, body: str) -> FindingComment:
    now = utcnow()
    comment = FindingComment(id=new_id("cmt"), workspace_id=finding.workspace_id, finding_id=finding.id,
                             author={**principal.actor(), "user_id": principal.user_id}, body=body,
                             created_at=now, updated_at=now)
    session.add(comment)
    session.flush()
    asset = session.get(Asset, finding.asset_id)
    events.record(session, workspace_id=finding.workspace_id, event="finding.updated", actor=principal.actor(),
                  asset_id=finding.asset_id, data={"finding": summ.summary(finding, asset), "changes": ["comment"]})
    return comment


def get_comment(session: Session, finding: Finding, comment_id: str) -> FindingComment:
    comment = session.execute(comments_stmt(finding).where(
        FindingComment.id == parse_id(comment_id, "cmt"))).scalar_one_or_none()
    if comment is None:
        raise NotFound("Comment not found")
    return comment


def _check_author(principal: Principal, comment: FindingComment) -> None:
    author = (comment.author or {}).get("user_id")
    if principal.is_admin or (author is not None and author == principal.user_id):
        return
    raise Forbidden("Only the comment's author or a workspace admin may change it", code="forbidden")


def edit_comment(session: Session, principal: Principal, comment: FindingComment, body: str) -> FindingComment:
    _check_author(principal, comment)
    if body != comment.body:
        comment.body, comment.updated_at = body, utcnow()
    return comment


def delete_comment(session: Session, principal: Principal, comment: FindingComment) -> None:
    _check_author(principal, comment)
    session.execute(delete(FindingComment).where(FindingComment.id == comment.id))


def sightings_stmt(finding: Finding) -> Select:
    return select(FindingSighting).where(FindingSighting.finding_id == finding.id)


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= EXCERPT else value[:EXCERPT] + "..."
    if isinstance(value, list):
        return [_cut(v) for v in value[:20]]
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    return value


def sighting_read(s: FindingSighting) -> dict[str, Any]:
    return {"id": s.id, "scan_id": s.scan_id, "task_id": s.task_id, "seen_at": s.seen_at,
            "evidence": _cut(s.evidence) if s.evidence is not None else None}


def history_stmt(finding: Finding) -> Select:
    return select(FindingHistory).where(FindingHistory.finding_id == finding.id)


def history_read(h: FindingHistory) -> dict[str, Any]:
    return {"id": h.id, "field": h.field, "from": h.from_value, "to": h.to_value, "actor": h.actor or {},
            "justification": h.justification, "at": h.at}
