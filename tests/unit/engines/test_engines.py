"""The engine choice and the Spark session's configuration (no JVM started here)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from credit_engine.config import Settings
from credit_engine.engines import (
    SparkConfig,
    _spark,
    find_java_home,
    require_pyspark,
    resolve_engine,
    spark_session,
)
from credit_engine.exceptions import ConfigurationError, EngineUnavailableError
from credit_engine.vocabulary import Engine


def test_duckdb_is_the_default_and_the_settings_choose_otherwise(monkeypatch):
    assert Settings().engine is Engine.DUCKDB
    monkeypatch.setenv("CREDIT_ENGINE_ENGINE", "spark")
    monkeypatch.setenv("CREDIT_ENGINE_SPARK_MASTER", "spark://head:7077")
    monkeypatch.setenv("CREDIT_ENGINE_SPARK_CONF", '{"spark.local.dir": "/data"}')
    settings = Settings()
    assert settings.engine is Engine.SPARK
    config = SparkConfig.from_settings(settings)
    assert config.master == "spark://head:7077"
    assert config.options()["spark.local.dir"] == "/data"


def test_the_command_line_choice_wins_over_the_settings():
    assert resolve_engine("spark", Engine.DUCKDB) is Engine.SPARK
    assert resolve_engine(None, "spark") is Engine.SPARK
    assert resolve_engine("DuckDB", Engine.SPARK) is Engine.DUCKDB
    with pytest.raises(ConfigurationError, match="Unknown engine 'flink'.*duckdb"):
        resolve_engine("flink", Engine.DUCKDB)


def test_spark_options_from_the_settings():
    settings = Settings(
        spark_executor_memory="1g", spark_driver_memory="2g",
        spark_shuffle_partitions=64,
    )  # fmt: skip
    options = SparkConfig.from_settings(settings).options()
    assert options["spark.executor.memory"] == "1g"
    assert options["spark.driver.memory"] == "2g"
    assert options["spark.sql.shuffle.partitions"] == "64"
    assert options["spark.sql.session.timeZone"] == "UTC"
    assert options["spark.ui.enabled"] == "false"
    assert SparkConfig().master == "local[2]"


def test_memory_pages_are_small_unless_configured_otherwise():
    # The widest feature stage holds ~50 sorters in one task, each pinning a
    # page: Spark's own page size (up to 64 MB) ran a task out of memory.
    assert SparkConfig().options()["spark.buffer.pageSize"] == "2m"
    mine = SparkConfig(conf={"spark.buffer.pageSize": "8m"}).options()
    assert mine["spark.buffer.pageSize"] == "8m"


def test_small_shuffle_partitions_are_merged_up_to_the_advisory_size():
    key = "spark.sql.adaptive.coalescePartitions.parallelismFirst"
    assert SparkConfig().options()[key] == "false"
    assert SparkConfig(master="yarn").options()[key] == "false"
    assert SparkConfig(conf={key: "true"}).options()[key] == "true"


def test_latest_versions_skip_the_partial_step_unless_configured():
    # Most records have one version: a partial latest-version step before the
    # shuffle sorts them all and drops next to nothing.
    key = "spark.sql.optimizer.windowGroupLimitThreshold"
    assert SparkConfig().options()[key] == "-1"
    assert SparkConfig(master="yarn").options()[key] == "-1"
    assert SparkConfig(conf={key: "1000"}).options()[key] == "1000"


def test_a_local_jvm_collects_garbage_for_throughput_unless_configured():
    # In local mode the driver's JVM runs every task: the parallel collector
    # built the 100,000-enterprise features 15 % faster than G1.
    key = "spark.driver.extraJavaOptions"
    assert SparkConfig().options()[key] == "-XX:+UseParallelGC"
    mine = SparkConfig(conf={key: "-XX:+UseG1GC"}).options()
    assert mine[key] == "-XX:+UseG1GC"
    # A cluster's driver runs no task; Spark Connect starts no JVM here.
    assert key not in SparkConfig(master="yarn").options()
    assert key not in SparkConfig(connect_url="sc://spark:15002").options()


def test_a_missing_pyspark_names_the_extra_to_install(monkeypatch):
    monkeypatch.setattr(_spark.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EngineUnavailableError, match=r"credit-engine\[spark\]"):
        require_pyspark()
    monkeypatch.setattr(_spark, "_SESSION", None)
    with pytest.raises(EngineUnavailableError, match="openjdk-17-jre-headless"):
        spark_session(SparkConfig())


def test_a_missing_java_is_explained(monkeypatch):
    pytest.importorskip("pyspark")
    monkeypatch.setattr(_spark, "_SESSION", None)
    monkeypatch.setattr(_spark, "find_java_home", lambda: None)
    with pytest.raises(EngineUnavailableError, match="Java runtime.*JAVA_HOME"):
        spark_session(SparkConfig())


def test_a_second_configuration_is_refused_while_a_session_runs(monkeypatch):
    monkeypatch.setattr(_spark, "_SESSION", object())
    monkeypatch.setattr(_spark, "_SESSION_CONFIG", SparkConfig())
    with pytest.raises(EngineUnavailableError, match="another configuration"):
        spark_session(SparkConfig(master="local[4]"))
    assert spark_session(SparkConfig()) is _spark._SESSION


def test_java_home_is_found_when_java_exists():
    home = find_java_home()
    assert home is None or (home / "bin" / "java").exists()


def test_importing_the_engine_starts_nothing_and_needs_no_pyspark():
    code = (
        "import sys, credit_engine.engines, credit_engine.features, "
        "credit_engine.pipeline, credit_engine.cli; "
        "print('pyspark' in sys.modules, credit_engine.engines.active_spark_session())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "None"]


def test_features_command_says_how_to_get_spark(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from credit_engine.cli import app

    monkeypatch.setattr(_spark.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(_spark, "_SESSION", None)
    result = CliRunner().invoke(
        app,
        [
            "features", "--as-of", "2025-06-30", "--out", str(tmp_path / "f.parquet"),
            "--engine", "spark", "--home", str(tmp_path / "home"),
        ],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "engine_unavailable" in result.output
    assert "credit-engine[spark]" in result.output.replace("\n", "")


def test_local_python_workers_use_the_drivers_interpreter(monkeypatch):
    from credit_engine.engines import _spark

    monkeypatch.setenv("PYSPARK_PYTHON", "restored after the test")
    monkeypatch.delenv("PYSPARK_PYTHON")
    _spark._ensure_local_python(SparkConfig(master="yarn"))
    assert "PYSPARK_PYTHON" not in os.environ
    _spark._ensure_local_python(
        SparkConfig(conf={"spark.pyspark.python": "./env/bin/python"})
    )
    assert "PYSPARK_PYTHON" not in os.environ
    _spark._ensure_local_python(SparkConfig())
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
