"""Workspace rules: membership look-ups shared by other domains, workspace CRUD and settings.

Members and invitations live in workspace/members.py.
"""

from __future__ import annotations

import copy

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from s4e_platform.auth.principal import Principal
from s4e_platform.errors import Forbidden, validation_error
from s4e_platform.event.audit import audit
from s4e_platform.kit.ids import new_id
from s4e_platform.workspace.models import Membership, Workspace
from s4e_platform.workspace.schemas import SettingsUpdate, WorkspaceUpdate

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
    "max_running_scans": 10,
    # Skip windows gating scheduled profile starts (scanning.md 3): [{cron, duration_minutes, scope, until}].
    "scan_skip_windows": [],
}

SORTS = {"created_at": Workspace.created_at, "name": Workspace.name}


def membership(session: Session, workspace_id: str, user_id: str) -> Membership | None:
    return session.execute(select(Membership).where(
        Membership.workspace_id == workspace_id, Membership.user_id == user_id)).scalar_one_or_none()


def is_member(session: Session, workspace_id: str, user_id: str) -> bool:
    return membership(session, workspace_id, user_id) is not None


def create_workspace(session: Session, *, name: str, creator_id: str | None) -> Workspace:
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


# Workspaces through the API ---------------------------------------------------------------------------------

def settings_of(ws: Workspace) -> dict:
    """Stored settings over the defaults, so a key added later still has its default value."""
    merged = copy.deepcopy(DEFAULT_SETTINGS)
    merged.update(copy.deepcopy(ws.settings or {}))
    return merged


def to_summary(ws: Workspace, role: str) -> dict:
    return {"id": ws.id, "name": ws.name, "role": role, "created_at": ws.created_at}


def to_read(ws: Workspace, role: str) -> dict:
    return {**to_summary(ws, role), "settings": settings_of(ws), "updated_at": ws.updated_at}


def list_stmt(principal: Principal) -> Select:
    """Workspaces of the caller; a key or OAuth token sees only the workspace it is bound to."""
    stmt = select(Workspace).join(Membership, Membership.workspace_id == Workspace.id).where(
        Membership.user_id == principal.user_id)
    if not principal.via_session:
        stmt = stmt.where(Workspace.id == principal.workspace_id)
    return stmt


def roles(session: Session, user_id: str | None, workspace_ids: list[str]) -> dict[str, str]:
    if not workspace_ids:
        return {}
    return dict(session.execute(select(Membership.workspace_id, Membership.role).where(
        Membership.user_id == user_id, Membership.workspace_id.in_(workspace_ids))).all())


def check_may_create(principal: Principal) -> None:
    from s4e_platform.config import get_settings

    if principal.type == "oauth_client":
        raise Forbidden("Creating a workspace needs a user credential, not an OAuth client", code="forbidden")
    if not principal.is_superuser and not get_settings().allow_workspace_creation:
        raise Forbidden("Only an instance superuser can create workspaces", code="forbidden")


def _merge_risk_weights(current: dict, update_: dict) -> dict:
    out = copy.deepcopy(current)
    for key, value in update_.items():
        if isinstance(value, dict):
            out[key] = {**(out.get(key) or {}), **value}
        else:
            out[key] = value
    return out


def _apply_settings(current: dict, body: SettingsUpdate) -> dict:
    new = copy.deepcopy(current)
    fields = body.model_fields_set
    if "sla_days" in fields:
        new["sla_days"] = {**new["sla_days"], **body.sla_days.model_dump(exclude_none=True)}
    if "risk_weights" in fields:
        new["risk_weights"] = _merge_risk_weights(new["risk_weights"], body.risk_weights.model_dump(exclude_none=True))
    if "severity_rules" in fields:
        seen: set[str] = set()
        for i, rule in enumerate(body.severity_rules):
            if rule.id in seen:
                raise validation_error(f"$.settings.severity_rules[{i}].id", "duplicate rule id", "duplicate")
            seen.add(rule.id)
        new["severity_rules"] = [r.model_dump(exclude_none=True) for r in body.severity_rules]
    for key in ("event_retention_days", "auto_scan_new_services", "max_running_scans"):
        if key in fields:
            new[key] = getattr(body, key)
    if "scan_skip_windows" in fields:
        new["scan_skip_windows"] = [w.model_dump(mode="json") for w in body.scan_skip_windows]
    return new


def update_workspace(session: Session, principal: Principal, ws: Workspace, body: WorkspaceUpdate) -> Workspace:
    changes: list[str] = []
    if "name" in body.model_fields_set and body.name != ws.name:
        ws.name = body.name
        changes.append("name")
    if "settings" in body.model_fields_set:
        current = settings_of(ws)
        new = _apply_settings(current, body.settings)
        changed = sorted(k for k in new if new[k] != current.get(k))
        if changed:
            ws.settings = new  # a new object, so the JSON column is written
            changes += [f"settings.{k}" for k in changed]
            if {"severity_rules", "risk_weights"} & set(changed):
                from s4e_platform.finding.reclassify import reclassify_assets

                session.flush()
                reclassify_assets(session, workspace_id=ws.id, actor=principal.actor())
    if changes:
        session.flush()
        audit(session, event="audit.settings_changed", workspace_id=ws.id, actor=principal.actor(),
              target_type="workspace", target_id=ws.id, details={"changes": changes})
    return ws


def delete_workspace(session: Session, ws: Workspace) -> None:
    """Delete the workspace and all its data in this transaction.

    Tables with a foreign key to the workspace go by ON DELETE CASCADE; events and deliveries carry a bare
    workspace id (the outbox must not block deletes), and assets are removed first so their self-reference
    and tag rows never depend on cascade ordering.
    """
    from s4e_platform.asset.models import Asset, AssetTag
    from s4e_platform.event.models import Event
    from s4e_platform.webhook.models import Delivery

    session.execute(delete(Delivery).where(Delivery.workspace_id == ws.id))
    session.execute(delete(Event).where(Event.workspace_id == ws.id))
    session.execute(delete(AssetTag).where(AssetTag.workspace_id == ws.id))
    session.execute(update(Asset).where(Asset.workspace_id == ws.id, Asset.parent_id.is_not(None))
                    .values(parent_id=None))
    session.execute(delete(Asset).where(Asset.workspace_id == ws.id))
    session.execute(delete(Workspace).where(Workspace.id == ws.id))
    session.expunge(ws)
