"""Route class enforcing api.md 1.1/1.8 on every operation.

- Query strings are strict: an unknown or repeated parameter is a 400.
- Authorization wins over the request body: FastAPI decodes a JSON body *before* it resolves dependencies,
  so a malformed body used to answer 400 to an anonymous caller, and a wrongly typed one 422. Here the body is
  checked first but its verdict is held back: the handler runs its dependencies (credential 401, visibility
  404, scope 403) and only when it then fails on the body does the held-back 400 `invalid_json` or
  415 `unsupported_media_type` come out. A caller without access never learns anything about the body schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from s4e_platform.errors import APIError, BadRequest, UnsupportedMediaType

# Accepted everywhere: the SSE/browser token and cache-busting are handled by their endpoints.
_ALWAYS_ALLOWED: set[str] = set()
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class _Undecodable:
    """Stands in for a body that is not JSON: it fails validation against any request model, which is the
    signal that the dependencies passed and the held-back body error may be reported."""

    def __repr__(self) -> str:
        return "<undecodable body>"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _query_names(dependant) -> set[str]:
    names: set[str] = set()
    stack = [dependant]
    while stack:
        d = stack.pop()
        names.update(p.alias for p in d.query_params)
        stack.extend(d.dependencies)
    return names


def is_json_media_type(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = mime.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _check_query(request: Request, allowed: set[str]) -> None:
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


async def _held_back_body_error(request: Request) -> APIError | None:
    """The error this JSON body deserves, if any; the body is pre-decoded so FastAPI does not fail early."""
    raw = await request.body()
    if not raw:
        return None  # a missing body is an ordinary 422 `required`, reported after authorization anyway
    content_type = request.headers.get("content-type", "")
    if not is_json_media_type(content_type):
        return UnsupportedMediaType(f"Send the body as application/json, not {content_type or 'untyped data'}")
    try:
        decoded = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity, absurd nesting
        decoded = _Undecodable()
        # Starlette's Request.json() returns this cached value, so FastAPI's own decoding never raises.
        request._json = decoded
        return BadRequest("Malformed JSON body", code="invalid_json",
                          details=[{"path": "$", "message": "body is not valid JSON", "code": "invalid_json"}])
    request._json = decoded
    return None


class StrictRoute(APIRoute):
    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        allowed = _query_names(self.dependant) | _ALWAYS_ALLOWED
        allowed |= set(getattr(self.endpoint, "_extra_query", ()))
        # Form and file bodies (OAuth token, CSV import) and bodies declared with another media type
        # (Body(media_type="application/yaml")) are parsed by their own rules.
        info = self.body_field.field_info if self.body_field is not None else None
        json_body = (info is not None and not isinstance(info, params.Form)
                     and is_json_media_type(getattr(info, "media_type", "application/json")))

        async def strict_handler(request: Request) -> Response:
            _check_query(request, allowed)
            held_back = None
            if json_body and request.method in _BODY_METHODS:
                held_back = await _held_back_body_error(request)
            try:
                return await handler(request)
            except RequestValidationError:
                if held_back is not None:
                    raise held_back from None
                raise

        return strict_handler


def extra_query(*names: str):
    """Declare query parameters an endpoint reads from `request` directly (e.g. `token` on SSE)."""

    def mark(fn):
        fn._extra_query = names
        return fn

    return mark
