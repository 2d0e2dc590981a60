"""The connect sweep: port lists, exact open sets on IPv4/IPv6, filtered ports, pacing, limits, no leaks."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import resource
import socket
import time

import pytest
from s4e_platform.scanners.portscan.sweep import Sweeper, format_ranges, parse_ports, raise_nofile_limit, sweep
from s4e_platform.scanners.portscan.top_ports import SERVICE_NAMES, TOP_100, TOP_1000

LOCAL = ipaddress.ip_address("127.0.0.1")


def _listeners(count: int, host: str = "127.0.0.1", family: int = socket.AF_INET) -> list[socket.socket]:
    out = []
    for _ in range(count):
        s = socket.socket(family)
        s.bind((host, 0))
        s.listen(64)
        out.append(s)
    return out


def _port(s: socket.socket) -> int:
    return s.getsockname()[1]


def test_port_specs():
    assert parse_ports("22,80,8000-8003") == (22, 80, 8000, 8001, 8002, 8003)
    assert parse_ports([443, "10-12", 443]) == (443, 10, 11, 12)
    assert parse_ports(" 22 , 25 - 26 ") == (22, 25, 26)
    assert parse_ports("top-100") == TOP_100 and parse_ports("TOP-1000") == TOP_1000
    assert parse_ports("all") == tuple(range(1, 65536))
    for bad in ("", "0", "65536", "80-79", "a", "1-2-3", "22;23", [True], [1.5], 5, None, "-5"):
        with pytest.raises(ValueError):
            parse_ports(bad)
    with pytest.raises(ValueError, match="at most"):
        parse_ports(",".join(["80"] * 5000))
    assert format_ranges([5, 1, 2, 3, 80, 81, 443]) == "1-3,5,80-81,443"


def test_top_port_lists():
    assert len(TOP_1000) == len(set(TOP_1000)) == 1000
    assert TOP_100 == TOP_1000[:100]
    assert TOP_1000[:3] == (80, 443, 22)
    assert {21, 22, 23, 25, 53, 80, 443, 445, 3306, 3389, 5432, 6379, 8080, 27017} <= set(TOP_100)
    assert all(1 <= p <= 65535 for p in TOP_1000)
    assert SERVICE_NAMES[6379] == "redis" and SERVICE_NAMES[5432] == "postgresql"


def test_open_set_is_exact(closed_ports):
    listeners = _listeners(5)
    planted = sorted(_port(s) for s in listeners)
    try:
        result = asyncio.run(sweep([LOCAL], sorted(set(planted) | set(closed_ports)), timeout=1.0))
    finally:
        for s in listeners:
            s.close()
    assert sorted(result.open) == [("127.0.0.1", p) for p in planted]
    assert result.closed == len(closed_ports)
    assert result.attempts == len(planted) + len(closed_ports) and not result.filtered and not result.unreachable


def test_ipv6_loopback():
    try:
        listener = _listeners(1, "::1", socket.AF_INET6)[0]
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    holder = socket.socket(socket.AF_INET6)
    holder.bind(("::1", 0))  # closed: bound, not listening
    port = _port(listener)
    try:
        result = asyncio.run(sweep([ipaddress.ip_address("::1")], [port, holder.getsockname()[1]]))
    finally:
        listener.close()
        holder.close()
    assert result.open == [("::1", port)] and result.closed == 1


def test_several_addresses_are_kept_apart():
    only_second = _listeners(1, "127.0.0.2")[0]
    both = [_listeners(1, "127.0.0.1")[0]]
    try:
        ports = [_port(only_second), _port(both[0])]
        targets = [LOCAL, ipaddress.ip_address("127.0.0.2")]
        result = asyncio.run(sweep(targets, ports))
    finally:
        only_second.close()
        both[0].close()
    assert sorted(result.open) == sorted([("127.0.0.2", ports[0]), ("127.0.0.1", ports[1])])
    assert result.closed == 2


def test_silent_port_is_retried_then_filtered():
    """A listener whose accept queue is full drops SYNs: the connect never completes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = _port(listener)
    fillers = []
    try:
        for _ in range(4):  # fill the accept queue (nobody accepts)
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(listener.getsockname())
            fillers.append(c)
        time.sleep(0.1)
        started = time.monotonic()
        result = asyncio.run(sweep([LOCAL], [port], timeout=0.2))
        elapsed = time.monotonic() - started
    finally:
        for c in fillers:
            c.close()
        listener.close()
    assert result.filtered == [("127.0.0.1", port)]
    assert result.open == [] and result.retried == 1
    assert 0.35 < elapsed < 2.0  # two 0.2 s attempts, not the kernel's minute-long SYN retries


def test_self_connect_is_not_an_open_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.connect(s.getsockname())  # TCP simultaneous open with itself
    sweeper = Sweeper()
    sweeper._connected(s, "127.0.0.1", s.getsockname()[1])
    assert sweeper.result.open == [] and sweeper.result.closed == 1


def test_rate_limit_paces_new_connections(closed_ports):
    started = time.monotonic()
    result = asyncio.run(sweep([LOCAL], closed_ports * 5, rate=100.0))  # 100 attempts, burst of 5
    elapsed = time.monotonic() - started
    assert result.attempts == 100
    assert elapsed >= 0.9


def test_concurrency_is_bounded_by_the_descriptor_limit():
    soft = raise_nofile_limit()
    assert soft == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert soft == resource.getrlimit(resource.RLIMIT_NOFILE)[1] or soft >= 1 << 20
    assert Sweeper(concurrency=10_000_000).concurrency < soft
    assert Sweeper(concurrency=3).concurrency == 3


def test_no_descriptor_leak(closed_ports):
    before = len(os.listdir("/proc/self/fd"))
    listeners = _listeners(3)
    try:
        asyncio.run(sweep([LOCAL], [_port(s) for s in listeners] + closed_ports + list(range(1, 200))))
    finally:
        for s in listeners:
            s.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_cancelled_sweep_closes_its_sockets(closed_ports):
    before = len(os.listdir("/proc/self/fd"))
    sweeper = Sweeper(rate=200.0)

    async def run_then_cancel():
        task = asyncio.ensure_future(sweeper.run([LOCAL], closed_ports * 100))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    started = time.monotonic()
    asyncio.run(run_then_cancel())
    assert time.monotonic() - started < 2.0  # the whole sweep would take 10 s
    assert 0 < sweeper.result.attempts < len(closed_ports) * 100
    assert len(os.listdir("/proc/self/fd")) == before
