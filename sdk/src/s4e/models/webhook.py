"""Webhook endpoints and their deliveries (api.md 2.7, 3.4; events.md 2)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from pydantic import Field

from s4e.models._base import RequestModel, S4EModel


class WebhookFilters(S4EModel):
    """Conditions on events that carry an asset or finding."""

    min_severity: Optional[str] = None
    """Lowest finding severity delivered."""
    asset_ids: list[str] = Field(default_factory=list)
    """Only these assets (empty = all)."""
    asset_tags: list[str] = Field(default_factory=list)
    """Only assets with one of these tags."""
    criticality: list[str] = Field(default_factory=list)
    """Only assets of these criticalities."""


class Webhook(S4EModel):
    """A webhook endpoint (signed with Standard Webhooks)."""

    id: str
    """`whk_` id."""
    name: str
    """Display name."""
    url: str
    """Receiver URL."""
    events: list[str] = Field(default_factory=list)
    """Event names or `finding.*`-style wildcards, `*` for all."""
    filters: WebhookFilters = Field(default_factory=WebhookFilters)
    """Asset/finding conditions."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra headers sent (values masked as `********`)."""
    active: bool = True
    """Whether deliveries are sent."""
    status: str = "enabled"
    """`enabled` or `disabled`."""
    disabled_reason: Optional[str] = None
    """`manual`, `failing` or `gone` when disabled."""
    failing_since: Optional[datetime] = None
    """First failure with no success after it."""
    last_delivery_at: Optional[datetime] = None
    """Last attempt."""
    last_success_at: Optional[datetime] = None
    """Last 2xx."""
    previous_secret_expires_at: Optional[datetime] = None
    """While set, the previous secret still signs alongside the current one (24 h after a rotation)."""
    created_at: Optional[datetime] = None
    """Creation time."""
    updated_at: Optional[datetime] = None
    """Last change."""


class WebhookWithSecret(Webhook):
    """A webhook as returned by create and rotate-secret: the only time the secret is shown."""

    secret: str
    """`whsec_<base64>` signing secret; store it now."""


class WebhookFiltersInput(RequestModel):
    """Filters of a webhook create or update."""

    min_severity: Optional[str] = None
    """Lowest finding severity delivered."""
    asset_ids: Optional[list[str]] = None
    """Only these assets."""
    asset_tags: Optional[list[str]] = None
    """Only assets with one of these tags."""
    criticality: Optional[list[str]] = None
    """Only assets of these criticalities."""


class WebhookCreate(RequestModel):
    """Body of `POST /webhooks`."""

    name: str
    """1-128 characters."""
    url: str
    """https URL (http only for allowlisted hosts)."""
    events: list[str]
    """Event names, wildcards or `*`."""
    filters: Optional[WebhookFiltersInput] = None
    """Asset/finding conditions."""
    headers: Optional[dict[str, str]] = None
    """Up to 20 extra headers (not `webhook-*`, `Host`, `Content-*`)."""
    active: Optional[bool] = None
    """Default true."""


class WebhookUpdate(RequestModel):
    """Body of `PATCH /webhooks/{id}`; only the fields set change."""

    name: Optional[str] = None
    """New name."""
    url: Optional[str] = None
    """New URL."""
    events: Optional[list[str]] = None
    """New event list."""
    filters: Optional[WebhookFiltersInput] = None
    """New filters."""
    headers: Optional[dict[str, str]] = None
    """New extra headers (replace the set)."""
    active: Optional[bool] = None
    """Pause or resume."""


class DeliveryAttempt(S4EModel):
    """One HTTP attempt of a delivery."""

    number: int
    """Attempt number from 1."""
    started_at: Optional[datetime] = None
    """When it started."""
    duration_ms: Optional[float] = None
    """Latency."""
    status_code: Optional[int] = None
    """Receiver's HTTP status."""
    error_class: Optional[str] = None
    """`dns`, `ssrf_blocked`, `connect`, `tls`, `timeout`, `http_status` or `redirect`."""
    resolved_ip: Optional[str] = None
    """Address connected to."""
    response_excerpt: Optional[str] = None
    """Up to 4 KiB of the response body."""
    error: Optional[str] = None
    """Error text, when the attempt failed without a response."""


class Delivery(S4EModel):
    """One event sent to one webhook (the row is the job)."""

    id: str
    """`dlv_` id."""
    target_id: Optional[str] = None
    """`whk_` (or `int_`) id."""
    event_id: Optional[str] = None
    """`evt_` id, also the `webhook-id` header."""
    event: Optional[str] = None
    """Event type."""
    status: str
    """`pending`, `delivering`, `succeeded`, `failed` or `cancelled`."""
    attempt_count: int = 0
    """Attempts so far."""
    next_attempt_at: Optional[datetime] = None
    """When the next attempt is due."""
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    """Attempt log (detail view)."""
    created_at: Optional[datetime] = None
    """Creation time."""
    finished_at: Optional[datetime] = None
    """When it succeeded, failed for good or was cancelled."""


class WebhookTestResult(S4EModel):
    """Outcome of `POST /webhooks/{id}/test` (a signed `webhook.test` sent synchronously)."""

    success: bool
    """The receiver answered 2xx."""
    status_code: Optional[int] = None
    """Receiver's HTTP status."""
    duration_ms: Optional[float] = None
    """Latency."""
    error_class: Optional[str] = None
    """Failure class, when it failed."""
    error: Optional[str] = None
    """Failure text."""
    resolved_ip: Optional[str] = None
    """Address connected to."""
    response_excerpt: Optional[str] = None
    """Start of the response body."""
    webhook_id: Optional[str] = None
    """The `webhook-id` header sent (test pings are not stored)."""


class RedeliverResult(S4EModel):
    """Outcome of `POST /webhooks/{id}/redeliver-failed`."""

    requeued: int = 0
    """Failed deliveries queued again."""


class RedeliverFailed(RequestModel):
    """Body of `POST /webhooks/{id}/redeliver-failed`."""

    from_: datetime = Field(alias="from")
    """Deliveries created at or after this time (inclusive)."""
    to: datetime
    """Deliveries created before this time (exclusive)."""
