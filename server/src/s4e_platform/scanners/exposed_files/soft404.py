"""Soft-404 calibration (scanning.md 2.1 `exposed_files`).

Many servers answer every path with the same page (SPA fallbacks, catch-all routes, custom "not found" pages with
status 200). Before any check runs, random paths shaped like the checked ones are requested; each answer becomes a
fingerprint: status, length of the normalised body, SHA-256 of the normalised body, and a 64-bit simhash.
A check's response that resembles any baseline fingerprint never matches, so a catch-all server yields nothing,
even when its page happens to satisfy a content matcher.

Normalising removes what legitimately differs between two catch-all answers: the requested path echoed back (raw,
percent-encoded or HTML-escaped), numbers and long hex runs (timestamps, request ids, CSRF tokens), case and
whitespace.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

LENGTH_TOLERANCE = 0.05  # spec: length +/- 5 %
SIMHASH_DISTANCE = 3  # bits of 64 that may differ between near-duplicate pages
_NORMALISE_LIMIT = 64 * 1024  # enough to tell pages apart; bounds the work per comparison
_VOLATILE = re.compile(r"[0-9a-f]{8,}|\d+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Fingerprint:
    status: int
    length: int
    digest: str
    simhash: int

    def resembles(self, other: Fingerprint) -> bool:
        if self.status != other.status:
            return False
        if self.digest == other.digest:
            return True
        longest = max(self.length, other.length, 1)
        if abs(self.length - other.length) > LENGTH_TOLERANCE * longest:
            return False
        return bin(self.simhash ^ other.simhash).count("1") <= SIMHASH_DISTANCE


def _echo_forms(path: str) -> list[re.Pattern[str]]:
    """How a server may echo `path`: whole, percent-encoded, HTML-escaped, or its last segment as a token."""
    path = path.lower()
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    forms = {path, quote(path, safe="/"), html.escape(path), path.strip("/"), segment, quote(segment, safe="")}
    return [re.compile(r"(?<!\w)" + re.escape(form) + r"(?!\w)") for form in sorted(forms, key=len, reverse=True)
            if form]


def normalise(body: bytes, echoes: Iterable[str]) -> str:
    text = body[:_NORMALISE_LIMIT].decode("utf-8", "replace").lower()
    for path in echoes:
        for form in _echo_forms(path):
            text = form.sub(" ", text)
    text = _VOLATILE.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def simhash(text: str) -> int:
    """64-bit simhash over word 3-shingles (single words for very short texts)."""
    words = _WORD.findall(text)
    features = [" ".join(words[i:i + 3]) for i in range(max(len(words) - 2, 1))] if words else [text]
    weights = [0] * 64
    for feature in features:
        value = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def fingerprint(status: int, body: bytes, echoes: Iterable[str]) -> Fingerprint:
    """Fingerprint of a response whose body may echo the paths in `echoes`."""
    text = normalise(body, echoes)
    return Fingerprint(status, len(text), hashlib.sha256(text.encode()).hexdigest(), simhash(text))


class Baseline:
    """The calibration answers. A response is compared with each answer of the same status after removing, from
    both bodies, echoes of both paths (so a word like `head` is treated alike on both sides), at the read limit of
    the response being judged (a check that reads 4 KiB is compared with the first 4 KiB of each answer)."""

    def __init__(self) -> None:
        self._samples: list[tuple[int, bytes, str]] = []

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, status: int, body: bytes, path: str) -> None:
        self._samples.append((status, body, path))

    def resembles(self, status: int, body: bytes, path: str, limit: int) -> bool:
        for known_status, known_body, known_path in self._samples:
            if known_status != status:
                continue
            echoes = (path, known_path)
            if fingerprint(status, body[:limit], echoes).resembles(fingerprint(status, known_body[:limit], echoes)):
                return True
        return False

    @property
    def statuses(self) -> list[int]:
        return [status for status, _body, _path in self._samples]


def calibration_paths(paths: Iterable[str]) -> list[str]:
    """Random paths covering the shapes of `paths`: three generic ones (the spec's baseline), plus one per file
    extension, one dot-file and one per first directory, since catch-all behaviour often differs by those."""
    token = lambda: "s4e" + secrets.token_hex(6)  # noqa: E731 - a fresh random name per call
    out = [f"{token()}", f"{token()}.html", f"{token()}/{token()}"]
    extensions: dict[str, None] = {}
    directories: dict[str, None] = {}
    dotfile = False
    for path in paths:
        directory, _, name = path.rpartition("/")
        if directory:
            directories[directory.split("/", 1)[0]] = None
        if name.startswith("."):
            dotfile = True  # `.env.local` and friends: servers tell dot-files apart, not their suffixes
            continue
        stem, dot, ext = name.rpartition(".")
        if dot and stem:
            extensions["." + ext.lower()] = None
    if dotfile:
        out.append(f".{token()}")
    out += [f"{token()}{ext}" for ext in extensions]
    out += [f"{directory}/{token()}" for directory in directories]
    return out
