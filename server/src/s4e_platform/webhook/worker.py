"""Delivery workers: an asyncio loop behind a small sync entry point (`run_forever`, `process_due`).

The loop keeps up to `concurrency` attempts in flight, claims more as soon as a slot frees, and wakes at
once when the publisher publishes in this process (hub listener), else polls every 0.5 s (other processes'
events, retries coming due). Finished attempts are recorded in small group commits.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from s4e_platform.config import get_settings
from s4e_platform.event import hub
from s4e_platform.webhook import delivery, transport
from s4e_platform.webhook.delivery import Job
from s4e_platform.webhook.transport import Attempt

log = logging.getLogger("s4e.webhooks")
POLL_INTERVAL = 0.5
SHUTDOWN_GRACE = 3.0
RECORD_BATCH = 200

_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
_waiters_lock = threading.Lock()


def _on_publish() -> None:
    """Hub listener (publisher thread): wake every running worker loop of this process."""
    with _waiters_lock:
        waiters = list(_waiters)
    for loop, event in waiters:
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:
            pass  # that loop has just stopped


hub.add_listener(_on_publish)


async def _attempt(job: Job, timeout: float, clients: transport.Clients) -> Attempt:
    # Signed at send time: webhook-timestamp is the time of this attempt.
    return await transport.send(job.url, job.body, job.headers(int(time.time())), timeout=timeout,
                                clients=clients)


def process_due(limit: int = 100) -> int:
    """Claim, attempt and record the deliveries due now, concurrently; returns how many were attempted."""
    jobs = delivery.claim_due(limit)
    if not jobs:
        return 0
    timeout = get_settings().webhook_timeout

    async def attempt_all() -> list[Attempt]:
        clients = transport.Clients()
        try:
            return await asyncio.gather(*(_attempt(job, timeout, clients) for job in jobs))
        finally:
            await clients.aclose()

    delivery.record(list(zip(jobs, asyncio.run(attempt_all()), strict=True)))
    return len(jobs)


class _Recorder:
    """Group commit: attempts that finish while a record transaction runs are recorded together, and that
    same transaction leases the deliveries that take over their slots (one transaction per cycle, not two)."""

    def __init__(self, launch: Callable[[list[Job]], None], free_slots: Callable[[], int]) -> None:
        self.queue: list[tuple[Job, Attempt, asyncio.Future]] = []
        self.wakeup = asyncio.Event()
        self.launch, self.free_slots = launch, free_slots

    async def submit(self, job: Job, attempt: Attempt) -> None:
        done = asyncio.get_running_loop().create_future()
        self.queue.append((job, attempt, done))
        self.wakeup.set()
        await done

    async def run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.queue:
                batch, self.queue = self.queue[:RECORD_BATCH], self.queue[RECORD_BATCH:]
                claim = self.free_slots() + len(batch)  # the batch's own slots free up with this commit
                jobs: list[Job] = []
                try:
                    jobs = await asyncio.to_thread(delivery.record, [(job, attempt) for job, attempt, _ in batch],
                                                   claim=claim)
                except Exception:
                    # The rows stay leased; when the lease lapses they are attempted again (same webhook-id).
                    log.exception("recording delivery attempts failed")
                for _job, _attempt, done in batch:
                    if not done.done():
                        done.set_result(None)
                self.launch(jobs)


async def _run(job: Job, recorder: _Recorder, timeout: float, clients: transport.Clients) -> None:
    try:
        attempt = await _attempt(job, timeout, clients)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("delivery attempt crashed", extra={"delivery_id": job.delivery_id})
        return
    await recorder.submit(job, attempt)


async def _serve(stop: threading.Event, concurrency: int) -> None:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    with _waiters_lock:
        _waiters.add((loop, wake))
    in_flight: dict[asyncio.Task, Job] = {}
    timeout = get_settings().webhook_timeout
    clients = transport.Clients()

    def launch(jobs: list[Job]) -> None:
        for job in jobs:
            task = asyncio.create_task(_run(job, recorder, timeout, clients))
            in_flight[task] = job
            task.add_done_callback(lambda t: in_flight.pop(t, None))

    def free_slots() -> int:
        return 0 if stop.is_set() else max(0, concurrency - len(in_flight))

    recorder = _Recorder(launch, free_slots)
    recorder_task = asyncio.create_task(recorder.run())
    try:
        while not stop.is_set():
            wake.clear()  # cleared before claiming: a publish from now on is not lost
            free = free_slots()
            if free > 0:
                try:
                    launch(await asyncio.to_thread(delivery.claim_due, free))
                except Exception:
                    log.exception("claiming deliveries failed")
                    await asyncio.sleep(1.0)
            # Slots freed by finished attempts are refilled by the recorder; here: publishes and polling.
            waker = asyncio.create_task(wake.wait())
            await asyncio.wait({waker}, timeout=POLL_INTERVAL)
            waker.cancel()
        await _shutdown(in_flight, recorder, recorder_task)
    finally:
        await clients.aclose()
        with _waiters_lock:
            _waiters.discard((loop, wake))


async def _shutdown(in_flight: dict[asyncio.Task, Job], recorder: _Recorder, recorder_task: asyncio.Task) -> None:
    """Let running attempts finish briefly; give the rest back so another worker need not wait for leases."""
    if in_flight:
        await asyncio.wait(set(in_flight), timeout=SHUTDOWN_GRACE)
    abandoned = [job for task, job in list(in_flight.items()) if not task.done()]
    for task in list(in_flight):
        task.cancel()
    await asyncio.gather(*in_flight, return_exceptions=True)
    deadline = time.monotonic() + SHUTDOWN_GRACE
    while recorder.queue and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    recorder_task.cancel()
    if abandoned:
        await asyncio.to_thread(delivery.release, abandoned)


def run_forever(stop: threading.Event, concurrency: int) -> None:
    """Delivery worker loop until `stop` is set (runtime/background.py runs it in a thread)."""
    while not stop.is_set():
        try:
            asyncio.run(_serve(stop, max(1, concurrency)))
        except Exception:
            log.exception("delivery worker loop crashed; restarting")
            stop.wait(1.0)
