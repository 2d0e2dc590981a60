"""Delivery log and redelivery endpoints (api.md 2.7)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from s4e_platform.auth.dependencies import DbSession
from s4e_platform.event.endpoints import parse_patterns
from s4e_platform.kit.pagination import PageParams, csv_values, order, page_params, paginate
from s4e_platform.kit.router import api_router, conflict
from s4e_platform.kit.schemas import Envelope, ListEnvelope
from s4e_platform.webhook import service
from s4e_platform.webhook.dependencies import (
    DeliveryId,
    ReadableWebhook,
    ReadWebhooks,
    WritableWebhook,
    WriteWebhooks,
)
from s4e_platform.webhook.models import Delivery
from s4e_platform.webhook.repository import DELIVERY_SORTS
from s4e_platform.webhook.schemas import DeliveryRead, RedeliverFailed, RequeueResult

router = api_router(tags=["webhooks"])
STATUSES = {"pending", "delivering", "succeeded", "failed", "cancelled"}


@router.get("/webhooks/{webhook_id}/deliveries", response_model=ListEnvelope[DeliveryRead],
            operation_id="list_webhook_deliveries")
def list_webhook_deliveries(
    hook: ReadableWebhook,
    principal: ReadWebhooks,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    status: Annotated[str | None, Query(description="Comma list of delivery statuses")] = None,
    event: Annotated[str | None, Query(description="Comma list; `finding.*` wildcards", max_length=1024)] = None,
    from_: Annotated[datetime | None, Query(alias="from", description="created_at >= (inclusive)")] = None,
    to: Annotated[datetime | None, Query(description="created_at < (exclusive)")] = None,
):
    """Delivery log of one webhook."""
    stmt = service.delivery_repo(session, principal).filtered(
        hook.id, statuses=csv_values(status, STATUSES, "status"), patterns=parse_patterns(event),
        start=from_, end=to)
    rows, meta = paginate(session, order(stmt, paging, DELIVERY_SORTS, "created_at", Delivery.id), paging)
    return {"data": [service.delivery_to_read(d) for d in rows], "meta": meta}


@router.get("/webhooks/{webhook_id}/deliveries/{delivery_id}", response_model=Envelope[DeliveryRead],
            operation_id="get_webhook_delivery")
def get_webhook_delivery(delivery_id: DeliveryId, hook: ReadableWebhook, principal: ReadWebhooks,
                         session: DbSession):
    """One delivery with its attempts (status code, latency, resolved IP, response excerpt)."""
    delivery = service.get_delivery(session, principal, hook, delivery_id)
    return {"data": service.delivery_to_read(delivery), "meta": {}}


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", response_model=Envelope[DeliveryRead],
             status_code=202, operation_id="redeliver_webhook_delivery",
             responses=conflict("Webhook disabled, attempt in progress, or event past retention"))
def redeliver_webhook_delivery(delivery_id: DeliveryId, hook: WritableWebhook, principal: WriteWebhooks,
                               session: DbSession):
    """Queue one delivery again now (same webhook-id, fresh retry schedule)."""
    delivery = service.get_delivery(session, principal, hook, delivery_id)
    service.redeliver(session, hook, delivery)
    return {"data": service.delivery_to_read(delivery), "meta": {}}


@router.post("/webhooks/{webhook_id}/redeliver-failed", response_model=Envelope[RequeueResult],
             status_code=202, operation_id="redeliver_failed_webhook_deliveries",
             responses=conflict("Webhook disabled"))
def redeliver_failed_webhook_deliveries(body: RedeliverFailed, hook: WritableWebhook, principal: WriteWebhooks,
                                        session: DbSession):
    """Queue again every failed delivery created in [from, to)."""
    count = service.redeliver_failed(session, principal, hook, body.from_, body.to)
    return {"data": {"requeued": count}, "meta": {}}
