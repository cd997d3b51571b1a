"""Command-line interface: ``credit-engine``.

Every command takes ``--home DIR`` (or ``CREDIT_ENGINE_HOME``); everything the
engine writes lives under it unless configured otherwise.

One Typer app (``_app``) is shared by the command modules; each module declares
its commands on it, so importing a module registers its commands. The modules
are imported below in the order their commands appear in ``--help`` (groups,
``keys``, ``audit``, ``db`` and ``mapping``, come after the commands). Rendering
lives in the ``_render_*`` and ``_progress`` modules; the work in
:mod:`credit_engine.pipeline` and the other library packages.
"""

from __future__ import annotations

import warnings

# The order of this list is the order of the commands in --help.
# isort: off
from credit_engine.cli import (
    _simulate,
    _ingest,
    _demo,
    _features,
    _contracts,
    _uscc,
    _cumcm,
    _models,
    _rating,
    _freshness,
    _monitor,
    _warnings,
    _serve,
    _report,
    _admin,
    _db,
    _mapping,
)

# isort: on
from credit_engine.cli._app import app

__all__ = ["app", "main"]

_COMMAND_MODULES = (
    _simulate, _ingest, _demo, _features, _contracts, _uscc, _cumcm, _models,
    _rating, _freshness, _monitor, _warnings, _serve, _report, _admin, _db, _mapping,
)  # fmt: skip
"""The modules that declare the commands, in their order in ``--help``."""


def main() -> None:
    """Entry point of the ``credit-engine`` console script."""
    # With the spark extra installed, Great Expectations imports pyspark, which
    # warns on every command that it does not fully support pandas 3: noise for
    # users (the Spark backend's parity tests are what judge it).
    warnings.filterwarnings(
        "ignore",
        message="PySpark does not yet fully support pandas",
        category=FutureWarning,
    )
    app(prog_name="credit-engine")


if __name__ == "__main__":  # pragma: no cover
    main()
