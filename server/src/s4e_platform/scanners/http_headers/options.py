"""`http_headers` options (scanning.md 2.2: `follow_redirects`, `rate_limit`, `headers`, `user_agent`); keys of
other scanners are ignored."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from s4e_platform import __version__
from s4e_platform.scanners.tls.options import model_schema, parse_model

MAX_HEADERS = 20
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
_VALUE = re.compile(r"^[\x20-\x7e]{0,1024}$")
# The scanner sets these itself; letting options override them would corrupt the probes.
_RESERVED = {"host", "content-length", "transfer-encoding", "connection", "origin", "upgrade", "te", "trailer",
             "user-agent"}


class HttpHeadersOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    follow_redirects: bool = Field(True, description="follow redirects that stay on the target host")
    rate_limit: float = Field(20, gt=0, le=10000, description="HTTP requests per second to the host")
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers, e.g. authorization")
    user_agent: str = Field(f"S4E-Scanner/{__version__}", min_length=1, max_length=256,
                            pattern=r"^[\x20-\x7e]+$", description="User-Agent of the requests")
    http_timeout_ms: int = Field(10000, ge=200, le=60000, description="timeout of each HTTP request")

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_HEADERS:
            raise ValueError(f"at most {MAX_HEADERS} extra headers")
        seen = set()
        for name, header_value in value.items():
            if not _TOKEN.match(name):
                raise ValueError(f"header name {name[:64]!r} is not a valid HTTP token")
            if name.lower() in _RESERVED:
                raise ValueError(f"header {name!r} is set by the scanner")
            if name.lower() in seen:
                raise ValueError(f"header {name!r} is given twice")
            if not _VALUE.match(header_value):
                raise ValueError(f"header {name!r} value must be printable ASCII, at most 1024 characters")
            seen.add(name.lower())
        return value


def validate_options(options: Mapping[str, Any] | None) -> HttpHeadersOptions:
    return parse_model(HttpHeadersOptions, options)


def options_schema() -> dict[str, Any]:
    return model_schema(HttpHeadersOptions)
