"""Engine and unit of work. One session per request or job; commit on success, rollback on error.

Work that must only happen once the data is visible (enqueueing ids, waking the event publisher) is
registered with `after_commit(session, fn)` and runs after a successful commit, never before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from s4e_platform.config import get_settings

log = logging.getLogger("s4e.db")
_lock = threading.Lock()
_engine: Engine | None = None
_factory: sessionmaker | None = None
_read_factory: sessionmaker | None = None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str, *, readonly: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=20, max_overflow=20)
        event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite's implicit transactions defer locking; BEGIN IMMEDIATE up front avoids
        # "database is locked" upgrade failures between concurrent writers.
        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


def get_engine() -> Engine:
    global _engine, _factory, _read_factory
    with _lock:
        if _engine is None:
            url = get_settings().effective_database_url
            _engine = make_engine(url)
            _factory = sessionmaker(bind=_engine, expire_on_commit=False, autoflush=True)
            # SQLite: reads use a deferred BEGIN on their own engine so they never queue behind writers.
            read_engine = make_engine(url, readonly=True) if url.startswith("sqlite") else _engine
            _read_factory = sessionmaker(bind=read_engine, expire_on_commit=False, autoflush=True)
        return _engine


def dispose_engine() -> None:
    global _engine, _factory, _read_factory
    with _lock:
        for factory in (_factory, _read_factory):
            if factory is not None:
                factory.kw["bind"].dispose()
        _engine = None
        _factory = None
        _read_factory = None


def new_session(*, readonly: bool = False) -> Session:
    get_engine()
    factory = _read_factory if readonly else _factory
    assert factory is not None
    return factory()


def after_commit(session: Session, fn: Callable[[], None]) -> None:
    session.info.setdefault("after_commit", []).append(fn)


def _run_after_commit(session: Session) -> None:
    for fn in session.info.pop("after_commit", []):
        try:
            fn()
        except Exception:  # a hook must never turn a committed request into an error
            log.exception("after-commit hook failed")


def commit(session: Session) -> None:
    session.commit()
    _run_after_commit(session)


@contextmanager
def unit_of_work(*, readonly: bool = False) -> Iterator[Session]:
    """Session for jobs and CLI commands: commits on success, rolls back on error."""
    session = new_session(readonly=readonly)
    try:
        yield session
        commit(session)
    except BaseException:
        session.rollback()
        session.info.pop("after_commit", None)
        raise
    finally:
        session.close()


def request_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency (scope="function"): the request's unit of work, committed before the response."""
    readonly = request.method in ("GET", "HEAD")
    with unit_of_work(readonly=readonly) as session:
        session.info["request"] = request
        session.info["readonly"] = readonly
        yield session
