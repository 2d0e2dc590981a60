"""Shared API shapes: envelopes, timestamps, strict input models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from s4e_platform.kit.clock import isoformat

T = TypeVar("T")

Timestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str),
                      WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are a 422, never silently ignored (api.md 1.1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageMeta(BaseModel):
    total: int
    page: int
    per_page: int
    total_pages: int


class Envelope(BaseModel, Generic[T]):
    data: T
    meta: dict[str, Any] = {}


class ListEnvelope(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None
    request_id: str


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


def ok(data: Any, **meta: Any) -> dict:
    return {"data": data, "meta": meta}
