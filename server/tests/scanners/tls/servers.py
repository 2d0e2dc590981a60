"""Loopback TLS servers started by the tests: Python's `ssl` (OpenSSL) with the planted configuration, answering
one HTTP request per connection; plus a legacy-server stand-in for what OpenSSL 3 can no longer serve."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import warnings
from pathlib import Path


class TLSServer:
    """Serves `chain` (leaf first) with `key`; `headers` are sent on every HTTP response."""

    def __init__(self, directory: Path, chain: list[bytes], key_pem: bytes, *, versions: tuple | None = None,
                 ciphers: str | None = None, headers: tuple[str, ...] = (), http: bool = True) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if ciphers is not None:  # before loading: the security level also judges the certificate's key
            self.ctx.set_ciphers(ciphers)
        if versions is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                self.ctx.minimum_version, self.ctx.maximum_version = versions
        index = len(list(directory.glob("chain*.pem")))
        chain_path, key_path = directory / f"chain{index}.pem", directory / f"key{index}.pem"
        chain_path.write_bytes(b"".join(chain))
        key_path.write_bytes(key_pem)
        self.ctx.load_cert_chain(chain_path, key_path)
        self.headers = headers
        self.http = http
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                self.handshakes += 1
                if not self.http:
                    tls.recv(1)
                    return
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                extra = "".join(f"{h}\r\n" for h in self.headers)
                tls.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n{extra}\r\nok".encode())
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _records(conn: socket.socket) -> bytes:
    """The ClientHello handshake body (one record is enough for our hellos)."""
    header = b""
    while len(header) < 5:
        chunk = conn.recv(5 - len(header))
        if not chunk:
            raise ConnectionError
        header += chunk
    assert header[0] == 22, "not a handshake record"
    length = struct.unpack("!H", header[3:5])[0]
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ConnectionError
        body += chunk
    assert body[0] == 1, "not a ClientHello"
    return body[4:]


def _offer(hello: bytes) -> tuple[int, list[int]]:
    """(highest version offered, suites) of a ClientHello body."""
    version = struct.unpack("!H", hello[:2])[0]
    pos = 34 + 1 + hello[34]
    count = struct.unpack("!H", hello[pos:pos + 2])[0]
    suites = [struct.unpack("!H", hello[pos + 2 + i:pos + 4 + i])[0] for i in range(0, count, 2)]
    pos += 2 + count
    pos += 1 + hello[pos]
    if pos + 2 <= len(hello):
        end = pos + 2 + struct.unpack("!H", hello[pos:pos + 2])[0]
        pos += 2
        while pos + 4 <= end:
            kind, size = struct.unpack("!HH", hello[pos:pos + 4])
            if kind == 43:  # supported_versions: this server knows nothing above what it serves anyway
                version = max(struct.unpack("!H", hello[pos + 5 + i:pos + 7 + i])[0] for i in range(0, size - 1, 2))
            pos += 4 + size
    return version, suites


class LegacyServer:
    """A server of the SSL 3.0 / TLS 1.0 era (RC4 and 3DES only), as OpenSSL 3 can no longer be configured to be.
    It answers a ClientHello exactly as such a server's first flight does: ServerHello with the version and the
    first mutually supported suite in its own preference order, Certificate, ServerHelloDone; or a fatal
    handshake_failure / protocol_version alert. Nothing after the first flight is implemented."""

    def __init__(self, certificate_der: bytes, versions=(0x0300, 0x0301), suites=(0x0005, 0x000A)) -> None:
        self.certificate = certificate_der
        self.versions, self.suites = versions, suites
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            highest, offered = _offer(_records(conn))
            usable = [v for v in self.versions if v <= highest]  # negotiate down, as real servers do
            if not usable:
                conn.sendall(bytes([21, 3, 1, 0, 2, 2, 70]))  # fatal protocol_version
                return
            version = max(usable)
            chosen = next((s for s in self.suites if s in offered), None)
            if chosen is None:
                conn.sendall(bytes([21, 3, 1, 0, 2, 2, 40]))  # fatal handshake_failure
                return
            hello = struct.pack("!H", version) + bytes(32) + b"\x00" + struct.pack("!HB", chosen, 0)
            cert = len(self.certificate).to_bytes(3, "big") + self.certificate
            messages = (b"\x02" + len(hello).to_bytes(3, "big") + hello
                        + b"\x0b" + (len(cert) + 3).to_bytes(3, "big") + len(cert).to_bytes(3, "big") + cert
                        + b"\x0e\x00\x00\x00")
            conn.sendall(struct.pack("!BHH", 22, version, len(messages)) + messages)
            conn.recv(1)
        except (OSError, AssertionError, ConnectionError, struct.error):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()
