"""Plumbing shared by every resource: request helpers that decode envelopes into models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from s4e._transport import envelope
from s4e.errors import APIResponseError
from s4e.models._base import CursorPage, Page
from s4e.pagination import AsyncCursorPage, AsyncPage, SyncCursorPage, SyncPage

if TYPE_CHECKING:
    from s4e._transport import AsyncTransport, SyncTransport

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, response: httpx.Response | None = None) -> M:
    """Validate response data into `model`; a mismatch is an APIResponseError naming the field."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "$"
        raise APIResponseError(f"Unexpected {model.__name__} in response at {where}: {first.get('msg', exc)}",
                               code="invalid_response", status_code=response.status_code if response else 0,
                               request_id=response.headers.get("x-request-id") if response else None,
                               response=response) from None


def parse_data(model: type[M], response: httpx.Response) -> M:
    return parse(model, envelope(response)["data"], response)


def parse_body(model: type[M], response: httpx.Response) -> M:
    """A whole `{data, meta}` body (pages)."""
    return parse(model, envelope(response), response)


class SyncResource:
    """Base of the blocking resources (`client.assets` ...)."""

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def _get(self, path: str, model: type[M], params: Mapping[str, str] | None = None) -> M:
        return parse_data(model, self._transport.request("GET", path, params=params))

    def _send(self, method: str, path: str, model: type[M] | None, *, json: Any = None,
              params: Mapping[str, str] | None = None, idempotency_key: str | None = None, **kwargs: Any) -> Any:
        response = self._transport.request(method, path, json=json, params=params,
                                           idempotency_key=idempotency_key, **kwargs)
        if model is None or response.status_code == 204:
            return None
        return parse_data(model, response)

    def _page(self, path: str, model: type[M], params: Mapping[str, str], start_page: int = 1) -> SyncPage[M]:
        def fetch(number: int) -> Page[M]:
            response = self._transport.request("GET", path, params={**params, "page": str(number)})
            return parse_body(Page[model], response)  # type: ignore[valid-type]

        return SyncPage(fetch, start_page)

    def _cursor(self, path: str, model: type[M], params: Mapping[str, str], after: str | None) -> SyncCursorPage[M]:
        def fetch(cursor: str | None) -> CursorPage[M]:
            query = {**params, **({"after": cursor} if cursor else {})}
            return parse_body(CursorPage[model], self._transport.request("GET", path, params=query))  # type: ignore[valid-type]

        return SyncCursorPage(fetch, after)


class AsyncResource:
    """Base of the asyncio resources (`async_client.assets` ...)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def _get(self, path: str, model: type[M], params: Mapping[str, str] | None = None) -> M:
        return parse_data(model, await self._transport.request("GET", path, params=params))

    async def _send(self, method: str, path: str, model: type[M] | None, *, json: Any = None,
                    params: Mapping[str, str] | None = None, idempotency_key: str | None = None,
                    **kwargs: Any) -> Any:
        response = await self._transport.request(method, path, json=json, params=params,
                                                 idempotency_key=idempotency_key, **kwargs)
        if model is None or response.status_code == 204:
            return None
        return parse_data(model, response)

    def _page(self, path: str, model: type[M], params: Mapping[str, str], start_page: int = 1) -> AsyncPage[M]:
        async def fetch(number: int) -> Page[M]:
            response = await self._transport.request("GET", path, params={**params, "page": str(number)})
            return parse_body(Page[model], response)  # type: ignore[valid-type]

        return AsyncPage(fetch, start_page)

    def _cursor(self, path: str, model: type[M], params: Mapping[str, str],
                after: str | None) -> AsyncCursorPage[M]:
        async def fetch(cursor: str | None) -> CursorPage[M]:
            query = {**params, **({"after": cursor} if cursor else {})}
            response = await self._transport.request("GET", path, params=query)
            return parse_body(CursorPage[model], response)  # type: ignore[valid-type]

        return AsyncCursorPage(fetch, after)
