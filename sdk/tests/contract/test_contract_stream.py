"""`client.events.stream` against the real platform served by uvicorn on a loopback port: replay after
Last-Event-ID, live delivery, and a resumed stream after the server ends the connection."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from s4e import S4EClient


@pytest.fixture
def live_server(platform, request):
    """The platform app on 127.0.0.1:<free port>, with streams the server ends after one second."""
    import uvicorn
    from s4e_platform.config import get_settings

    settings = get_settings()
    saved = (settings.sse_max_seconds, settings.sse_heartbeat_seconds)
    settings.sse_max_seconds, settings.sse_heartbeat_seconds = 1.0, 0.2
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(request.getfixturevalue("app"), log_config=None, access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        settings.sse_max_seconds, settings.sse_heartbeat_seconds = saved


def test_stream_replays_follows_and_resumes_across_server_closes(platform, live_server, sleeps):
    from s4e_platform.event import publisher

    client = S4EClient(api_key=platform.tenant.keys["admin"], base_url=live_server)

    def create(name: str) -> str:
        asset = client.assets.create(name=name, type="domain")
        publisher.drain()
        return asset.id

    first = create("a.example.com")
    create("b.example.com")
    start = next(e.id for e in client.events.list() if e.data["asset"]["id"] == first)
    received = []
    with client.events.stream(events="asset.created", last_event_id=start) as stream:
        for event in stream:
            received.append(event.data["asset"]["name"])
            if event.data["asset"]["name"] == "b.example.com":
                create("c.example.com")  # live, on the open connection
            elif event.data["asset"]["name"] == "c.example.com":
                time.sleep(1.3)  # the server ends this connection meanwhile
                create("d.example.com")  # stored while no stream is open: replayed on reconnect
            else:
                break
    assert received == ["b.example.com", "c.example.com", "d.example.com"]
    assert 5.0 in sleeps  # reconnected after the server's `retry: 5000`, resuming from Last-Event-ID
    assert stream.last_event_id > start
