"""Base classes of every SDK model: lenient responses, strict requests, the page envelopes."""

from __future__ import annotations

from typing import Any, Generic, Optional, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class S4EModel(BaseModel):
    """A response object. Fields the server adds later are kept (in `model_extra`) rather than rejected, so an
    older SDK keeps working against a newer server."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True, populate_by_name=True,
                              protected_namespaces=())

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-compatible data (what the API sent, timestamps as RFC 3339 strings)."""
        return self.model_dump(mode="json")


class RequestModel(BaseModel):
    """A request body. Unknown fields are an error here, as on the server (api.md 1.1)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, populate_by_name=True,
                              protected_namespaces=())

    def body(self) -> dict[str, Any]:
        """The JSON body: only the fields that were set, so PATCH leaves the others alone."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)


class PageMeta(S4EModel):
    """Pagination of a page/per_page list (api.md 1.8)."""

    total: int
    """Items matching the filters, over all pages."""
    page: int
    """This page's number, from 1."""
    per_page: int
    """Page size requested (max 100)."""
    total_pages: int
    """Number of pages (0 when nothing matches)."""


class Page(S4EModel, Generic[T]):
    """One page of a list."""

    data: list[T]
    """The items on this page."""
    meta: PageMeta
    """Page number, size and totals."""

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        return self.meta.page < self.meta.total_pages and bool(self.data)


class CursorMeta(S4EModel):
    """Cursor of the events feed (events.md 3.1)."""

    next_after: Optional[str] = None
    """Pass as `after` to continue; equals the request's `after` when nothing is new."""
    has_more: bool
    """More events are available right now."""
    limit: int
    """Page size used."""
    gap: Optional[bool] = None
    """True when the requested cursor was older than retention and the feed restarted at the oldest event."""


class CursorPage(S4EModel, Generic[T]):
    """One page of the events feed."""

    data: list[T]
    """Events, ascending by id."""
    meta: CursorMeta
    """Cursor to continue from."""

    @property
    def has_next(self) -> bool:
        """Whether more events are available now."""
        return self.meta.has_more and bool(self.data)
