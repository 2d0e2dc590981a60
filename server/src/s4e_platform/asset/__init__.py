"""asset domain."""
