"""The Celery application of scale-out mode (RabbitMQ via S4E_BROKER_URL).

Queues `scans` and `crawl` (scanning.md 1.1), each dead-lettering into the direct exchange `s4e.dlx`
(`scans.dead`, `crawl.dead`): a message rejected without requeue (attempts used up) lands there for inspection.
Messages carry only the task id; late acknowledgement plus `reject_on_worker_lost` means a killed worker's message
goes back to the queue, and the runner's claim makes the redelivery harmless. No result backend: the task row is
the result. S4E_QUEUE_PREFIX prefixes every queue and exchange name (several installations or test runs on one
broker).

Start a worker with `s4e server worker` (or `celery -A s4e_platform.worker.celery_app worker -Q scans,crawl`).
"""

from __future__ import annotations

import threading

from celery import Celery, signals
from kombu import Exchange, Queue

from s4e_platform.config import get_settings
from s4e_platform.db import models as _models  # noqa: F401  (every table mapped: a worker imports no API)

TASK_QUEUES = ("scans", "crawl")
MAX_PRIORITY = 2  # scan.PRIORITIES: low 0, normal 1, high 2


def prefix() -> str:
    return get_settings().queue_prefix


def queue_name(queue: str) -> str:
    return f"{prefix()}{queue}"


def dead_exchange() -> Exchange:
    return Exchange(f"{prefix()}s4e.dlx", type="direct", durable=True)


def queues() -> list[Queue]:
    """The work queues (with their dead-letter arguments) and the dead-letter queues."""
    out: list[Queue] = []
    for name in TASK_QUEUES:
        full = queue_name(name)
        out.append(Queue(full, Exchange(full, type="direct", durable=True), routing_key=full, durable=True,
                         queue_arguments={"x-dead-letter-exchange": dead_exchange().name,
                                          "x-dead-letter-routing-key": f"{full}.dead",
                                          "x-max-priority": MAX_PRIORITY}))
        out.append(Queue(f"{full}.dead", dead_exchange(), routing_key=f"{full}.dead", durable=True))
    return out


def make_app() -> Celery:
    settings = get_settings()
    app = Celery("s4e", broker=settings.broker_url or "memory://", include=["s4e_platform.worker.tasks"])
    app.conf.update(
        task_queues=queues(),
        task_default_queue=queue_name("scans"),
        task_create_missing_queues=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # A run in progress keeps going when the broker connection drops: its lease, not the message, owns the
        # task, and the redelivered message is a no-op while the lease is live.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


app = make_app()  # the worker's app (`celery -A s4e_platform.worker.celery_app worker`)
_publishers: dict[tuple[str | None, str], Celery] = {}
_declared: set[tuple[str | None, str]] = set()
_lock = threading.Lock()


def get_app() -> Celery:
    """An app for the current settings (broker URL and queue prefix may change in tests), topology declared."""
    settings = get_settings()
    key = (settings.broker_url, settings.queue_prefix)
    with _lock:
        current = _publishers.get(key)
        if current is None:
            current = app if (app.conf.broker_url, app.conf.task_default_queue) == (
                settings.broker_url, queue_name("scans")) else make_app()
            _publishers[key] = current
        if key not in _declared:
            declare_topology(current)
            _declared.add(key)
    return current


def declare_topology(celery: Celery | None = None) -> None:
    """Declare the exchanges and queues, dead-letter ones included (a worker only declares what it consumes)."""
    with (celery or app).connection_for_write() as conn:
        channel = conn.default_channel
        for queue in queues():
            queue.bind(channel).declare()


@signals.worker_ready.connect
def _declare_on_start(sender=None, **_kwargs) -> None:
    declare_topology()
