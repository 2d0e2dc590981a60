"""`client.webhooks.deliveries`: the delivery log of a webhook and redelivery (api.md 2.7)."""

from __future__ import annotations

from datetime import datetime
from typing import Union

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, StrList, path_segment, query
from s4e.models.webhook import Delivery
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource

When = Union[datetime, str]


def _path(webhook_id: str, delivery_id: str | None = None, suffix: str = "") -> str:
    path = f"/webhooks/{path_segment(webhook_id, 'webhook_id')}/deliveries"
    if delivery_id is not None:
        path += f"/{path_segment(delivery_id, 'delivery_id')}"
    return path + suffix


class WebhookDeliveries(SyncResource):
    """Deliveries of one webhook."""

    @operation("list_webhook_deliveries")
    def list(self, webhook_id: str, *, status: StrList | NotGiven = NOT_GIVEN, event: StrList | NotGiven = NOT_GIVEN,
             from_: When | NotGiven = NOT_GIVEN, to: When | NotGiven = NOT_GIVEN,
             sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Delivery]:
        """The webhook's delivery log, lazily across pages; filter by `status`, `event` and creation time;
        `sort_by`: `created_at` (default), `next_attempt_at` or `finished_at`."""
        params = query(status=status, event=event, from_=from_, to=to, sort_by=sort_by, sort_order=sort_order,
                       per_page=per_page)
        return self._page(_path(webhook_id), Delivery, params, page)

    @operation("get_webhook_delivery")
    def get(self, webhook_id: str, delivery_id: str) -> Delivery:
        """One delivery with its attempts (status code, latency, resolved IP, response excerpt)."""
        return self._get(_path(webhook_id, delivery_id), Delivery)

    @operation("redeliver_webhook_delivery")
    def redeliver(self, webhook_id: str, delivery_id: str) -> Delivery:
        """Queue a delivery again now (same `webhook-id`, so receivers de-duplicate it)."""
        return self._send("POST", _path(webhook_id, delivery_id, "/redeliver"), Delivery)


class AsyncWebhookDeliveries(AsyncResource):
    """Deliveries of one webhook (asyncio)."""

    @operation("list_webhook_deliveries")
    def list(self, webhook_id: str, *, status: StrList | NotGiven = NOT_GIVEN, event: StrList | NotGiven = NOT_GIVEN,
             from_: When | NotGiven = NOT_GIVEN, to: When | NotGiven = NOT_GIVEN,
             sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Delivery]:
        """The webhook's delivery log, lazily across pages (`async for`)."""
        params = query(status=status, event=event, from_=from_, to=to, sort_by=sort_by, sort_order=sort_order,
                       per_page=per_page)
        return self._page(_path(webhook_id), Delivery, params, page)

    @operation("get_webhook_delivery")
    async def get(self, webhook_id: str, delivery_id: str) -> Delivery:
        """One delivery with its attempts."""
        return await self._get(_path(webhook_id, delivery_id), Delivery)

    @operation("redeliver_webhook_delivery")
    async def redeliver(self, webhook_id: str, delivery_id: str) -> Delivery:
        """Queue a delivery again now (same `webhook-id`)."""
        return await self._send("POST", _path(webhook_id, delivery_id, "/redeliver"), Delivery)
