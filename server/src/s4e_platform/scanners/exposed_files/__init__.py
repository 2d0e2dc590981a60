"""`exposed_files` scanner (scanning.md 2.1): sensitive files and debug pages served by mistake."""

from s4e_platform.scanners.exposed_files.scanner import ExposedFilesScanner

__all__ = ["ExposedFilesScanner"]
