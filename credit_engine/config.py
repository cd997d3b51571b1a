"""Engine settings: one place, validated at start-up, read from the environment.

Every path the engine writes lives under the engine *home* unless configured
otherwise. The home defaults to ``./.credit-engine`` and is set with ``--home DIR``
on any command or the ``CREDIT_ENGINE_HOME`` environment variable.

Examples
--------
>>> s = Settings(home="/tmp/zone")
>>> str(s.lake_dir)
'/tmp/zone/lake'
>>> s.mlflow_tracking_uri
'sqlite:////tmp/zone/mlflow/mlflow.db'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from credit_engine.exceptions import ConfigurationError
from credit_engine.vocabulary import Engine

__all__ = ["Settings", "default_definitions_dir"]


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.expanduser().absolute()}"


def default_definitions_dir() -> Path:
    """Locate the definition files (``features/``, ``models/`` ...).

    Returns
    -------
    pathlib.Path
        The repository root when running from a checkout (editable install), or the
        copy bundled inside the installed wheel.
    """
    package_dir = Path(__file__).resolve().parent
    checkout = package_dir.parent
    if (checkout / "features" / "sources").is_dir():
        return checkout
    return package_dir / "_definitions"


class Settings(BaseSettings):
    """All configuration of the engine.

    Parameters
    ----------
    home : pathlib.Path, default="./.credit-engine"
        Engine home; lake, quarantine, reports, MLflow store and operational
        database live under it unless set explicitly.
    definitions_dir : pathlib.Path, optional
        Folder holding ``features/sources/*.yaml`` and the other definitions.
    lake_dir, quarantine_dir, reports_dir, staging_dir : pathlib.Path, optional
        Override the corresponding folder (default: under ``home``).
    mlflow_tracking_uri : str, optional
        MLflow tracking and registry URI (default: SQLite file under ``home``).
    database_url : str, optional
        SQLAlchemy URL of the operational store (default: SQLite under ``home``).
    ingest_chunk_rows : int, default=2_000_000
        Rows validated per Great Expectations run; bounds ingestion memory.
    engine : Engine, default="duckdb"
        Where the heavy steps run: embedded DuckDB, or Apache Spark
        (``pip install credit-engine[spark]`` and a Java 17+ runtime;
        docs/scale-out.md). Commands that can run on Spark take ``--engine``.
    spark_master : str, default="local[2]"
        ``spark.master`` of the session: ``local[N]`` on this machine,
        ``yarn``, ``spark://host:7077``, ``k8s://...`` on a cluster.
    spark_connect_url : str, optional
        A Spark Connect server (``sc://host:15002``); when set it is used
        instead of ``spark_master``.
    spark_driver_memory, spark_executor_memory : str, optional
        Memory of the driver and of each executor (``"2g"``); Spark's defaults
        when unset.
    spark_shuffle_partitions : int, default=8
        ``spark.sql.shuffle.partitions``: raise it with the data (a few times
        the executor cores) so that each task's memory stays bounded.
    spark_conf : dict of str to str, default={}
        Any other Spark setting (``{"spark.local.dir": "/data/spark"}``); JSON
        in ``CREDIT_ENGINE_SPARK_CONF``.
    known_enterprises : {"auto", "registration", "any_record"}, default="auto"
        How an enterprise becomes known to the feature snapshots and ratings:
        from a registration (state) record, from any record, or ``auto``:
        registration, and any record when the zone has no registration at all
        (:func:`credit_engine.features.enterprise_spine`).
    console_enabled : bool, default=True
        Mount the supervisor console at ``/console`` (false: the API only).
    console_session_idle_minutes : int, default=30
        A console session unused for this long ends.
    console_session_max_hours : float, default=8.0
        A console session ends this long after sign-in, however active.
    console_cookie_secure : bool, optional
        Mark the console's cookies ``Secure``. Default: when the request came
        over https (as seen by the app; behind a TLS proxy set it to true).
    console_login_max_failures : int, default=5
        Failed console sign-ins per name, and per client address, allowed
        within ``console_login_window_minutes`` before sign-in is refused.
    console_login_window_minutes : int, default=15
        The window of the sign-in throttle.
    console_assets_dir : pathlib.Path, optional
        Folder of the console's browser libraries (default: the package's
        ``console/static/vendor``, filled by ``make setup``).

    Notes
    -----
    Environment variables use the prefix ``CREDIT_ENGINE_``, e.g.
    ``CREDIT_ENGINE_HOME`` or ``CREDIT_ENGINE_DATABASE_URL``.
    """

    model_config = SettingsConfigDict(env_prefix="CREDIT_ENGINE_", extra="forbid")

    home: Path = Field(default=Path(".credit-engine"))
    definitions_dir: Path = Field(default_factory=default_definitions_dir)
    lake_dir: Path = Field(default_factory=lambda data: data["home"] / "lake")
    quarantine_dir: Path = Field(
        default_factory=lambda data: data["home"] / "quarantine"
    )
    reports_dir: Path = Field(default_factory=lambda data: data["home"] / "reports")
    staging_dir: Path = Field(default_factory=lambda data: data["home"] / "staging")
    mlflow_tracking_uri: str = Field(
        default_factory=lambda data: _sqlite_url(data["home"] / "mlflow" / "mlflow.db")
    )
    database_url: str = Field(
        default_factory=lambda data: _sqlite_url(data["home"] / "credit_engine.db")
    )
    ingest_chunk_rows: int = Field(default=2_000_000, ge=1_000)
    engine: Engine = Engine.DUCKDB
    spark_master: str = "local[2]"
    spark_connect_url: str | None = None
    spark_driver_memory: str | None = None
    spark_executor_memory: str | None = None
    spark_shuffle_partitions: int = Field(default=8, ge=1)
    spark_conf: dict[str, Any] = Field(default_factory=dict)
    known_enterprises: Literal["auto", "registration", "any_record"] = "auto"
    # --- console (issue 13): sessions and sign-in of the supervisor console ---
    console_enabled: bool = True
    console_session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_session_max_hours: float = Field(default=8.0, gt=0, le=24 * 7)
    console_cookie_secure: bool | None = None
    console_login_max_failures: int = Field(default=5, ge=1)
    console_login_window_minutes: int = Field(default=15, ge=1)
    console_assets_dir: Path | None = None
    # --- end console ---

    @field_validator(
        "home", "definitions_dir", "lake_dir", "quarantine_dir", "reports_dir",
        "staging_dir",
    )  # fmt: skip
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Relative paths are taken from the working directory once, at start-up,
        # so that nothing downstream depends on where it runs from.
        return value.expanduser().absolute()

    @model_validator(mode="after")
    def _check_home(self) -> Settings:
        if self.home.exists() and not self.home.is_dir():
            raise ConfigurationError(
                f"Engine home {str(self.home)!r} exists but is not a directory; "
                "pass --home with a directory path or unset CREDIT_ENGINE_HOME."
            )
        return self

    @property
    def sources_dir(self) -> Path:
        """Folder of the record contracts (``features/sources``)."""
        return self.definitions_dir / "features" / "sources"
