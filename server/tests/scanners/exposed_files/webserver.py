"""Loopback HTTP/1.1 servers (keep-alive, port 0) whose answers a test defines with a function of the request."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[str, dict[str, str]], Answer]


@dataclass
class Server:
    url: str
    port: int
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@contextlib.contextmanager
def serve(route: Route, *, delay: float = 0.0) -> Iterator[Server]:
    state: Server | None = None
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no delayed-ACK stalls

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append((self.path, headers))
            if delay:
                stop.wait(delay)
            status, extra, body = route(self.path, headers)
            self.send_response(status)
            extra = {"Content-Type": "text/html; charset=utf-8", **extra}
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    class Quiet(ThreadingHTTPServer):
        def handle_error(self, request, client_address) -> None:
            pass  # clients that reset connections (other suites' port sweeps included) are not our failures

    httpd = Quiet(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    state = Server(url=f"http://127.0.0.1:{port}/", port=port)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def not_found(path: str) -> Answer:
    return 404, {}, b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"


def site(files: dict[str, Answer]) -> Route:
    """A plain site: `/` and the given files exist, everything else is a 404."""
    pages = {"/": (200, {}, b"<html><head><title>Shop</title></head><body>Welcome</body></html>"), **files}
    return lambda path, _headers: pages.get(path.split("?", 1)[0]) or not_found(path)
