"""Endpoints: see api.md section 2 (filled in by the owning change)."""

from s4e_platform.kit.router import api_router

router = api_router(tags=["auth"])
