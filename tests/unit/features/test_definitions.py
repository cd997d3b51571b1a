"""Feature definitions: the shipped ones, Spark compilation, and every load error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlglot

from credit_engine.config import Settings
from credit_engine.data import Department
from credit_engine.exceptions import ConfigurationError
from credit_engine.features import compile_feature_sql, load_definitions, to_spark

ROOT = Settings().definitions_dir


@pytest.fixture(scope="module")
def defs():
    return load_definitions(ROOT)


def test_credit_v1_has_at_least_60_features_over_all_departments(defs):
    resolved = defs.resolve("credit_v1")
    assert len(resolved.columns) >= 60
    departments = {
        defs.contracts[r.view.source].department
        for r in resolved.outputs
        if r.view.source
    }
    assert departments == set(Department)
    assert any(r.view.name == "cross_department" for r in resolved.outputs)
    assert all(r.spec.description for r in resolved.outputs)
    assert len(set(resolved.columns)) == len(resolved.columns)


@pytest.mark.parametrize(
    "view", sorted(p.stem for p in (ROOT / "features/views").glob("*.yaml"))
)
def test_every_view_compiles_for_spark(defs, view):
    resolved = defs.resolve_features([f"{view}:*"])
    spark = to_spark(compile_feature_sql(resolved, defs.contracts))
    parsed = sqlglot.parse_one(spark, read="spark")
    assert parsed.find(sqlglot.exp.Select) is not None
    assert "arg_max" not in spark.lower()  # DuckDB-only names are translated


def test_the_fingerprint_follows_the_definitions(defs, tmp_path):
    _copy_definitions(tmp_path)
    view = tmp_path / "features/views/customs_declarations.yaml"
    view.write_text(view.read_text().replace("window: 90d", "window: 91d", 1))
    changed = load_definitions(tmp_path).resolve("credit_v1").fingerprint
    assert changed != defs.resolve("credit_v1").fingerprint
    assert (
        load_definitions(ROOT).resolve("credit_v1").fingerprint
        == defs.resolve("credit_v1").fingerprint
    )


def _copy_definitions(target: Path) -> None:
    shutil.copytree(ROOT / "features", target / "features")


VIEW = """
name: probe
kind: event
source: customs_declaration
description: probe
features:
  - {name: n, agg: count, window: 30d, description: d}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            VIEW.replace("source: customs_declaration", "source: nope"),
            "unknown source 'nope'",
        ),
        (
            VIEW.replace("kind: event", "kind: state").replace(
                "agg: count, window: 30d", "agg: present"
            ),
            "use kind 'event'",
        ),
        (
            VIEW + "  - {name: s, agg: sum, column: valeu, description: d}\n",
            "unknown column 'valeu'",
        ),
        (
            VIEW
            + "  - {name: w, agg: count, where: \"colour = 'red'\", description: d}\n",
            r"unknown column\(s\) \['colour'\]",
        ),
        (
            VIEW + "  - {name: e, agg: sum, expr: 'sum(value_cny)', description: d}\n",
            "must be a row-level expression",
        ),
        (
            VIEW + "  - {name: x, agg: count, where: 'value_cny >', description: d}\n",
            "cannot parse SQL",
        ),
        (VIEW.replace("window: 30d", "window: 30 days"), "must look like '90d'"),
        (
            VIEW + "  - {name: c, agg: current, column: ie_flag, description: d}\n",
            "not allowed in a event view",
        ),
        (
            VIEW + "  - {name: m, agg: mean, description: d}\n",
            "needs a 'column' or an 'expr'",
        ),
        (VIEW + "  - {name: n, agg: count, description: d}\n", "duplicate features"),
    ],
)
def test_malformed_views_fail_at_load_naming_the_problem(tmp_path, text, message):
    _copy_definitions(tmp_path)
    (tmp_path / "features/views/probe.yaml").write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        load_definitions(tmp_path)


DERIVED = """
name: derived_probe
kind: derived
description: probe
features:
  - name: r
    agg: transform
    transform: {transform}
    inputs: {inputs}
    params: {params}
    description: d
"""


@pytest.mark.parametrize(
    ("transform", "inputs", "params", "message"),
    [
        (
            "ratioo",
            '["customs_declarations:count_90d", 1]',
            "{}",
            "unknown transform 'ratioo'",
        ),
        ("ratio", '["customs_declarations:count_90d"]', "{}", "takes 2 inputs, got 1"),
        (
            "gt",
            '["customs_declarations:count_90d"]',
            "{}",
            r"needs params \['threshold'\]",
        ),
        ("ratio", '["customs_declarations:nope", 1]', "{}", "has no feature 'nope'"),
        ("ratio", '["nowhere:x", 1]', "{}", "unknown view 'nowhere'"),
        ("ratio", '["derived_probe:r", 1]', "{}", "cycle"),
    ],
)
def test_malformed_transforms_fail_at_load(
    tmp_path, transform, inputs, params, message
):
    _copy_definitions(tmp_path)
    text = DERIVED.format(transform=transform, inputs=inputs, params=params)
    (tmp_path / "features/views/derived_probe.yaml").write_text(text)
    sets = tmp_path / "features/sets/probe_v1.yaml"
    sets.write_text("name: probe_v1\ndescription: p\nfeatures: ['derived_probe:*']\n")
    with pytest.raises(ConfigurationError, match=message):
        load_definitions(tmp_path)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ("['customs_declarations:nope']", "has no feature 'nope'"),
        ("['nowhere:*']", "unknown view 'nowhere'"),
        ("['customs_declarations']", "must be 'view:feature'"),
    ],
)
def test_malformed_sets_fail_at_load(tmp_path, features, message):
    _copy_definitions(tmp_path)
    path = tmp_path / "features/sets/probe_v1.yaml"
    path.write_text(f"name: probe_v1\ndescription: p\nfeatures: {features}\n")
    with pytest.raises(ConfigurationError, match=message):
        load_definitions(tmp_path)


def test_unknown_feature_set_is_named(defs):
    with pytest.raises(ConfigurationError, match="unknown feature set 'credit_v9'"):
        defs.resolve("credit_v9")


def test_feature_reference_in_docs_is_up_to_date(defs):
    from credit_engine.features._docs import render_features_markdown

    expected = render_features_markdown(defs, "credit_v1") + "\n"
    actual = (ROOT / "docs" / "features.md").read_text("utf-8")
    assert actual == expected, (
        "docs/features.md is stale: run `credit-engine features --markdown "
        "docs/features.md`"
    )


def test_spark_sql_keeps_duckdb_arg_max_and_utc_dates():
    import duckdb

    sql = (
        "SELECT arg_max(x, t) AS hi, arg_min(x, t) AS lo, "
        "CAST(timezone('UTC', ts) AS DATE) AS day FROM v"
    )
    spark = to_spark(sql)
    # DuckDB's arg_max/arg_min skip NULL values: Spark orders those rows by NULL.
    assert "MAX_BY(x, IF(x IS NULL, NULL, t))" in spark
    assert "MIN_BY(x, IF(x IS NULL, NULL, t))" in spark
    # The session runs in UTC: the instant's date is its UTC date.
    assert "CAST(ts AS DATE)" in spark
    assert "TIMEZONE" not in spark.upper()
    rows = duckdb.sql(
        "SELECT arg_max(x, t), arg_min(x, t) "
        "FROM (VALUES (1, 1), (NULL, 2), (NULL, 0)) AS v(x, t)"
    ).fetchall()
    assert rows == [(1, 1)]


def test_spark_sql_subtracts_days_from_the_cutoff_in_integer_microseconds(defs):
    # Spark adds a day interval to a timestamp through the session calendar,
    # for every record and aggregate; in UTC a day is 86,400 s exactly.
    spark = to_spark(
        "SELECT count(*) FILTER (WHERE t >= s._cutoff - INTERVAL '365' DAY) AS n, "
        "_cutoff - INTERVAL '90' DAY AS since, as_of - INTERVAL '89' DAY AS day "
        "FROM v"
    )
    assert "TIMESTAMP_MICROS(UNIX_MICROS(s._cutoff) - 31536000000000)" in spark
    assert "TIMESTAMP_MICROS(UNIX_MICROS(_cutoff) - 7776000000000)" in spark
    assert "as_of - INTERVAL '89' DAY" in spark  # a date, not the cutoff: kept
    compiled = to_spark(compile_feature_sql(defs.resolve("credit_v1"), defs.contracts))
    assert "_cutoff - INTERVAL" not in compiled
