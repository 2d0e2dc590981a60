"""Webhook path dependencies: the principal with its scope and the webhook named in the path (404 here, once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from s4e_platform.auth.dependencies import DbSession, require
from s4e_platform.auth.principal import Principal
from s4e_platform.webhook import service
from s4e_platform.webhook.models import Webhook

ReadWebhooks = Annotated[Principal, Depends(require("read:webhooks"))]
WriteWebhooks = Annotated[Principal, Depends(require("write:webhooks"))]
WebhookId = Annotated[str, Path(description="Webhook id (whk_...)", max_length=64)]
DeliveryId = Annotated[str, Path(description="Delivery id (dlv_...)", max_length=64)]


def webhook_for_read(webhook_id: WebhookId, principal: ReadWebhooks, session: DbSession) -> Webhook:
    return service.get(session, principal, webhook_id)


def webhook_for_write(webhook_id: WebhookId, principal: WriteWebhooks, session: DbSession) -> Webhook:
    return service.get(session, principal, webhook_id)


ReadableWebhook = Annotated[Webhook, Depends(webhook_for_read)]
WritableWebhook = Annotated[Webhook, Depends(webhook_for_write)]
