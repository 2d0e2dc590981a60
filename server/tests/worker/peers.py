"""A Redis-like loopback peer for the runtime tests: the flaw (no password) can be fixed and the answer delayed
(a slow target keeps a task `running` long enough to cancel it, time it out or kill its worker)."""

from __future__ import annotations

import asyncio

from tests.scanners.portscan.servers import LoopbackServers
from tests.scanners.portscan.servers_data import redis_no_auth, redis_with_password


class RedisPeer:
    def __init__(self) -> None:
        self.servers = LoopbackServers()
        self.password_required = False
        self.delay = 0.0  # seconds before the first answer of each connection
        self.port = self.servers.start(self._handle)

    async def _handle(self, reader, writer) -> None:
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            await (redis_with_password if self.password_required else redis_no_auth)(reader, writer)
        except asyncio.CancelledError:
            return  # the peer is closing

    def scan_options(self, **extra) -> dict:
        """Scan options that probe only this peer's port, quickly."""
        return {"ports": str(self.port), "probe_timeout_ms": 60000 if self.delay else 2000, "rate_limit": 1000,
                **extra}

    def close(self) -> None:
        self.servers.close()
