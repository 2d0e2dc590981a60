"""Workspace and membership rules shared by other domains."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.kit.ids import new_id
from s4e_platform.workspace.models import Membership, Workspace

DEFAULT_SETTINGS = {
    "sla_days": {"critical": 7, "high": 30, "medium": 90, "low": 120},
    "risk_weights": {"criticality": {"low": 0.6, "medium": 0.8, "high": 1.0, "critical": 1.2},
                     "exposure": {"external": 1.0, "internal": 0.7}, "epss_factor": 0.25, "kev_bonus": 15},
    "severity_rules": [
        {"id": "crown-jewels", "enabled": True,
         "when_asset": {"criticality": ["critical"], "tags_any": ["crown-jewel"]},
         "severities": ["medium", "high"], "action": {"shift": 1}},
        {"id": "non-production", "enabled": True,
         "when_asset": {"criticality": ["low"], "tags_any": ["staging", "test", "dev"]},
         "severities": ["high", "medium"], "action": {"shift": -1}},
    ],
    "event_retention_days": 90,
    "auto_scan_new_services": True,
}


def membership(session: Session, workspace_id: str, user_id: str) -> Membership | None:
    return session.execute(select(Membership).where(
        Membership.workspace_id == workspace_id, Membership.user_id == user_id)).scalar_one_or_none()


def is_member(session: Session, workspace_id: str, user_id: str) -> bool:
    return membership(session, workspace_id, user_id) is not None


def create_workspace(session: Session, *, name: str, creator_id: str | None) -> Workspace:
    import copy

    ws = Workspace(id=new_id("wsp"), name=name, settings=copy.deepcopy(DEFAULT_SETTINGS), created_by=creator_id)
    session.add(ws)
    session.flush()
    if creator_id:
        session.add(Membership(workspace_id=ws.id, user_id=creator_id, role="admin"))
        session.flush()
    return ws


def add_member(session: Session, workspace_id: str, user_id: str, role: str) -> Membership:
    m = Membership(workspace_id=workspace_id, user_id=user_id, role=role)
    session.add(m)
    session.flush()
    return m
