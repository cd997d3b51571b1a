"""Alembic environment of the operational store.

Alembic runs this file for every command; it only hands over to
:func:`credit_engine.store._migrations.run_environment`, which holds the logic
(typed and tested like the rest of the package). Run migrations through
:meth:`credit_engine.store.OperationalStore.create_schema`, which locks the
database first and recognises stores made before migrations existed.
"""

from __future__ import annotations

from alembic import context

from credit_engine.store._migrations import run_environment

# ``context.config`` only exists while Alembic runs this file; a plain import
# (pytest collecting doctests) must not start a migration.
if hasattr(context, "config"):
    run_environment(context.config)
