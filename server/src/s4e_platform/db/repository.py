"""Workspace scoping in one place: every read of a workspace object goes through a ScopedRepository."""

from __future__ import annotations

from typing import Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

M = TypeVar("M")


class ScopedRepository(Generic[M]):
    model: type[M]

    def __init__(self, session: Session, workspace_id: str, restriction: dict | None = None) -> None:
        if not workspace_id:
            raise ValueError("a workspace id is required")
        self.session = session
        self.workspace_id = workspace_id
        self.restriction = restriction or {}

    def restriction_condition(self):
        """Extra condition for an API key's asset restriction; models bound to an asset override it."""
        return None

    def select(self) -> Select:
        stmt = select(self.model).where(self.model.workspace_id == self.workspace_id)
        cond = self.restriction_condition()
        if cond is not None:
            stmt = stmt.where(cond)
        return stmt

    def get(self, object_id: str | None) -> M | None:
        if not object_id:
            return None
        return self.session.execute(self.select().where(self.model.id == object_id)).scalar_one_or_none()

    def add(self, obj: M) -> M:
        assert obj.workspace_id == self.workspace_id
        self.session.add(obj)
        return obj
