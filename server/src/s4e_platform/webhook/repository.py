"""Webhook and delivery queries. API reads are workspace-scoped repositories; the delivery worker's queries
span workspaces by nature and are the module functions below (the only place with dialect-specific SQL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.db.repository import ScopedRepository
from s4e_platform.db.scoping import register
from s4e_platform.event import service as event_service
from s4e_platform.event.models import Event
from s4e_platform.webhook.models import Delivery, Webhook

register("whk", Webhook)
register("dlv", Delivery)

WEBHOOK_SORTS = {"created_at": Webhook.created_at, "name": Webhook.name}
DELIVERY_SORTS = {"created_at": Delivery.created_at, "next_attempt_at": Delivery.next_attempt_at,
                  "finished_at": Delivery.finished_at}
OPEN_STATUSES = ("pending", "delivering")
# Claims of all workers serialise on this PostgreSQL advisory lock so the per-endpoint in-flight cap holds
# across processes (SQLite writers are serialised by BEGIN IMMEDIATE already).
_CLAIM_LOCK_KEY = 0x53344557  # "S4EW"


class WebhookRepository(ScopedRepository[Webhook]):
    model = Webhook

    def filtered(self, *, statuses: list[str] | None = None):
        stmt = self.select()
        if statuses:
            stmt = stmt.where(Webhook.status.in_(statuses))
        return stmt


class DeliveryRepository(ScopedRepository[Delivery]):
    model = Delivery

    def for_webhook(self, webhook_id: str, delivery_id: str | None) -> Delivery | None:
        if not delivery_id:
            return None
        return self.session.execute(self.select().where(
            Delivery.id == delivery_id, Delivery.target_id == webhook_id)).scalar_one_or_none()

    def filtered(self, webhook_id: str, *, statuses=None, patterns=None, start=None, end=None):
        stmt = self.select().where(Delivery.target_id == webhook_id)
        if statuses:
            stmt = stmt.where(Delivery.status.in_(statuses))
        if patterns:
            cond = event_service.sql_patterns(Delivery.event, patterns)
            if cond is not None:
                stmt = stmt.where(cond)
        if start is not None:
            stmt = stmt.where(Delivery.created_at >= start)
        if end is not None:
            stmt = stmt.where(Delivery.created_at < end)
        return stmt

    def failed_between(self, webhook_id: str, start: datetime, end: datetime) -> list[Delivery]:
        return list(self.session.execute(self.select().where(
            Delivery.target_id == webhook_id, Delivery.status == "failed",
            Delivery.created_at >= start, Delivery.created_at < end)).scalars())

    def delete_for_webhook(self, webhook_id: str) -> None:
        self.session.execute(Delivery.__table__.delete().where(
            Delivery.workspace_id == self.workspace_id, Delivery.target_id == webhook_id))


def cancel_open(session: Session, webhook_id: str, now: datetime) -> int:
    """Cancel the webhook's pending and in-flight deliveries (endpoint disabled or gone)."""
    result = session.execute(update(Delivery).where(
        Delivery.target_id == webhook_id, Delivery.status.in_(OPEN_STATUSES)).values(
        status="cancelled", finished_at=now, next_attempt_at=None, lease_expires_at=None))
    return result.rowcount or 0


# The delivery worker ------------------------------------------------------------------------------------

def lock_claims(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK_KEY})


def _due(now: datetime):
    """Pending rows whose time has come, and claimed rows whose worker let the lease lapse (it died)."""
    return or_(and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
               and_(Delivery.status == "delivering", Delivery.lease_expires_at < now))


def due_deliveries(session: Session, now: datetime, limit: int, per_target: int) -> list[Delivery]:
    """Up to `limit` due rows, oldest first, keeping every endpoint at most `per_target` in flight.

    Ranking inside each endpoint (after its live in-flight count) keeps one endpoint's backlog from hiding
    other endpoints' rows; FOR UPDATE SKIP LOCKED (PostgreSQL) skips rows another transaction is recording,
    and repeating the due condition outside makes PostgreSQL re-check rows that changed meanwhile."""
    in_flight = (select(Delivery.target_id, func.count().label("n"))
                 .where(Delivery.status == "delivering", Delivery.lease_expires_at >= now)
                 .group_by(Delivery.target_id).subquery())
    rank = func.row_number().over(partition_by=Delivery.target_id,
                                  order_by=(Delivery.next_attempt_at, Delivery.id)).label("rank")
    ranked = select(Delivery.id, Delivery.target_id, rank).where(_due(now)).subquery()
    allowed = (select(ranked.c.id)
               .outerjoin(in_flight, in_flight.c.target_id == ranked.c.target_id)
               .where(ranked.c.rank + func.coalesce(in_flight.c.n, 0) <= per_target))
    stmt = (select(Delivery).where(_due(now), Delivery.id.in_(allowed))
            .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.execute(stmt).scalars())


def any_due(session: Session, now: datetime) -> bool:
    return session.execute(select(Delivery.id).where(_due(now)).limit(1)).first() is not None


def webhooks_by_id(session: Session, ids: set[str], *, lock: bool = False) -> dict[str, Webhook]:
    if not ids:
        return {}
    stmt = select(Webhook).where(Webhook.id.in_(sorted(ids)))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.order_by(Webhook.id).with_for_update()
    return {w.id: w for w in session.execute(stmt).scalars()}


def events_by_id(session: Session, ids: set[str]) -> dict[str, Event]:
    if not ids:
        return {}
    return {e.id: e for e in session.execute(select(Event).where(Event.id.in_(sorted(ids)))).scalars()}


def deliveries_for_update(session: Session, ids: list[str]) -> dict[str, Delivery]:
    stmt = select(Delivery).where(Delivery.id.in_(sorted(ids)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.order_by(Delivery.id).with_for_update()
    return {d.id: d for d in session.execute(stmt).scalars()}


def enabled_webhooks(session: Session, workspace_ids: set[str]) -> dict[str, list[Webhook]]:
    """Fan-out: enabled webhooks per workspace."""
    out: dict[str, list[Webhook]] = {}
    if not workspace_ids:
        return out
    stmt = select(Webhook).where(Webhook.workspace_id.in_(sorted(workspace_ids)), Webhook.status == "enabled")
    for hook in session.execute(stmt.order_by(Webhook.id)).scalars():
        out.setdefault(hook.workspace_id, []).append(hook)
    return out


def asset_facts(session: Session, asset_ids: set[str]) -> dict[str, dict]:
    """Tags and criticality of assets that events name only by id (scan events), for webhook filters."""
    if not asset_ids:
        return {}
    rows = session.execute(select(Asset.id, Asset.tags, Asset.criticality).where(Asset.id.in_(sorted(asset_ids))))
    return {i: {"id": i, "tags": list(tags or []), "criticality": crit} for i, tags, crit in rows}
