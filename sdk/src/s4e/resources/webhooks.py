"""`client.webhooks`: endpoints signed with Standard Webhooks, their test, secret rotation and re-enable
(api.md 2.7); deliveries in webhook_deliveries.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional, Union

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, StrList, given, path_segment, query
from s4e.models.webhook import (
    RedeliverFailed,
    RedeliverResult,
    Webhook,
    WebhookCreate,
    WebhookFiltersInput,
    WebhookTestResult,
    WebhookUpdate,
    WebhookWithSecret,
)
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource
from s4e.resources.webhook_deliveries import AsyncWebhookDeliveries, WebhookDeliveries

When = Union[datetime, str]
Filters = Union[WebhookFiltersInput, None]


def _path(webhook_id: str, suffix: str = "") -> str:
    return f"/webhooks/{path_segment(webhook_id, 'webhook_id')}{suffix}"


def create_body(**fields: Any) -> dict[str, Any]:
    return WebhookCreate(**given(fields)).body()


def update_body(**fields: Any) -> dict[str, Any]:
    body = WebhookUpdate(**given(fields)).body()
    if not body:
        raise ValueError("update needs at least one field to change")
    return body


def redeliver_body(from_: When, to: When) -> dict[str, Any]:
    return RedeliverFailed.model_validate({"from": from_, "to": to}).body()


class Webhooks(SyncResource):
    """Webhook endpoints."""

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.deliveries = WebhookDeliveries(transport)
        """Delivery log of a webhook, and redelivery."""

    @operation("list_webhooks")
    def list(self, *, status: StrList | NotGiven = NOT_GIVEN, sort_by: str | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Webhook]:
        """List webhooks, lazily across pages; `status` is `enabled` and/or `disabled`."""
        params = query(status=status, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/webhooks", Webhook, params, page)

    @operation("get_webhook")
    def get(self, webhook_id: str) -> Webhook:
        """Get one webhook (header values masked)."""
        return self._get(_path(webhook_id), Webhook)

    @operation("create_webhook")
    def create(self, *, name: str, url: str, events: list[str], filters: Filters | NotGiven = NOT_GIVEN,
               headers: dict[str, str] | NotGiven = NOT_GIVEN, active: bool | NotGiven = NOT_GIVEN,
               idempotency_key: Optional[str] = None) -> WebhookWithSecret:
        """Create a webhook; the response carries the signing `secret`, shown only this once."""
        body = create_body(name=name, url=url, events=events, filters=filters, headers=headers, active=active)
        return self._send("POST", "/webhooks", WebhookWithSecret, json=body, idempotency_key=idempotency_key)

    @operation("update_webhook")
    def update(self, webhook_id: str, *, name: str | NotGiven = NOT_GIVEN, url: str | NotGiven = NOT_GIVEN,
               events: list[str] | NotGiven = NOT_GIVEN, filters: Filters | NotGiven = NOT_GIVEN,
               headers: dict[str, str] | NotGiven = NOT_GIVEN, active: bool | NotGiven = NOT_GIVEN) -> Webhook:
        """Change name, url, events, filters (None clears them), headers (a `********` value keeps the stored
        one) or active."""
        body = update_body(name=name, url=url, events=events, filters=filters, headers=headers, active=active)
        return self._send("PATCH", _path(webhook_id), Webhook, json=body)

    @operation("delete_webhook")
    def delete(self, webhook_id: str) -> None:
        """Delete a webhook."""
        self._send("DELETE", _path(webhook_id), None)

    @operation("test_webhook")
    def test(self, webhook_id: str) -> WebhookTestResult:
        """Send a signed `webhook.test` event now and return the attempt (status code, latency, error)."""
        return self._send("POST", _path(webhook_id, "/test"), WebhookTestResult)

    @operation("rotate_webhook_secret")
    def rotate_secret(self, webhook_id: str) -> WebhookWithSecret:
        """New signing secret, shown once; the old one keeps signing alongside it for 24 h."""
        return self._send("POST", _path(webhook_id, "/rotate-secret"), WebhookWithSecret)

    @operation("enable_webhook")
    def enable(self, webhook_id: str) -> Webhook:
        """Re-enable an auto-disabled webhook and reset its failure clock."""
        return self._send("POST", _path(webhook_id, "/enable"), Webhook)

    @operation("redeliver_failed_webhook_deliveries")
    def redeliver_failed(self, webhook_id: str, *, from_: When, to: When) -> RedeliverResult:
        """Queue again every failed delivery created in [from_, to)."""
        return self._send("POST", _path(webhook_id, "/redeliver-failed"), RedeliverResult,
                          json=redeliver_body(from_, to))


class AsyncWebhooks(AsyncResource):
    """Webhook endpoints (asyncio)."""

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.deliveries = AsyncWebhookDeliveries(transport)
        """Delivery log of a webhook, and redelivery."""

    @operation("list_webhooks")
    def list(self, *, status: StrList | NotGiven = NOT_GIVEN, sort_by: str | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Webhook]:
        """List webhooks, lazily across pages (`async for`); `status` is `enabled` and/or `disabled`."""
        params = query(status=status, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/webhooks", Webhook, params, page)

    @operation("get_webhook")
    async def get(self, webhook_id: str) -> Webhook:
        """Get one webhook (header values masked)."""
        return await self._get(_path(webhook_id), Webhook)

    @operation("create_webhook")
    async def create(self, *, name: str, url: str, events: list[str], filters: Filters | NotGiven = NOT_GIVEN,
                     headers: dict[str, str] | NotGiven = NOT_GIVEN, active: bool | NotGiven = NOT_GIVEN,
                     idempotency_key: Optional[str] = None) -> WebhookWithSecret:
        """Create a webhook; the response carries the signing `secret`, shown only this once."""
        body = create_body(name=name, url=url, events=events, filters=filters, headers=headers, active=active)
        return await self._send("POST", "/webhooks", WebhookWithSecret, json=body, idempotency_key=idempotency_key)

    @operation("update_webhook")
    async def update(self, webhook_id: str, *, name: str | NotGiven = NOT_GIVEN, url: str | NotGiven = NOT_GIVEN,
                     events: list[str] | NotGiven = NOT_GIVEN, filters: Filters | NotGiven = NOT_GIVEN,
                     headers: dict[str, str] | NotGiven = NOT_GIVEN,
                     active: bool | NotGiven = NOT_GIVEN) -> Webhook:
        """Change name, url, events, filters, headers or active."""
        body = update_body(name=name, url=url, events=events, filters=filters, headers=headers, active=active)
        return await self._send("PATCH", _path(webhook_id), Webhook, json=body)

    @operation("delete_webhook")
    async def delete(self, webhook_id: str) -> None:
        """Delete a webhook."""
        await self._send("DELETE", _path(webhook_id), None)

    @operation("test_webhook")
    async def test(self, webhook_id: str) -> WebhookTestResult:
        """Send a signed `webhook.test` event now and return the attempt."""
        return await self._send("POST", _path(webhook_id, "/test"), WebhookTestResult)

    @operation("rotate_webhook_secret")
    async def rotate_secret(self, webhook_id: str) -> WebhookWithSecret:
        """New signing secret, shown once; the old one keeps signing alongside it for 24 h."""
        return await self._send("POST", _path(webhook_id, "/rotate-secret"), WebhookWithSecret)

    @operation("enable_webhook")
    async def enable(self, webhook_id: str) -> Webhook:
        """Re-enable an auto-disabled webhook and reset its failure clock."""
        return await self._send("POST", _path(webhook_id, "/enable"), Webhook)

    @operation("redeliver_failed_webhook_deliveries")
    async def redeliver_failed(self, webhook_id: str, *, from_: When, to: When) -> RedeliverResult:
        """Queue again every failed delivery created in [from_, to)."""
        return await self._send("POST", _path(webhook_id, "/redeliver-failed"), RedeliverResult,
                                json=redeliver_body(from_, to))
