"""Route class enforcing api.md 1.1/1.8 on query strings: unknown or repeated parameters are a 400."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from s4e_platform.errors import BadRequest

# Accepted everywhere: the SSE/browser token and cache-busting are handled by their endpoints.
_ALWAYS_ALLOWED: set[str] = set()


def _query_names(dependant) -> set[str]:
    names: set[str] = set()
    stack = [dependant]
    while stack:
        d = stack.pop()
        names.update(p.alias for p in d.query_params)
        stack.extend(d.dependencies)
    return names


class StrictRoute(APIRoute):
    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        allowed = _query_names(self.dependant) | _ALWAYS_ALLOWED
        allowed |= set(getattr(self.endpoint, "_extra_query", ()))

        async def strict_handler(request: Request) -> Response:
            seen: set[str] = set()
            for key, _ in request.query_params.multi_items():
                if key not in allowed:
                    raise BadRequest(f"Unknown query parameter {key!r}", code="unknown_parameter",
                                     details=[{"path": f"query.{key}", "message": "unknown parameter",
                                               "code": "unknown_parameter"}])
                if key in seen:
                    raise BadRequest(f"Query parameter {key!r} given more than once; use a comma list",
                                     code="invalid_parameter",
                                     details=[{"path": f"query.{key}", "message": "repeated parameter",
                                               "code": "invalid_parameter"}])
                seen.add(key)
            return await handler(request)

        return strict_handler


def extra_query(*names: str):
    """Declare query parameters an endpoint reads from `request` directly (e.g. `token` on SSE)."""

    def mark(fn):
        fn._extra_query = names
        return fn

    return mark
