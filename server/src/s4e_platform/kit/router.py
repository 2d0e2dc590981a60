"""APIRouter preset: strict query strings and documented error responses on every operation.

Body-related errors (413, 415) are added per operation by main._openapi, only where a request body exists."""

from __future__ import annotations

from fastapi import APIRouter

from s4e_platform.kit.routing import StrictRoute
from s4e_platform.kit.schemas import ErrorEnvelope

_ERR = {"model": ErrorEnvelope}
STANDARD_ERRORS = {
    400: {**_ERR, "description": "Malformed request, unknown or invalid query parameter"},
    401: {**_ERR, "description": "Missing or invalid credential"},
    403: {**_ERR, "description": "Authenticated but lacking the scope or role"},
    404: {**_ERR, "description": "Not found (or in another workspace)"},
    422: {**_ERR, "description": "Validation failed"},
    429: {**_ERR, "description": "Rate limited"},
}


def api_router(**kwargs) -> APIRouter:
    kwargs.setdefault("responses", {})
    kwargs["responses"] = {**STANDARD_ERRORS, **kwargs["responses"]}
    return APIRouter(route_class=StrictRoute, **kwargs)


def conflict(description: str = "Conflict with the current state") -> dict:
    return {409: {**_ERR, "description": description}}
