"""S4E Python SDK: `from s4e import S4EClient, AsyncS4EClient`.

Errors are in `s4e.errors` (also importable from here), models in `s4e.models`, webhook signature checks in
`s4e.webhooks.verify`.
"""

from s4e import webhooks
from s4e._client import AsyncS4EClient, S4EClient
from s4e._types import NOT_GIVEN
from s4e._version import __version__
from s4e.errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    S4EError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
    WebhookVerificationError,
)

__all__ = [
    "S4EClient", "AsyncS4EClient", "NOT_GIVEN", "__version__", "webhooks", "S4EError", "ConfigurationError",
    "APIError", "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
    "ValidationError", "RateLimitError", "ServerError", "APIConnectionError", "APITimeoutError", "APIResponseError",
    "WaitTimeoutError", "WebhookVerificationError",
]
