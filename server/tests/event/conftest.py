"""Event fixtures: a real uvicorn server on a loopback port (port 0) and SSE streams against it."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.event.helpers import SSEClient


@pytest.fixture
def live_server(app):
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def sse(live_server):
    """Factory: `sse(headers=..., params=...)`; every stream is closed after the test."""
    opened: list[SSEClient] = []

    def open_stream(**kwargs) -> SSEClient:
        stream = SSEClient(live_server, **kwargs)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()
