"""event domain."""
