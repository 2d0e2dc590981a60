"""Asset-specific errors."""

from s4e_platform.errors import AlreadyExists, HasDependents


class AssetExists(AlreadyExists):
    message = "An asset with this type and name already exists"


class AssetHasDependents(HasDependents):
    message = "Asset has children, services or findings; delete with ?cascade=true"
