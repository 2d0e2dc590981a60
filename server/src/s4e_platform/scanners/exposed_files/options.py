"""`exposed_files` options (scanning.md 2.2). A scan's `options` object is shared by all its scanners, so keys
this scanner does not use are ignored (the scan API checks every key belongs to some scanner)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from s4e_platform import __version__
from s4e_platform.errors import jsonpath
from s4e_platform.scanners.base import InvalidOptions

MAX_HEADERS = 20
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
_VALUE = re.compile(r"^[\x20-\x7e]{0,4096}$")
# Headers the client owns: framing, the pinned Host, and identity encoding (matchers read raw bodies).
_RESERVED = frozenset({"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer",
                       "accept-encoding", "user-agent", "keep-alive", "proxy-connection"})

Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], options: Mapping[str, Any] | None) -> Model:
    """Validate `options` against `model`; errors become InvalidOptions naming `$.options.<key>`."""
    if options is not None and not isinstance(options, Mapping):
        raise InvalidOptions([{"path": "$.options", "message": "options must be an object", "code": "type_error"}])
    try:
        return model.model_validate(dict(options or {}))
    except ValidationError as exc:
        details: list[dict[str, str]] = []
        for err in exc.errors(include_url=False):
            loc = err.get("loc") or ()
            entry = {"path": jsonpath(("options", *loc[:2])) if loc else "$.options",
                     "message": str(err.get("msg", "invalid value")).removeprefix("Value error, "),
                     "code": err.get("type", "invalid")}
            if entry not in details:
                details.append(entry)
        raise InvalidOptions(details) from None


def schema(model: type[BaseModel]) -> dict[str, Any]:
    out = model.model_json_schema(mode="validation")
    out.pop("title", None)
    out["additionalProperties"] = True  # the scan's options object also carries other scanners' keys
    return out


class ExposedFilesOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    rate_limit: float = Field(20, gt=0, le=1000, description="HTTP requests per second per host")
    global_rate_limit: float = Field(150, gt=0, le=10000, description="HTTP requests per second per task")
    follow_redirects: bool = Field(True, description="follow redirects that stay on the scanned origin")
    headers: dict[str, str] = Field(default_factory=dict, description="extra HTTP headers sent with every request "
                                                                      "(e.g. authentication)")
    user_agent: str = Field(f"S4E-Scanner/{__version__}", min_length=1, max_length=256, pattern=r"^[\x20-\x7e]+$",
                            description="User-Agent header")

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_HEADERS:
            raise ValueError(f"at most {MAX_HEADERS} headers")
        seen: set[str] = set()
        for name, header_value in value.items():
            if not _TOKEN.match(name):
                raise ValueError(f"header name {name[:40]!r} is not a valid HTTP token")
            if name.lower() in _RESERVED:
                raise ValueError(f"header {name!r} is set by the scanner and cannot be overridden")
            if name.lower() in seen:
                raise ValueError(f"header {name!r} is given twice")
            if not _VALUE.match(header_value):
                raise ValueError(f"header {name!r} value must be printable ASCII, at most 4096 characters")
            seen.add(name.lower())
        return value

    @property
    def request_rate(self) -> float:
        """One task scans one origin, so the per-host and per-task limits both bound the same requests."""
        return min(self.rate_limit, self.global_rate_limit)
