"""Console authentication endpoints (api.md 1.3, 2.1): login, MFA, session refresh/logout, password, me."""

from __future__ import annotations

from fastapi import Depends, Request, Response

from s4e_platform.auth import login, mfa
from s4e_platform.auth.dependencies import AnyPrincipal, DbSession, SessionPrincipal, public
from s4e_platform.auth.schemas import (
    LoginRequest,
    MeRead,
    MfaChallengeRead,
    MfaVerifyRequest,
    PasswordChange,
    RecoveryCodesRead,
    SessionRead,
    TotpDisableRequest,
    TotpEnableRequest,
    TotpSetupRead,
)
from s4e_platform.auth.service import normalize_email
from s4e_platform.errors import error_response
from s4e_platform.kit.router import api_router, conflict
from s4e_platform.kit.schemas import Envelope
from s4e_platform.user import service as user_service

router = api_router(tags=["auth"])
Public = Depends(public)


@router.post("/auth/login", response_model=Envelope[SessionRead | MfaChallengeRead], operation_id="login",
             dependencies=[Public])
def login_user(body: LoginRequest, request: Request, response: Response, session: DbSession):
    """Sign in with email and password: a session, or an MFA challenge when TOTP is on."""
    email = normalize_email(body.email)
    login.rate_limit(request, "login", email)
    user = login.check_password(session, email, body.password)
    if user is None:
        return login.invalid_credentials(request)
    if user.totp_enabled:
        return {"data": mfa.create_challenge(session, user), "meta": {}}
    return {"data": login.start_session(session, request, response, user, method="password"), "meta": {}}


@router.post("/auth/mfa/verify", response_model=Envelope[SessionRead], operation_id="verify_mfa",
             dependencies=[Public])
def verify_mfa(body: MfaVerifyRequest, request: Request, response: Response, session: DbSession):
    """Finish a login with a TOTP code or a recovery code."""
    challenge, owner = mfa.open_challenge(session, body.mfa_token)
    login.rate_limit(request, "mfa", owner.email if owner else None)
    result = None
    if challenge is not None:
        result = mfa.verify_login(session, challenge, owner, code=body.code, recovery_code=body.recovery_code)
    if result is None:
        return error_response(request, 401, "mfa_invalid", "The code or the MFA token is invalid or expired")
    user, method = result
    return {"data": login.start_session(session, request, response, user, method=method), "meta": {}}


@router.post("/auth/refresh", response_model=Envelope[SessionRead], operation_id="refresh_session")
def refresh_session(principal: SessionPrincipal, request: Request, response: Response, session: DbSession):
    """Rotate the session id and extend the session by 24 hours (at most 7 days after login)."""
    return {"data": login.refresh(session, request, response, principal.session_id), "meta": {}}


@router.post("/auth/logout", status_code=204, operation_id="logout")
def logout(principal: SessionPrincipal, request: Request, session: DbSession):
    """End the console session."""
    response = Response(status_code=204)
    login.logout(session, request, response, principal.session_id)
    return response


@router.get("/auth/me", response_model=Envelope[MeRead], operation_id="get_me")
def get_me(principal: AnyPrincipal, session: DbSession):
    """Who is calling: user, workspace, role, effective scopes and credential."""
    return {"data": user_service.describe(session, principal), "meta": {}}


@router.post("/auth/mfa/totp/setup", response_model=Envelope[TotpSetupRead], operation_id="setup_totp",
             responses=conflict("TOTP is already enabled"))
def setup_totp(principal: SessionPrincipal, session: DbSession):
    """Start TOTP setup: a new secret and otpauth:// URI (inactive until enabled)."""
    return {"data": mfa.setup(user_service.current(session, principal)), "meta": {}}


@router.post("/auth/mfa/totp/enable", response_model=Envelope[RecoveryCodesRead], operation_id="enable_totp",
             responses=conflict("No setup in progress or TOTP already enabled"))
def enable_totp(body: TotpEnableRequest, principal: SessionPrincipal, request: Request, session: DbSession):
    """Activate TOTP with a current code; returns 10 recovery codes, shown once."""
    login.reauth_limit(request, principal.user_id)
    return {"data": mfa.enable(session, user_service.current(session, principal), body.code), "meta": {}}


@router.post("/auth/mfa/totp/disable", status_code=204, operation_id="disable_totp",
             responses=conflict("TOTP is not enabled"))
def disable_totp(body: TotpDisableRequest, principal: SessionPrincipal, request: Request, session: DbSession):
    """Turn TOTP off (needs the password and a current code or a recovery code)."""
    login.reauth_limit(request, principal.user_id)
    mfa.disable(session, user_service.current(session, principal), password=body.password, code=body.code,
                recovery_code=body.recovery_code)
    return Response(status_code=204)


@router.post("/auth/password", status_code=204, operation_id="change_password")
def change_password(body: PasswordChange, principal: SessionPrincipal, request: Request, session: DbSession):
    """Change your password; your other sessions are signed out."""
    login.reauth_limit(request, principal.user_id)
    login.change_password(session, user_service.current(session, principal), current=body.current_password,
                          new=body.new_password, keep_session=principal.session_id)
    return Response(status_code=204)
