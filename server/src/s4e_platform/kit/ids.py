"""Prefixed ULIDs (api.md 1.2): `<prefix>_<26 Crockford base32>`, lower-case on output."""

from __future__ import annotations

import os
import re
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_DECODE.update({c.upper(): i for c, i in list(_DECODE.items())})
for _alias, _target in (("i", "1"), ("l", "1"), ("o", "0")):
    _DECODE[_alias] = _DECODE[_alias.upper()] = _DECODE[_target]

PREFIXES = {
    "wsp", "usr", "key", "ast", "svc", "ept", "prf", "scn", "fnd", "evt", "whk", "dlv", "int", "act", "exe",
    "pbk", "run", "rpt", "agt", "tsk", "cmt", "cli", "inv", "enr", "apr", "rsc", "msg", "req", "ses", "mfa",
}
_ID_RE = re.compile(r"^([a-z]{3})_([0-9a-hjkmnp-tv-z]{26})$", re.IGNORECASE)

_lock = threading.Lock()
_last = (0, 0)


def _encode(value: int) -> str:
    out = []
    for _ in range(26):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def ulid_int(monotonic: bool = True) -> int:
    """A 128-bit ULID; within one process successive values strictly increase."""
    global _last
    ms = int(time.time() * 1000)
    with _lock:
        last_ms, last_rand = _last
        if monotonic and ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last = (ms, rand)
    return (ms << 80) | (rand & ((1 << 80) - 1))


def new_id(prefix: str) -> str:
    assert prefix in PREFIXES, prefix
    return f"{prefix}_{_encode(ulid_int())}"


def parse_id(value: str, prefix: str | None = None) -> str | None:
    """Canonical lower-case id, or None when malformed or of another prefix."""
    m = _ID_RE.match(value or "")
    if not m:
        return None
    p = m.group(1).lower()
    if prefix is not None and p != prefix:
        return None
    body = m.group(2)
    n = 0
    for ch in body:
        n = (n << 5) | _DECODE[ch]
    if n >> 128:
        return None
    return f"{p}_{_encode(n)}"


def id_prefix(value: str) -> str | None:
    m = _ID_RE.match(value or "")
    return m.group(1).lower() if m else None


def id_time_ms(value: str) -> int:
    """Millisecond timestamp embedded in an id."""
    canon = parse_id(value)
    if canon is None:
        raise ValueError(value)
    n = 0
    for ch in canon.split("_", 1)[1]:
        n = (n << 5) | _DECODE[ch]
    return n >> 80


def id_at_time(prefix: str, ms: int) -> str:
    """The smallest id of `prefix` at millisecond `ms` (for time-range cursors)."""
    return f"{prefix}_{_encode(ms << 80)}"
