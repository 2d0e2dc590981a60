"""The single outbox publisher (events.md 1.1): assigns `evt_` ids in commit order, lets consumers (webhook
deliveries, later integrations and playbook triggers) create their job rows in the same transaction, then
wakes SSE streams and workers. It runs in the scheduler leader (a thread in embedded mode)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s4e_platform.db.session import unit_of_work
from s4e_platform.event import hub
from s4e_platform.event.models import Event
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id, parse_id

log = logging.getLogger("s4e.publisher")

Consumer = Callable[[Session, list[Event]], None]
_consumers: list[Consumer] = []
_last_id: str | None = None
_lock = threading.Lock()


def register_consumer(fn: Consumer) -> None:
    if fn not in _consumers:
        _consumers.append(fn)


def _next_id(session: Session) -> str:
    """A fresh evt_ id strictly greater than every id already assigned (also across leader changes)."""
    global _last_id
    if _last_id is None:
        _last_id = session.execute(select(func.max(Event.id))).scalar_one_or_none() or ""
    candidate = new_id("evt")
    if candidate <= _last_id:
        from s4e_platform.kit.ids import _encode  # successor of the last id, same encoding

        n = 0
        for ch in _last_id[4:]:
            n = (n << 5) | "0123456789abcdefghjkmnpqrstvwxyz".index(ch)
        candidate = parse_id(f"evt_{_encode(n + 1)}")
    _last_id = candidate
    return candidate


def publish_pending(batch: int = 1000) -> int:
    """Publish one batch; returns how many events got ids."""
    global _last_id
    with _lock:
        try:
            with unit_of_work() as session:
                stmt = select(Event).where(Event.id.is_(None)).order_by(Event.seq).limit(batch)
                if session.get_bind().dialect.name == "postgresql":
                    stmt = stmt.with_for_update(skip_locked=True)
                rows = list(session.execute(stmt).scalars())
                if not rows:
                    return 0
                now = utcnow()
                for row in rows:
                    row.id = _next_id(session)
                    row.published_at = now
                session.flush()
                for consumer in _consumers:
                    consumer(session, rows)
                last = rows[-1].id
        except Exception:
            _last_id = None  # re-read the floor from the database next time
            raise
    hub.published(last)
    return len(rows)


def drain(max_batches: int = 1000) -> int:
    """Publish until nothing is pending (tests and shutdown)."""
    total = 0
    for _ in range(max_batches):
        n = publish_pending()
        total += n
        if n == 0:
            break
    return total


def _pg_listener(url: str):
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    conn.execute("LISTEN s4e_outbox")
    return conn


def run_forever(stop: threading.Event, interval: float = 0.5, database_url: str | None = None) -> None:
    """Publisher loop: woken by commits (in-process signal or PostgreSQL NOTIFY), else every `interval`."""
    listener = None
    if database_url and database_url.startswith("postgresql"):
        try:
            listener = _pg_listener(database_url)
        except Exception:
            log.warning("LISTEN unavailable; polling only", exc_info=True)
    while not stop.is_set():
        try:
            while publish_pending():
                pass
        except Exception:
            log.exception("publish failed")
            stop.wait(interval)
        if listener is not None:
            try:
                for _ in listener.notifies(timeout=interval, stop_after=1):
                    pass
            except Exception:
                log.warning("LISTEN connection lost", exc_info=True)
                listener = None
        else:
            hub.outbox_signal.wait(interval)
            hub.outbox_signal.clear()
