"""The `http_headers` scanner (scanning.md 2.1): HTTP security headers and misconfiguration checks."""

from s4e_platform.scanners.http_headers.scanner import HttpHeadersScanner

__all__ = ["HttpHeadersScanner"]
