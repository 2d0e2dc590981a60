"""Bearer secrets: API keys `s4e_live_...`, OAuth client secrets `s4e_oc_...`, JWT access tokens."""

from __future__ import annotations

import time

import jwt

from s4e_platform.config import get_settings
from s4e_platform.kit.crypto import random_base62, sha256_hex
from s4e_platform.kit.ids import new_id

API_KEY_PREFIX = "s4e_live_"
CLIENT_SECRET_PREFIX = "s4e_oc_"
JWT_ISSUER = "s4e"
JWT_LIFETIME = 900


def new_api_key() -> tuple[str, str, str]:
    """(full key, sha256 hash, 8-char display prefix)."""
    key = API_KEY_PREFIX + random_base62(40)
    return key, sha256_hex(key), key[len(API_KEY_PREFIX):len(API_KEY_PREFIX) + 8]


def new_client_secret() -> tuple[str, str]:
    secret = CLIENT_SECRET_PREFIX + random_base62(40)
    return secret, sha256_hex(secret)


def _jwt_key() -> str:
    return "jwt:" + get_settings().resolved_secret_key()


def issue_jwt(client_id: str, workspace_id: str, scopes: list[str]) -> str:
    now = int(time.time())
    claims = {"iss": JWT_ISSUER, "sub": client_id, "wsp": workspace_id, "scope": " ".join(scopes),
              "iat": now, "exp": now + JWT_LIFETIME, "jti": new_id("req")[4:]}
    return jwt.encode(claims, _jwt_key(), algorithm="HS256")


def decode_jwt(token: str) -> dict:
    """Raises jwt.ExpiredSignatureError / jwt.InvalidTokenError."""
    return jwt.decode(token, _jwt_key(), algorithms=["HS256"], issuer=JWT_ISSUER,
                      options={"require": ["exp", "iat", "sub", "iss"]})


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith(API_KEY_PREFIX)
