"""Waking the task release loop once new tasks are committed.

Scan creation calls `wake_after_commit(session)`; the release loop (embedded: a thread of `s4e server up`;
scale-out: the scheduler process) waits on `WAKE` between polls, so tasks start without waiting for the next poll.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from s4e_platform.db.session import after_commit

WAKE = threading.Event()


def wake_after_commit(session: Session) -> None:
    """Signal the release loop once `session` commits (never before: the tasks would not be visible yet)."""
    after_commit(session, WAKE.set)
