"""s4e.webhooks.verify accepts what the reference `standardwebhooks` library signs, and nothing else."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime, timezone

import pytest
from standardwebhooks import Webhook

from s4e import webhooks
from s4e.errors import WebhookVerificationError

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
OTHER = "whsec_" + base64.b64encode(os.urandom(32)).decode()
BODY = json.dumps({"id": "evt_01hv9c4k2m7q8r5t3w6x0y1z2a", "event": "finding.new",
                   "timestamp": "2026-04-28T12:00:00.000Z", "workspace_id": "wsp_01hv",
                   "actor": {"type": "system", "id": None, "name": "scanner"},
                   "data": {"finding": {"id": "fnd_1", "title": "TLS 1.0 enabled", "severity": "medium"}}},
                  separators=(",", ":"))
def signed(body: str = BODY, secret: str = SECRET, when: datetime | None = None,
           msg_id: str = "evt_01hv9c4k2m7q8r5t3w6x0y1z2a") -> dict[str, str]:
    # Signed "now" at call time: a module-level clock went stale when the whole suite ran longer than 5 minutes.
    when = when or datetime.now(timezone.utc)
    signature = Webhook(secret).sign(msg_id, when, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(when.timestamp())), "webhook-signature": signature}


def test_verifies_a_reference_signature_and_returns_the_event():
    event = webhooks.verify(BODY.encode(), signed(), SECRET)
    assert event.id == "evt_01hv9c4k2m7q8r5t3w6x0y1z2a" and event.event == "finding.new"
    assert event.data["finding"]["severity"] == "medium" and event.actor.name == "scanner"
    # str payloads, and header names in any case, work too.
    upper = {k.title(): v for k, v in signed().items()}
    assert webhooks.verify(BODY, upper, SECRET).id == event.id


def test_our_signature_matches_the_reference_library():
    headers = signed()
    ours = webhooks.sign(BODY, msg_id=headers["webhook-id"], timestamp=int(headers["webhook-timestamp"]),
                         secret=SECRET)
    assert ours == headers["webhook-signature"]
    assert Webhook(SECRET).verify(BODY, {**headers, "webhook-signature": ours})["event"] == "finding.new"


def test_rotation_any_of_several_signatures_or_secrets():
    old, new = signed(secret=OTHER), signed()
    both = {**new, "webhook-signature": f"{old['webhook-signature']} {new['webhook-signature']}"}
    assert webhooks.verify(BODY, both, OTHER).event == "finding.new"
    assert webhooks.verify(BODY, both, SECRET).event == "finding.new"
    assert webhooks.verify(BODY, signed(secret=OTHER), [SECRET, OTHER]).event == "finding.new"


@pytest.mark.parametrize(("change", "reason"), [
    (lambda b, h: (b.replace("medium", "critical"), h), "No matching signature"),
    (lambda b, h: (b, {**h, "webhook-id": "evt_other"}), "No matching signature"),
    (lambda b, h: (b, {**h, "webhook-signature": "v2," + h["webhook-signature"][3:]}), "No matching signature"),
    (lambda b, h: (b, {**h, "webhook-signature": "v1,not-base64!"}), "No matching signature"),
    (lambda b, h: (b, {k: v for k, v in h.items() if k != "webhook-signature"}), "Missing webhook-signature"),
    (lambda b, h: (b, {**h, "webhook-timestamp": "yesterday"}), "Invalid webhook-timestamp"),
])
def test_tampering_is_rejected(change, reason):
    body, headers = change(BODY, signed())
    with pytest.raises(WebhookVerificationError, match=reason):
        webhooks.verify(body, headers, SECRET)


def test_wrong_secret_is_rejected():
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        webhooks.verify(BODY, signed(), OTHER)
    with pytest.raises(WebhookVerificationError, match="not whsec_"):
        webhooks.verify(BODY, signed(), "whsec_%%%")


def test_timestamps_outside_five_minutes_are_rejected():
    now = datetime.now(timezone.utc).timestamp()
    old = signed(when=datetime.fromtimestamp(now - 301, timezone.utc))
    with pytest.raises(WebhookVerificationError, match="too old"):
        webhooks.verify(BODY, old, SECRET, now=now)
    future = signed(when=datetime.fromtimestamp(now + 301, timezone.utc))
    with pytest.raises(WebhookVerificationError, match="too new"):
        webhooks.verify(BODY, future, SECRET, now=now)
    edge = signed(when=datetime.fromtimestamp(now - 290, timezone.utc))
    assert webhooks.verify(BODY, edge, SECRET, now=now).event == "finding.new"


def test_signed_but_not_an_event_is_rejected():
    with pytest.raises(WebhookVerificationError, match="not an event"):
        webhooks.verify("[1, 2]", signed("[1, 2]"), SECRET)
