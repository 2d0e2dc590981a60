"""Service queries: workspace-scoped, limited to the assets an API key's restriction allows."""

from __future__ import annotations

from sqlalchemy import Select, func

from s4e_platform.auth.restriction import asset_condition
from s4e_platform.db.repository import ScopedRepository
from s4e_platform.inventory.models import Service
from s4e_platform.inventory.schemas import ServiceFilters
from s4e_platform.kit.text import like_escape

SORTS = {"port": Service.port, "last_seen_at": Service.last_seen_at}


class ServiceRepository(ScopedRepository[Service]):
    model = Service

    def restriction_condition(self):
        return asset_condition(self.restriction, Service.asset_id)

    def filtered(self, f: ServiceFilters) -> Select:
        stmt = self.select()
        if f.asset_ids is not None:
            stmt = stmt.where(Service.asset_id.in_(f.asset_ids))
        if f.ports:
            stmt = stmt.where(Service.port.in_(f.ports))
        if f.protocols:
            stmt = stmt.where(Service.protocol.in_(f.protocols))
        if f.services:
            stmt = stmt.where(Service.service.in_(f.services))
        if f.product:
            term = "%" + like_escape(f.product.lower()) + "%"
            stmt = stmt.where(func.lower(Service.product).like(term, escape="\\"))
        if f.tls is not None:
            stmt = stmt.where(Service.tls.is_(f.tls))
        if f.states:
            stmt = stmt.where(Service.state.in_(f.states))
        return stmt
