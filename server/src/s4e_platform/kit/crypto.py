"""Secrets at rest: hashing of bearer secrets, symmetric encryption of secrets we must use in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

from cryptography.fernet import Fernet, InvalidToken

_BASE62 = string.digits + string.ascii_letters


def random_base62(length: int) -> str:
    """Uniform base62 from one urandom read: bytes >= 248 (= 4 * 62) are dropped so `% 62` has no bias.
    (secrets.choice per character costs a system call each, which bulk asset creation felt.)"""
    out: list[str] = []
    while len(out) < length:
        out.extend(_BASE62[b % 62] for b in secrets.token_bytes(length + length // 4 + 4) if b < 248)
    return "".join(out[:length])


def sha256_hex(value: str | bytes) -> str:
    if isinstance(value, str):
        value = value.encode()
    return hashlib.sha256(value).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Cipher:
    """Fernet (AES-128-CBC + HMAC-SHA256) keyed from the server secret via HKDF-like derivation."""

    def __init__(self, secret_key: str, purpose: str = "s4e-secrets-v1") -> None:
        derived = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # a changed S4E_SECRET_KEY makes stored secrets unreadable
            raise ValueError("secret cannot be decrypted with the current S4E_SECRET_KEY") from exc


_cipher: Cipher | None = None


def cipher() -> Cipher:
    global _cipher
    if _cipher is None:
        from s4e_platform.config import get_settings

        _cipher = Cipher(get_settings().resolved_secret_key())
    return _cipher


def reset_cipher() -> None:
    global _cipher
    _cipher = None
