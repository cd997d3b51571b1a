"""The Spark session of the engine: built from the settings, once per process.

Nothing here runs at import: ``pyspark`` is imported when a session is first
asked for, so the base install (without ``credit-engine[spark]``) imports this
module, and every command that does not ask for Spark, as before.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_engine.exceptions import EngineUnavailableError

if TYPE_CHECKING:
    from credit_engine.config import Settings

__all__ = [
    "SparkConfig",
    "active_spark_session",
    "find_java_home",
    "require_pyspark",
    "spark_session",
    "stop_spark_session",
]

INSTALL_HINT = (
    "install the Spark extra (pip install 'credit-engine[spark]', or uv sync "
    "--extra spark in a checkout) and a Java 17+ runtime (Debian/Ubuntu: "
    "apt-get install openjdk-17-jre-headless, or set JAVA_HOME)"
)

PAGE_SIZE = "2m"
"""Default ``spark.buffer.pageSize`` (see :meth:`SparkConfig.options`)."""

LOCAL_JAVA_OPTIONS = "-XX:+UseParallelGC"
"""Default ``spark.driver.extraJavaOptions`` in local mode (see
:meth:`SparkConfig.options`)."""

_LOCK = threading.Lock()
_SESSION: Any | None = None
_SESSION_CONFIG: SparkConfig | None = None


@dataclass(frozen=True)
class SparkConfig:
    """What a Spark session is built from (see :meth:`from_settings`).

    Parameters
    ----------
    master : str, default="local[2]"
        ``spark.master``: ``local[N]``, ``yarn``, ``spark://host:7077`` ...
    connect_url : str, optional
        A Spark Connect server (``sc://host:15002``), used instead of ``master``.
    driver_memory, executor_memory : str, optional
        ``spark.driver.memory`` and ``spark.executor.memory`` (``"2g"``).
    shuffle_partitions : int, default=8
        ``spark.sql.shuffle.partitions``.
    conf : dict of str to str
        Further Spark settings, applied last.
    app_name : str, default="credit-engine"
        Name shown by the cluster manager.

    Examples
    --------
    >>> SparkConfig().options()["spark.sql.session.timeZone"]
    'UTC'
    >>> SparkConfig(executor_memory="1g").options()["spark.executor.memory"]
    '1g'
    """

    master: str = "local[2]"
    connect_url: str | None = None
    driver_memory: str | None = None
    executor_memory: str | None = None
    shuffle_partitions: int = 8
    conf: dict[str, str] = field(default_factory=dict)
    app_name: str = "credit-engine"

    @classmethod
    def from_settings(cls, settings: Settings) -> SparkConfig:
        """Return the Spark configuration of the engine settings."""
        return cls(
            master=settings.spark_master,
            connect_url=settings.spark_connect_url,
            driver_memory=settings.spark_driver_memory,
            executor_memory=settings.spark_executor_memory,
            shuffle_partitions=settings.spark_shuffle_partitions,
            conf={str(k): str(v) for k, v in settings.spark_conf.items()},
        )

    def options(self) -> dict[str, str]:
        """Return every Spark setting the session is built with.

        The session time zone is UTC: the point-in-time cutoffs are UTC
        instants (:mod:`credit_engine.point_in_time`), as on DuckDB. The web UI
        is off (a local run needs no server); ``conf`` may turn it on. In local
        mode the driver's JVM runs every task and collects its garbage with
        the throughput collector (:data:`LOCAL_JAVA_OPTIONS`); a
        ``spark.driver.extraJavaOptions`` in ``conf`` replaces it.
        """
        options = {
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": str(int(self.shuffle_partitions)),
            # Decimal sums overflow to an error, not to a silent null.
            "spark.sql.ansi.enabled": "true",
            # Small memory pages: the feature job's widest stage joins every
            # view of a set (about 25 sort-merge joins for credit_v1, two
            # sorters each) in one task, and every sorter pins at least one
            # page. Spark sizes a page from the memory and cores only (up to
            # 64 MB), so 50 pinned pages outgrow a task's share whatever the
            # data size: UNABLE_TO_ACQUIRE_MEMORY, seen with 2 GB in local
            # mode. With 2 MB pages they hold 100 MB; the rest spills.
            "spark.buffer.pageSize": PAGE_SIZE,
            # Adaptive execution merges small shuffle partitions up to its
            # advisory size (64 MB) instead of keeping as many as possible:
            # a feature job has ~290 stages, most of whose shuffles are small
            # (its CPU fell by 9 % at 100,000 enterprises, docs/benchmarks.md),
            # and a task's shuffle input stays bounded by that size.
            "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
            # No partial latest-version step before the shuffle: Spark would
            # sort every record where it is read to drop the earlier versions
            # of a record there, but most records have one version (about 6 %
            # of customs tax bills have more), so that sort drops next to
            # nothing and the records are sorted again after the shuffle. The
            # counts of known records took 25 % less time without it
            # (docs/benchmarks.md).
            "spark.sql.optimizer.windowGroupLimitThreshold": "-1",
        }
        if self.master.startswith("local") and not self.connect_url:
            # A batch job on a few cores: the parallel collector's throughput
            # beats G1's short pauses (the feature build at 100,000
            # enterprises took 15 % less time, docs/benchmarks.md).
            options["spark.driver.extraJavaOptions"] = LOCAL_JAVA_OPTIONS
        if self.driver_memory:
            options["spark.driver.memory"] = self.driver_memory
        if self.executor_memory:
            options["spark.executor.memory"] = self.executor_memory
        options.update(self.conf)
        return options


def require_pyspark() -> None:
    """Raise a clear error unless ``pyspark`` can be imported.

    Raises
    ------
    EngineUnavailableError
        Naming the extra to install.
    """
    if importlib.util.find_spec("pyspark") is None:
        raise EngineUnavailableError(
            "--engine spark needs the pyspark package, which is not installed: "
            + INSTALL_HINT
            + "; or run with --engine duckdb (the default)."
        )


def find_java_home() -> Path | None:
    """Return a Java runtime's home: ``JAVA_HOME``, ``java`` on PATH, or a JVM dir.

    Examples
    --------
    >>> home = find_java_home()
    >>> home is None or (home / "bin" / "java").exists()
    True
    """
    env = os.environ.get("JAVA_HOME")
    if env and (Path(env) / "bin" / "java").exists():
        return Path(env)
    on_path = shutil.which("java")
    if on_path:
        return Path(on_path).resolve().parent.parent
    for candidate in sorted(Path("/usr/lib/jvm").glob("*"), reverse=True):
        if (candidate / "bin" / "java").exists():
            return candidate
    return None


def _ensure_java() -> None:
    home = find_java_home()
    if home is None:
        raise EngineUnavailableError(
            "--engine spark needs a Java runtime (17 or later) for local Spark, "
            "and none was found (no JAVA_HOME, no java on PATH, nothing in "
            "/usr/lib/jvm): " + INSTALL_HINT + "."
        )
    if not os.environ.get("JAVA_HOME"):
        os.environ["JAVA_HOME"] = str(home)


def _ensure_local_python(config: SparkConfig) -> None:
    """Run local Python workers (``mapInPandas``) on the driver's interpreter.

    Otherwise Spark starts ``python3`` from the PATH, which may lack the
    engine's packages. A cluster names its own (``spark.pyspark.python``).
    """
    if (
        config.master.startswith("local")
        and "spark.pyspark.python" not in config.conf
        and not os.environ.get("PYSPARK_PYTHON")
    ):
        os.environ["PYSPARK_PYTHON"] = sys.executable


def spark_session(settings: Settings | SparkConfig) -> Any:
    """Return the process's Spark session, built from ``settings`` the first time.

    Later calls return the same session (Spark allows one per process); a
    different configuration while a session is active is refused rather than
    silently ignored.

    Parameters
    ----------
    settings : Settings or SparkConfig
        Engine settings (their ``spark_*`` fields) or a Spark configuration.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    EngineUnavailableError
        If pyspark or Java is missing, or the session cannot start (the
        message has Spark's reason).
    """
    global _SESSION, _SESSION_CONFIG  # noqa: PLW0603 -- one session per process
    config = (
        settings
        if isinstance(settings, SparkConfig)
        else SparkConfig.from_settings(settings)
    )
    with _LOCK:
        if _SESSION is not None:
            if config != _SESSION_CONFIG:
                raise EngineUnavailableError(
                    "A Spark session with another configuration is already "
                    f"running in this process ({_SESSION_CONFIG}); stop it with "
                    "stop_spark_session() before asking for "
                    f"{config}."
                )
            return _SESSION
        require_pyspark()
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName(config.app_name)
        if config.connect_url:
            builder = builder.remote(config.connect_url)
        else:
            _ensure_java()
            _ensure_local_python(config)
            builder = builder.master(config.master)
        for key, value in config.options().items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # Spark raises plain exceptions from the JVM
            where = config.connect_url or config.master
            raise EngineUnavailableError(
                f"Spark could not start a session on {where!r}: {exc}. Check "
                "the Java runtime (JAVA_HOME), the master or Spark Connect URL "
                "(CREDIT_ENGINE_SPARK_MASTER / CREDIT_ENGINE_SPARK_CONNECT_URL) "
                "and that the cluster is reachable."
            ) from exc
        _SESSION, _SESSION_CONFIG = session, config
        return session


def active_spark_session() -> Any | None:
    """Return the session :func:`spark_session` built, if one is running."""
    return _SESSION


def stop_spark_session() -> None:
    """Stop the process's Spark session, if any (its JVM exits with it)."""
    global _SESSION, _SESSION_CONFIG  # noqa: PLW0603 -- one session per process
    with _LOCK:
        if _SESSION is not None:
            _SESSION.stop()
        _SESSION, _SESSION_CONFIG = None, None
