"""First start: create the admin user and a first workspace."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from s4e_platform.auth import service as auth_service
from s4e_platform.auth.models import User
from s4e_platform.db.session import unit_of_work
from s4e_platform.workspace import service as workspace_service


def ensure_admin(email: str | None, password: str | None) -> tuple[str, str | None] | None:
    """Create the first admin when the instance has no user. Returns (email, generated password or None)."""
    with unit_of_work() as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one() > 0:
            return None
        generated = None
        if not password:
            generated = secrets.token_urlsafe(18)
            password = generated
        email = email or "admin@s4e.local"
        user = auth_service.create_user(s, email=email, password=password, name="Administrator",
                                        is_superuser=True)
        workspace_service.create_workspace(s, name="Default", creator_id=user.id)
        return user.email, generated


def create_admin(email: str, password: str, workspace_name: str | None = None) -> str:
    """`s4e server create-admin`: a superuser (new, or an existing user promoted)."""
    with unit_of_work() as s:
        user = auth_service.user_by_email(s, email)
        if user is None:
            user = auth_service.create_user(s, email=email, password=password, name="Administrator",
                                            is_superuser=True)
        else:
            user.is_superuser = True
        if workspace_name:
            workspace_service.create_workspace(s, name=workspace_name, creator_id=user.id)
        return user.id
