"""Leader election by a lease row (works on SQLite and PostgreSQL): one active scheduler/publisher."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import utcnow
from s4e_platform.runtime.models import LeaderLease

HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(name: str, ttl: float = 15.0, holder: str = HOLDER) -> bool:
    """Take or renew the lease `name`; True while we hold it."""
    now = utcnow()
    expires = now + timedelta(seconds=ttl)
    try:
        with unit_of_work() as s:
            row = s.execute(select(LeaderLease).where(LeaderLease.name == name)).scalar_one_or_none()
            if row is None:
                s.add(LeaderLease(name=name, holder=holder, expires_at=expires))
                return True
            result = s.execute(update(LeaderLease).where(
                LeaderLease.name == name,
                (LeaderLease.holder == holder) | (LeaderLease.expires_at < now)).values(
                holder=holder, expires_at=expires))
            return result.rowcount == 1
    except IntegrityError:
        return False


def release(name: str, holder: str = HOLDER) -> None:
    with unit_of_work() as s:
        s.execute(update(LeaderLease).where(LeaderLease.name == name, LeaderLease.holder == holder)
                  .values(expires_at=utcnow()))
