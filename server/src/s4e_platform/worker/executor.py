"""The in-process executor of embedded mode: a fixed pool of threads running `runner.run_task`.

The release loop hands over only as many tasks as there are free slots, so a task marked `dispatched` starts at
once; the database stays the queue (a task waiting for a slot is still `queued` and keeps its priority order).
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from collections.abc import Callable

from s4e_platform.worker import release

log = logging.getLogger("s4e.worker")
Runner = Callable[..., str]


def _default_runner(task_id: str, *, worker_id: str) -> str:
    from s4e_platform.scan import runner

    return runner.run_task(task_id, worker_id=worker_id)


class ThreadExecutor:
    """`concurrency` worker threads; `backlog` bounds how many tasks may wait for a thread (hand-off buffer)."""

    def __init__(self, concurrency: int, *, runner: Runner | None = None, backlog: int | None = None,
                 name: str = "s4e-executor") -> None:
        self.concurrency = concurrency
        self.backlog = concurrency if backlog is None else backlog
        self.runner = runner or _default_runner
        self.name = name
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._pending = 0  # submitted, not finished
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Condition(self._lock)
        self.worker_prefix = f"{socket.gethostname()}:{os.getpid()}"

    def start(self) -> ThreadExecutor:
        with self._lock:
            while len(self._threads) < self.concurrency:
                t = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
                t.start()
                self._threads.append(t)
        return self

    def free_slots(self) -> int:
        with self._lock:
            return max(0, self.backlog - self._pending)

    def submit(self, released: list[release.Released]) -> None:
        if not self._threads:
            self.start()
        with self._lock:
            self._pending += len(released)
        for item in released:
            self._queue.put(item.task_id)

    def _work(self) -> None:
        worker_id = f"{self.worker_prefix}:{threading.current_thread().name}"
        while True:
            task_id = self._queue.get()
            if task_id is None:
                return
            try:
                self.runner(task_id, worker_id=worker_id)
            except Exception:  # the runner records its own failures; this is a bug or a lost database
                log.exception("scan task %s crashed in the executor", task_id)
            finally:
                with self._lock:
                    self._pending -= 1
                    self._idle.notify_all()
                release.WAKE.set()  # a slot is free

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted task has finished (tests, benchmarks, shutdown)."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the threads after their current task (running tasks stop at their lease: recovery re-runs them)."""
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()


_shared: ThreadExecutor | None = None
_shared_lock = threading.Lock()


def shared() -> ThreadExecutor:
    """The process's executor (size S4E_EXECUTOR_CONCURRENCY), started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from s4e_platform.config import get_settings

            _shared = ThreadExecutor(get_settings().executor_concurrency).start()
        return _shared


def reset_shared(timeout: float = 5.0) -> None:
    """Stop and forget the shared executor (tests; process shutdown)."""
    global _shared
    with _shared_lock:
        current, _shared = _shared, None
    if current is not None:
        current.shutdown(timeout)
