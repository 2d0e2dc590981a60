"""`client.assets.verification`: prove ownership of an asset before active scans (api.md 2.3, 3.1)."""

from __future__ import annotations

from s4e._operations import operation
from s4e._types import path_segment
from s4e.models.asset import (
    Asset,
    AssetVerification,
    VerificationCheck,
    VerificationMethod,
    VerificationOverride,
)
from s4e.resources._base import AsyncResource, SyncResource


def _path(asset_id: str) -> str:
    return f"/assets/{path_segment(asset_id, 'asset_id')}/verification"


class AssetVerificationResource(SyncResource):
    """Ownership verification of assets."""

    @operation("get_asset_verification")
    def get(self, asset_id: str) -> AssetVerification:
        """The asset's token, status and exact instructions for `dns_txt`, `http_file` and `html_meta`."""
        return self._get(_path(asset_id), AssetVerification)

    @operation("verify_asset")
    def check(self, asset_id: str, *, method: VerificationMethod) -> Asset:
        """Check now with `method`; returns the verified asset, or raises ValidationError
        (`verification_failed`, details say what was seen)."""
        return self._send("POST", _path(asset_id), Asset, json=VerificationCheck(method=method).body())

    @operation("override_asset_verification")
    def override(self, asset_id: str, *, reason: str) -> Asset:
        """Mark verified without a check (admin; `reason` 10-1024 characters, audited)."""
        return self._send("POST", _path(asset_id) + "/override", Asset,
                          json=VerificationOverride(reason=reason).body())

    @operation("revoke_asset_verification")
    def revoke(self, asset_id: str) -> None:
        """Revoke verification: the asset returns to `pending_verification`."""
        self._send("DELETE", _path(asset_id), None)


class AsyncAssetVerificationResource(AsyncResource):
    """Ownership verification of assets (asyncio)."""

    @operation("get_asset_verification")
    async def get(self, asset_id: str) -> AssetVerification:
        """The asset's token, status and exact instructions for `dns_txt`, `http_file` and `html_meta`."""
        return await self._get(_path(asset_id), AssetVerification)

    @operation("verify_asset")
    async def check(self, asset_id: str, *, method: VerificationMethod) -> Asset:
        """Check now with `method`; returns the verified asset or raises ValidationError."""
        return await self._send("POST", _path(asset_id), Asset, json=VerificationCheck(method=method).body())

    @operation("override_asset_verification")
    async def override(self, asset_id: str, *, reason: str) -> Asset:
        """Mark verified without a check (admin; `reason` 10-1024 characters, audited)."""
        return await self._send("POST", _path(asset_id) + "/override", Asset,
                                json=VerificationOverride(reason=reason).body())

    @operation("revoke_asset_verification")
    async def revoke(self, asset_id: str) -> None:
        """Revoke verification: the asset returns to `pending_verification`."""
        await self._send("DELETE", _path(asset_id), None)
