"""S4E platform: API, console, workers, scheduler and scanners."""

__version__ = "0.1.0"
