"""A real HTTP receiver on 127.0.0.1 (port 0) and webhook builders."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fixtures.dns import zone  # noqa: F401 (a real loopback DNS server)


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    raw_headers: list[tuple[str, str]]
    body: bytes
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)


Response = tuple[int, dict[str, str], bytes]


class Receiver:
    """Records every request; `responder` decides each answer (it may block to simulate a hung endpoint)."""

    def __init__(self, tls=None) -> None:
        self.requests: list[Received] = []
        self.responder: Callable[[Received], Response] = lambda r: (200, {}, b"ok")
        self.release = threading.Event()
        self._cond = threading.Condition()
        self.active = 0
        self.close_after_response = False  # drop keep-alive connections without announcing it
        self.max_active = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("content-length") or 0)
                req = Received(path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
                               raw_headers=list(self.headers.items()), body=self.rfile.read(length),
                               at=time.time())
                with receiver._cond:
                    receiver.requests.append(req)
                    receiver.active += 1
                    receiver.max_active = max(receiver.max_active, receiver.active)
                    receiver._cond.notify_all()
                try:
                    status, headers, body = receiver.responder(req)
                finally:
                    with receiver._cond:
                        receiver.active -= 1
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = receiver.close_after_response
                except OSError:
                    pass  # the client gave up (deadline) before we answered

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default backlog (5) drops SYNs under parallel connects
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None  # e.g. a client refusing our certificate
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.time() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.time()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def loopback(settings):
    """Loopback is blocked by the SSRF guard unless allowlisted; fast retries for tests."""
    settings.outbound_allowlist = "127.0.0.1"
    settings.webhook_retry_schedule = "0.05,0.05,0.05,0.05,0.05,0.05,0.05"
    settings.webhook_timeout = 5.0
    return settings


def create_webhook(client, tenant, url: str, events: list[str] | None = None, role: str = "admin",
                   **fields) -> dict:
    r = client.post("/api/v1/webhooks", json={"name": "hook", "url": url, "events": events or ["*"], **fields},
                    headers=tenant.headers(role))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def run_deliveries(until: Callable[[], bool], timeout: float = 10.0) -> None:
    """Publish pending events and process due deliveries until `until()` holds."""
    from s4e_platform.event import publisher
    from s4e_platform.webhook import worker

    deadline = time.time() + timeout
    while time.time() < deadline:
        publisher.drain()
        worker.process_due()
        if until():
            return
        time.sleep(0.02)
    raise AssertionError("deliveries did not reach the expected state in time")
