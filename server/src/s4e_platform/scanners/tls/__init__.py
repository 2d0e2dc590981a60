"""The `tls` scanner (scanning.md 2.1): protocol versions, cipher suites, certificate and HSTS checks."""

from s4e_platform.scanners.tls.scanner import TLSScanner

__all__ = ["TLSScanner"]
