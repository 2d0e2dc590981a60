"""One include_router per domain under /api/v1."""

from __future__ import annotations

from fastapi import FastAPI

API_PREFIX = "/api/v1"


def include_routers(app: FastAPI) -> None:
    from s4e_platform import health
    from s4e_platform.asset import endpoints as asset
    from s4e_platform.event import endpoints as event

    app.include_router(health.router)
    app.include_router(health.meta_router, prefix=API_PREFIX)
    app.include_router(asset.router, prefix=API_PREFIX)
    app.include_router(event.router, prefix=API_PREFIX)
