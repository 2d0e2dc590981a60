"""Event test helpers: outbox writers, spec-shaped finding events and a small SSE client (httpx streaming,
frames parsed in a reader thread)."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time

import httpx
from s4e_platform.db.session import unit_of_work
from s4e_platform.event import publisher, service
from s4e_platform.event.audit import audit
from s4e_platform.event.models import Event
from sqlalchemy import delete, select

SCANNER = {"type": "system", "id": None, "name": "scanner"}


def publish(workspace_id: str, *events: tuple[str, dict, str | None], actor: dict = SCANNER) -> list[str]:
    """Write (event, data, asset_id) rows to the outbox in one transaction, publish them, return their ids."""
    with unit_of_work() as s:
        rows = [service.record(s, workspace_id=workspace_id, event=e, data=d, actor=actor, asset_id=a)
                for e, d, a in events]
        s.flush()
        seqs = [r.seq for r in rows]
    publisher.drain()
    with unit_of_work(readonly=True) as s:
        ids = dict(s.execute(select(Event.seq, Event.id).where(Event.seq.in_(seqs))).all())
    return [ids[q] for q in seqs]


def publish_audit(workspace_id: str, event: str, *, target_type: str = "user", target_id: str | None = None,
                  details: dict | None = None, asset_id: str | None = None, actor: dict | None = None) -> str:
    """A real audit event through event/audit.py (no request: ip and user agent are null)."""
    with unit_of_work() as s:
        audit(s, event=event, workspace_id=workspace_id, actor=actor or {"type": "user", "id": None,
                                                                          "name": "someone@example.com"},
              target_type=target_type, target_id=target_id, details=details, asset_id=asset_id)
    publisher.drain()
    with unit_of_work(readonly=True) as s:
        return s.execute(select(Event.id).where(Event.workspace_id == workspace_id)
                         .order_by(Event.id.desc()).limit(1)).scalar_one()


def expire(event_ids: list[str]) -> None:
    """What retention does: stored events disappear."""
    with unit_of_work() as s:
        s.execute(delete(Event).where(Event.id.in_(event_ids)))


def finding(**overrides) -> dict:
    """A finding summary shaped exactly as events.md 1.2 lists it."""
    base = {
        "id": "fnd_01hv9c4k2m7q8r5t3w6x0y1z2c", "title": "TLS 1.0 enabled", "severity": "medium",
        "original_severity": "medium", "cvss": 5.3, "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
        "status": "open", "category": "tls", "scanner": "sslyze", "check_id": "tls-legacy-protocols",
        "cve_ids": ["CVE-2011-3389"], "cwe_ids": ["CWE-326", "CWE-327"], "risk_score": 42, "kev": False,
        "epss": 0.00123, "epss_percentile": 0.4821, "fingerprint": "9f86d081884c7d65",
        "asset": {"id": "ast_01hv9c4k2m7q8r5t3w6x0y1z2d", "name": "app.example.com", "type": "domain",
                  "criticality": "high", "tags": ["prod", "web"]},
        "location": {"host": "app.example.com", "ip": "203.0.113.10", "port": 443, "protocol": "tcp",
                     "url": "https://app.example.com/login?next=/"},
        "scan_id": "scn_01hv9c4k2m7q8r5t3w6x0y1z2e", "assignee_id": None, "sla_due_at": "2026-05-28T12:00:00.000Z",
        "discovered_at": "2026-04-28T11:59:00.000Z", "last_seen_at": "2026-04-28T12:00:00.000Z",
        "description": "Server accepts TLS 1.0", "remediation": "Disable TLS 1.0 and 1.1",
        "references": ["https://www.rfc-editor.org/rfc/rfc8996"],
        "console_url": "http://127.0.0.1:8000/console/findings/fnd_01hv9c4k2m7q8r5t3w6x0y1z2c",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def envelope(event: str, data: dict, *, actor: dict = SCANNER, event_id: str = "evt_01hv9c4k2m7q8r5t3w6x0y1z2a",
             timestamp: str = "2026-04-28T12:00:00.000Z") -> dict:
    return {"id": event_id, "event": event, "timestamp": timestamp,
            "workspace_id": "wsp_01hv9c4k2m7q8r5t3w6x0y1z2b", "actor": actor, "data": data}


# --- SSE client ---------------------------------------------------------------------------------------------

END = object()


class SSEClient:
    """GET /events/stream with a real HTTP client; `frames` receives parsed frames, END when the server closes."""

    def __init__(self, base_url: str, *, headers: dict | None = None, params: dict | None = None) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0, read=None))
        self._cm = self._client.stream("GET", "/api/v1/events/stream", headers=headers, params=params)
        self.response = self._cm.__enter__()
        self.status_code = self.response.status_code
        self.frames: queue.Queue = queue.Queue()
        self._thread = None
        if self.status_code == 200:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        else:
            self.response.read()

    def json(self) -> dict:
        return json.loads(self.response.content)

    def _read(self) -> None:
        frame: dict = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if frame:
                        self.frames.put(frame)
                    frame = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                frame[name] = f"{frame[name]}\n{value}" if name == "data" and name in frame else value
        except (httpx.HTTPError, OSError, ValueError):
            pass
        finally:
            self.frames.put(END)

    def next(self, timeout: float = 5.0):
        """Next frame (heartbeats included), or END."""
        try:
            return self.frames.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no SSE frame within {timeout} s") from None

    def next_event(self, timeout: float = 5.0):
        """Next frame that is not a heartbeat."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.next(max(0.01, deadline - time.monotonic()))
            if frame is END or frame.get("event") != "heartbeat":
                return frame

    def events_until(self, last_id: str, timeout: float = 5.0) -> list[dict]:
        """Event frames up to and including the one with id `last_id`."""
        out = []
        while True:
            frame = self.next_event(timeout)
            assert frame is not END, f"stream ended before {last_id}; got {out}"
            out.append(frame)
            if frame.get("id") == last_id:
                return out

    def assert_quiet(self, seconds: float) -> None:
        """No event frame (heartbeats aside) arrives for `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = self.frames.get(timeout=left)
            except queue.Empty:
                return
            assert frame is not END and frame.get("event") == "heartbeat", f"unexpected frame {frame}"

    def close(self) -> None:
        stream = self.response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            try:  # wakes the reader thread blocked in recv(); close() alone would not
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
        try:
            self._cm.__exit__(None, None, None)
        except (httpx.HTTPError, OSError):
            pass
        self._client.close()

    def __enter__(self) -> SSEClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
