"""webhook domain."""
