"""`client.scans`: create, list, get, status, cancel, rerun, tasks, output and `wait` (api.md 2.4)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import datetime
from typing import Any, Callable, Optional, Union

import httpx

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, StrList, given, path_segment, query
from s4e.errors import APIResponseError, WaitTimeoutError
from s4e.models.scan import Priority, Scan, ScanCreate, ScanOutputLine, ScanSort, ScanStatus, ScanTask, TaskSort
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource, parse

When = Union[datetime, str]
ProgressCallback = Callable[[ScanStatus], Any]
"""Called with every status polled by `wait` (a coroutine function is awaited by the asyncio client)."""
NDJSON = "application/x-ndjson"


def _path(scan_id: str, rest: str = "") -> str:
    return f"/scans/{path_segment(scan_id, 'scan_id')}{rest}"


def create_body(**fields: Any) -> dict[str, Any]:
    return ScanCreate(**given(fields)).body()


def _line(raw: str, response: httpx.Response) -> Optional[ScanOutputLine]:
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        raise APIResponseError("Scan output line is not JSON", code="invalid_response",
                               status_code=response.status_code, request_id=response.headers.get("x-request-id"),
                               response=response) from None
    return parse(ScanOutputLine, data, response)


def _check_wait(timeout: Optional[float], poll_interval: float) -> Optional[float]:
    if poll_interval <= 0:
        raise ValueError("poll_interval must be positive")
    if timeout is not None and timeout < 0:
        raise ValueError("timeout must be >= 0 (or None to wait without limit)")
    return None if timeout is None else time.monotonic() + timeout


def _timed_out(scan_id: str, timeout: Optional[float], status: ScanStatus) -> WaitTimeoutError:
    return WaitTimeoutError(f"Scan {scan_id} still {status.status} ({status.progress}%) after {timeout} s",
                            scan_id=scan_id, status=status)


def _pause(deadline: Optional[float], poll_interval: float) -> Optional[float]:
    """Seconds to sleep before the next poll, or None when the deadline has passed."""
    if deadline is None:
        return poll_interval
    left = deadline - time.monotonic()
    return None if left <= 0 else min(poll_interval, left)


def _list_params(**options: Any) -> dict[str, str]:
    return query(**options)


class OutputLines:
    """Lines of `GET /scans/{id}/output` as they arrive; closes the response when exhausted or closed."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._lines = response.iter_lines()

    def __iter__(self) -> Iterator[ScanOutputLine]:
        return self

    def __next__(self) -> ScanOutputLine:
        try:
            while True:
                line = _line(next(self._lines), self._response)
                if line is not None:
                    return line
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the connection (safe to call twice)."""
        self._response.close()

    def __enter__(self) -> OutputLines:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncOutputLines:
    """The asyncio twin of OutputLines (`async for`)."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._lines = response.aiter_lines()

    def __aiter__(self) -> AsyncIterator[ScanOutputLine]:
        return self

    async def __anext__(self) -> ScanOutputLine:
        try:
            while True:
                line = _line(await self._lines.__anext__(), self._response)
                if line is not None:
                    return line
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Release the connection (safe to call twice)."""
        await self._response.aclose()

    async def __aenter__(self) -> AsyncOutputLines:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class Scans(SyncResource):
    """Scans: one asset, the scanners its type selects, tasks run by S4E workers or agents."""

    @operation("create_scan")
    def create(self, asset_id: str, *, scan_type: str, scanners: list[str] | NotGiven = NOT_GIVEN,
               options: dict[str, Any] | NotGiven = NOT_GIVEN, priority: Priority | NotGiven = NOT_GIVEN,
               callback_url: str | NotGiven = NOT_GIVEN, idempotency_key: str | None = None) -> Scan:
        """Start a scan of one asset (it starts `queued`). `scanners` only for `scan_type="custom"` (or pass
        `options={"categories": [...]}`). Raises ValidationError: `asset_not_verified` when active scanners target
        an unverified asset, `validation_error` naming the bad field (unknown scanner, option ...)."""
        body = create_body(asset_id=asset_id, scan_type=scan_type, scanners=scanners, options=options,
                           priority=priority, callback_url=callback_url)
        return self._send("POST", "/scans", Scan, json=body, idempotency_key=idempotency_key)

    @operation("list_scans")
    def list(self, *, status: StrList | NotGiven = NOT_GIVEN, asset_id: StrList | NotGiven = NOT_GIVEN,
             scan_type: StrList | NotGiven = NOT_GIVEN, profile_id: StrList | NotGiven = NOT_GIVEN,
             priority: StrList | NotGiven = NOT_GIVEN, from_: When | NotGiven = NOT_GIVEN,
             to: When | NotGiven = NOT_GIVEN, sort_by: ScanSort | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Scan]:
        """List scans, lazily across pages; filters are comma lists, `from_`/`to` bound `created_at`."""
        params = _list_params(status=status, asset_id=asset_id, scan_type=scan_type, profile_id=profile_id,
                              priority=priority, from_=from_, to=to, sort_by=sort_by, sort_order=sort_order,
                              per_page=per_page)
        return self._page("/scans", Scan, params, page)

    @operation("get_scan")
    def get(self, scan_id: str) -> Scan:
        """One scan."""
        return self._get(_path(scan_id), Scan)

    @operation("get_scan_status")
    def status(self, scan_id: str) -> ScanStatus:
        """Status, progress, current phase and task counts (cheap to poll)."""
        return self._get(_path(scan_id, "/status"), ScanStatus)

    @operation("cancel_scan")
    def cancel(self, scan_id: str) -> Scan:
        """Cancel a scan; running tasks stop within seconds. ConflictError `invalid_state` once it has ended."""
        return self._send("POST", _path(scan_id, "/cancel"), Scan)

    @operation("rerun_scan")
    def rerun(self, scan_id: str, *, idempotency_key: str | None = None) -> Scan:
        """Start a new scan with the same asset, type, scanners, options and priority (`rerun_of` set)."""
        return self._send("POST", _path(scan_id, "/rerun"), Scan, idempotency_key=idempotency_key)

    @operation("list_scan_tasks")
    def list_tasks(self, scan_id: str, *, status: StrList | NotGiven = NOT_GIVEN,
              scanner: StrList | NotGiven = NOT_GIVEN, sort_by: TaskSort | NotGiven = NOT_GIVEN,
              sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
              per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[ScanTask]:
        """A scan's tasks (scanner x target), lazily across pages."""
        params = query(status=status, scanner=scanner, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page(_path(scan_id, "/tasks"), ScanTask, params, page)

    @operation("get_scan_output")
    def output(self, scan_id: str) -> OutputLines:
        """The tasks' raw output (JSON Lines), streamed: iterate the result for ScanOutputLine objects. The
        request is sent now (errors raise here); use it in `with` or iterate to the end to free the connection."""
        response = self._transport.request("GET", _path(scan_id, "/output"), headers={"Accept": NDJSON},
                                           stream=True)
        return OutputLines(response)

    @operation("get_scan_status", "get_scan")
    def wait(self, scan_id: str, *, timeout: Optional[float] = None, poll_interval: float = 2.0,
             on_progress: Optional[ProgressCallback] = None) -> Scan:
        """Poll the status every `poll_interval` seconds until the scan ends, then return it. `on_progress` gets
        each ScanStatus. Raises WaitTimeoutError (a TimeoutError) after `timeout` seconds; the scan goes on."""
        deadline = _check_wait(timeout, poll_interval)
        while True:
            current = self.status(scan_id)
            if on_progress is not None:
                on_progress(current)
            if current.is_terminal:
                return self.get(scan_id)
            pause = _pause(deadline, poll_interval)
            if pause is None:
                raise _timed_out(scan_id, timeout, current)
            time.sleep(pause)


class AsyncScans(AsyncResource):
    """Scans (asyncio)."""

    @operation("create_scan")
    async def create(self, asset_id: str, *, scan_type: str, scanners: list[str] | NotGiven = NOT_GIVEN,
                     options: dict[str, Any] | NotGiven = NOT_GIVEN, priority: Priority | NotGiven = NOT_GIVEN,
                     callback_url: str | NotGiven = NOT_GIVEN, idempotency_key: str | None = None) -> Scan:
        """Start a scan of one asset (it starts `queued`)."""
        body = create_body(asset_id=asset_id, scan_type=scan_type, scanners=scanners, options=options,
                           priority=priority, callback_url=callback_url)
        return await self._send("POST", "/scans", Scan, json=body, idempotency_key=idempotency_key)

    @operation("list_scans")
    def list(self, *, status: StrList | NotGiven = NOT_GIVEN, asset_id: StrList | NotGiven = NOT_GIVEN,
             scan_type: StrList | NotGiven = NOT_GIVEN, profile_id: StrList | NotGiven = NOT_GIVEN,
             priority: StrList | NotGiven = NOT_GIVEN, from_: When | NotGiven = NOT_GIVEN,
             to: When | NotGiven = NOT_GIVEN, sort_by: ScanSort | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Scan]:
        """List scans, lazily across pages (`async for`)."""
        params = _list_params(status=status, asset_id=asset_id, scan_type=scan_type, profile_id=profile_id,
                              priority=priority, from_=from_, to=to, sort_by=sort_by, sort_order=sort_order,
                              per_page=per_page)
        return self._page("/scans", Scan, params, page)

    @operation("get_scan")
    async def get(self, scan_id: str) -> Scan:
        """One scan."""
        return await self._get(_path(scan_id), Scan)

    @operation("get_scan_status")
    async def status(self, scan_id: str) -> ScanStatus:
        """Status, progress, current phase and task counts."""
        return await self._get(_path(scan_id, "/status"), ScanStatus)

    @operation("cancel_scan")
    async def cancel(self, scan_id: str) -> Scan:
        """Cancel a scan; ConflictError `invalid_state` once it has ended."""
        return await self._send("POST", _path(scan_id, "/cancel"), Scan)

    @operation("rerun_scan")
    async def rerun(self, scan_id: str, *, idempotency_key: str | None = None) -> Scan:
        """Start a new scan with the same asset, type, scanners, options and priority."""
        return await self._send("POST", _path(scan_id, "/rerun"), Scan, idempotency_key=idempotency_key)

    @operation("list_scan_tasks")
    def list_tasks(self, scan_id: str, *, status: StrList | NotGiven = NOT_GIVEN,
              scanner: StrList | NotGiven = NOT_GIVEN, sort_by: TaskSort | NotGiven = NOT_GIVEN,
              sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
              per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[ScanTask]:
        """A scan's tasks (`async for`)."""
        params = query(status=status, scanner=scanner, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page(_path(scan_id, "/tasks"), ScanTask, params, page)

    @operation("get_scan_output")
    async def output(self, scan_id: str) -> AsyncOutputLines:
        """The tasks' raw output, streamed: `async for line in await client.scans.output(scan_id)`. Errors raise
        at the `await`; use `async with` or iterate to the end to free the connection."""
        response = await self._transport.request("GET", _path(scan_id, "/output"), headers={"Accept": NDJSON},
                                                 stream=True)
        return AsyncOutputLines(response)

    @operation("get_scan_status", "get_scan")
    async def wait(self, scan_id: str, *, timeout: Optional[float] = None, poll_interval: float = 2.0,
                   on_progress: Optional[ProgressCallback] = None) -> Scan:
        """Poll until the scan ends and return it; `on_progress` may be a plain or a coroutine function.
        Raises WaitTimeoutError (a TimeoutError) after `timeout` seconds."""
        deadline = _check_wait(timeout, poll_interval)
        while True:
            current = await self.status(scan_id)
            if on_progress is not None:
                result = on_progress(current)
                if isinstance(result, Awaitable):
                    await result
            if current.is_terminal:
                return await self.get(scan_id)
            pause = _pause(deadline, poll_interval)
            if pause is None:
                raise _timed_out(scan_id, timeout, current)
            await asyncio.sleep(pause)
