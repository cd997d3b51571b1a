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

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from credit_engine.exceptions import ConfigurationError
from credit_engine.vocabulary import Engine

__all__ = ["RoleLimits", "Settings", "default_definitions_dir"]


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


class RoleLimits(BaseModel):
    """API limits of every key of one role (see ``Settings.api_limits``).

    Parameters
    ----------
    rate : float
        Decisions (or requests) per second a key may sustain.
    burst : int
        Tokens a key may save up: the most it may ask for at once (a batch of
        1,000 codes needs ``burst >= 1000``).
    concurrency : int
        Requests of one key in flight at once.
    heavy : int
        Heavy requests (batches, dates other than the serving date) of one key
        in flight at once; 0 forbids them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: float = Field(gt=0)
    burst: int = Field(ge=1)
    concurrency: int = Field(ge=1)
    heavy: int = Field(ge=0)


def _default_limits() -> dict[str, RoleLimits]:
    return {
        "inspection_system": RoleLimits(
            rate=2000, burst=4000, concurrency=256, heavy=2
        ),
        "supervisor": RoleLimits(rate=200, burst=1000, concurrency=16, heavy=1),
        "data_scientist": RoleLimits(rate=20, burst=40, concurrency=4, heavy=1),
        "admin": RoleLimits(rate=100, burst=1000, concurrency=8, heavy=1),
        "auditor": RoleLimits(rate=20, burst=100, concurrency=4, heavy=1),
    }


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
    api_limits : dict of str to RoleLimits
        Per role (``inspection_system``, ``supervisor``, ``data_scientist``,
        ``admin``, ``auditor``): decisions per second, burst, requests in flight, heavy
        requests in flight, per API key. Roles left out keep their defaults.
        From the environment as JSON, e.g.
        ``CREDIT_ENGINE_API_LIMITS='{"supervisor": {"rate": 50, "burst": 1000,
        "concurrency": 8, "heavy": 1}}'``.
    audit_wait_seconds : float, default=2.0
        Longest an API request waits for its audit entry to be durable before
        it is answered 503 ``store_unavailable`` with ``Retry-After``.
    audit_durability : {"disk", "process"}, default="disk"
        When an API answer may leave, with respect to its audit entry.
        ``disk``: once the entry's transaction is flushed to the disk (SQLite
        ``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``); it survives
        a power loss, and every answer waits for a disk flush (milliseconds on
        most disks). ``process``: once it is committed to the database (SQLite
        ``synchronous=NORMAL`` in WAL mode, PostgreSQL ``synchronous_commit=off``);
        it survives a crash of the service, but the last commits before a
        power loss or an operating-system crash may be lost (never the chain's
        consistency). See docs/operations.md.
    store_busy_seconds : float, default=1.0
        Longest an audit transaction waits for another process's write lock
        before the store counts as unavailable (503 until it frees).
    audit_queue_max : int, default=5000
        Audit entries that may wait for the writer; beyond, 503.
    heavy_workers : int, default=1
        Threads for batches and dates other than the serving date.
    heavy_processes : int, default=1
        Worker processes that decide at dates other than the serving date
        (features and facts read from the lake, the model, the entries and
        the answer), so that this work never holds the serving process's
        interpreter lock; started at the first such request or model load,
        each about 0.3 GB. ``0``: the heavy threads do it in the serving
        process (single scores then slow down beside past-date batches).
    heavy_process_niceness : int, default=10
        How much lower the workers' CPU priority is than the serving
        process's (added to its niceness, :func:`os.nice`): on a busy machine
        the serving path gets the processor first, past dates wait.
    heavy_timeout_seconds : float, default=300
        Longest a job may run in a worker process (a 1,000-code batch at a past
        date takes seconds; loading another model version for it, tens of
        seconds). Beyond, the worker is stopped and restarted and the request
        gets 503 with ``Retry-After``: a job that hangs never keeps its slot
        of the heavy pool. Threads (``heavy_processes=0``) cannot be stopped,
        so this bound applies to worker processes only.
    api_switch_interval_ms : float, default=1.0
        The interpreter's thread switch interval while the API runs
        (:func:`sys.setswitchinterval`; Python's default is 5 ms). A batch
        working in a heavy thread holds the interpreter up to this long before
        a waiting single score gets it: shorter keeps single scores fast beside
        batches, at a little throughput. Restored when the API stops.
    heavy_queue_max : int, default=16
        Heavy requests that may wait for a thread; beyond, 503.
    overrides_refresh_seconds : float, default=1.0
        How often the API re-reads overrides recorded by other processes.
    overrides_max_stale_seconds : float, default=10.0
        Refuse decisions (503) when the overrides could not be read this long.
    audit_anchor_key : SecretStr, optional
        HMAC-SHA256 key (at least 32 bytes) that signs audit checkpoints
        (``credit-engine audit anchor``) when no Ed25519 key is configured.
    audit_anchor_private_key : pathlib.Path, optional
        Ed25519 private key (PEM) that signs audit checkpoints; auditors
        verify with its public key (``credit-engine audit anchor-keygen``).
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
    console_overview_poll_seconds : float, default=30.0
        The console prepares the zone overview's figures in the background from
        the service's start, then looks for new rating runs this often (seconds)
        and prepares theirs. ``0``: nothing ahead; a figure is computed in the
        background when a page first misses it (the page says "preparing").
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
    # ---- issue 14 (hardening): limits, bounded waits, audit anchors ---------
    api_limits: dict[str, RoleLimits] = Field(default_factory=_default_limits)
    audit_wait_seconds: float = Field(default=2.0, gt=0, le=60)
    audit_durability: Literal["disk", "process"] = "disk"
    store_busy_seconds: float = Field(default=1.0, gt=0, le=60)
    audit_queue_max: int = Field(default=5000, ge=1)
    heavy_workers: int = Field(default=1, ge=1, le=64)
    heavy_processes: int = Field(default=1, ge=0, le=64)
    heavy_process_niceness: int = Field(default=10, ge=0, le=19)
    heavy_timeout_seconds: float = Field(default=300.0, gt=0)
    api_switch_interval_ms: float = Field(default=1.0, gt=0, le=100)
    heavy_queue_max: int = Field(default=16, ge=0)
    overrides_refresh_seconds: float = Field(default=1.0, gt=0)
    overrides_max_stale_seconds: float = Field(default=10.0, gt=0)
    audit_anchor_key: SecretStr | None = None
    audit_anchor_private_key: Path | None = None

    @field_validator("api_limits", mode="after")
    @classmethod
    def _known_roles(cls, value: dict[str, RoleLimits]) -> dict[str, RoleLimits]:
        known = set(_default_limits())
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(
                f"api_limits names unknown roles {unknown}; roles are {sorted(known)}"
            )
        return {**_default_limits(), **value}

    # ---- end issue 14 ---------------------------------------------------------
    known_enterprises: Literal["auto", "registration", "any_record"] = "auto"
    # --- console (issue 13): sessions and sign-in of the supervisor console ---
    console_enabled: bool = True
    console_session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_session_max_hours: float = Field(default=8.0, gt=0, le=24 * 7)
    console_cookie_secure: bool | None = None
    console_login_max_failures: int = Field(default=5, ge=1)
    console_login_window_minutes: int = Field(default=15, ge=1)
    console_overview_poll_seconds: float = Field(default=30.0, ge=0)
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
