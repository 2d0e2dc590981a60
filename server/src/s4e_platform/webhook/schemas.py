"""Webhook and delivery shapes (api.md 3.4)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from s4e_platform.asset.schemas import clean_tags
from s4e_platform.event import service as event_service
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp

Severity = Literal["info", "low", "medium", "high", "critical"]
Criticality = Literal["low", "medium", "high", "critical"]
SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")
DeliveryStatus = Literal["pending", "delivering", "succeeded", "failed", "cancelled"]
MASK = "********"
MAX_HEADERS = 20
# The stored event types a webhook can receive (events.md 1.2); `scan.progress` is SSE-only and `webhook.test`
# is only ever a test ping. A pattern must match one of these, so a typo is a 422 rather than silence.
EVENT_TYPES = (
    "asset.created", "asset.updated", "asset.deleted", "asset.verified", "asset.discovered",
    "scan.created", "scan.started", "scan.completed", "scan.failed", "scan.cancelled",
    "finding.new", "finding.updated", "finding.status_changed", "finding.resolved", "finding.reopened",
    "action.triggered", "action.completed", "action.failed",
    "playbook.started", "playbook.waiting", "playbook.completed", "playbook.failed",
    "report.generated", "agent.connected", "agent.disconnected",
    "audit.login_succeeded", "audit.login_failed", "audit.logout", "audit.mfa_enabled", "audit.mfa_disabled",
    "audit.password_changed", "audit.api_key_created", "audit.api_key_revoked", "audit.oauth_client_created",
    "audit.oauth_client_revoked", "audit.member_added", "audit.member_removed", "audit.role_changed",
    "audit.settings_changed", "audit.verification_overridden", "audit.webhook_secret_rotated",
    "audit.webhook_disabled", "audit.agent_enrolled", "audit.agent_revoked",
)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
# Framing and routing headers are ours to set: a custom value would corrupt or redirect the request.
_RESERVED_HEADERS = {"host", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                     "proxy-authorization", "proxy-connection", "accept-encoding"}


def check_events(patterns: list[str]) -> list[str]:
    out: list[str] = []
    for i, p in enumerate(patterns):
        if not isinstance(p, str) or not event_service.valid_pattern(p) or \
                not any(event_service.matches(t, [p]) for t in EVENT_TYPES):
            raise ValueError(f"events[{i}] {p!r} is not a known event type, a `family.*` wildcard or `*`")
        if p not in out:
            out.append(p)
    return out


def check_header_name(name: str) -> str | None:
    """Why a custom header name is refused, or None when it is fine."""
    lower = name.lower()
    if not _HEADER_NAME.match(name):
        return "is not a valid HTTP header name"
    if lower.startswith("webhook-") or lower.startswith("content-") or lower in _RESERVED_HEADERS:
        return "is set by S4E and cannot be overridden (webhook-*, Host, Content-* and framing headers)"
    return None


def check_header_value(value: str) -> str | None:
    if not isinstance(value, str) or len(value) > 4096:
        return "must be a string of at most 4096 characters"
    if any(not (0x20 <= ord(c) < 0x7F or c == "\t") for c in value):
        return "must be printable ASCII (no CR, LF or other control characters)"
    return None


class WebhookFilters(StrictModel):
    min_severity: Severity | None = Field(None, description="Only findings of this severity or higher")
    asset_ids: list[str] = Field(default_factory=list, max_length=1000, description="Only these assets (ast_)")
    asset_tags: list[str] = Field(default_factory=list, description="Only assets carrying one of these tags")
    criticality: list[Criticality] = Field(default_factory=list, description="Only assets of these criticalities")

    @field_validator("asset_ids")
    @classmethod
    def _asset_ids(cls, v: list[str]) -> list[str]:
        out = []
        for i, raw in enumerate(v):
            canon = parse_id(raw, "ast") if isinstance(raw, str) else None
            if canon is None:
                raise ValueError(f"asset_ids[{i}] is not an asset id (ast_...)")
            if canon not in out:
                out.append(canon)
        return out

    _tags = field_validator("asset_tags")(lambda cls, v: clean_tags(v))
    _crit = field_validator("criticality")(lambda cls, v: list(dict.fromkeys(v)))


class WebhookCreate(StrictModel):
    name: str = Field(min_length=1, max_length=128, description="Display name")
    url: str = Field(min_length=1, max_length=2048, description="https URL (http only for allowlisted hosts)")
    events: list[str] = Field(min_length=1, max_length=100, description="Event names, `finding.*` or `*`")
    filters: WebhookFilters = Field(default_factory=WebhookFilters, description="Asset/finding filters")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers (<= 20)")
    active: bool = Field(True, description="Deliver events (false = disabled manually)")

    _events = field_validator("events")(lambda cls, v: check_events(v))


class WebhookUpdate(StrictModel):
    name: str | None = Field(None, min_length=1, max_length=128)
    url: str | None = Field(None, min_length=1, max_length=2048)
    events: list[str] | None = Field(None, min_length=1, max_length=100)
    filters: WebhookFilters | None = Field(None, description="Replace the filters (null clears them)")
    headers: dict[str, str] | None = Field(None, description=f"Replace the headers; a value of {MASK!r} keeps "
                                                             "the stored value of that header")
    active: bool | None = None

    _events = field_validator("events")(lambda cls, v: None if v is None else check_events(v))


class WebhookRead(ReadModel):
    id: str
    name: str
    url: str
    events: list[str]
    filters: WebhookFilters
    headers: dict[str, str] = Field(description=f"Header names; values are write-only ({MASK!r})")
    active: bool
    status: Literal["enabled", "disabled"]
    disabled_reason: Literal["manual", "failing", "gone"] | None
    failing_since: Timestamp | None
    last_delivery_at: Timestamp | None
    last_success_at: Timestamp | None
    previous_secret_expires_at: Timestamp | None = Field(
        description="While set, the previous secret still signs alongside the current one")
    created_at: Timestamp
    updated_at: Timestamp


class WebhookWithSecret(WebhookRead):
    secret: str = Field(description="whsec_ signing secret; shown only in this response")


class DeliveryAttempt(ReadModel):
    number: int
    started_at: str
    duration_ms: int
    status_code: int | None
    error_class: Literal["dns", "ssrf_blocked", "connect", "tls", "timeout", "http_status", "redirect"] | None
    error: str | None = Field(None, description="Human-readable cause of a failed attempt")
    resolved_ip: str | None
    response_excerpt: str | None = Field(description="First 4 KiB of the response body")


class DeliveryRead(ReadModel):
    id: str
    target_id: str
    event_id: str
    event: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: Timestamp | None
    attempts: list[DeliveryAttempt]
    created_at: Timestamp
    finished_at: Timestamp | None


class TestResult(ReadModel):
    webhook_id: str = Field(description="The webhook-id header sent (a fresh evt_ id; test pings are not stored)")
    success: bool
    status_code: int | None
    duration_ms: int = Field(description="Latency of the attempt")
    error_class: str | None
    error: str | None
    resolved_ip: str | None
    response_excerpt: str | None


class RedeliverFailed(StrictModel):
    from_: datetime = Field(alias="from", description="Deliveries created at or after (inclusive)")
    to: datetime = Field(description="Deliveries created before (exclusive)")


class RequeueResult(ReadModel):
    requeued: int = Field(description="Failed deliveries queued again")
