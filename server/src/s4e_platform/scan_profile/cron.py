"""Cron schedules in a time zone, and skip windows (scanning.md 3).

A cron expression is matched against local wall-clock times of the profile's zone; each match is turned into one
UTC instant. A local time that does not exist (the DST gap) never fires; an ambiguous one (the repeated hour) fires
once, at its first occurrence (our choice, scanning.md 3). Windows are half-open: `[start, start + duration)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

from s4e_platform.kit.clock import as_utc

_FIELD = re.compile(r"^[0-9A-Za-z*/,\-]+$")
# A schedule that has not matched for this long is treated as never matching (covers Feb 29 and every
# "31st of a month" combination; croniter itself gives up on impossible dates such as Feb 30).
HORIZON = timedelta(days=366 * 9)
MAX_STEPS = 100_000  # safety net for one scan of candidate times


class InvalidSchedule(ValueError):
    pass


def check_cron(expr: str) -> str:
    """A standard 5-field expression (minute hour day month weekday), normalised to single spaces."""
    if not isinstance(expr, str):
        raise InvalidSchedule("cron must be a string")
    fields = expr.split()
    if len(fields) != 5:
        raise InvalidSchedule("cron must have 5 fields: minute hour day-of-month month day-of-week")
    if any(not _FIELD.match(f) for f in fields):
        raise InvalidSchedule("cron fields may contain digits, names, '*', '/', ',' and '-' only")
    text = " ".join(fields)
    try:
        valid = croniter.is_valid(text)
    except Exception:  # noqa: BLE001 - croniter raises assorted errors for odd input
        valid = False
    if not valid:
        raise InvalidSchedule(f"not a valid cron expression: {text!r}")
    try:
        croniter(text, datetime(2000, 1, 1)).get_next(datetime)
    except (CroniterError, ValueError, OverflowError):
        raise InvalidSchedule(f"cron expression {text!r} never matches a date") from None
    return text


def zone(name: str) -> ZoneInfo:
    """An IANA zone; InvalidSchedule for anything else."""
    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise InvalidSchedule(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidSchedule(f"unknown time zone {name!r}: use an IANA name such as Europe/Istanbul") from None


def _local_naive(at: datetime, tz: ZoneInfo) -> datetime:
    return as_utc(at).astimezone(tz).replace(tzinfo=None)


def to_utc(local: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a naive local time: None in a DST gap, the first occurrence when ambiguous."""
    aware = local.replace(tzinfo=tz, fold=0)
    instant = aware.astimezone(timezone.utc)
    if instant.astimezone(tz).replace(tzinfo=None) != local:
        return None  # the wall clock jumped over this time
    return instant


def fires(expr: str, tz: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """UTC instants strictly after `after` at which `expr` matches in `tz`, ascending; stops past HORIZON."""
    after = as_utc(after)
    # Start one hour early in local time: if `after` lies in the second pass of a repeated hour, matches of that
    # hour map (first occurrence) before `after` and are dropped below, instead of being missed or fired twice.
    start = _local_naive(after, tz) - timedelta(hours=1)
    it = croniter(expr, start)
    limit = after + HORIZON
    while True:
        try:
            local = it.get_next(datetime)
        except (CroniterError, ValueError, OverflowError):
            return
        instant = to_utc(local, tz)
        if instant is None or instant <= after:
            continue
        if instant > limit:
            return
        yield instant


def next_fire(expr: str, tz: ZoneInfo, after: datetime) -> datetime | None:
    return next(fires(expr, tz, after), None)


def last_fire_in(expr: str, tz: ZoneInfo, start: datetime, end: datetime) -> datetime | None:
    """The latest match in `(start, end]` (bounded by MAX_STEPS matches)."""
    last = None
    for n, instant in enumerate(fires(expr, tz, start)):
        if instant > end or n >= MAX_STEPS:
            break
        last = instant
    return last


@dataclass(frozen=True)
class Window:
    """No scan may start in `[s, s + duration)` for any match `s` of `cron` (in `tz`) up to `until`."""

    cron: str
    duration: timedelta
    tz: ZoneInfo
    until: datetime | None = None
    source: str = "profile"  # profile | workspace
    index: int = 0

    def end_if_inside(self, at: datetime) -> datetime | None:
        """The end of the window occurrence covering `at`, or None."""
        start = next_fire(self.cron, self.tz, at - self.duration)
        if start is None or start > at or (self.until is not None and start > self.until):
            return None
        return start + self.duration

    def describe(self) -> dict:
        return {"source": self.source, "index": self.index, "cron": self.cron,
                "duration_minutes": int(self.duration.total_seconds() // 60)}


def covering(windows: list[Window], at: datetime) -> tuple[Window, datetime] | None:
    """The first window covering `at` and its end, or None."""
    for w in windows:
        end = w.end_if_inside(at)
        if end is not None:
            return w, end
    return None


def clear_after(windows: list[Window], at: datetime) -> datetime:
    """The first instant >= `at` inside no window: chained and overlapping windows are followed to their end."""
    at = as_utc(at)
    for _ in range(1000):
        hit = covering(windows, at)
        if hit is None:
            return at
        at = hit[1]
    raise InvalidSchedule("skip windows cover every start time")
