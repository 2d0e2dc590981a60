"""Bulk recursive lookups for subdomain discovery: many queries in flight over one connected UDP socket per
resolver, answers matched by query id and question.

dnspython's asyncio API opens a socket per query, which made resolving 5,000-50,000 names cost about three
times the CPU of the queries themselves; this path keeps dnspython for building and parsing messages only.
A truncated answer is re-asked through the full resolver (TCP); resolvers that are not plain DNS over UDP
(DoH, DoT) make `open_bulk` return None and discovery uses the full resolver throughout.
"""

from __future__ import annotations

import asyncio
import secrets

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype

from s4e_platform.scanners.dns.client import Dns, Lookup, text_name

RETRIES = 2  # re-sends after a timeout, each to the next resolver


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: BulkResolver, index: int) -> None:
        self.owner, self.index = owner, index

    def datagram_received(self, data: bytes, addr) -> None:
        self.owner._received(self.index, data)

    def error_received(self, exc: Exception) -> None:
        self.owner._failed(self.index, exc)


class BulkResolver:
    def __init__(self, client: Dns, servers: list[tuple[str, int]]) -> None:
        self.client = client
        self.servers = servers
        self._transports: list[asyncio.DatagramTransport] = []
        self._pending: dict[tuple[int, int], tuple[dns.message.Message, asyncio.Future]] = {}
        self._next = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for index, (address, port) in enumerate(self.servers):
            transport, _ = await loop.create_datagram_endpoint(lambda i=index: _Protocol(self, i),
                                                               remote_addr=(address, port))
            self._transports.append(transport)

    def close(self) -> None:
        for transport in self._transports:
            transport.close()
        for _query, future in self._pending.values():
            future.cancel()
        self._pending.clear()

    def _failed(self, index: int, exc: Exception) -> None:
        """An ICMP error (port unreachable ...) on a connected socket names no query: every query in flight to
        that resolver is retried on the next one rather than waiting for its timeout."""
        for (server, _qid), (_query, future) in list(self._pending.items()):
            if server == index and not future.done():
                future.set_exception(OSError(str(exc) or type(exc).__name__))

    def _received(self, index: int, data: bytes) -> None:
        if len(data) < 12:
            return
        entry = self._pending.get((index, int.from_bytes(data[:2], "big")))
        if entry is None or entry[1].done():
            return
        query, future = entry
        try:
            response = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return  # garbage cannot complete a query; the retry timer still runs
        if query.is_response(response):  # id and question must match: a stray packet is ignored
            future.set_result(response)

    async def _ask(self, name: str, rdtype: str) -> dns.message.Message | None:
        for _attempt in range(RETRIES + 1):
            index = self._next = (self._next + 1) % len(self.servers)
            query = dns.message.make_query(name, rdtype)
            query.id = secrets.randbelow(65536)
            while (index, query.id) in self._pending:
                query.id = secrets.randbelow(65536)
            future = asyncio.get_running_loop().create_future()
            self._pending[(index, query.id)] = (query, future)
            try:
                self._transports[index].sendto(query.to_wire())
                return await asyncio.wait_for(future, self.client.config.timeout)
            except (TimeoutError, OSError):
                continue
            finally:
                self._pending.pop((index, query.id), None)
        return None

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        try:
            response = await self._ask(name, rdtype)
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            return Lookup(name, rdtype, "error", error=str(exc) or type(exc).__name__)
        if response is None:
            return Lookup(name, rdtype, "error", error="no answer from the resolvers")
        if response.flags & dns.flags.TC:
            return await self.client.lookup(name, rdtype)
        rcode = response.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return Lookup(name, rdtype, "error", error=dns.rcode.to_text(rcode))
        try:
            chain = response.resolve_chaining()
        except dns.exception.DNSException as exc:
            return Lookup(name, rdtype, "error", error=str(exc))
        canonical = text_name(chain.canonical_name)
        canonical = canonical if canonical != name else None
        if rcode == dns.rcode.NXDOMAIN:
            return Lookup(name, rdtype, "nxdomain", canonical=canonical)
        if chain.answer is None:
            return Lookup(name, rdtype, "nodata", canonical=canonical)
        return Lookup(name, rdtype, "ok", [r.to_text() for r in chain.answer], chain.answer, canonical)

    async def addresses(self, name: str) -> tuple[list[str], Lookup]:
        """Like `Dns.addresses(both=False)`: AAAA only when the name has no A record."""
        first = await self.lookup(name, "A")
        if first.status in ("nxdomain", "error") or first.records:
            return first.records, first
        second = await self.lookup(name, "AAAA")
        return second.records, first


async def open_bulk(client: Dns) -> BulkResolver | None:
    servers = []
    for server in client.resolver.nameservers:
        if isinstance(server, str):
            servers.append((server, client.resolver.port))
        elif isinstance(server, dns.nameserver.Do53Nameserver):
            servers.append((server.address, server.port))
        else:
            return None
    if not servers:
        return None
    bulk = BulkResolver(client, servers)
    try:
        await bulk.start()
    except OSError:
        bulk.close()
        return None
    return bulk
