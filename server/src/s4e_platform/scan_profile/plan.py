"""When a profile runs: its next scheduled moment, the skip windows that gate a start, the schedule preview.

Windows come from the profile (its time zone) and from the workspace setting `scan_skip_windows` (each in its own
`timezone`, UTC by default): `scope: all` gates every profile start, `scope: <ast_ id>` only that asset's scan.
Windows gate scheduled starts only; a manual run (`POST /scan-profiles/{id}/run`) is an explicit request and starts
at once (our choice).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from s4e_platform.kit.clock import as_utc
from s4e_platform.scan_profile import cron
from s4e_platform.scan_profile.models import ScanProfile

GRACE = timedelta(hours=1)  # scanning.md 3: missed times within this are fired (once) after downtime
PREVIEW_SCAN_LIMIT = 10_000  # cron times examined by one preview


def _until(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def profile_zone(profile: ScanProfile):
    return cron.zone((profile.schedule or {}).get("timezone") or "UTC")


def windows_for(profile: ScanProfile, ws_settings: dict, *, asset_id: str | None = None) -> list[cron.Window]:
    """Profile windows plus workspace windows of scope `all` (asset_id None) or of scope `asset_id` only."""
    out: list[cron.Window] = []
    if asset_id is None:
        tz = profile_zone(profile)
        for i, w in enumerate((profile.schedule or {}).get("skip_windows") or []):
            out.append(cron.Window(w["cron"], timedelta(minutes=int(w["duration_minutes"])), tz,
                                   source="profile", index=i))
    for i, w in enumerate(ws_settings.get("scan_skip_windows") or []):
        scope = w.get("scope", "all")
        if (asset_id is None and scope != "all") or (asset_id is not None and scope != asset_id):
            continue
        out.append(cron.Window(w["cron"], timedelta(minutes=int(w["duration_minutes"])),
                               cron.zone(w.get("timezone") or "UTC"), until=_until(w.get("until")),
                               source="workspace", index=i))
    return out


def next_scheduled(profile: ScanProfile, after: datetime) -> datetime | None:
    """The first cron time strictly after `after` (not after `until`), or None when nothing is scheduled."""
    schedule = profile.schedule or {}
    if not profile.enabled or not schedule.get("cron"):
        return None
    nxt = cron.next_fire(schedule["cron"], profile_zone(profile), after)
    until = _until(schedule.get("until"))
    if nxt is None or (until is not None and nxt > until):
        return None
    return nxt


def latest_due(profile: ScanProfile, start: datetime, end: datetime) -> datetime | None:
    """The latest cron time in `(start, end]`, not after `until`."""
    schedule = profile.schedule or {}
    until = _until(schedule.get("until"))
    if until is not None:
        end = min(end, until)
    if end <= start:
        return None
    return cron.last_fire_in(schedule["cron"], profile_zone(profile), start, end)


def _local(at: datetime, profile: ScanProfile) -> str:
    local = as_utc(at).astimezone(profile_zone(profile))
    return local.isoformat(timespec="milliseconds")


def preview(profile: ScanProfile, ws_settings: dict, *, count: int, now: datetime) -> list[dict]:
    """The next `count` starts: each cron time, flagged `skipped` inside a window (on_skip skip) or moved to the
    window's end (on_skip defer; several times deferred to one end start once and are listed once)."""
    schedule = profile.schedule or {}
    if not schedule.get("cron"):
        return []
    windows = windows_for(profile, ws_settings)
    defer = schedule.get("on_skip") == "defer"
    until = _until(schedule.get("until"))
    entries: list[dict] = []
    for n, at in enumerate(cron.fires(schedule["cron"], profile_zone(profile), now)):
        if len(entries) >= count or n >= PREVIEW_SCAN_LIMIT or (until is not None and at > until):
            break
        hit = cron.covering(windows, at)
        entry = {"at_utc": at, "at_local": _local(at, profile), "skipped": False, "scheduled_at_utc": at,
                 "deferred": False, "window": None}
        if hit is not None:
            entry["window"] = hit[0].describe()
            if not defer:
                entry["skipped"] = True
            else:
                try:
                    start = cron.clear_after(windows, at)
                except cron.InvalidSchedule:
                    break
                entry.update(at_utc=start, at_local=_local(start, profile), deferred=True)
        if entries and entries[-1]["at_utc"] == entry["at_utc"]:
            continue  # times deferred to one window end (or a cron time at that end) start once
        entries.append(entry)
    return entries
