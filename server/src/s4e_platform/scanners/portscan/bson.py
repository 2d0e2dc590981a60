"""The little BSON the MongoDB probe needs (bsonspec.org): encode flat command documents, read a reply's
top-level scalars. Nested documents and arrays are skipped, never parsed; malformed input stops the walk."""

from __future__ import annotations

import struct
from typing import Any

# type byte -> fixed payload size for the scalar types we skip or read
_FIXED = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0}


def encode(document: dict[str, Any]) -> bytes:
    """A flat document of int, bool and str values."""
    body = b""
    for key, value in document.items():
        name = key.encode() + b"\0"
        if isinstance(value, bool):
            body += b"\x08" + name + (b"\x01" if value else b"\x00")
        elif isinstance(value, int):
            body += b"\x10" + name + struct.pack("<i", value)
        elif isinstance(value, str):
            raw = value.encode() + b"\0"
            body += b"\x02" + name + struct.pack("<i", len(raw)) + raw
        else:
            raise TypeError(f"unsupported BSON value for {key}")
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def decode_scalars(data: bytes) -> dict[str, Any]:
    """Top-level doubles, strings, booleans and integers of the document at the start of `data`."""
    if len(data) < 5:
        return {}
    end = min(struct.unpack("<i", data[:4])[0], len(data))
    out: dict[str, Any] = {}
    pos = 4
    while pos < end - 1:
        kind = data[pos]
        name_end = data.find(b"\0", pos + 1, end)
        if name_end < 0:
            break
        name = data[pos + 1:name_end].decode("utf-8", "replace")
        pos = name_end + 1
        if kind in (0x02, 0x03, 0x04, 0x05):  # length-prefixed: string, document, array, binary
            if pos + 4 > end:
                break
            size = struct.unpack("<i", data[pos:pos + 4])[0]
            total = {0x02: 4 + size, 0x03: size, 0x04: size, 0x05: 5 + size}[kind]
            if size < 0 or pos + total > end:
                break
            if kind == 0x02:
                out[name] = data[pos + 4:pos + 4 + size - 1].decode("utf-8", "replace")
            pos += total
        elif kind in _FIXED:
            size = _FIXED[kind]
            if pos + size > end:
                break
            raw = data[pos:pos + size]
            if kind == 0x01:
                out[name] = struct.unpack("<d", raw)[0]
            elif kind == 0x08:
                out[name] = raw != b"\x00"
            elif kind == 0x10:
                out[name] = struct.unpack("<i", raw)[0]
            elif kind == 0x12:
                out[name] = struct.unpack("<q", raw)[0]
            pos += size
        else:
            break
    return out
