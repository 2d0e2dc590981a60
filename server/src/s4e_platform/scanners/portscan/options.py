"""`port_scan` options (scanning.md 2.2): the scan's `options` object is shared by every scanner of a scan, so
keys this scanner does not know are ignored here (the scan API checks that each key belongs to some scanner).

Names: the spec's `port_timeout_ms` / `port_concurrency` are canonical; `timeout_ms` / `concurrency` are accepted
as synonyms. `rate_limit` keeps its scan-wide meaning (requests per second per host, default 20) and paces our
probe connections; the sweep's own pace is `port_rate_limit` (new connections per second, default unbounded
beyond `port_concurrency`), so a web-friendly `rate_limit` never turns a port sweep into hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from s4e_platform import __version__
from s4e_platform.errors import jsonpath
from s4e_platform.scanners.base import InvalidOptions
from s4e_platform.scanners.portscan.sweep import parse_ports

PortEntry = Annotated[int | str, Field(description="a port (1-65535) or a \"low-high\" range")]


class PortScanOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True, frozen=True)

    ports: str | list[PortEntry] = Field(
        "top-1000", description="`top-100`, `top-1000`, `all`, or a list such as \"22,80,8000-8100\" or "
                                "[22, \"8000-8100\"]")
    port_timeout_ms: int = Field(1000, ge=50, le=30000, description="TCP connect timeout in milliseconds",
                                 validation_alias=AliasChoices("port_timeout_ms", "timeout_ms"))
    port_concurrency: int = Field(1024, ge=1, le=16384, description="connection attempts in flight",
                                  validation_alias=AliasChoices("port_concurrency", "concurrency"))
    port_rate_limit: float | None = Field(None, gt=0, le=1_000_000,
                                          description="new TCP connections per second (default: unbounded)")
    rate_limit: float = Field(20, gt=0, le=10000, description="probe connections per second per host")
    probe: bool = Field(True, description="identify services on open ports (banners and our own probes)")
    probe_timeout_ms: int = Field(3000, ge=100, le=60000, description="connect/read timeout of each probe step")
    user_agent: str = Field(f"S4E-Scanner/{__version__}", min_length=1, max_length=256,
                            pattern=r"^[\x20-\x7e]+$", description="User-Agent of HTTP probes")

    _ports: tuple[int, ...] = PrivateAttr(default=())

    @field_validator("ports")
    @classmethod
    def _check_ports(cls, value: Any) -> Any:
        parse_ports(value)  # ValueError -> a 422 naming $.options.ports
        return value

    def model_post_init(self, _context: Any) -> None:
        self._ports = parse_ports(self.ports)

    @property
    def port_list(self) -> tuple[int, ...]:
        return self._ports


def validate_options(options: Mapping[str, Any] | None) -> PortScanOptions:
    if options is not None and not isinstance(options, Mapping):
        raise InvalidOptions([{"path": "$.options", "message": "options must be an object", "code": "type_error"}])
    try:
        return PortScanOptions.model_validate(dict(options or {}))
    except ValidationError as exc:
        details = []
        for err in exc.errors(include_url=False):
            loc = err.get("loc") or ()
            # a union reports each branch ("ports", "str", ...): name the option only
            path = jsonpath(("options", loc[0])) if loc else "$.options"
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            entry = {"path": path, "message": message, "code": err.get("type", "invalid")}
            if entry not in details:
                details.append(entry)
        raise InvalidOptions(details) from None


def options_schema() -> dict[str, Any]:
    schema = PortScanOptions.model_json_schema(mode="validation")
    schema.pop("title", None)
    schema["additionalProperties"] = True  # the scan's options object also carries other scanners' keys
    return schema
