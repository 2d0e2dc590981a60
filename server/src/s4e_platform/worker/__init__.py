"""Executing scan tasks: the release loop, the in-process executor (embedded) and Celery workers (scale-out)."""
