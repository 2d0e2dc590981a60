"""Ownership verification request and response shapes (api.md 2.3, 3.1)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from s4e_platform.asset.schemas import Verification, VerificationMethod
from s4e_platform.kit.schemas import StrictModel


class VerificationCheck(StrictModel):
    method: VerificationMethod = Field(description="dns_txt, http_file or html_meta")


class VerificationOverride(StrictModel):
    reason: str = Field(min_length=10, max_length=1024, description="Why ownership is vouched for (audited)")


class MethodInstructions(BaseModel):
    method: VerificationMethod
    available: bool = Field(description="Whether this method can verify this asset")
    unavailable_reason: str | None = None
    instructions: str = Field(description="What to publish, in one sentence")
    record_type: Literal["TXT"] | None = Field(None, description="dns_txt: record type")
    record_name: str | None = Field(None, description="dns_txt: where to publish (the domain itself also works)")
    value: str = Field(description="The exact text to publish (TXT value, file body, or meta tag)")
    urls: list[str] = Field(description="http_file/html_meta: URLs fetched, in order")


class VerificationInfo(BaseModel):
    asset_id: str
    token: str = Field(description="s4e-verification=<32 base62>")
    status: Literal["verified", "unverified"]
    verified: bool
    verification: Verification | None
    methods: list[MethodInstructions]
