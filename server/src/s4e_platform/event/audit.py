"""Audit events (events.md 1.2: `audit.*` with `{target{type, id}, ip, user_agent, details}`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from s4e_platform.event import service


def audit(session: Session, *, event: str, workspace_id: str | None, actor: dict, target_type: str,
          target_id: str | None, details: dict | None = None, asset_id: str | None = None) -> None:
    """Record an audit event in the current transaction; ip/user agent come from the request being served."""
    assert event.startswith("audit."), event
    request = session.info.get("request")
    ip = request.client.host if request is not None and request.client else None
    user_agent = request.headers.get("user-agent") if request is not None else None
    service.record(session, workspace_id=workspace_id, event=event, actor=actor, asset_id=asset_id,
                   data={"target": {"type": target_type, "id": target_id}, "ip": ip,
                         "user_agent": user_agent, "details": details or {}})
