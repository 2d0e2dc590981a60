"""Exceptions raised by the SDK: one class per error family and HTTP status (api.md 1.7).

Every API error carries the server's `code`, `message`, `details` and `request_id` (quote the request id when
reporting a problem: the server logs it). Catch `S4EError` for everything the SDK raises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "S4EError", "ConfigurationError", "APIError", "BadRequestError", "AuthenticationError",
    "PermissionDeniedError", "NotFoundError", "MethodNotAllowedError", "ConflictError", "PayloadTooLargeError",
    "UnsupportedMediaTypeError", "ValidationError", "RateLimitError", "ServerError", "APIConnectionError",
    "APITimeoutError", "APIResponseError", "WebhookVerificationError", "WaitTimeoutError", "FieldError",
    "error_from_response",
]


class S4EError(Exception):
    """Base class of every exception the SDK raises."""

    code: str = "error"
    message: str = ""
    request_id: str | None = None

    def __init__(self, message: str, *, code: str | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        suffix = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.code}: {self.message}{suffix}"


class ConfigurationError(S4EError):
    """The client cannot be built: no API key, an unknown profile, an unreadable config file."""

    code = "configuration_error"


@dataclass(frozen=True)
class FieldError:
    """One invalid input field of a 422 `validation_error`."""

    path: str
    """JSONPath of the field (`$.scopes[2]`) or `query.<name>` for a query parameter."""
    message: str
    """What is wrong with it."""
    code: str
    """Machine-readable reason, e.g. `required`, `unknown_field`, `ssrf_blocked`."""


class APIError(S4EError):
    """The API answered with an error envelope `{error: {code, message, details, request_id}}`."""

    status_code: int = 0

    def __init__(self, message: str, *, code: str, status_code: int, request_id: str | None = None,
                 details: Any = None, response: httpx.Response | None = None) -> None:
        super().__init__(message, code=code, request_id=request_id)
        self.status_code = status_code
        self.details = details
        self.response = response


class BadRequestError(APIError):
    """400: malformed request, unknown or invalid query parameter, workspace mismatch."""


class AuthenticationError(APIError):
    """401: no credential, or an invalid, expired or revoked one."""


class PermissionDeniedError(APIError):
    """403: authenticated but lacking the scope or role (`details.required` lists the scopes needed)."""

    @property
    def required_scopes(self) -> list[str]:
        """Scopes the call needs, when the server said so (`insufficient_scope`)."""
        if isinstance(self.details, dict) and isinstance(self.details.get("required"), list):
            return [str(s) for s in self.details["required"]]
        return []


class NotFoundError(APIError):
    """404: absent, deleted, in another workspace or outside the key's asset restriction."""


class MethodNotAllowedError(APIError):
    """405 or 406: the path exists but not with this method or media type."""


class ConflictError(APIError):
    """409: `conflict`, `already_exists`, `invalid_state`, `has_dependents`, `idempotency_in_progress`."""


class PayloadTooLargeError(APIError):
    """413: the body exceeds the endpoint's size limit."""


class UnsupportedMediaTypeError(APIError):
    """415: the endpoint does not take this Content-Type."""


class ValidationError(APIError):
    """422: well-formed but unacceptable input; `errors` lists the offending fields when the server named them."""

    @property
    def errors(self) -> list[FieldError]:
        """Per-field problems from `details` (empty for codes such as `verification_failed`)."""
        if not isinstance(self.details, list):
            return []
        return [FieldError(path=str(d.get("path", "$")), message=str(d.get("message", "")),
                           code=str(d.get("code", "invalid")))
                for d in self.details if isinstance(d, dict)]


class RateLimitError(APIError):
    """429: over the rate limit; wait `retry_after` seconds before calling again."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server (or a proxy in front of it) failed; retried automatically for 502/503/504."""


class APIResponseError(APIError):
    """A success status whose body is not the documented envelope (a proxy page, a truncated body)."""


class APIConnectionError(S4EError):
    """The request did not get an HTTP response: DNS, connect, TLS or read failure."""

    code = "connection_error"


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    code = "timeout"


class WebhookVerificationError(S4EError):
    """A webhook's signature, timestamp or headers did not verify (events.md 2.1)."""

    code = "webhook_verification_failed"


class WaitTimeoutError(S4EError, TimeoutError):
    """Waiting for a job (e.g. `scans.wait`) took longer than the caller's `timeout`; the job keeps running."""

    code = "wait_timeout"

    def __init__(self, message: str, *, scan_id: str | None = None, status: Any = None) -> None:
        super().__init__(message)
        self.scan_id = scan_id
        """The scan waited for."""
        self.status = status
        """The last status seen (a ScanStatus), if any."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
    405: MethodNotAllowedError, 406: MethodNotAllowedError, 409: ConflictError, 413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError, 422: ValidationError, 429: RateLimitError,
}


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        from datetime import datetime, timezone

        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0
    return seconds


def _envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        # The token endpoint answers in RFC 6749 section 5.2 shape: {"error": "invalid_client", ...}.
        return {"code": body["error"], "message": body.get("error_description")}
    return {}


def error_from_response(response: httpx.Response) -> APIError:
    """The exception matching an error response; works for non-JSON bodies (proxies) too."""
    status = response.status_code
    err = _envelope(response)
    request_id = err.get("request_id") or response.headers.get("x-request-id")
    code = str(err.get("code") or f"http_{status}")
    message = str(err.get("message") or response.reason_phrase or f"HTTP {status}")
    if 300 <= status < 400:
        # The API never redirects: this is a base URL pointing at the wrong place (http -> https, a login page).
        message = f"Unexpected redirect to {response.headers.get('location', '?')}; check the base URL"
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    kwargs: dict[str, Any] = {"code": code, "status_code": status, "request_id": request_id,
                              "details": err.get("details"), "response": response}
    if cls is RateLimitError:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        details = err.get("details")
        if retry_after is None and isinstance(details, dict) and isinstance(details.get("retry_after"), (int, float)):
            retry_after = float(details["retry_after"])
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
