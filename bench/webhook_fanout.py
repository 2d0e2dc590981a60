"""Webhook fan-out benchmark: events committed to the outbox -> publisher -> delivery rows -> delivery workers
-> a local HTTP receiver. Measures event-commit-to-receipt latency and counts lost events.

Runs the real publisher and delivery worker as in-process threads (what `s4e server up` runs), on a fresh
SQLite database by default or on PostgreSQL with --database-url (a scratch database: it is migrated and used).

    .venv/bin/python bench/webhook_fanout.py [--events 1000] [--rate 500] [--database-url URL]

Targets: 0 lost, p95 < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _configure(args: argparse.Namespace) -> None:
    data_dir = tempfile.mkdtemp(prefix="s4e-bench-")
    os.environ.update({
        "S4E_DATA_DIR": data_dir, "S4E_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "S4E_OUTBOUND_ALLOWLIST": "127.0.0.1", "S4E_LOG_LEVEL": "WARNING",
        "S4E_DATABASE_URL": args.database_url or f"sqlite:///{data_dir}/bench.db",
    })
    for var in ("S4E_REDIS_URL", "S4E_BROKER_URL", "S4E_WEBHOOK_RETRY_SCHEDULE"):
        os.environ.pop(var, None)


class Receipts:
    """Receiver-side bookkeeping: first receipt time per event, duplicates, signature failures."""

    def __init__(self, secret: str, expected: int) -> None:
        from standardwebhooks import Webhook

        self.verifier = Webhook(secret)
        self.lock = threading.Lock()
        self.first_seen: dict[int, float] = {}
        self.duplicates = 0
        self.bad_signatures = 0
        self.expected = expected
        self.done = threading.Event()

    def add(self, body: bytes, headers: dict[str, str]) -> None:
        now = time.time()
        try:
            payload = self.verifier.verify(body, headers)
        except Exception:
            with self.lock:
                self.bad_signatures += 1
            return
        seq = payload["data"]["bench_seq"]
        with self.lock:
            if seq in self.first_seen:
                self.duplicates += 1
                return
            self.first_seen[seq] = now
            if len(self.first_seen) >= self.expected:
                self.done.set()


def _receiver_process(conn, expected: int) -> None:
    """The receiver runs in its own process, like a real consumer: it must not share our interpreter lock."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            receipts.add(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default backlog (5) drops SYNs under 10 parallel connects: 1 s stalls
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    conn.send(server.server_address[1])
    receipts = Receipts(conn.recv(), expected)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receipts.done.wait(conn.recv())
    with receipts.lock:
        conn.send((dict(receipts.first_seen), receipts.duplicates, receipts.bad_signatures))
    server.shutdown()


def _setup(url: str) -> tuple[str, str]:
    """A workspace with one webhook subscribed to asset.created; returns (workspace id, secret)."""
    from s4e_platform.auth import service as auth_service
    from s4e_platform.auth.principal import Principal, all_scopes
    from s4e_platform.db.migrate import upgrade
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.webhook import service as webhook_service
    from s4e_platform.webhook.schemas import WebhookCreate
    from s4e_platform.workspace import service as workspace_service

    upgrade(os.environ["S4E_DATABASE_URL"])
    with unit_of_work() as s:
        user = auth_service.create_user(s, email=f"bench-{time.time_ns()}@example.com",
                                        password="bench-password-0123", name="Bench")
        ws = workspace_service.create_workspace(s, name="Bench", creator_id=user.id)
        principal = Principal(type="user", user_id=user.id, name=user.email, workspace_id=ws.id, role="admin",
                              scopes=all_scopes())
        _hook, secret = webhook_service.create(s, principal, WebhookCreate(name="bench", url=url,
                                                                           events=["asset.created"]))
    return ws.id, secret


def _produce(workspace_id: str, count: int, rate: float, committed: dict[int, float]) -> None:
    """One event per transaction, like one API request each, paced at `rate` events/s (0 = flat out)."""
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.event import service as events

    actor = {"type": "system", "id": None, "name": "bench"}
    started = time.monotonic()
    for seq in range(count):
        if rate:
            delay = started + seq / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        with unit_of_work() as s:
            events.record(s, workspace_id=workspace_id, event="asset.created", actor=actor,
                          data={"asset": {"id": None, "name": f"b{seq}.example.com", "tags": []}, "bench_seq": seq})
        committed[seq] = time.time()


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _report(args: argparse.Namespace, produce_s: float, total_s: float, latencies: list[float], lost: int,
            dupes: int, bad: int) -> bool:
    db = "postgresql" if (args.database_url or "").startswith("postgresql") else "sqlite"
    print(f"webhook fan-out: {args.events} events, offered {args.rate or 'max'} ev/s, {db}, "
          f"{args.concurrency} worker slots, 1 endpoint (<= 10 in flight)")
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"produced in {produce_s:.2f} s; every event received {total_s:.2f} s after the first commit")
    p50 = p95 = p99 = None
    if latencies:
        p50, p95, p99 = (round(_pct(latencies, p) * 1000) for p in (50, 95, 99))
        print(f"commit->receipt latency: p50 {p50} ms, p95 {p95} ms, p99 {p99} ms, "
              f"max {max(latencies) * 1000:.0f} ms")
    print(f"lost: {lost}, duplicates: {dupes}, bad signatures: {bad}")
    ok = lost == 0 and bad == 0 and p95 is not None and p95 < 1000
    print(json.dumps({"events": args.events, "lost": lost, "duplicates": dupes, "bad_signatures": bad,
                      "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "pass": ok}))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500.0, help="events per second offered (0 = flat out)")
    parser.add_argument("--concurrency", type=int, default=16, help="delivery worker slots")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for every receipt")
    parser.add_argument("--database-url", default=None, help="scratch PostgreSQL URL (default: fresh SQLite)")
    args = parser.parse_args()
    _configure(args)

    import multiprocessing

    conn, child = multiprocessing.Pipe()
    receiver = multiprocessing.get_context("spawn").Process(target=_receiver_process, args=(child, args.events),
                                                            daemon=True)
    receiver.start()
    port = conn.recv()

    from s4e_platform.config import get_settings
    from s4e_platform.event import publisher
    from s4e_platform.webhook import fanout, worker  # noqa: F401 (fanout registers the consumer)

    workspace_id, secret = _setup(f"http://127.0.0.1:{port}/hook")
    conn.send(secret)
    settings = get_settings()
    stop = threading.Event()
    threads = [threading.Thread(target=publisher.run_forever, daemon=True,
                                args=(stop, settings.publisher_interval, settings.database_url)),
               threading.Thread(target=worker.run_forever, args=(stop, args.concurrency), daemon=True)]
    for t in threads:
        t.start()

    committed: dict[int, float] = {}
    started = time.time()
    conn.send(args.timeout)
    _produce(workspace_id, args.events, args.rate, committed)
    produced = time.time()
    first_seen, dupes, bad = conn.recv()
    finished = time.time()
    stop.set()
    for t in threads:
        t.join(10)
    receiver.join(10)
    latencies = [first_seen[seq] - committed[seq] for seq in first_seen if seq in committed]
    ok = _report(args, produced - started, finished - started, latencies, args.events - len(first_seen),
                 dupes, bad)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
