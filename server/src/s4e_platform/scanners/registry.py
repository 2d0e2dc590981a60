"""The scanner catalog (`GET /scanners`, scanning.md 2): one instance per scanner id."""

from __future__ import annotations

from s4e_platform.scanners.base import Scanner
from s4e_platform.scanners.dns import DnsScanner, EmailSecurityScanner, SubdomainDiscoveryScanner
from s4e_platform.scanners.exposed_files import ExposedFilesScanner
from s4e_platform.scanners.http_headers import HttpHeadersScanner
from s4e_platform.scanners.portscan.scanner import PortScanner
from s4e_platform.scanners.tls import TLSScanner

_SCANNERS: dict[str, Scanner] = {}


def register(scanner: Scanner) -> Scanner:
    """Add a scanner to the catalog; ids are unique."""
    if scanner.id in _SCANNERS and _SCANNERS[scanner.id] is not scanner:
        raise ValueError(f"scanner id {scanner.id!r} is already registered")
    _SCANNERS[scanner.id] = scanner
    return scanner


def get(scanner_id: str) -> Scanner | None:
    return _SCANNERS.get(scanner_id)


def all_scanners() -> list[Scanner]:
    """Every registered scanner, ordered by id."""
    return [_SCANNERS[key] for key in sorted(_SCANNERS)]


def catalog() -> list[dict]:
    """The catalog entries as `GET /scanners` returns them."""
    return [scanner.describe() for scanner in all_scanners()]


register(PortScanner())
register(TLSScanner())
register(HttpHeadersScanner())
register(ExposedFilesScanner())
register(DnsScanner())
register(EmailSecurityScanner())
register(SubdomainDiscoveryScanner())
