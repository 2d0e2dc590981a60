"""Durability end to end: a real `s4e server up` is killed with SIGKILL while deliveries are pending and in
flight; after a restart every event arrives, verified, with one body per webhook-id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from standardwebhooks import Webhook as Verifier

from tests.webhook.conftest import Receiver

EMAIL, PASSWORD = "durability@example.com", "correct-horse-battery-staple"
EVENTS = 20
BIN = Path(sys.executable).parent

KEY_SCRIPT = """
from sqlalchemy import select
from s4e_platform.auth import service
from s4e_platform.auth.models import User
from s4e_platform.db.session import unit_of_work
from s4e_platform.workspace.models import Membership

with unit_of_work() as s:
    user = s.execute(select(User).where(User.email == {email!r})).scalar_one()
    workspace = s.execute(select(Membership.workspace_id).where(Membership.user_id == user.id)).scalar_one()
    key, _ = service.create_api_key(s, workspace_id=workspace, user_id=user.id, name="durability",
                                    scopes=["admin"])
print(key)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("S4E_")}
    env.update({
        "S4E_DATA_DIR": str(data_dir), "S4E_DATABASE_URL": f"sqlite:///{data_dir}/s4e.db",
        "S4E_HOST": "127.0.0.1", "S4E_PORT": str(port), "S4E_ADMIN_EMAIL": EMAIL, "S4E_ADMIN_PASSWORD": PASSWORD,
        "S4E_SECRET_KEY": "durability-test-secret-key-0123456789abcdef", "S4E_OUTBOUND_ALLOWLIST": "127.0.0.1",
        "S4E_WEBHOOK_RETRY_SCHEDULE": "0.5,1,1,1,1,1,1", "S4E_WEBHOOK_TIMEOUT": "2",
        "S4E_RATE_LIMIT_ENABLED": "false", "S4E_LOG_LEVEL": "WARNING",
    })
    return env


class Server:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.env, self.port, self.data_dir = _env(data_dir, port), port, data_dir
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        log = open(self.data_dir / f"server-{self.runs}.log", "wb")  # noqa: SIM115 (kept open by the child)
        self.proc = subprocess.Popen([str(BIN / "s4e"), "server", "up"], env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.proc.poll() is None, (self.data_dir / f"server-{self.runs}.log").read_text()
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not start")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _api_key(server: Server) -> str:
    out = subprocess.run([sys.executable, "-c", KEY_SCRIPT.format(email=EMAIL)], env=server.env, check=True,
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def _statuses_on_disk(data_dir: Path) -> dict[str, int]:
    """Delivery statuses as the killed process left them in its database file."""
    engine = create_engine(f"sqlite:///{data_dir}/s4e.db")
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT status, count(*) FROM delivery GROUP BY status")).all())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_kill_9_loses_no_delivery(tmp_path):
    lock = threading.Lock()
    phase = {"name": "failing", "failures": 0}
    bodies: dict[str, set[bytes]] = {}
    delivered: set[str] = set()  # webhook-ids answered 2xx

    def responder(req):
        with lock:
            bodies.setdefault(req.headers["webhook-id"], set()).add(req.body)
            if phase["name"] == "failing" and phase["failures"] < 5:
                phase["failures"] += 1
                return 500, {}, b"failing"
            current = phase["name"]
        if current != "ok":
            receiver.release.wait(30)  # hang: the attempt is in flight when the server dies
            return 503, {}, b"hung"
        with lock:
            delivered.add(req.headers["webhook-id"])
        return 200, {}, b"ok"

    receiver = Receiver()
    receiver.responder = responder
    server = Server(tmp_path, _free_port())
    try:
        server.start()
        headers = {"Authorization": f"Bearer {_api_key(server)}"}
        r = httpx.post(f"{server.base}/api/v1/webhooks", headers=headers, json={
            "name": "durable", "url": receiver.url(), "events": ["asset.created"]})
        assert r.status_code == 201, r.text
        hook = r.json()["data"]
        for i in range(EVENTS):
            r = httpx.post(f"{server.base}/api/v1/assets", headers=headers,
                           json={"name": f"d{i}.example.com", "type": "domain"})
            assert r.status_code == 201, r.text
        assert receiver.wait_for(12, timeout=30)  # failures seen, and attempts hanging in flight
        server.kill(signal.SIGKILL)
        in_flight = _statuses_on_disk(tmp_path)
        assert in_flight.get("delivering", 0) > 0, in_flight  # killed with attempts in flight
        with lock:
            phase["name"] = "ok"
        receiver.release.set()

        server.start()
        deadline = time.time() + 40  # events committed but unpublished wait for the dead publisher's lease
        while time.time() < deadline:
            events = httpx.get(f"{server.base}/api/v1/events?event=asset.created&limit=1000",
                               headers=headers).json()["data"]
            if len(events) == EVENTS:
                break
            time.sleep(0.25)
        expected = {e["id"]: e for e in events}
        assert len(expected) == EVENTS

        deadline = time.time() + 60
        while time.time() < deadline and delivered != set(expected):
            time.sleep(0.25)
        assert delivered == set(expected), f"missing: {set(expected) - delivered}"

        for req in receiver.requests:
            payload = Verifier(hook["secret"]).verify(req.body, req.headers)
            assert payload == expected[req.headers["webhook-id"]]
        assert all(len(b) == 1 for b in bodies.values())  # one body per webhook-id, across restarts
        deadline = time.time() + 15
        while time.time() < deadline:
            log = httpx.get(f"{server.base}/api/v1/webhooks/{hook['id']}/deliveries?per_page=100",
                            headers=headers).json()
            if [d["status"] for d in log["data"]] == ["succeeded"] * EVENTS:
                break
            time.sleep(0.25)
        assert log["meta"]["total"] == EVENTS
        assert [d["status"] for d in log["data"]] == ["succeeded"] * EVENTS
        assert any(a["error_class"] == "http_status" for d in log["data"] for a in d["attempts"])
    finally:
        server.kill(signal.SIGTERM)
        receiver.close()
