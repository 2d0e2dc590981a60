"""Scale-out end to end over the real RabbitMQ with PostgreSQL: `s4e server worker` subprocesses consume the scan
queues; a worker killed with SIGKILL mid-task is replaced and the scan still completes with the same findings and
no duplicates; a task out of attempts is dead-lettered. Needs S4E_TEST_DATABASE_URL (PostgreSQL) and
S4E_TEST_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672//)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from s4e_platform.runtime.background import Background

from tests.scan.conftest import SCANS, events_of, set_tasks, verified_asset
from tests.worker import runtime
from tests.worker.runtime import findings_of, sightings, task_of, wait_for

peer, loopback = runtime.peer, runtime.loopback  # fixtures

BROKER = os.environ.get("S4E_TEST_BROKER_URL", "")
pytestmark = [
    pytest.mark.broker, pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("S4E_TEST_DATABASE_URL", "").startswith("postgresql") or not BROKER,
                       reason="needs PostgreSQL (S4E_TEST_DATABASE_URL) and RabbitMQ (S4E_TEST_BROKER_URL)"),
]


@pytest.fixture
def broker(settings):
    """This test's own queues (a unique prefix), deleted afterwards."""
    settings.broker_url = BROKER
    settings.queue_prefix = f"t{uuid.uuid4().hex[:10]}."
    settings.task_lease_seconds = 4.0
    yield settings
    from s4e_platform.worker import celery_app

    with celery_app.get_app().connection_for_write() as conn:
        channel = conn.default_channel
        for queue in celery_app.queues():
            queue.bind(channel).delete()
        for name in [celery_app.queue_name(q) for q in celery_app.TASK_QUEUES] + [celery_app.dead_exchange().name]:
            channel.exchange_delete(name)


class Workers:
    def __init__(self, settings, tmp: Path) -> None:
        self.settings, self.tmp, self.procs = settings, tmp, []

    def start(self) -> subprocess.Popen:
        log = self.tmp / f"worker-{len(self.procs)}.log"
        env = {**os.environ, "S4E_BROKER_URL": BROKER, "S4E_QUEUE_PREFIX": self.settings.queue_prefix,
               "S4E_OUTBOUND_ALLOWLIST": "127.0.0.0/8", "S4E_TASK_LEASE_SECONDS": "4",
               "S4E_EXECUTOR_CONCURRENCY": "2", "S4E_LOG_LEVEL": "INFO"}
        proc = subprocess.Popen([sys.executable, "-m", "s4e_platform.cli", "worker"], env=env,
                                stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        wait_for(lambda: b" ready." in log.read_bytes() or proc.poll() is not None, 60, 0.2)
        assert proc.poll() is None, log.read_text()[-3000:]
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def workers(broker, tmp_path):
    w = Workers(broker, tmp_path)
    yield w
    w.stop_all()


@pytest.fixture
def dispatcher(broker):
    bg = Background()
    bg.start_dispatcher()  # with a broker: releases by publishing `scan.run_task` messages
    yield bg
    bg.shutdown()


def _status(client, tenant, scan_id: str) -> str:
    return client.get(f"{SCANS}/{scan_id}", headers=tenant.headers()).json()["data"]["status"]


def _post(client, tenant, body: dict) -> str:
    r = client.post(SCANS, json=body, headers=tenant.headers())
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def test_scan_runs_on_celery_workers_and_survives_a_killed_worker(client, tenant, peer, loopback, workers,
                                                                 dispatcher):
    target = verified_asset(client, tenant, "127.0.0.1", "ip")
    first = workers.start()
    scan_id = _post(client, tenant, {"asset_id": target["id"], "scan_type": "port", "options": peer.scan_options()})
    wait_for(lambda: _status(client, tenant, scan_id) == "completed", 60)
    [finding] = findings_of(target["id"])
    assert finding.check_id == "redis_unauthenticated" and sightings(finding.id) == 1

    peer.delay = 1.5  # slow answers: the next run is still probing when its worker dies
    again = _post(client, tenant, {"asset_id": target["id"], "scan_type": "port", "options": peer.scan_options()})
    wait_for(lambda: task_of(again).status == "running", 60)
    first.kill()  # SIGKILL: no shutdown, no ack, the lease stops being renewed
    first.wait(10)
    assert task_of(again).status == "running"
    workers.start()
    wait_for(lambda: _status(client, tenant, again) == "completed", 90, 0.5)
    task = task_of(again)
    assert task.status == "completed" and task.attempts == 2
    [finding] = findings_of(target["id"])
    assert sightings(finding.id) == 2 and finding.last_scan_id == again  # the killed run recorded nothing
    assert [e.data["scan_id"] for e in events_of("scan.completed")] == [scan_id, again]


def test_a_task_out_of_attempts_is_dead_lettered_and_failed(client, tenant, workers, dispatcher, broker):
    from s4e_platform.worker import celery_app

    target = verified_asset(client, tenant, "127.0.0.1", "ip")
    workers.start()
    scan_id = _post(client, tenant, {"asset_id": target["id"], "scan_type": "ssl"})
    set_tasks(scan_id, attempts=3, error={"code": "lease_expired", "message": "worker w stopped"})
    wait_for(lambda: _status(client, tenant, scan_id) == "failed", 60)
    task = task_of(scan_id)
    assert (task.status, task.error["code"]) == ("failed", "attempts_exhausted")

    def dead_letters() -> int:
        with celery_app.get_app().connection_for_write() as conn:
            dead = f"{celery_app.queue_name('scans')}.dead"
            return conn.default_channel.queue_declare(dead, passive=True).message_count

    assert wait_for(dead_letters, 10) == 1


def test_scheduled_profile_fire_runs_on_celery_workers(client, tenant, peer, loopback, workers, dispatcher):
    from datetime import timedelta

    from s4e_platform.kit.clock import utcnow
    from s4e_platform.scan_profile import scheduler

    from tests.scan_profile.conftest import scans_of, set_profile

    target = verified_asset(client, tenant, "127.0.0.1", "ip")
    body = {"name": "every-minute", "scan_type": "port", "options": peer.scan_options(),
            "scope": {"asset_ids": [target["id"]]}, "schedule": {"cron": "* * * * *"}}
    r = client.post("/api/v1/scan-profiles", json=body, headers=tenant.headers())
    assert r.status_code == 201, r.text
    profile_id = r.json()["data"]["id"]
    now = utcnow()
    set_profile(profile_id, next_run_at=now - timedelta(seconds=1))
    workers.start()
    assert scheduler.tick(now)["fired"] == 1
    [scan] = scans_of(profile_id)
    assert scan.triggered_by == {"type": "schedule", "id": profile_id}
    wait_for(lambda: _status(client, tenant, scan.id) == "completed", 60)
    [finding] = findings_of(target["id"])
    assert finding.check_id == "redis_unauthenticated" and finding.scan_id == scan.id
