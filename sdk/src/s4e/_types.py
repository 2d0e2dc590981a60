"""Small shared types: the NOT_GIVEN sentinel and query-value encoding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any, Union
from urllib.parse import quote


class NotGiven:
    """Marks an option the caller did not pass (distinct from None, which PATCH uses to clear a field)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

StrList = Union[str, Sequence[str]]
"""A comma-list filter: `"critical,high"` or `["critical", "high"]`."""


def given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries the caller actually passed."""
    return {k: v for k, v in values.items() if not isinstance(v, NotGiven)}


def format_time(value: datetime | date | str) -> str:
    """RFC 3339 in UTC with `Z` (naive datetimes are taken as UTC), dates as YYYY-MM-DD."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def query_value(value: Any) -> str:
    """Encode one query value the way the API reads it: comma lists, `true|false`, RFC 3339 times."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return format_time(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(v) for v in value)
    return str(value)


def query(**values: Any) -> dict[str, str]:
    """Query parameters from keyword options; NOT_GIVEN and None are left out, `from_` becomes `from`."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None or isinstance(value, NotGiven):
            continue
        out[name.rstrip("_")] = query_value(value)
    return out


def path_segment(value: str, what: str = "id") -> str:
    """One URL path segment; rejects empty values and escapes `/`, `?`, `#` so an id cannot change the path."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    segment = quote(value.strip(), safe="")
    if set(segment) == {"."}:
        segment = segment.replace(".", "%2E")  # `.`/`..` would be collapsed into the parent path
    return segment
