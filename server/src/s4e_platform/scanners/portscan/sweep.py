"""Non-blocking TCP connect sweep on the asyncio event loop.

Each attempt is a non-blocking `connect()`; in-flight attempts are bounded (`concurrency`) and registered with the
loop as writers, each with a deadline. Details that make it fast and correct:

- The verdict is collected with a second `connect()` call right away. On loopback (and any path where the
  kernel answers inside the first call) the RST or SYN-ACK has already been processed, so `ECONNREFUSED` or
  success comes back without ever touching the selector; elsewhere the call says `EALREADY` and the attempt waits
  on the loop. That same call resets a refused socket, so it is reused for the next port (no socket()/close()).
- Timeouts adapt like TCP's RTO (srtt + 4 x rttvar, never above the configured timeout); attempts that time out
  are retried once with the full configured timeout, and only ports silent twice are `filtered`.
- Self-connect guard: connecting to a local port can land on our own ephemeral port (TCP simultaneous open);
  such a "connection" is not an open port.
- Connected sockets are closed with an RST (SO_LINGER 0) so large sweeps leave no TIME_WAIT behind.
- The RLIMIT_NOFILE soft limit is raised to the hard limit; concurrency never exceeds what it allows.

Cancellation is asyncio cancellation: the loop yields at least every 256 attempts, and every socket is closed on
the way out.
"""

from __future__ import annotations

import asyncio
import errno
import heapq
import ipaddress
import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from s4e_platform.scanners.portscan.top_ports import TOP_100, TOP_1000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SOCK_TYPE = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
_IN_PROGRESS = frozenset({errno.EINPROGRESS, errno.EALREADY})
_CONNECTED = frozenset({0, errno.EISCONN})
# Local resource shortages: try the same port again once something in flight finished.
_LOCAL_SHORTAGE = frozenset({errno.EADDRNOTAVAIL, errno.EAGAIN, errno.ENOBUFS, errno.ENOMEM})
_NO_FDS = frozenset({errno.EMFILE, errno.ENFILE})
_LINGER_RST = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # struct linger {l_onoff=1, l_linger=0}
_YIELD_EVERY = 256
_FD_RESERVE = 128  # descriptors left for the event loop, probes, logging and the database
_MAX_PORT_ENTRIES = 4096
_RANGE = re.compile(r"\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?")


def parse_ports(spec: str | Sequence[int | str]) -> tuple[int, ...]:
    """`top-100`, `top-1000`, `all`, `"22,80,8000-8100"` or a list of ports / `"a-b"` ranges -> ordered unique
    ports. Raises ValueError with a message fit for a 422."""
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key in ("top-100", "top-1000", "all"):
            return {"top-100": TOP_100, "top-1000": TOP_1000, "all": tuple(range(1, 65536))}[key]
        parts: list[int | str] = key.split(",")
    elif isinstance(spec, (list, tuple)):
        parts = list(spec)
    else:
        raise ValueError("ports must be top-100, top-1000, all, a list like \"22,80,8000-8100\" or an array")
    if len(parts) > _MAX_PORT_ENTRIES:
        raise ValueError(f"at most {_MAX_PORT_ENTRIES} port entries")
    out: dict[int, None] = {}
    for part in parts:
        low, high = _port_range(part)
        out.update(dict.fromkeys(range(low, high + 1)))
    return tuple(out)


def _port_range(part: int | str) -> tuple[int, int]:
    if isinstance(part, bool) or not isinstance(part, (int, str)):
        raise ValueError("each port entry must be a number or a \"low-high\" range")
    if isinstance(part, int):
        low = high = part
    else:
        match = _RANGE.fullmatch(part)
        if not match:
            raise ValueError(f"invalid port entry {part[:20]!r}: use a number or a \"low-high\" range")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
    if not 1 <= low <= high <= 65535:
        raise ValueError(f"invalid port range {low}-{high}: ports are 1-65535, low <= high")
    return low, high


def format_ranges(ports: Sequence[int]) -> str:
    """Compact form of a port set: `1-1024,8080`."""
    out, values = [], sorted(set(ports))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        out.append(str(values[i]) if i == j else f"{values[i]}-{values[j]}")
        i = j + 1
    return ",".join(out)


def raise_nofile_limit() -> int:
    """Raise the RLIMIT_NOFILE soft limit to the hard limit; return the soft limit in force."""
    try:
        import resource
    except ImportError:  # not on POSIX: keep the platform default
        return 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def _fds_in_use() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 64


@dataclass
class SweepResult:
    """`open`/`filtered`/`unreachable` are (ip, port) pairs; `closed` counts refused attempts."""

    open: list[tuple[str, int]] = field(default_factory=list)
    filtered: list[tuple[str, int]] = field(default_factory=list)
    unreachable: list[tuple[str, int]] = field(default_factory=list)
    closed: int = 0
    attempts: int = 0
    retried: int = 0
    elapsed: float = 0.0


@dataclass
class _Attempt:
    sock: socket.socket
    ip: str
    family: int
    port: int
    started: float
    seq: int


class _Rto:
    """RFC 6298 smoothed RTT; the timeout only shrinks below the configured one once enough answers came back."""

    def __init__(self, ceiling: float) -> None:
        self.ceiling = ceiling
        self.floor = min(ceiling, 0.25)
        self.srtt = 0.0
        self.rttvar = 0.0
        self.samples = 0

    def sample(self, rtt: float) -> None:
        if self.samples == 0:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.samples += 1

    def timeout(self) -> float:
        if self.samples < 8:
            return self.ceiling
        return min(self.ceiling, max(self.floor, self.srtt + 4 * self.rttvar))


class Sweeper:
    """One sweep over addresses x ports. `result` holds what was found so far, also after a cancellation."""

    def __init__(self, *, concurrency: int = 1024, timeout: float = 1.0, rate: float | None = None,
                 on_progress: Callable[[int, int], None] | None = None) -> None:
        limit = raise_nofile_limit() - _fds_in_use() - _FD_RESERVE
        self.concurrency = max(1, min(concurrency, limit))
        self.timeout = timeout
        self.rate = rate
        self.on_progress = on_progress
        self.result = SweepResult()
        self._rto = _Rto(timeout)
        self._pending: dict[int, _Attempt] = {}
        self._deadlines: list[tuple[float, int, int]] = []
        self._spare: dict[int, socket.socket] = {}
        self._timed_out: list[tuple[str, int, int]] = []
        self._seq = 0
        self._waiter: asyncio.Future | None = None
        self._tokens = 0.0
        self._refill_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, addresses: Sequence[IPAddress], ports: Sequence[int]) -> SweepResult:
        self._loop = asyncio.get_running_loop()
        started = time.monotonic()
        targets = [(str(a), socket.AF_INET6 if a.version == 6 else socket.AF_INET) for a in addresses]
        total = len(targets) * len(ports)
        try:
            # Port-major order spreads a multi-host sweep's load across the hosts.
            await self._pass(((ip, fam, port) for port in ports for ip, fam in targets), total, adaptive=True)
            retry, self._timed_out = self._timed_out, []
            self.result.retried = len(retry)
            await self._pass(iter(retry), total, adaptive=False)
            self.result.filtered.extend((ip, port) for ip, _fam, port in self._timed_out)
        finally:
            self._close_all()
            self.result.elapsed = time.monotonic() - started
        return self.result

    async def _pass(self, items, total: int, *, adaptive: bool) -> None:
        since_yield = 0
        for ip, family, port in items:
            while len(self._pending) >= self.concurrency:
                await self._wait()
            if self.rate:
                await self._pace()
            while not self._start(ip, family, port, adaptive):
                await self._wait()  # out of local ports or descriptors: let in-flight attempts finish
            since_yield += 1
            if since_yield >= _YIELD_EVERY:
                since_yield = 0
                await asyncio.sleep(0)  # run completion callbacks; a cancellation lands here
                self._reap()
                if self.on_progress:
                    self.on_progress(self.result.attempts, total)
        while self._pending:
            await self._wait()
        if self.on_progress:
            self.on_progress(self.result.attempts, total)

    def _start(self, ip: str, family: int, port: int, adaptive: bool) -> bool:
        """Begin one attempt; False when a local shortage means it must be tried again later."""
        sock = self._spare.pop(family, None)
        if sock is None:
            try:
                sock = socket.socket(family, _SOCK_TYPE)
            except OSError as exc:
                if exc.errno in _NO_FDS and self._pending:
                    self.concurrency = max(1, len(self._pending))
                    return False
                raise
            if not _SOCK_TYPE & getattr(socket, "SOCK_NONBLOCK", 0):
                sock.setblocking(False)
        address = (ip, port)
        err = sock.connect_ex(address)
        if err in _IN_PROGRESS:
            err = sock.connect_ex(address)
        if err in _LOCAL_SHORTAGE and self._pending:
            sock.close()
            return False
        self.result.attempts += 1
        if err == errno.ECONNREFUSED:
            self.result.closed += 1
            self._spare[family] = sock  # the refused connect() left it unconnected and reusable
        elif err in _CONNECTED:
            self._connected(sock, ip, port)
        elif err in _IN_PROGRESS:
            self._seq += 1
            now = time.monotonic()
            fd = sock.fileno()
            self._pending[fd] = _Attempt(sock, ip, family, port, now, self._seq)
            wait = self._rto.timeout() if adaptive else self.timeout
            heapq.heappush(self._deadlines, (now + wait, self._seq, fd))
            self._loop.add_writer(fd, self._on_writable, fd)
        else:
            sock.close()
            self.result.unreachable.append((ip, port))
        return True

    def _on_writable(self, fd: int) -> None:
        attempt = self._pending.pop(fd, None)
        if attempt is None:
            return
        self._loop.remove_writer(fd)
        self._rto.sample(time.monotonic() - attempt.started)
        err = attempt.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            self._connected(attempt.sock, attempt.ip, attempt.port)
        else:
            attempt.sock.close()
            if err == errno.ECONNREFUSED:
                self.result.closed += 1
            else:
                self.result.unreachable.append((attempt.ip, attempt.port))
        self._wake()

    def _connected(self, sock: socket.socket, ip: str, port: int) -> None:
        try:
            is_self = sock.getsockname()[:2] == sock.getpeername()[:2]
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
        except OSError:  # reset between connect and now: the port answered, treat it as open
            is_self = False
        sock.close()
        if is_self:
            self.result.closed += 1
        else:
            self.result.open.append((ip, port))

    def _reap(self) -> None:
        now = time.monotonic()
        while self._deadlines and self._deadlines[0][0] <= now:
            _deadline, seq, fd = heapq.heappop(self._deadlines)
            attempt = self._pending.get(fd)
            if attempt is None or attempt.seq != seq:
                continue  # finished earlier (and the descriptor number may have been reused)
            del self._pending[fd]
            self._loop.remove_writer(fd)
            attempt.sock.close()
            self._timed_out.append((attempt.ip, attempt.family, attempt.port))

    async def _wait(self) -> None:
        """Sleep until an attempt finishes or the earliest deadline passes."""
        self._reap()
        if not self._pending:
            return
        deadline = self._next_deadline()
        delay = max(0.001, deadline - time.monotonic()) if deadline is not None else 0.05
        self._waiter = self._loop.create_future()
        handle = self._loop.call_later(delay, self._wake)
        try:
            await self._waiter
        finally:
            handle.cancel()
            self._waiter = None
        self._reap()

    def _next_deadline(self) -> float | None:
        while self._deadlines:
            deadline, seq, fd = self._deadlines[0]
            attempt = self._pending.get(fd)
            if attempt is not None and attempt.seq == seq:
                return deadline
            heapq.heappop(self._deadlines)  # that attempt already finished
        return None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _pace(self) -> None:
        """Token bucket: at most `rate` new connections per second, bursts of 1/20 s worth."""
        burst = max(1.0, self.rate / 20)
        while True:
            now = time.monotonic()
            self._tokens = min(burst, self._tokens + (now - self._refill_at) * self.rate)
            self._refill_at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self._tokens) / self.rate)

    def _close_all(self) -> None:
        for fd, attempt in self._pending.items():
            self._loop.remove_writer(fd)
            attempt.sock.close()
        self._pending.clear()
        self._deadlines.clear()
        for sock in self._spare.values():
            sock.close()
        self._spare.clear()


async def sweep(addresses: Sequence[IPAddress], ports: Sequence[int], *, concurrency: int = 1024,
                timeout: float = 1.0, rate: float | None = None) -> SweepResult:
    """Convenience wrapper: one sweep, its result."""
    return await Sweeper(concurrency=concurrency, timeout=timeout, rate=rate).run(addresses, ports)
