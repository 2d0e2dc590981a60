"""`tls` options (scanning.md 2.2). The scan's `options` object is shared by every scanner of a scan, so keys
this scanner does not know are ignored; `ports` belongs to `port_scan` (`top-1000` means nothing here), so the TLS
ports of a domain or ip target have their own key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from s4e_platform import __version__
from s4e_platform.errors import jsonpath
from s4e_platform.scanners.base import InvalidOptions

MAX_TLS_PORTS = 64
MAX_CA_BUNDLE = 256 * 1024
Model = TypeVar("Model", bound=BaseModel)


def parse_model(model: type[Model], options: Mapping[str, Any] | None) -> Model:
    """Validate a scan's options against one scanner's model; errors become InvalidOptions naming
    `$.options.<key>`."""
    if options is not None and not isinstance(options, Mapping):
        raise InvalidOptions([{"path": "$.options", "message": "options must be an object", "code": "type_error"}])
    try:
        return model.model_validate(dict(options or {}))
    except ValidationError as exc:
        details: list[dict[str, str]] = []
        for err in exc.errors(include_url=False):
            loc = err.get("loc") or ()
            path = jsonpath(("options", loc[0])) if loc else "$.options"  # a union lists each branch: name the key
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            entry = {"path": path, "message": message, "code": err.get("type", "invalid")}
            if entry not in details:
                details.append(entry)
        raise InvalidOptions(details) from None


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    schema.pop("title", None)
    schema["additionalProperties"] = True  # the scan's options object also carries other scanners' keys
    return schema


def parse_port_list(value: str | list[int]) -> tuple[int, ...]:
    """`"443,8443"` or `[443, 8443]` -> ordered unique ports. Raises ValueError."""
    items: list[Any] = value.split(",") if isinstance(value, str) else list(value)
    if not items or len(items) > MAX_TLS_PORTS:
        raise ValueError(f"give 1-{MAX_TLS_PORTS} ports")
    out: dict[int, None] = {}
    for item in items:
        if isinstance(item, bool):
            raise ValueError("ports are numbers 1-65535")
        text = item.strip() if isinstance(item, str) else item
        if isinstance(text, str) and not text.isdigit():
            raise ValueError(f"invalid port {str(item)[:20]!r}: ports are numbers 1-65535")
        port = int(text)
        if not 1 <= port <= 65535:
            raise ValueError(f"invalid port {port}: ports are numbers 1-65535")
        out[port] = None
    return tuple(out)


class TLSOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    tls_ports: str | list[int] = Field(
        "443", description="TLS ports of a domain or ip target, e.g. \"443,8443\" (a url target uses its own port)")
    tls_timeout_ms: int = Field(5000, ge=200, le=30000, description="connect and handshake timeout per probe")
    ca_bundle_pem: str | None = Field(
        None, max_length=MAX_CA_BUNDLE,
        description="extra trusted CA certificates (PEM), e.g. an internal PKI, on top of the system trust store")
    user_agent: str = Field(f"S4E-Scanner/{__version__}", min_length=1, max_length=256,
                            pattern=r"^[\x20-\x7e]+$", description="User-Agent of the HSTS request")

    @field_validator("tls_ports")
    @classmethod
    def _check_ports(cls, value: Any) -> Any:
        parse_port_list(value)
        return value

    @field_validator("ca_bundle_pem")
    @classmethod
    def _check_bundle(cls, value: str | None) -> str | None:
        from s4e_platform.scanners.tls.certificate import load_pem_certificates

        if value is not None and not load_pem_certificates(value.encode("utf-8", "replace")):
            raise ValueError("ca_bundle_pem holds no PEM certificate")
        return value

    @property
    def port_list(self) -> tuple[int, ...]:
        return parse_port_list(self.tls_ports)


def validate_options(options: Mapping[str, Any] | None) -> TLSOptions:
    return parse_model(TLSOptions, options)
