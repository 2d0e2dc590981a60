"""Liveness, readiness and meta (api.md 2.13)."""

from __future__ import annotations

import socket
from typing import Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from s4e_platform import __version__
from s4e_platform.auth.dependencies import AnyPrincipal, public
from s4e_platform.config import get_settings
from s4e_platform.kit.router import api_router
from s4e_platform.kit.routing import StrictRoute
from s4e_platform.kit.schemas import Envelope

# Probes answer without credentials (load balancers, orchestrators); not enveloped (api.md 2.13).
router = APIRouter(route_class=StrictRoute, tags=["health"], dependencies=[Depends(public)])
meta_router = api_router(tags=["meta"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


class Meta(BaseModel):
    version: str
    mode: Literal["embedded", "scale_out"]
    features: dict[str, bool]


@router.get("/healthz", response_model=Health, operation_id="healthz")
def healthz():
    """Liveness: the process is up."""
    return {"status": "ok"}


def _tcp_reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def readiness_checks() -> dict[str, str]:
    from s4e_platform.db.migrate import is_current
    from s4e_platform.db.session import get_engine

    settings = get_settings()
    checks: dict[str, str] = {}
    try:
        engine = get_engine()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if is_current(engine) else "pending"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if settings.redis_url:
        try:
            import redis

            redis.Redis.from_url(settings.redis_url, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    if settings.broker_url:
        checks["broker"] = "ok" if _tcp_reachable(settings.broker_url, 5672) else "error: unreachable"
    return checks


@router.get("/readyz", response_model=Readiness, operation_id="readyz",
            responses={503: {"model": Readiness, "description": "A dependency is not ready"}})
def readyz():
    """Readiness: database reachable, migrations at head, Redis/broker reachable when configured."""
    checks = readiness_checks()
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


@meta_router.get("/meta", response_model=Envelope[Meta], operation_id="get_meta")
def get_meta(principal: AnyPrincipal):
    """Server version, mode and optional features."""
    settings = get_settings()
    return {"data": {"version": __version__, "mode": settings.mode,
                     "features": {"pdf": False, "sslyze": False, "redis": bool(settings.redis_url),
                                  "broker": bool(settings.broker_url)}}, "meta": {}}
