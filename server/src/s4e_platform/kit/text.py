"""Small text helpers shared by repositories."""


def like_escape(value: str) -> str:
    """Escape LIKE wildcards; use with `escape="\\"`."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
