"""Regenerate the initial migration from the models (only while no release has shipped).

Usage: .venv/bin/python server/scripts/regen_initial_migration.py
"""

import glob
import os
import tempfile

from alembic import command
from s4e_platform.db.migrate import MIGRATIONS, alembic_config

for path in glob.glob(str(MIGRATIONS / "versions" / "*_initial_schema.py")):
    os.remove(path)
with tempfile.TemporaryDirectory() as tmp:
    url = f"sqlite:///{tmp}/regen.db"
    cfg = alembic_config(url)
    command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
print("regenerated")
