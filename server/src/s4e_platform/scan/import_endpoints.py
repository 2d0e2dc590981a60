"""`POST /assets/{asset_id}/services/import`: an nmap XML file recorded as a completed port scan of the asset."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import Field

from s4e_platform.asset import service as asset_service
from s4e_platform.asset.dependencies import AssetId
from s4e_platform.auth.dependencies import DbSession
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope, ErrorEnvelope, ReadModel
from s4e_platform.kit.uploads import upload_body
from s4e_platform.scan import imports, service
from s4e_platform.scan.dependencies import WriteScans, scan_create_limit
from s4e_platform.scan.schemas import ScanRead

router = api_router(tags=["scans"])

XML_TYPES = ("application/xml", "text/xml")
_XML_BODY = {"requestBody": {"required": True, "content": {
    **{t: {"schema": {"type": "string"}} for t in XML_TYPES},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "nmap -oX output"}}}}}}}


class ImportCounts(ReadModel):
    new: int = 0
    reopened: int = 0
    seen: int = 0
    resolved: int = 0


class ServiceImportRead(ReadModel):
    scan: ScanRead = Field(description="The completed port scan the import was recorded as")
    hosts: int = Field(description="Hosts of the file that belong to the asset")
    skipped_hosts: list[str] = Field(description="Addresses in the file that are not part of the asset")
    services: int = Field(description="Ports recorded (any state)")
    open_services: int
    finding_counts: ImportCounts


async def xml_upload(request: Request) -> bytes:
    """The XML bytes from an XML body or the `file` field of a multipart form (size capped upstream)."""
    return await upload_body(request, media_types=XML_TYPES, what="nmap XML",
                             refusal="Send nmap XML as application/xml or as the `file` field of multipart/form-data")


@router.post("/assets/{asset_id}/services/import", response_model=Envelope[ServiceImportRead], status_code=201,
             operation_id="import_asset_services", openapi_extra=_XML_BODY,
             dependencies=[Depends(scan_create_limit)],
             responses={415: {"model": ErrorEnvelope, "description": "Body is neither XML nor multipart"}})
def import_asset_services(asset_id: AssetId, principal: WriteScans, session: DbSession, response: Response,
                          data: Annotated[bytes, Depends(xml_upload)]):
    """Import nmap XML (`nmap -oX`) as services and findings of the asset."""
    asset = asset_service.get(session, principal, asset_id)
    scan, report = imports.import_nmap(session, asset=asset, data=data,
                                       triggered_by=service.principal_trigger(principal),
                                       created_by=principal.user_id, actor=principal.actor())
    response.headers["Location"] = f"/api/v1/scans/{scan.id}"
    return {"data": {"scan": service.reads(session, principal, [scan])[0], **report}, "meta": {}}
