"""TOTP (RFC 6238) second factor: login challenges, setup/enable/disable, single-use recovery codes."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from s4e_platform.auth.login import audit_user, is_locked, record_failure, user_actor
from s4e_platform.auth.models import MfaChallenge, RecoveryCode, User
from s4e_platform.auth.passwords import verify_password
from s4e_platform.errors import InvalidState, validation_error
from s4e_platform.kit.clock import as_utc, utcnow
from s4e_platform.kit.crypto import cipher, random_base62, sha256_hex
from s4e_platform.kit.ids import new_id

CHALLENGE_LIFETIME = timedelta(minutes=5)
CHALLENGE_PREFIX = "mfa_"
METHODS = ["totp", "recovery_code"]
STEP_SECONDS = 30
ISSUER = "S4E"
RECOVERY_CODES = 10
# No 0/1/i/l/o: recovery codes are typed from paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


# Login challenges ------------------------------------------------------------------------------------------

def create_challenge(session: Session, user: User) -> dict:
    """A single-use 5-minute token standing for "password verified, second factor pending"."""
    now = utcnow()
    # Housekeeping: this user's spent or stale challenges are of no further use.
    session.execute(delete(MfaChallenge).where(
        MfaChallenge.user_id == user.id, or_(MfaChallenge.used_at.is_not(None), MfaChallenge.expires_at <= now)))
    token = CHALLENGE_PREFIX + random_base62(40)
    row = MfaChallenge(id=new_id("mfa"), token_hash=sha256_hex(token), user_id=user.id,
                       expires_at=now + CHALLENGE_LIFETIME)
    session.add(row)
    session.flush()
    return {"mfa_required": True, "mfa_token": token, "methods": METHODS, "expires_at": row.expires_at}


def open_challenge(session: Session, token: str) -> tuple[MfaChallenge | None, User | None]:
    """The live challenge for `token` and its user, or (None, None) when unknown, used or expired."""
    if not token.startswith(CHALLENGE_PREFIX):
        return None, None
    row = session.execute(select(MfaChallenge).where(
        MfaChallenge.token_hash == sha256_hex(token))).scalar_one_or_none()
    if row is None or row.used_at is not None or as_utc(row.expires_at) <= utcnow():
        return None, None
    return row, session.get(User, row.user_id)


def _set_challenge_used(session: Session, row: MfaChallenge, used: bool) -> bool:
    """Conditional update, so of two concurrent verifications of one token only one can win."""
    stmt = update(MfaChallenge).where(MfaChallenge.id == row.id)
    stmt = stmt.where(MfaChallenge.used_at.is_(None)) if used else stmt
    result = session.execute(stmt.values(used_at=utcnow() if used else None)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def verify_login(session: Session, challenge: MfaChallenge, user: User, *, code: str | None,
                 recovery_code: str | None) -> tuple[User, str] | None:
    """Finish a login: (user, method) on success; None after recording the failure."""
    if not _set_challenge_used(session, challenge, True):
        return None
    if not user.is_active or not user.totp_enabled or is_locked(user, utcnow()):
        reason = "locked" if is_locked(user, utcnow()) else "inactive"
        record_failure(session, user, email=user.email, reason=reason)
        return None
    method = check_second_factor(session, user, code=code, recovery_code=recovery_code)
    if method is None:
        # A mistyped code should not cost the user their password step: the token stays usable.
        _set_challenge_used(session, challenge, False)
        record_failure(session, user, email=user.email, reason="mfa_invalid")
        return None
    return user, method


# TOTP ------------------------------------------------------------------------------------------------------

def _normalize_code(code: str) -> str:
    return code.replace(" ", "").strip()


def matching_step(secret: str, code: str, last_step: int | None, now: datetime | None = None) -> int | None:
    """The time step (current +/-1) whose code equals `code` and is newer than `last_step`, else None."""
    code = _normalize_code(code)
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now or utcnow()).timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue  # a step once used (or older) never counts again: replay protection
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(session: Session, user: User, step: int) -> bool:
    """Record the used step atomically, so two concurrent requests cannot both spend the same code."""
    result = session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)  # already written; keep the object in step
    return True


def check_totp(session: Session, user: User, code: str) -> bool:
    if not user.totp_enabled or not user.totp_secret_enc:
        return False
    step = matching_step(cipher().decrypt(user.totp_secret_enc), code, user.totp_last_step)
    return step is not None and _claim_step(session, user, step)


# Recovery codes --------------------------------------------------------------------------------------------

def _normalize_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def check_recovery_code(session: Session, user: User, code: str) -> bool:
    """Spend one unused recovery code (single use even under concurrency)."""
    digest = sha256_hex(_normalize_recovery(code))
    row = session.execute(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest,
        RecoveryCode.used_at.is_(None))).scalars().first()
    if row is None:
        return False
    result = session.execute(update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                             .values(used_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def check_second_factor(session: Session, user: User, *, code: str | None, recovery_code: str | None) -> str | None:
    """The method that succeeded ("totp" or "recovery_code"), or None."""
    if code is not None:
        return "totp" if check_totp(session, user, code) else None
    if recovery_code is not None and user.totp_enabled:
        return "recovery_code" if check_recovery_code(session, user, recovery_code) else None
    return None


# Setup / enable / disable ----------------------------------------------------------------------------------

def setup(user: User) -> dict:
    """A new pending secret; the active one (if any) is untouched until a code confirms the new one."""
    if user.totp_enabled:
        raise InvalidState("TOTP is already enabled; disable it before setting up a new secret")
    secret = pyotp.random_base32()
    user.totp_pending_enc = cipher().encrypt(secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return {"secret": secret, "otpauth_uri": uri}


def enable(session: Session, user: User, code: str) -> dict:
    if user.totp_enabled:
        raise InvalidState("TOTP is already enabled")
    if not user.totp_pending_enc:
        raise InvalidState("No TOTP setup in progress; call POST /auth/mfa/totp/setup first")
    secret = cipher().decrypt(user.totp_pending_enc)
    step = matching_step(secret, code, None)
    if step is None:
        raise validation_error("$.code", "code does not match the new secret; check the device clock",
                               "mfa_invalid")
    user.totp_secret_enc, user.totp_pending_enc = user.totp_pending_enc, None
    user.totp_enabled, user.totp_last_step = True, step  # the confirming code cannot be replayed at login
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all([RecoveryCode(user_id=user.id, code_hash=sha256_hex(_normalize_recovery(c))) for c in codes])
    session.flush()
    audit_user(session, event="audit.mfa_enabled", user=user, actor=user_actor(user), details={"method": "totp"})
    return {"recovery_codes": codes}


def disable(session: Session, user: User, *, password: str, code: str | None, recovery_code: str | None) -> None:
    if not user.totp_enabled:
        raise InvalidState("TOTP is not enabled")
    if not verify_password(user.password_hash, password):
        raise validation_error("$.password", "password is wrong", "invalid_credentials")
    method = check_second_factor(session, user, code=code, recovery_code=recovery_code)
    if method is None:
        path = "$.code" if code is not None else "$.recovery_code"
        raise validation_error(path, "code is wrong or already used", "mfa_invalid")
    user.totp_enabled = False
    user.totp_secret_enc = user.totp_pending_enc = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(MfaChallenge).where(MfaChallenge.user_id == user.id))
    audit_user(session, event="audit.mfa_disabled", user=user, actor=user_actor(user), details={"method": method})
