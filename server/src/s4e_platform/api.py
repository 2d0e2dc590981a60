"""One include_router per domain under /api/v1."""

from __future__ import annotations

from fastapi import FastAPI

API_PREFIX = "/api/v1"


def include_routers(app: FastAPI) -> None:
    from s4e_platform import health
    from s4e_platform.asset import bulk_endpoints as asset_bulk
    from s4e_platform.asset import endpoints as asset
    from s4e_platform.asset import verification_endpoints as asset_verification
    from s4e_platform.auth import endpoints as auth
    from s4e_platform.auth import key_endpoints as api_keys
    from s4e_platform.auth import oauth_endpoints as oauth
    from s4e_platform.event import endpoints as event
    from s4e_platform.event import stream as event_stream
    from s4e_platform.finding import comment_endpoints as finding_comments
    from s4e_platform.finding import endpoints as finding
    from s4e_platform.inventory import endpoints as inventory
    from s4e_platform.scan import endpoints as scan
    from s4e_platform.scan import import_endpoints as scan_import
    from s4e_platform.scan_profile import endpoints as scan_profile
    from s4e_platform.scanners import endpoints as scanners
    from s4e_platform.user import endpoints as user
    from s4e_platform.webhook import endpoints as webhook
    from s4e_platform.workspace import endpoints as workspace

    app.include_router(health.router)
    for module in (health.meta_router, auth, oauth, user, workspace, api_keys, asset_bulk, asset_verification,
                   asset, inventory, scan_import, event_stream, event, webhook, scan, scan_profile, scanners, finding,
                   finding_comments):
        app.include_router(getattr(module, "router", module), prefix=API_PREFIX)
