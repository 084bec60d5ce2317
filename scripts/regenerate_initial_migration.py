"""Regenerate db/migrations/versions/0001 from the models (only while nothing has been deployed).

Once a release exists, add new revisions with `alembic revision --autogenerate -m "..."` instead.
"""

import tempfile
from pathlib import Path

from alembic import command

import db.models  # noqa: F401
from db.migrate import MIGRATIONS, alembic_config

target = MIGRATIONS / "versions" / "0001_initial_schema.py"
target.unlink(missing_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    command.revision(alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}"), message="initial schema",
                     autogenerate=True, rev_id="0001")
print(f"wrote {target}")
