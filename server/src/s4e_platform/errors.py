"""API errors and the error envelope (api.md 1.7): every failure is `{error:{code,message,details,request_id}}`."""

from __future__ import annotations

import logging
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


def jsonpath(loc: tuple | list) -> str:
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}"
    return path


def _request_id(request: Request) -> str:
    return getattr(request.state, "request_id", None) or "req_unknown"


def error_body(request: Request, status: int, code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details, "request_id": _request_id(request)}}


def error_response(request: Request, status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(request, status, code, message, details), status_code=status, headers=headers)


_PYDANTIC_CODES = {"missing": "required", "extra_forbidden": "unknown_field"}


def _convert_validation(exc: RequestValidationError) -> tuple[int, str, str, list[dict]]:
    details = []
    status, code = 422, "validation_error"
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        kind = err.get("type", "invalid")
        if kind == "json_invalid":
            status, code = 400, "invalid_json"
        where = loc[0] if loc else "body"
        rest = loc[1:]
        if where in ("query", "path", "header"):
            path = f"{where}.{'.'.join(str(x) for x in rest)}" if rest else where
            if where in ("query", "header") and status != 400:
                status, code = 400, "invalid_parameter"
        else:
            path = jsonpath(rest)
        details.append({"path": path, "message": err.get("msg", "invalid"),
                        "code": _PYDANTIC_CODES.get(kind, kind)})
    message = "Malformed JSON body" if code == "invalid_json" else "Request validation failed"
    return status, code, message, details


_HTTP_CODES = {404: ("not_found", "Not found"), 405: ("method_not_allowed", "Method not allowed"),
               406: ("not_acceptable", "Not acceptable"), 413: ("payload_too_large", "Request body too large"),
               415: ("unsupported_media_type", "Unsupported media type"), 401: ("unauthenticated", "Unauthenticated"),
               403: ("forbidden", "Forbidden"), 400: ("bad_request", "Bad request")}


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
        return error_response(request, exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"request_id": _request_id(request)})
        return error_response(request, 500, "internal_error", "Internal server error")
