"""ASGI middleware: request ids and access logs, body size limits, Idempotency-Key replay."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id

log = logging.getLogger("s4e.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_IDEM_KEY = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,254}$")
MiB = 1024 * 1024


def _json_error(status: int, code: str, message: str, request_id: str, details=None,
                headers: list | None = None) -> tuple[dict, dict]:
    body = json.dumps({"error": {"code": code, "message": message, "details": details,
                                 "request_id": request_id}}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         *(headers or [])]}
    return start, {"type": "http.response.body", "body": body}


async def _send_error(send, *args, **kwargs) -> None:
    start, body = _json_error(*args, **kwargs)
    await send(start)
    await send(body)


class RequestContextMiddleware:
    """Request id (api.md 1.1), rate-limit headers set by the auth layer, one JSON access-log line."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else new_id("req")
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                hdrs = list(message.get("headers") or [])
                names = {k.lower() for k, _ in hdrs}
                hdrs.append((b"x-request-id", request_id.encode()))
                for k, v in (state.get("ratelimit") or {}).items():
                    if k.lower().encode() not in names:
                        hdrs.append((k.encode(), v.encode()))
                message = {**message, "headers": hdrs}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            principal = state.get("principal")
            log.info("request", extra={
                "request_id": request_id, "method": scope.get("method"), "path": scope.get("path"),
                "status": status_holder["status"], "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "principal": principal.rate_key() if principal is not None else None})


def body_limit(path: str, content_type: str) -> int:
    """api.md 1.1: JSON 1 MiB (/assets/bulk 10 MiB), CSV and nmap XML imports 20 MiB, action packages 10 MiB."""
    if path.endswith("/assets/bulk"):
        return 10 * MiB
    if path.endswith("/assets/import") or path.endswith("/services/import"):
        return 20 * MiB + 64 * 1024  # multipart framing on top of a 20 MiB file (CSV, nmap XML)
    if path.endswith("/package"):
        return 10 * MiB + 64 * 1024
    return 1 * MiB


class BodyMiddleware:
    """Buffers request bodies up to their limit (413 beyond it) so later layers can hash and replay them."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        limit = body_limit(scope["path"], headers.get(b"content-type", b"").decode("latin-1"))
        rid = scope.get("state", {}).get("request_id", "req_unknown")
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    return await _send_error(send, 413, "payload_too_large",
                                             f"Request body exceeds {limit} bytes", rid)
            except ValueError:
                return await _send_error(send, 400, "bad_request", "Invalid Content-Length", rid)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await _send_error(send, 413, "payload_too_large", f"Request body exceeds {limit} bytes", rid)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        scope.setdefault("state", {})["raw_body"] = body
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# Responses of these carry fresh secrets or sessions; they are never stored for replay.
# Exports are reads that stream files of any size: storing the first response for replay would buffer it whole.
_IDEM_EXCLUDED = ("/api/v1/auth/", "/api/v1/oauth/token", "/api/v1/findings/export")
_REPLAY_HEADERS = {b"content-type", b"location"}


class IdempotencyMiddleware:
    """Idempotency-Key on POST (api.md 1.10): first response stored 24 h per (credential, key), encrypted."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"idempotency-key")
        if key is None or scope["path"].startswith(_IDEM_EXCLUDED):
            return await self.app(scope, receive, send)
        rid = scope.get("state", {}).get("request_id", "req_unknown")
        key_s = key.decode("latin-1")
        if not _IDEM_KEY.fullmatch(key_s):
            return await _send_error(send, 400, "invalid_parameter",
                                     "Idempotency-Key must be 1-255 printable ASCII characters", rid)
        credential = (headers.get(b"authorization") or headers.get(b"x-api-key") or
                      _cookie(headers.get(b"cookie", b""), "s4e_session"))
        if not credential:
            return await self.app(scope, receive, send)  # anonymous: nothing to attribute the key to
        principal_key = hashlib.sha256(b"idem:" + credential).hexdigest()
        body = scope.get("state", {}).get("raw_body", b"")
        request_hash = hashlib.sha256(scope["path"].encode() + b"\n" + (scope.get("query_string") or b"") +
                                      b"\n" + body).hexdigest()

        try:
            record = await run_in_threadpool(_begin, principal_key, key_s, request_hash)
        except IntegrityError:  # a concurrent first request won the insert
            return await _send_error(send, 409, "idempotency_in_progress",
                                     "A request with this Idempotency-Key is still in progress", rid)
        if record is not None:
            return await _answer_from_record(scope, send, record, request_hash, rid)

        captured = {"status": 500, "headers": {}, "body": []}

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = {k.decode("latin-1"): v.decode("latin-1")
                                       for k, v in message.get("headers", []) if k.lower() in _REPLAY_HEADERS}
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await run_in_threadpool(_finish, principal_key, key_s, captured)


async def _answer_from_record(scope, send, record: tuple, request_hash: str, rid: str) -> None:
    """The key was used before: mismatch (422), still running (409), or the stored response replayed."""
    r_hash, r_status, r_code, r_headers, r_body = record
    if r_hash != request_hash:
        return await _send_error(send, 422, "idempotency_key_mismatch",
                                 "This Idempotency-Key was used with a different request", rid)
    if r_status != "completed":
        return await _send_error(send, 409, "idempotency_in_progress",
                                 "A request with this Idempotency-Key is still in progress", rid)
    # A stored answer is only for a credential that still works, and a replay spends a token like any
    # request (the rate-limit headers then appear on it too).
    refused = await run_in_threadpool(_reauthenticate, scope)
    if refused is not None:
        return await _send_error(send, refused.status_code, refused.code, refused.message, rid, refused.details,
                                 [(k.lower().encode(), v.encode()) for k, v in refused.headers.items()])
    from s4e_platform.kit.crypto import cipher

    payload = cipher().decrypt(r_body.decode()).encode("latin-1") if r_body else b""
    payload = _with_request_id(payload, rid) if r_code >= 400 else payload
    headers = [(k.encode(), v.encode()) for k, v in (r_headers or {}).items()]
    headers += [(b"idempotency-replayed", b"true"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": r_code, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _reauthenticate(scope):
    """The APIError (401, 403 csrf_failed, 429 ...) that the credential of this request now earns, if any."""
    from starlette.requests import Request

    from s4e_platform.auth.dependencies import authenticate
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.errors import APIError

    try:
        with unit_of_work(readonly=True) as s:
            s.info["readonly"] = True
            authenticate(Request(scope), s)
    except APIError as exc:
        return exc
    return None


def _lookup(session, principal_key: str, key: str):
    from s4e_platform.idempotency.models import IdempotencyRecord

    return session.execute(select(IdempotencyRecord).where(
        IdempotencyRecord.principal_key == principal_key, IdempotencyRecord.key == key)).scalar_one_or_none()


def _stored(row) -> tuple:
    return row.request_hash, row.status, row.response_status, row.response_headers, row.response_body


def _begin(principal_key: str, key: str, request_hash: str):
    """Claim the key, or return the stored (hash, status, code, headers, body) of its first use.

    A plain read comes first: on SQLite the first request may hold the write lock for its whole unit of work,
    and a same-key retry must learn "in progress" at once instead of queueing behind it.
    """
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.idempotency.models import IdempotencyRecord

    now = utcnow()
    with unit_of_work(readonly=True) as s:
        existing = _lookup(s, principal_key, key)
        if existing is not None and existing.expires_at >= now:
            return _stored(existing)
    with unit_of_work() as s:
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.principal_key == principal_key,
                                                  IdempotencyRecord.key == key,
                                                  IdempotencyRecord.expires_at < now))
        existing = _lookup(s, principal_key, key)
        if existing is not None:
            return _stored(existing)
        s.add(IdempotencyRecord(principal_key=principal_key, key=key, request_hash=request_hash,
                                status="in_progress", expires_at=now + timedelta(hours=24)))
        return None


def _finish(principal_key: str, key: str, captured: dict) -> None:
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.kit.crypto import cipher

    status = captured["status"]
    with unit_of_work() as s:
        row = _lookup(s, principal_key, key)
        if row is None:
            return
        if status >= 500 or status in (401, 429):
            s.delete(row)  # transient: let the client retry with the same key
        else:
            row.status = "completed"
            row.response_status = status
            row.response_headers = captured["headers"]
            payload = b"".join(captured["body"])
            # latin-1 maps every byte to one character, so any body (not only UTF-8) round-trips exactly.
            row.response_body = cipher().encrypt(payload.decode("latin-1")).encode()


def _with_request_id(payload: bytes, request_id: str) -> bytes:
    """A replayed error envelope names the replaying request, like its X-Request-ID header does."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict) and "request_id" in doc["error"]:
        doc["error"]["request_id"] = request_id
        return json.dumps(doc, separators=(",", ":")).encode()
    return payload


def _cookie(header: bytes, name: str) -> bytes | None:
    for part in header.decode("latin-1").split(";"):
        k, _, v = part.strip().partition("=")
        if k == name and v:
            return v.encode()
    return None
