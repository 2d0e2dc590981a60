"""Fan-out (events.md 1.1, 2.2): inside the publisher's transaction, one delivery row per (matching enabled
webhook, event). The rows commit together with the event ids, so an event is never published without its
deliveries, and the (target_id, event_id) unique key keeps each pair to one row.

Importing this module registers the consumer; the API process (main.create_app) and the scheduler process
(runtime/background.py) both import it, so whichever runs the publisher fans out.
"""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from s4e_platform.event import publisher
from s4e_platform.event import service as event_service
from s4e_platform.event.models import Event
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id
from s4e_platform.webhook import repository
from s4e_platform.webhook.models import Delivery, Webhook
from s4e_platform.webhook.schemas import SEVERITY_ORDER

_RANK = {s: i for i, s in enumerate(SEVERITY_ORDER)}


def _subject(event: Event) -> tuple[dict | None, dict | None, str | None]:
    """(finding, asset summary, asset id) the event carries, from its data or its asset column."""
    data = event.data if isinstance(event.data, dict) else {}
    finding = data.get("finding") if isinstance(data.get("finding"), dict) else None
    asset = None
    if finding is not None and isinstance(finding.get("asset"), dict):
        asset = finding["asset"]
    elif isinstance(data.get("asset"), dict):
        asset = data["asset"]
    asset_id = (asset or {}).get("id") or event.asset_id or (finding or {}).get("asset_id")
    return finding, asset, asset_id


def passes(filters: dict | None, finding: dict | None, asset: dict | None, asset_id: str | None) -> bool:
    """Filters constrain only what an event carries: severity applies to findings, the asset filters to
    events bound to an asset. An asset whose tags or criticality are unknown (deleted) does not match a
    tag or criticality filter."""
    f = filters or {}
    if f.get("min_severity") and finding is not None:
        if _RANK.get(finding.get("severity"), -1) < _RANK.get(f["min_severity"], 0):
            return False
    if asset_id is None and asset is None:
        return True
    if f.get("asset_ids") and asset_id not in f["asset_ids"]:
        return False
    if f.get("asset_tags"):
        tags = (asset or {}).get("tags")
        if not isinstance(tags, list) or not set(tags) & set(f["asset_tags"]):
            return False
    if f.get("criticality") and (asset or {}).get("criticality") not in f["criticality"]:
        return False
    return True


def _needs_asset_facts(hooks: list[Webhook]) -> bool:
    return any((h.filters or {}).get("asset_tags") or (h.filters or {}).get("criticality") for h in hooks)


def fan_out(session: Session, events: list[Event]) -> None:
    """Publisher consumer: create the delivery rows for freshly published events."""
    hooks = repository.enabled_webhooks(session, {e.workspace_id for e in events if e.workspace_id})
    if not hooks:
        return
    subjects = {e.id: _subject(e) for e in events if e.workspace_id in hooks}
    lookup = {asset_id for e in events if e.workspace_id in hooks and _needs_asset_facts(hooks[e.workspace_id])
              for _f, asset, asset_id in [subjects[e.id]] if asset is None and asset_id}
    facts = repository.asset_facts(session, lookup)
    now = utcnow()
    rows = []
    for event in events:
        if event.workspace_id not in hooks:
            continue
        finding, asset, asset_id = subjects[event.id]
        asset = asset if asset is not None else facts.get(asset_id or "")
        for hook in hooks[event.workspace_id]:
            if not hook.events or not event_service.matches(event.event, hook.events):
                continue
            if not passes(hook.filters, finding, asset, asset_id):
                continue
            rows.append({"id": new_id("dlv"), "workspace_id": event.workspace_id, "target_id": hook.id,
                         "event_id": event.id, "event": event.event, "status": "pending", "attempt_count": 0,
                         "retry_base": 0, "next_attempt_at": now, "attempts": [], "created_at": now})
    if rows:
        session.execute(insert(Delivery), rows)


publisher.register_consumer(fan_out)
