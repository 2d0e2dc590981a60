"""Celery entry points (scale-out) and the publisher the release loop uses. Messages carry ids only."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from celery.exceptions import Reject
from sqlalchemy import update

from s4e_platform.db.session import unit_of_work
from s4e_platform.scan.models import ScanTask
from s4e_platform.worker import celery_app
from s4e_platform.worker.release import Released

log = logging.getLogger("s4e.worker")
TASK_NAME = "scan.run_task"
_ORIGIN = f"{os.getpid()}@{socket.gethostname()}"


@celery_app.app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
def run_task(self, task_id: str) -> str:
    """Run one scan task; a task whose attempts are used up is dead-lettered (and failed in the database)."""
    from s4e_platform.scan import runner

    worker_id = f"{self.request.hostname or 'celery'}:{os.getpid()}:{threading.current_thread().name}"
    outcome = runner.execute(str(task_id), worker_id=worker_id[:128])
    if outcome.exhausted:
        raise Reject(f"scan task {task_id} used up its attempts", requeue=False)
    return outcome.status


def _message(task_id: str) -> tuple[list, dict, str]:
    """Celery's task message protocol v2 for `scan.run_task(task_id)`: (body, headers, message id). Built here
    rather than through `send_task` (routing, signals and option merging per message cost about half the
    publish rate on a small machine); the fields are those `celery.app.amqp.as_task_v2` writes."""
    message_id = str(uuid.uuid4())
    headers = {"lang": "py", "task": TASK_NAME, "id": message_id, "shadow": None, "eta": None, "expires": None,
               "group": None, "group_index": None, "retries": 0, "timelimit": [None, None], "root_id": message_id,
               "parent_id": None, "argsrepr": repr([task_id]), "kwargsrepr": "{}", "origin": _ORIGIN,
               "ignore_result": True}
    body = [[task_id], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    return body, headers, message_id


def publish(released: list[Released]) -> None:
    """Publish `scan.run_task` messages over one connection and producer, without a declare or retry round per
    message (the topology is declared once per process). Persistent messages; tasks whose message could not be
    sent go back to `queued` for the next release; a message that did go out twice is harmless."""
    if not released:
        return
    app = celery_app.get_app()
    routes = {q.name: (q.exchange.name, q.routing_key) for q in celery_app.queues()}
    sent = 0
    try:
        with app.producer_or_acquire() as producer:
            for item in released:
                exchange, routing_key = routes[celery_app.queue_name(item.queue)]
                body, headers, message_id = _message(item.task_id)
                producer.publish(body, exchange=exchange, routing_key=routing_key, serializer="json",
                                 headers=headers, correlation_id=message_id, priority=item.priority_rank,
                                 delivery_mode=2, declare=[], retry=False)
                sent += 1
    except Exception:
        log.exception("publishing %d scan tasks failed; they go back to the queue", len(released) - sent)
        _unpublish([r.task_id for r in released[sent:]])


def _unpublish(task_ids: list[str]) -> None:
    with unit_of_work() as session:
        for start in range(0, len(task_ids), 1000):
            session.execute(update(ScanTask).where(ScanTask.id.in_(task_ids[start:start + 1000]),
                                                   ScanTask.status == "dispatched")
                            .values(status="queued", dispatched_at=None),
                            execution_options={"synchronize_session": False})
