"""Loopback web servers started by the tests: Python's http.server serving a real directory (its generated
directory listing included), with the response headers, cookies, CORS and TRACE behaviour a test plants."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

INDEX = ('<!doctype html><html><head><title>Shop</title><link rel="stylesheet" href="/static/site.css">'
         '</head><body><script src="/static/app.js"></script><a href="https://elsewhere.example/x/y">x</a></body>'
         '</html>')


@dataclass
class SiteConfig:
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[str, ...] = ()
    server_header: str = "shop"
    cors: str = "none"  # none | reflect | reflect_credentials | wildcard_credentials
    trace: bool = False
    redirect_to: str | None = None  # answer every request with a 301 to this URL + path
    listing: bool = True  # False: directories without index.html answer 403
    requests: list[str] = field(default_factory=list)


def _handler(config: SiteConfig, root: Path):
    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def version_string(self) -> str:
            return config.server_header

        def log_message(self, *args) -> None:
            pass

        def end_headers(self) -> None:
            for name, value in config.headers:
                self.send_header(name, value)
            if self.path == "/":
                for cookie in config.cookies:
                    self.send_header("Set-Cookie", cookie)
            origin = self.headers.get("Origin")
            if origin and config.cors.startswith("reflect"):
                self.send_header("Access-Control-Allow-Origin", origin)
            if config.cors == "wildcard_credentials":
                self.send_header("Access-Control-Allow-Origin", "*")
            if config.cors in ("reflect_credentials", "wildcard_credentials"):
                self.send_header("Access-Control-Allow-Credentials", "true")
            super().end_headers()

        def do_GET(self) -> None:
            config.requests.append(f"GET {self.path}")
            if config.redirect_to:
                self.send_response(301)
                self.send_header("Location", config.redirect_to + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if not config.listing and self.path.endswith("/") and self.path != "/":
                self.send_error(403)
                return
            super().do_GET()

        def do_TRACE(self) -> None:
            config.requests.append(f"TRACE {self.path}")
            if not config.trace:
                self.send_error(405)
                return
            echo = (self.requestline + "\r\n" + str(self.headers)).encode("latin-1")
            self.send_response(200)
            self.send_header("Content-Type", "message/http")
            self.send_header("Content-Length", str(len(echo)))
            self.end_headers()
            self.wfile.write(echo)

    return Handler


class Site:
    def __init__(self, root: Path, config: SiteConfig, tls: ssl.SSLContext | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "index.html").write_text(INDEX)
        (root / "static").mkdir(exist_ok=True)
        (root / "static" / "app.js").write_text("console.log('app')")
        (root / "static" / "site.css").write_text("body{}")
        (root / "static" / "backup.sql").write_text("-- dump")
        self.config = config
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(config, root))
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
