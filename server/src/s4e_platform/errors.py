"""API errors and the error envelope (api.md 1.7): every failure is `{error:{code,message,details,request_id}}`."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("s4e.errors")


class APIError(Exception):
    status_code = 400
    code = "bad_request"
    message = "Bad request"

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        if code:
            self.code = code
        self.details = details
        self.headers = headers or {}


class BadRequest(APIError):
    status_code, code, message = 400, "bad_request", "Bad request"


class Unauthenticated(APIError):
    status_code, code, message = 401, "unauthenticated", "Authentication required"


class Forbidden(APIError):
    status_code, code, message = 403, "forbidden", "Not allowed"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"

    def __init__(self, required: list[str]) -> None:
        super().__init__(f"This call needs scope {' or '.join(required)}", details={"required": required})


class NotFound(APIError):
    status_code, code, message = 404, "not_found", "Not found"


class Conflict(APIError):
    status_code, code, message = 409, "conflict", "Conflict"


class AlreadyExists(Conflict):
    code = "already_exists"


class InvalidState(Conflict):
    code = "invalid_state"


class HasDependents(Conflict):
    code = "has_dependents"


class Unprocessable(APIError):
    status_code, code, message = 422, "validation_error", "Validation failed"


class PayloadTooLarge(APIError):
    status_code, code, message = 413, "payload_too_large", "Request body too large"


class UnsupportedMediaType(APIError):
    status_code, code, message = 415, "unsupported_media_type", "Unsupported media type"


class RateLimited(APIError):
    status_code, code, message = 429, "rate_limited", "Too many requests"


def validation_error(path: str, message: str, code: str = "invalid") -> Unprocessable:
    """A 422 naming one field by JSONPath, e.g. `$.scopes[2]`."""
    return Unprocessable(message, details=[{"path": path, "message": message, "code": code}])


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def jsonpath(loc: tuple | list) -> str:
    """`$.a.b[2]`; member names that are not identifiers use bracket notation (`$['a.b']`) so a path
    always names exactly one location, even for hostile unknown field names."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(str(part)):
            path += f".{part}"
        else:
            escaped = str(part).replace("\\", "\\\\").replace("'", "\\'")
            path += f"['{escaped}']"
    return path


def _request_id(request: Request) -> str:
    return getattr(request.state, "request_id", None) or "req_unknown"


def error_body(request: Request, status: int, code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details, "request_id": _request_id(request)}}


def error_response(request: Request, status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(request, status, code, message, details), status_code=status, headers=headers)


_PYDANTIC_CODES = {"missing": "required", "extra_forbidden": "unknown_field"}


def _convert_validation(exc: RequestValidationError) -> tuple[int, str, str, list[dict] | None]:
    """Map FastAPI's collected errors to api.md 1.7: a malformed path segment names nothing that can exist
    (404), bad query/header values are 400 invalid_parameter, body problems 422 with JSONPath details."""
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return 400, "invalid_json", "Malformed JSON body", [
            {"path": "$", "message": "JSON decode error", "code": "invalid_json"}]
    if any((err.get("loc") or ("body",))[0] == "path" for err in errors):
        return 404, "not_found", "Not found", None
    details = []
    status, code = 422, "validation_error"
    for err in errors:
        loc = list(err.get("loc", ()))
        kind = err.get("type", "invalid")
        where = loc[0] if loc else "body"
        rest = loc[1:]
        if where in ("query", "header", "cookie"):
            path = f"{where}.{'.'.join(str(x) for x in rest)}" if rest else where
            status, code = 400, "invalid_parameter"
        else:
            path = jsonpath(rest)
        details.append({"path": path, "message": err.get("msg", "invalid"),
                        "code": _PYDANTIC_CODES.get(kind, kind)})
    return status, code, "Request validation failed", details


_HTTP_CODES = {404: ("not_found", "Not found"), 405: ("method_not_allowed", "Method not allowed"),
               406: ("not_acceptable", "Not acceptable"), 413: ("payload_too_large", "Request body too large"),
               415: ("unsupported_media_type", "Unsupported media type"), 401: ("unauthenticated", "Unauthenticated"),
               403: ("forbidden", "Forbidden"), 400: ("bad_request", "Bad request")}


def _allowed_methods(request: Request) -> str:
    """Every method the path supports (RFC 9110 15.5.6); the router only names those of its first match."""
    from fastapi.routing import iter_route_contexts

    path, methods = request.url.path, set()
    for context in iter_route_contexts(request.app.routes):
        regex = getattr(context, "path_regex", None)
        if regex is not None and context.methods and regex.match(path):
            methods |= set(context.methods)
    return ", ".join(sorted(methods))


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message, details = _convert_validation(exc)
        return error_response(request, status, code, message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_CODES.get(exc.status_code, ("error", str(exc.detail)))
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return error_response(request, exc.status_code, code, message, None, headers or None)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers unhandled errors outside every user middleware, so the request-id middleware
        # never sees this response: repeat the header here to keep body and header in agreement.
        rid = _request_id(request)
        log.exception("unhandled error", extra={"request_id": rid})
        return error_response(request, 500, "internal_error", "Internal server error", headers={"X-Request-ID": rid})
