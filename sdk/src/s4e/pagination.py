"""Lazy iteration over lists (api.md 1.8) and the events cursor feed (events.md 3.1).

`client.assets.list(...)` sends nothing until used: iterating fetches page after page as the items are consumed
and stops after the last page; `first_page()` returns one `Page` (data + meta), `pages()` yields whole pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Generic, Optional, TypeVar

from s4e.models._base import CursorPage, Page

T = TypeVar("T")


class SyncPage(Generic[T]):
    """The items of a page/per_page list, fetched lazily page by page."""

    def __init__(self, fetch: Callable[[int], Page[T]], start_page: int = 1) -> None:
        self._fetch = fetch
        self._start = start_page
        self._first: Page[T] | None = None

    def first_page(self) -> Page[T]:
        """The first requested page (fetched once, then reused)."""
        if self._first is None:
            self._first = self._fetch(self._start)
        return self._first

    def pages(self) -> Iterator[Page[T]]:
        """Every page from the first requested one to the last."""
        page = self.first_page()
        yield page
        while page.has_next:
            page = self._fetch(page.meta.page + 1)
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data


class AsyncPage(Generic[T]):
    """The asyncio twin of SyncPage: `async for item in client.assets.list(...)`."""

    def __init__(self, fetch: Callable[[int], Awaitable[Page[T]]], start_page: int = 1) -> None:
        self._fetch = fetch
        self._start = start_page
        self._first: Page[T] | None = None

    async def first_page(self) -> Page[T]:
        """The first requested page (fetched once, then reused)."""
        if self._first is None:
            self._first = await self._fetch(self._start)
        return self._first

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Every page from the first requested one to the last."""
        page = await self.first_page()
        yield page
        while page.has_next:
            page = await self._fetch(page.meta.page + 1)
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item


class SyncCursorPage(Generic[T]):
    """The events feed from a cursor, fetched lazily; stops when the server has nothing more right now.

    `cursor` holds the `next_after` of the last page fetched: store it and pass it as `after` next time to
    continue exactly where this iteration stopped.
    """

    def __init__(self, fetch: Callable[[Optional[str]], CursorPage[T]], after: str | None = None) -> None:
        self._fetch = fetch
        self._after = after
        self._first: CursorPage[T] | None = None
        self.cursor: str | None = after
        """Cursor to resume from (the last fetched page's `next_after`)."""

    def first_page(self) -> CursorPage[T]:
        """The first page from the starting cursor (fetched once, then reused)."""
        if self._first is None:
            self._first = self._fetch(self._after)
            self.cursor = self._first.meta.next_after or self.cursor
        return self._first

    def pages(self) -> Iterator[CursorPage[T]]:
        """Pages until `has_more` is false."""
        page = self.first_page()
        yield page
        while page.has_next:
            page = self._fetch(page.meta.next_after)
            self.cursor = page.meta.next_after or self.cursor
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data


class AsyncCursorPage(Generic[T]):
    """The asyncio twin of SyncCursorPage."""

    def __init__(self, fetch: Callable[[Optional[str]], Awaitable[CursorPage[T]]], after: str | None = None) -> None:
        self._fetch = fetch
        self._after = after
        self._first: CursorPage[T] | None = None
        self.cursor: str | None = after
        """Cursor to resume from (the last fetched page's `next_after`)."""

    async def first_page(self) -> CursorPage[T]:
        """The first page from the starting cursor (fetched once, then reused)."""
        if self._first is None:
            self._first = await self._fetch(self._after)
            self.cursor = self._first.meta.next_after or self.cursor
        return self._first

    async def pages(self) -> AsyncIterator[CursorPage[T]]:
        """Pages until `has_more` is false."""
        page = await self.first_page()
        yield page
        while page.has_next:
            page = await self._fetch(page.meta.next_after)
            self.cursor = page.meta.next_after or self.cursor
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item
