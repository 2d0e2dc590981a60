"""Import every domain's models so Base.metadata is complete (Alembic, tests)."""

from s4e_platform.asset import models as _asset  # noqa: F401
from s4e_platform.auth import models as _auth  # noqa: F401
from s4e_platform.db.base import Base
from s4e_platform.event import models as _event  # noqa: F401
from s4e_platform.finding import models as _finding  # noqa: F401
from s4e_platform.idempotency import models as _idem  # noqa: F401
from s4e_platform.inventory import models as _inventory  # noqa: F401
from s4e_platform.runtime import models as _runtime  # noqa: F401
from s4e_platform.scan import models as _scan  # noqa: F401
from s4e_platform.scan_profile import models as _scan_profile  # noqa: F401
from s4e_platform.webhook import models as _webhook  # noqa: F401
from s4e_platform.workspace import models as _workspace  # noqa: F401

metadata = Base.metadata
