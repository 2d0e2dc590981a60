"""Webhook endpoints (api.md 2.7): CRUD, test ping, secret rotation, re-enable. Deliveries: delivery_endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from s4e_platform.auth.dependencies import DbSession
from s4e_platform.db.session import commit
from s4e_platform.kit.pagination import PageParams, csv_values, order, page_params, paginate
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope, ListEnvelope
from s4e_platform.webhook import delivery_endpoints, service
from s4e_platform.webhook.dependencies import ReadableWebhook, ReadWebhooks, WritableWebhook, WriteWebhooks
from s4e_platform.webhook.models import Webhook
from s4e_platform.webhook.repository import WEBHOOK_SORTS
from s4e_platform.webhook.schemas import TestResult, WebhookCreate, WebhookRead, WebhookUpdate, WebhookWithSecret

router = api_router(tags=["webhooks"])


@router.get("/webhooks", response_model=ListEnvelope[WebhookRead], operation_id="list_webhooks")
def list_webhooks(
    principal: ReadWebhooks,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    status: Annotated[str | None, Query(description="Comma list: enabled, disabled")] = None,
):
    """List webhooks."""
    stmt = service.repo(session, principal).filtered(
        statuses=csv_values(status, {"enabled", "disabled"}, "status"))
    rows, meta = paginate(session, order(stmt, paging, WEBHOOK_SORTS, "created_at", Webhook.id), paging)
    return {"data": [service.to_read(h) for h in rows], "meta": meta}


@router.post("/webhooks", response_model=Envelope[WebhookWithSecret], status_code=201,
             operation_id="create_webhook")
def create_webhook(body: WebhookCreate, principal: WriteWebhooks, session: DbSession, response: Response):
    """Create a webhook; its signing secret is returned only in this response."""
    hook, secret = service.create(session, principal, body)
    response.headers["Location"] = f"/api/v1/webhooks/{hook.id}"
    return {"data": {**service.to_read(hook), "secret": secret}, "meta": {}}


@router.get("/webhooks/{webhook_id}", response_model=Envelope[WebhookRead], operation_id="get_webhook")
def get_webhook(hook: ReadableWebhook):
    """Get one webhook (header values masked, no secret)."""
    return {"data": service.to_read(hook), "meta": {}}


@router.patch("/webhooks/{webhook_id}", response_model=Envelope[WebhookRead], operation_id="update_webhook")
def update_webhook(body: WebhookUpdate, hook: WritableWebhook, principal: WriteWebhooks, session: DbSession):
    """Update name, url, events, filters, headers or active."""
    service.update(session, principal, hook, body)
    return {"data": service.to_read(hook), "meta": {}}


@router.delete("/webhooks/{webhook_id}", status_code=204, operation_id="delete_webhook")
def delete_webhook(hook: WritableWebhook, principal: WriteWebhooks, session: DbSession):
    """Delete a webhook and its delivery log."""
    service.delete(session, principal, hook)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/test", response_model=Envelope[TestResult], operation_id="test_webhook")
def test_webhook(hook: WritableWebhook, principal: WriteWebhooks, session: DbSession):
    """Send a signed `webhook.test` event now and return the attempt."""
    ping = service.prepare_test(principal, hook)
    # The ping changes nothing, and the network wait (up to the webhook timeout) must not hold the
    # request's transaction: on SQLite that is the database-wide write lock.
    commit(session)
    return {"data": service.run_test(ping), "meta": {}}


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=Envelope[WebhookWithSecret],
             operation_id="rotate_webhook_secret")
def rotate_webhook_secret(hook: WritableWebhook, principal: WriteWebhooks, session: DbSession):
    """Issue a new secret (returned once); the previous one keeps signing for 24 h."""
    secret = service.rotate_secret(session, principal, hook)
    return {"data": {**service.to_read(hook), "secret": secret}, "meta": {}}


@router.post("/webhooks/{webhook_id}/enable", response_model=Envelope[WebhookRead], operation_id="enable_webhook")
def enable_webhook(hook: WritableWebhook, session: DbSession):
    """Re-enable a disabled webhook and reset its failure clock."""
    service.enable(session, hook)
    return {"data": service.to_read(hook), "meta": {}}


router.include_router(delivery_endpoints.router)
