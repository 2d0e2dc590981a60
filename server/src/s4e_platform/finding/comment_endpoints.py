"""Finding comments, sightings and history (api.md 2.5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response

from s4e_platform.auth.dependencies import DbSession
from s4e_platform.finding import comments
from s4e_platform.finding.dependencies import ReadableFinding, WritableFinding, WriteFindings
from s4e_platform.finding.models import FindingComment
from s4e_platform.finding.schemas import CommentCreate, CommentRead, CommentUpdate, HistoryRead, SightingRead
from s4e_platform.kit.pagination import PageParams, order, page_params, paginate
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope, ListEnvelope

router = api_router(tags=["findings"])

CommentId = Annotated[str, Path(description="Comment id (cmt_...)", max_length=64)]
Paging = Annotated[PageParams, Depends(page_params)]


@router.get("/findings/{finding_id}/comments", response_model=ListEnvelope[CommentRead],
            operation_id="list_finding_comments")
def list_finding_comments(finding: ReadableFinding, session: DbSession, paging: Paging):
    """List a finding's comments (newest first by default)."""
    stmt = order(comments.comments_stmt(finding), paging, comments.COMMENT_SORTS, "created_at", FindingComment.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": [comments.comment_read(c) for c in rows], "meta": meta}


@router.post("/findings/{finding_id}/comments", response_model=Envelope[CommentRead], status_code=201,
             operation_id="create_finding_comment")
def create_finding_comment(body: CommentCreate, finding: WritableFinding, principal: WriteFindings,
                           session: DbSession, response: Response):
    """Add a Markdown comment to a finding."""
    comment = comments.add_comment(session, principal, finding, body.body)
    response.headers["Location"] = f"/api/v1/findings/{finding.id}/comments/{comment.id}"
    return {"data": comments.comment_read(comment), "meta": {}}


@router.patch("/findings/{finding_id}/comments/{comment_id}", response_model=Envelope[CommentRead],
              operation_id="update_finding_comment")
def update_finding_comment(body: CommentUpdate, comment_id: CommentId, finding: WritableFinding,
                           principal: WriteFindings, session: DbSession):
    """Edit a comment (its author or a workspace admin)."""
    comment = comments.get_comment(session, finding, comment_id)
    comments.edit_comment(session, principal, comment, body.body)
    return {"data": comments.comment_read(comment), "meta": {}}


@router.delete("/findings/{finding_id}/comments/{comment_id}", status_code=204,
               operation_id="delete_finding_comment")
def delete_finding_comment(comment_id: CommentId, finding: WritableFinding, principal: WriteFindings,
                           session: DbSession):
    """Delete a comment (its author or a workspace admin)."""
    comment = comments.get_comment(session, finding, comment_id)
    comments.delete_comment(session, principal, comment)
    return Response(status_code=204)


@router.get("/findings/{finding_id}/sightings", response_model=ListEnvelope[SightingRead],
            operation_id="list_finding_sightings")
def list_finding_sightings(finding: ReadableFinding, session: DbSession, paging: Paging):
    """List every detection of a finding, newest first: scan, task, time and an evidence excerpt."""
    stmt = order(comments.sightings_stmt(finding), paging, comments.SIGHTING_SORTS, "seen_at",
                 comments.FindingSighting.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": [comments.sighting_read(s) for s in rows], "meta": meta}


@router.get("/findings/{finding_id}/history", response_model=ListEnvelope[HistoryRead],
            operation_id="list_finding_history")
def list_finding_history(finding: ReadableFinding, session: DbSession, paging: Paging):
    """List a finding's status, severity, assignment and tag changes with actor and justification."""
    stmt = order(comments.history_stmt(finding), paging, comments.HISTORY_SORTS, "at", comments.FindingHistory.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": [comments.history_read(h) for h in rows], "meta": meta}
