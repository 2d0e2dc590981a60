"""Background loops of one process: the publisher and the scan task release loop (leaders only), delivery
workers, and the in-process scan executor.

Embedded mode runs all of them as threads of `s4e server up`; scale-out runs the publisher and the release loop in
`s4e server scheduler`, delivery workers and the Celery scan worker in `s4e server worker`.
"""

from __future__ import annotations

import logging
import threading

from s4e_platform.config import get_settings
from s4e_platform.runtime import leader

log = logging.getLogger("s4e.runtime")


class Background:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _spawn(self, name: str, target, *args) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def start_publisher(self) -> None:
        """Publisher guarded by the `publisher` lease, so only one process assigns event ids."""
        from s4e_platform.event import publisher
        from s4e_platform.webhook import fanout  # noqa: F401  (registers the webhook fan-out consumer)

        settings = get_settings()

        def loop() -> None:
            while not self.stop.is_set():
                if leader.acquire("publisher", ttl=15.0):
                    inner = threading.Event()

                    def renew(inner: threading.Event = inner) -> None:
                        while not inner.is_set() and not self.stop.is_set():
                            if not leader.acquire("publisher", ttl=15.0):
                                log.warning("lost publisher lease")
                                inner.set()
                                return
                            self.stop.wait(5.0)
                        inner.set()

                    threading.Thread(target=renew, name="s4e-publisher-lease", daemon=True).start()
                    stop_any = _Either(self.stop, inner)
                    publisher.run_forever(stop_any, settings.publisher_interval, settings.database_url)
                else:
                    self.stop.wait(5.0)

        self._spawn("s4e-publisher", loop)

    def start_dispatcher(self) -> None:
        """The scan task release loop under the `dispatcher` lease (one releasing process at a time). Without a
        broker its tasks run on this process's executor threads (embedded mode); with one they are published."""
        from s4e_platform.worker import executor, release

        if not get_settings().broker_url:
            executor.shared()  # start the threads now rather than on the first task
        self._spawn("s4e-dispatcher", self._lead, "dispatcher", release.run_forever)

    def _lead(self, name: str, body) -> None:
        """Run `body(stop)` while holding the lease `name`; renew it every 5 s, stop `body` when it is lost."""
        while not self.stop.is_set():
            try:
                held = leader.acquire(name, ttl=15.0)
            except Exception:  # database unreachable: try again, never let the loop's thread die
                log.exception("could not take the %s lease", name)
                held = False
            if not held:
                self.stop.wait(5.0)
                continue
            lost = threading.Event()

            def renew(lost: threading.Event = lost) -> None:
                while not lost.is_set() and not self.stop.is_set():
                    self.stop.wait(5.0)
                    try:
                        renewed = self.stop.is_set() or leader.acquire(name, ttl=15.0)
                    except Exception:
                        log.exception("could not renew the %s lease", name)
                        renewed = False
                    if not renewed:
                        log.warning("lost the %s lease", name)
                        break
                lost.set()

            threading.Thread(target=renew, name=f"s4e-{name}-lease", daemon=True).start()
            try:
                body(_Either(self.stop, lost))
            finally:
                lost.set()

    def start_delivery_workers(self) -> None:
        from s4e_platform.webhook import worker

        settings = get_settings()
        self._spawn("s4e-deliveries", worker.run_forever, self.stop, settings.delivery_concurrency)

    def start_scheduler(self) -> None:
        """Profile scheduler and periodic jobs, guarded by the `scheduler` lease (one firing process)."""
        from s4e_platform.scan_profile import scheduler

        self._spawn("s4e-scheduler", scheduler.run_forever, self.stop)

    def start_redis_bridge(self) -> None:
        settings = get_settings()
        if settings.redis_url:
            from s4e_platform.event import hub

            hub.start_redis_bridge(settings.redis_url)

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout)


class _Either:
    """Duck-typed threading.Event that is set when either of two events is."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        step = 0.1 if timeout is None else min(0.1, timeout)
        waited = 0.0
        while not self.is_set() and (timeout is None or waited < timeout):
            self.a.wait(step)
            waited += step
        return self.is_set()
