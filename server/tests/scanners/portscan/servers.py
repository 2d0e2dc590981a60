"""Loopback peers for the port scanner tests: an asyncio loop in a background thread hosting small servers on
127.0.0.1 (or ::1) port 0, each speaking just enough of its protocol, the way the real servers answer the first
messages (byte layouts from the protocol specifications, not from our probe code)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Awaitable, Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class LoopbackServers:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers: list[asyncio.AbstractServer] = []
        self.connections: dict[int, int] = {}  # port -> connections accepted
        self.received: dict[int, list[bytes]] = {}  # port -> bytes the server read, per connection

    def start(self, handler: Handler, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> int:
        holder: dict[str, int] = {}

        async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            port = holder["port"]
            self.connections[port] = self.connections.get(port, 0) + 1
            log = self.received.setdefault(port, [])
            try:
                await asyncio.wait_for(handler(_Recorder(reader, log), writer), 15)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ssl.SSLError):
                pass
            finally:
                writer.close()

        async def make() -> asyncio.AbstractServer:
            return await asyncio.start_server(counted, host, 0, ssl=tls)

        server = asyncio.run_coroutine_threadsafe(make(), self.loop).result(5)
        holder["port"] = server.sockets[0].getsockname()[1]
        self.servers.append(server)
        return holder["port"]

    def close(self) -> None:
        async def shutdown() -> None:
            for server in self.servers:
                server.close()
            handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in handlers:  # peers still talking (tar pits) end with the test module
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class _Recorder:
    """StreamReader wrapper keeping what the server read, so tests can check what our probes sent."""

    def __init__(self, reader: asyncio.StreamReader, log: list[bytes]) -> None:
        self.reader = reader
        self.log = log
        self.log.append(b"")

    def _keep(self, data: bytes) -> bytes:
        self.log[-1] += data
        return data

    async def read(self, n: int = -1) -> bytes:
        return self._keep(await self.reader.read(n))

    async def readline(self) -> bytes:
        return self._keep(await self.reader.readline())

    async def readexactly(self, n: int) -> bytes:
        return self._keep(await self.reader.readexactly(n))

    async def readuntil(self, separator: bytes) -> bytes:
        return self._keep(await self.reader.readuntil(separator))


def self_signed_context(common_name: str = "s4e-test.local") -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    import os
    import tempfile

    directory = tempfile.mkdtemp(prefix="s4e-tls-")
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


# --- server-first text protocols -------------------------------------------------------------------------------

async def banner(reader, writer) -> None:
    writer.write(b"S4E-TEST service ready (build 7)\r\n")
    await writer.drain()
    await reader.read(100)


async def ssh(reader, writer) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n")
    await writer.drain()
    await reader.read(100)


async def ftp_anonymous(reader, writer) -> None:
    """vsftpd-like: anonymous allowed, no AUTH TLS."""
    writer.write(b"220 (vsFTPd 3.0.5)\r\n")
    user = None
    while True:
        line = (await reader.readline()).strip()
        if not line:
            return
        verb, _, arg = line.partition(b" ")
        verb = verb.upper()
        if verb == b"FEAT":
            writer.write(b"211-Features:\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n UTF8\r\n211 End\r\n")
        elif verb == b"USER":
            user = arg
            writer.write(b"331 Please specify the password.\r\n")
        elif verb == b"PASS":
            ok = user == b"anonymous"
            writer.write(b"230 Login successful.\r\n" if ok else b"530 Login incorrect.\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 Goodbye.\r\n")
            await writer.drain()
            return
        else:
            writer.write(b"500 Unknown command.\r\n")
        await writer.drain()


async def smtp_plain(reader, writer) -> None:
    """An MTA offering no STARTTLS."""
    writer.write(b"220-mail.s4e-test.local ESMTP Postfix (Debian/GNU)\r\n220 mail.s4e-test.local ready\r\n")
    while True:
        line = (await reader.readline()).strip().upper()
        if not line:
            return
        if line.startswith(b"EHLO"):
            writer.write(b"250-mail.s4e-test.local\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n")
        elif line == b"QUIT":
            writer.write(b"221 2.0.0 Bye\r\n")
            await writer.drain()
            return
        else:
            writer.write(b"502 5.5.2 Error: command not recognized\r\n")
        await writer.drain()


async def telnet(reader, writer) -> None:
    # IAC WILL ECHO, IAC WILL SUPPRESS-GO-AHEAD, IAC DO TERMINAL-TYPE, IAC DO NAWS
    writer.write(bytes([255, 251, 1, 255, 251, 3, 255, 253, 24, 255, 253, 31]))
    await writer.drain()
    await reader.readexactly(12)  # the client's four answers
    writer.write(b"\r\nDebian GNU/Linux 12\r\ns4e-router login: ")
    await writer.drain()
    await reader.read(100)


async def vnc_no_auth(reader, writer) -> None:
    writer.write(b"RFB 003.008\n")
    await writer.drain()
    await reader.readexactly(12)
    writer.write(b"\x01\x01")  # one security type: 1 = None
    await writer.drain()
    await reader.read(10)


async def tarpit(reader, writer) -> None:
    await asyncio.sleep(30)
