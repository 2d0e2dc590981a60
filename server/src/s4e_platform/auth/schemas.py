"""Console authentication shapes (api.md 1.3, 2.1): login, MFA, session, password, principal."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp
from s4e_platform.user.schemas import UserRead

# A submitted password longer than the policy allows can never match; refusing it early keeps argon2 cheap.
_PASSWORD = Field(min_length=1, max_length=256, description="Account password")


class LoginRequest(StrictModel):
    email: str = Field(min_length=1, max_length=320, pattern=r"^[^\x00-\x1f\x7f]+$", description="Account email")
    password: str = _PASSWORD


class MfaVerifyRequest(StrictModel):
    mfa_token: str = Field(min_length=1, max_length=128, description="The mfa_... token from POST /auth/login")
    code: str | None = Field(None, max_length=16, description="6-digit TOTP code")
    recovery_code: str | None = Field(None, max_length=64, description="One unused recovery code")

    @model_validator(mode="after")
    def _one_factor(self):
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send exactly one of code or recovery_code")
        return self


class WorkspaceRole(ReadModel):
    id: str = Field(description="wsp_ id")
    name: str
    role: Literal["admin", "developer", "analyst", "viewer"]


class SessionRead(ReadModel):
    user: UserRead
    workspaces: list[WorkspaceRole] = Field(description="Workspaces the user belongs to, first joined first")
    csrf_token: str = Field(description="Send as X-CSRF-Token on POST/PUT/PATCH/DELETE (also in cookie s4e_csrf)")
    expires_at: Timestamp = Field(description="When the session ends unless refreshed")


class MfaChallengeRead(ReadModel):
    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="Single-use token for POST /auth/mfa/verify")
    methods: list[Literal["totp", "recovery_code"]]
    expires_at: Timestamp = Field(description="The mfa_token is valid until then (5 minutes)")


class TotpSetupRead(ReadModel):
    secret: str = Field(description="Base32 TOTP secret (not active until enabled with a code)")
    otpauth_uri: str = Field(description="otpauth://totp/... URI for authenticator apps (QR code content)")


class TotpEnableRequest(StrictModel):
    code: str = Field(min_length=1, max_length=16, description="Current 6-digit code from the authenticator")


class RecoveryCodesRead(ReadModel):
    recovery_codes: list[str] = Field(description="10 single-use codes, shown only now")


class TotpDisableRequest(StrictModel):
    password: str = _PASSWORD
    code: str | None = Field(None, max_length=16, description="Current 6-digit TOTP code")
    recovery_code: str | None = Field(None, max_length=64, description="Or one unused recovery code")

    @model_validator(mode="after")
    def _one_factor(self):
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send exactly one of code or recovery_code")
        return self


class PasswordChange(StrictModel):
    current_password: str = _PASSWORD
    new_password: str = Field(description="12-256 characters")


class WorkspaceRef(ReadModel):
    id: str
    name: str


class MeRead(ReadModel):
    user: UserRead
    workspace: WorkspaceRef | None = Field(description="The workspace this request acts in")
    role: Literal["admin", "developer", "analyst", "viewer"] | None
    scopes: list[str] = Field(description="Effective scopes: credential scopes within the role")
    auth_method: Literal["session", "api_key", "oauth_client"]
    key_id: str | None = Field(description="key_ id when authenticated by API key")
    client_id: str | None = Field(description="cli_ id when authenticated by an OAuth token")
