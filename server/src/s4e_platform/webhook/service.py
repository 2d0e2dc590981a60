"""Webhook business rules: endpoints, their secrets and headers, enable/disable, test pings, redeliveries."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from s4e_platform.auth.principal import SYSTEM_ACTOR, Principal
from s4e_platform.config import get_settings
from s4e_platform.errors import InvalidState, NotFound, Unprocessable, validation_error
from s4e_platform.event.audit import audit
from s4e_platform.kit import netsafety
from s4e_platform.kit.clock import as_utc, isoformat, utcnow
from s4e_platform.kit.crypto import cipher
from s4e_platform.kit.ids import new_id, parse_id
from s4e_platform.webhook import repository, signing, transport
from s4e_platform.webhook.models import Delivery, Webhook
from s4e_platform.webhook.repository import DeliveryRepository, WebhookRepository
from s4e_platform.webhook.schemas import (
    MASK,
    MAX_HEADERS,
    WebhookCreate,
    WebhookUpdate,
    check_header_name,
    check_header_value,
)

ROTATION_OVERLAP = timedelta(hours=24)
SAVE_TIME_DNS_TIMEOUT = 5.0


def repo(session: Session, principal: Principal) -> WebhookRepository:
    return WebhookRepository(session, principal.workspace_id)


def delivery_repo(session: Session, principal: Principal) -> DeliveryRepository:
    return DeliveryRepository(session, principal.workspace_id)


# Reading ------------------------------------------------------------------------------------------------

def to_read(hook: Webhook) -> dict:
    filters = {"min_severity": None, "asset_ids": [], "asset_tags": [], "criticality": [], **(hook.filters or {})}
    return {"id": hook.id, "name": hook.name, "url": hook.url, "events": list(hook.events or []),
            "filters": filters, "headers": {name: MASK for name in hook.header_names or []},
            "active": hook.active, "status": hook.status, "disabled_reason": hook.disabled_reason,
            "failing_since": hook.failing_since, "last_delivery_at": hook.last_delivery_at,
            "last_success_at": hook.last_success_at,
            "previous_secret_expires_at": _rotation_end(hook, utcnow()),
            "created_at": hook.created_at, "updated_at": hook.updated_at}


def delivery_to_read(d: Delivery) -> dict:
    return {"id": d.id, "target_id": d.target_id, "event_id": d.event_id, "event": d.event, "status": d.status,
            "attempt_count": d.attempt_count, "next_attempt_at": d.next_attempt_at,
            "attempts": list(d.attempts or []), "created_at": d.created_at, "finished_at": d.finished_at}


def get(session: Session, principal: Principal, webhook_id: str) -> Webhook:
    hook = repo(session, principal).get(parse_id(webhook_id, "whk"))
    if hook is None:
        raise NotFound("Webhook not found")
    return hook


def get_delivery(session: Session, principal: Principal, hook: Webhook, delivery_id: str) -> Delivery:
    delivery = delivery_repo(session, principal).for_webhook(hook.id, parse_id(delivery_id, "dlv"))
    if delivery is None:
        raise NotFound("Delivery not found")
    return delivery


# Secrets and headers ------------------------------------------------------------------------------------

def _rotation_end(hook: Webhook, now: datetime) -> datetime | None:
    if hook.previous_secret_enc and hook.previous_secret_expires_at and as_utc(hook.previous_secret_expires_at) > now:
        return hook.previous_secret_expires_at
    return None


def signing_secrets(hook: Webhook, now: datetime) -> list[str]:
    """The current secret, plus the previous one during the 24 h after a rotation."""
    out = [cipher().decrypt(hook.secret_enc)]
    if _rotation_end(hook, now) is not None:
        out.append(cipher().decrypt(hook.previous_secret_enc))
    return out


def custom_headers(hook: Webhook) -> dict[str, str]:
    return json.loads(cipher().decrypt(hook.headers_enc)) if hook.headers_enc else {}


def _check_headers(headers: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise validation_error("$.headers", f"at most {MAX_HEADERS} custom headers", "too_many_headers")
    stored_by_name = {k.lower(): v for k, v in stored.items()}
    out: dict[str, str] = {}
    for name, value in headers.items():
        path = f"$.headers.{name}"
        problem = check_header_name(name)
        if problem:
            raise validation_error(path, f"header {name!r} {problem}", "forbidden_header")
        if name.lower() in {k.lower() for k in out}:
            raise validation_error(path, f"header {name!r} is given twice", "duplicate_header")
        if value == MASK:  # a value read back masked means "keep what is stored"
            if name.lower() not in stored_by_name:
                raise validation_error(path, f"header {name!r} has no stored value to keep", "invalid_header")
            value = stored_by_name[name.lower()]
        problem = check_header_value(value)
        if problem:
            raise validation_error(path, f"header {name!r} value {problem}", "invalid_header")
        out[name] = value
    return out


def _store_headers(hook: Webhook, headers: dict[str, str]) -> None:
    hook.header_names = list(headers)
    hook.headers_enc = cipher().encrypt(json.dumps(headers)) if headers else None


def _check_url(url: str) -> str:
    timeout = min(SAVE_TIME_DNS_TIMEOUT, get_settings().webhook_timeout)
    try:
        netsafety.check_for_save(url, timeout=timeout)
    except netsafety.UnsafeURL as exc:
        raise validation_error("$.url", exc.message, exc.code) from None
    return url


# Writing ------------------------------------------------------------------------------------------------

def create(session: Session, principal: Principal, body: WebhookCreate) -> tuple[Webhook, str]:
    """Create an endpoint; returns it with its secret (shown once)."""
    url = _check_url(body.url)
    headers = _check_headers(body.headers, {})
    secret = signing.new_secret()
    hook = Webhook(id=new_id("whk"), workspace_id=principal.workspace_id, name=_name(body.name), url=url,
                   events=body.events, filters=body.filters.model_dump(), header_names=[],
                   secret_enc=cipher().encrypt(secret), active=body.active,
                   status="enabled" if body.active else "disabled",
                   disabled_reason=None if body.active else "manual", created_by=principal.user_id)
    _store_headers(hook, headers)
    repo(session, principal).add(hook)
    session.flush()
    return hook, secret


def _name(value: str) -> str:
    if not value.strip():
        raise validation_error("$.name", "name must not be blank", "invalid")
    return value.strip()


def update(session: Session, principal: Principal, hook: Webhook, body: WebhookUpdate) -> Webhook:
    fields = body.model_fields_set
    for required in ("name", "url", "events", "active"):
        if required in fields and getattr(body, required) is None:
            raise validation_error(f"$.{required}", f"{required} cannot be null", "invalid")
    if "name" in fields:
        hook.name = _name(body.name)
    if "url" in fields:
        hook.url = _check_url(body.url)
    if "events" in fields:
        hook.events = body.events
    if "filters" in fields:
        hook.filters = body.filters.model_dump() if body.filters is not None else {}
    if "headers" in fields:
        _store_headers(hook, _check_headers(body.headers or {}, custom_headers(hook)))
    if "active" in fields and body.active != (hook.status == "enabled"):
        if body.active:
            enable(session, hook)
        else:
            disable(session, hook, reason="manual")
    hook.updated_at = utcnow()
    return hook


def delete(session: Session, principal: Principal, hook: Webhook) -> None:
    delivery_repo(session, principal).delete_for_webhook(hook.id)
    session.delete(hook)


def rotate_secret(session: Session, principal: Principal, hook: Webhook) -> str:
    """New secret, returned once; the one it replaces keeps signing for 24 h."""
    now = utcnow()
    secret = signing.new_secret()
    hook.previous_secret_enc = hook.secret_enc
    hook.previous_secret_expires_at = now + ROTATION_OVERLAP
    hook.secret_enc = cipher().encrypt(secret)
    hook.updated_at = now
    audit(session, event="audit.webhook_secret_rotated", workspace_id=hook.workspace_id, actor=principal.actor(),
          target_type="webhook", target_id=hook.id,
          details={"previous_secret_expires_at": isoformat(hook.previous_secret_expires_at)})
    return secret


def enable(session: Session, hook: Webhook) -> Webhook:
    """Enabled again with a fresh failure clock (whatever disabled it)."""
    hook.status, hook.active, hook.disabled_reason, hook.failing_since = "enabled", True, None, None
    hook.updated_at = utcnow()
    return hook


def disable(session: Session, hook: Webhook, *, reason: str, now: datetime | None = None) -> None:
    """Stop deliveries: open ones are cancelled. Automatic disables (failing, gone) are audited."""
    now = now or utcnow()
    failing_since = hook.failing_since
    hook.status, hook.active, hook.disabled_reason, hook.updated_at = "disabled", False, reason, now
    repository.cancel_open(session, hook.id, now)
    if reason != "manual":
        audit(session, event="audit.webhook_disabled", workspace_id=hook.workspace_id, actor=SYSTEM_ACTOR,
              target_type="webhook", target_id=hook.id,
              details={"reason": reason, "failing_since": isoformat(failing_since)})


# Redelivery ---------------------------------------------------------------------------------------------

def requeue(delivery: Delivery, now: datetime) -> None:
    """Due again now with the same event (so the same webhook-id) and a fresh retry schedule."""
    delivery.status, delivery.next_attempt_at, delivery.finished_at = "pending", now, None
    delivery.lease_expires_at = None
    delivery.retry_base = delivery.attempt_count


def _check_enabled(hook: Webhook) -> None:
    if hook.status != "enabled":
        raise InvalidState("The webhook is disabled; enable it first")


def redeliver(session: Session, hook: Webhook, delivery: Delivery) -> Delivery:
    _check_enabled(hook)
    now = utcnow()
    if delivery.status == "delivering" and delivery.lease_expires_at and as_utc(delivery.lease_expires_at) >= now:
        raise InvalidState("An attempt of this delivery is in progress")
    if not repository.events_by_id(session, {delivery.event_id}):
        raise InvalidState("The event of this delivery is past retention and cannot be sent again")
    requeue(delivery, now)
    return delivery


def redeliver_failed(session: Session, principal: Principal, hook: Webhook, start: datetime,
                     end: datetime) -> int:
    _check_enabled(hook)
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise Unprocessable("`to` must be after `from`", details=[
            {"path": "$.to", "message": "`to` must be after `from`", "code": "invalid_range"}])
    now = utcnow()
    rows = delivery_repo(session, principal).failed_between(hook.id, start, end)
    for delivery in rows:
        requeue(delivery, now)
    return len(rows)


# Test ping ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TestPing:
    url: str
    msg_id: str
    body: bytes
    secrets: list[str]
    headers: dict[str, str]


def prepare_test(principal: Principal, hook: Webhook) -> TestPing:
    """A `webhook.test` event (never stored, never in the feed) signed like any delivery."""
    now = utcnow()
    msg_id = new_id("evt")
    envelope = {"id": msg_id, "event": "webhook.test", "timestamp": isoformat(now),
                "workspace_id": hook.workspace_id, "actor": principal.actor(),
                "data": {"webhook_id": hook.id, "message": "Test ping from S4E"}}
    body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    return TestPing(url=hook.url, msg_id=msg_id, body=body, secrets=signing_secrets(hook, now),
                    headers=custom_headers(hook))


def run_test(ping: TestPing) -> dict:
    """Send the ping now and report the attempt (synchronous; one deadline of S4E_WEBHOOK_TIMEOUT)."""
    headers = signing.request_headers(msg_id=ping.msg_id, timestamp=int(time.time()), body=ping.body,
                                      secrets=ping.secrets, custom=ping.headers)
    attempt = asyncio.run(transport.send(ping.url, ping.body, headers, timeout=get_settings().webhook_timeout))
    return {"webhook_id": ping.msg_id, "success": attempt.succeeded, "status_code": attempt.status_code,
            "duration_ms": attempt.duration_ms, "error_class": attempt.error_class, "error": attempt.error,
            "resolved_ip": attempt.resolved_ip, "response_excerpt": attempt.response_excerpt}
