"""File uploads sent either as a raw body of a given media type or as the `file` field of a multipart form."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from s4e_platform.errors import UnsupportedMediaType, validation_error

MiB = 1024 * 1024


async def upload_body(request: Request, *, media_types: tuple[str, ...], what: str, refusal: str) -> bytes:
    """The uploaded bytes (size capped upstream by the body-limit middleware). `what` names the file in the
    missing-field error; `refusal` is the 415 message for any other media type."""
    mime = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if mime in media_types:
        return await request.body()
    if mime == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10, max_part_size=21 * MiB)
        try:
            value = form.get("file")
            if isinstance(value, UploadFile):
                return await value.read()
            if isinstance(value, str):
                return value.encode()
        finally:
            await form.close()
        raise validation_error("$.file", f"multipart body needs a `file` field with the {what}", "required")
    raise UnsupportedMediaType(refusal)
