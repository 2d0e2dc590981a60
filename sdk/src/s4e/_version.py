"""The SDK version (kept apart so any module can import it without importing the client)."""

__version__ = "0.1.0"
