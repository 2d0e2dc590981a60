"""Scan-specific errors."""

from __future__ import annotations

from s4e_platform.errors import InvalidState, Unprocessable


class AssetNotVerified(Unprocessable):
    """Active scanners asked for on an asset that is neither verified nor covered by an agent (scanning.md 1.1)."""

    code = "asset_not_verified"
    message = "Active scanners need a verified asset"

    def __init__(self, scanners: list[str]) -> None:
        names = ", ".join(scanners)
        super().__init__(f"Active scanners ({names}) need a verified asset: verify it, or choose passive scanners",
                         details=[{"path": "$.asset_id", "code": "asset_not_verified", "scanner": s,
                                   "message": f"{s} is an active scanner and the asset is not verified"}
                                  for s in scanners])


class ScanNotCancellable(InvalidState):
    message = "The scan has already finished"
