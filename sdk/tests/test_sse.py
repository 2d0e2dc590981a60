"""Server-Sent Events: the decoder (WHATWG rules, any chunking) and the stream's reconnect-and-resume, against a
loopback HTTP server that drops connections mid-frame."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from s4e import AsyncS4EClient, S4EClient
from s4e._sse import SSEDecoder
from s4e.errors import AuthenticationError


def decode(raw: bytes, chunk: int) -> tuple[list, SSEDecoder]:
    decoder = SSEDecoder()
    frames = []
    for i in range(0, len(raw), chunk):
        frames.extend(decoder.feed(raw[i:i + chunk]))
    return frames, decoder


STREAM = ("\ufeffretry: 5000\r\n\r\n"
          ": keep-alive comment\n"
          "id: evt_1\nevent: asset.created\ndata: {\"a\":\ndata:  1}\n ignored: field\r\n\r\n"
          "event: scan.progress\rdata: {\"scan_id\": \"scn_1\", \"progress\": 40}\r\r"
          "event: orphan-without-data\n\n"
          "id: bad\0id\ndata: caf\u00e9 \u2028 \u00fc\n\n"
          "retry: soon\nid\ndata\n\n"
          "data: unterminated").encode()


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 10_000])
def test_decoder_handles_any_chunking(chunk):
    frames, decoder = decode(STREAM, chunk)
    assert [(f.event, f.id) for f in frames] == [("asset.created", "evt_1"), ("scan.progress", None),
                                                 ("message", None), ("message", "")]
    assert frames[0].data == '{"a":\n 1}'  # only one space after the colon is stripped
    assert json.loads(frames[1].data)["progress"] == 40
    assert frames[2].data == "caf\u00e9 \u2028 \u00fc"  # U+2028 is not a line break in event streams
    assert frames[3].data == ""
    assert decoder.retry == 5000  # "retry: soon" is ignored
    assert decoder.last_event_id == ""  # a bare `id` resets it; the NUL id was ignored


class SSEServer:
    """A loopback `/api/v1/events/stream`: each connection plays the next script, then closes abruptly."""

    def __init__(self, scripts: list[bytes]):
        self.scripts = scripts
        self.seen: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.seen.append({"last_event_id": self.headers.get("Last-Event-ID"), "path": self.path,
                                   "auth": self.headers.get("Authorization")})
                index = min(len(outer.seen), len(outer.scripts)) - 1
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(outer.scripts[index])
                self.wfile.flush()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def frame(event_id, name="asset.created", **data):
    envelope = {"id": event_id, "event": name, "timestamp": "2026-04-28T12:00:00.000Z", "workspace_id": "wsp_1",
                "actor": {"type": "system", "id": None, "name": "scanner"}, "data": data}
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps(envelope)}\n\n"


SCRIPTS = [
    ("retry: 25\n\n" + frame("evt_1") + frame(None, "scan.progress", progress=40)
     + 'event: heartbeat\ndata: {"timestamp": "2026-04-28T12:00:15.000Z"}\n\n' + frame("evt_2")
     + "id: evt_3\nevent: asset.created\ndata: {\"trunc").encode(),  # connection drops mid-frame
    (frame("evt_3") + frame("evt_4")).encode(),
    ('event: gap\ndata: {"requested": "evt_4", "oldest_available": "evt_9"}\n\n' + frame("evt_9")).encode(),
]


def test_stream_reconnects_and_resumes_after_the_last_event(sleeps):
    with SSEServer(SCRIPTS) as server:
        client = S4EClient(api_key="s4e_live_k", base_url=server.base_url)
        received = []
        with client.events.stream(events=["asset.*", "scan.progress"], asset_id="ast_1") as stream:
            for event in stream:
                received.append((event.event, event.id))
                if event.id == "evt_9":
                    break
        assert received == [("asset.created", "evt_1"), ("scan.progress", None), ("asset.created", "evt_2"),
                            ("asset.created", "evt_3"), ("asset.created", "evt_4"), ("gap", None),
                            ("asset.created", "evt_9")]
        assert [s["last_event_id"] for s in server.seen] == [None, "evt_2", "evt_4"]
        assert all(s["path"] == "/api/v1/events/stream?events=asset.%2A%2Cscan.progress&asset_id=ast_1"
                   for s in server.seen)
        assert server.seen[0]["auth"] == "Bearer s4e_live_k"
        assert sleeps == [0.025, 0.025]  # the server's `retry: 25` (ms) between reconnects
        assert stream.last_event_id == "evt_9"


def test_stream_can_start_from_a_saved_id_and_not_reconnect(sleeps):
    with SSEServer([(frame("evt_3") + frame("evt_4")).encode()]) as server:
        stream = S4EClient(api_key="k", base_url=server.base_url).events.stream(last_event_id="evt_2",
                                                                                reconnect=False)
        assert [e.id for e in stream] == ["evt_3", "evt_4"]
        assert [s["last_event_id"] for s in server.seen] == ["evt_2"]


def test_async_stream_resumes(sleeps):
    with SSEServer(SCRIPTS) as server:
        async def main():
            async with AsyncS4EClient(api_key="k", base_url=server.base_url) as client:
                ids = []
                async with client.events.stream() as stream:
                    async for event in stream:
                        ids.append(event.id)
                        if event.id == "evt_4":
                            break
                return ids

        assert asyncio.run(main()) == ["evt_1", None, "evt_2", "evt_3", "evt_4"]
        assert [s["last_event_id"] for s in server.seen] == [None, "evt_2"]


def test_stream_auth_failure_raises_without_reconnecting(sleeps):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(401, json={"error": {"code": "invalid_token", "message": "Invalid API key",
                                                   "details": None, "request_id": "req_2"}})

    client = S4EClient(api_key="bad", base_url="http://api.test/api/v1",
                       http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(AuthenticationError) as info:
        next(iter(client.events.stream()))
    assert info.value.code == "invalid_token" and len(calls) == 1 and sleeps == []
