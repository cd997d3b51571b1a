"""Known enterprises and optional sources on Spark equal DuckDB (local Spark).

The source-mapping rules (enterprises known from a registration or from any
record; an optional source's ``present`` unknown while the zone has no record
of it; fields an extract lacks unknown, never 0) are compiled into the same
SQL, so Spark must give DuckDB's cells. Tiny in-memory tables: a few seconds
per Spark job.
"""

from __future__ import annotations

import datetime as dt
import gc
import re

import pandas as pd
import pytest

from credit_engine.config import Settings
from credit_engine.features import (
    FrameSources,
    build_feature_frame,
    build_feature_frame_spark,
    enterprise_spine,
    enterprise_spine_spark,
    load_definitions,
    source_record_counts,
    source_record_counts_spark,
    write_snapshot,
    write_snapshot_spark,
)
from credit_engine.features._spark import SPINE_VIEW_PREFIX
from tests.engine_parity import assert_same_cells
from tests.unit.features.test_known_and_unknown import (
    AS_OF,
    _optional_sources,
    _registration,
    _reports,
    _uscc,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.xdist_group("spark"),
]

OPTIONAL = [
    "court_cases:present",
    "court_cases:defendant_365d",
    "court_cases:enforced_open",
    "court_cases:enforced_amount_open",
    "ip_rights:present",
    "ip_rights:trademarks_in_force",
    "ip_rights:patents_in_force",
    "news_sentiment:present",
    "news_sentiment:negative_365d",
    "news_sentiment:mean_score_365d",
    "annual_report_financials:loss_years_3y",
    "annual_reports:employees_last",
]


@pytest.fixture(scope="module")
def defs():
    return load_definitions(Settings().definitions_dir)


def _spark_spine(spark, sources, defs, dates, rule):
    spine = enterprise_spine_spark(spark, sources, defs, dates, known_from=rule)
    frame = spine.frame.toArrow().to_pandas()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame.sort_values(["uscc", "as_of"]).reset_index(drop=True), spine


def test_known_enterprises_are_the_same_on_both_engines(spark, defs):
    events = FrameSources({"annual_report": _reports()}, defs.contracts)
    both = FrameSources(
        {"annual_report": _reports(), "samr_registration": _registration()},
        defs.contracts,
    )
    dates = [dt.date(2024, 5, 1), AS_OF]
    for sources, rule, used in [
        (events, "registration", "registration"),
        (events, "any_record", "any_record"),
        (events, "auto", "any_record"),
        (both, "auto", "registration"),
    ]:
        duck = enterprise_spine(sources, defs, dates, known_from=rule)
        on_spark, spine = _spark_spine(spark, sources, defs, dates, rule)
        assert spine.known_from == duck.attrs["known_from"] == used
        pd.testing.assert_frame_equal(
            duck.reset_index(drop=True), on_spark, check_dtype=False
        )
    with pytest.raises(ValueError, match="known_from must be one of"):
        enterprise_spine_spark(spark, both, defs, dates, known_from="everyone")
    resolved = defs.resolve("extracts_v1")
    assert source_record_counts_spark(
        spark, events, defs, resolved, AS_OF
    ) == source_record_counts(events, defs, resolved, AS_OF)


def test_optional_sources_are_the_same_on_both_engines(spark, defs):
    resolved = defs.resolve_features(OPTIONAL)
    usccs = [_uscc(1), _uscc(2), _uscc(9)]
    dates = [dt.date(2020, 6, 30), dt.date(2025, 3, 31), AS_OF]
    spine = pd.DataFrame(
        [(u, d) for u in usccs for d in dates], columns=["uscc", "as_of"]
    )
    optional = {}
    for name, frame in _optional_sources().items():
        # The fields an extract did not give: empty columns (as on DuckDB).
        empty = pd.Series([None] * len(frame), dtype=object)
        names = [c.name for c in defs.contracts[name].columns]
        optional[name] = frame.assign(**{c: empty for c in names if c not in frame})[
            names
        ]
    zones = {
        "without the optional sources": {"annual_report": _reports()},
        "with them": {"annual_report": _reports(), **optional},
    }
    for zone, tables in zones.items():
        sources = FrameSources(tables, defs.contracts)
        duck = build_feature_frame(spine, resolved, definitions=defs, sources=sources)
        frame = build_feature_frame_spark(
            spark, spine, resolved, definitions=defs, sources=sources
        )
        on_spark = frame.orderBy("uscc", "as_of").toArrow().to_pandas()
        on_spark["as_of"] = pd.to_datetime(on_spark["as_of"]).dt.date
        assert_same_cells(duck, on_spark, set())
        present = on_spark["court_cases__present"]
        if zone == "with them":
            assert present.notna().any()
            assert present.isna().any()  # 2020: before the zone had the source
        else:
            assert present.isna().all()


def _operators_outside_the_cache(frame) -> list[str]:
    """The operators of a frame's physical plan, without the cached plans' own."""
    jvm = frame.sparkSession._jvm
    mode = jvm.org.apache.spark.sql.execution.ExplainMode.fromString("formatted")
    tree = frame._jdf.queryExecution().explainString(mode).split("\n\n")[0]
    operators, skip = [], None
    for line in tree.splitlines()[1:]:
        start = next((i for i, c in enumerate(line) if c.isalpha()), None)
        if start is None or (skip is not None and start > skip):
            continue
        skip = None
        operator = line[start:].split(" (")[0]
        operators.append(operator)
        if operator.startswith("InMemoryRelation"):
            skip = start  # the cached spine's own plan ran once, before
    return operators


def _aggregate_keys(frame) -> list[str]:
    """The grouping keys of each hash aggregate of a frame's physical plan."""
    jvm = frame.sparkSession._jvm
    mode = jvm.org.apache.spark.sql.execution.ExplainMode.fromString("formatted")
    details = frame._jdf.queryExecution().explainString(mode).split("\n\n")[1:]
    sections = [section.splitlines() for section in details if section.strip()]
    return [
        line
        for lines in sections
        if ") HashAggregate" in lines[0]
        for line in lines
        if line.startswith("Keys ")
    ]


def _spine_views(spark) -> list[str]:
    return [
        t.name
        for t in spark.catalog.listTables()
        if t.name.startswith(SPINE_VIEW_PREFIX)
    ]


def test_a_spark_spine_is_computed_once_and_sized(spark, defs):
    """The spine is cached and sized: no view recomputes it, none sorts it."""
    tables = {"annual_report": _reports(), "samr_registration": _registration()}
    sources = FrameSources(tables, defs.contracts)
    dates = [dt.date(2024, 5, 1), AS_OF]
    resolved = defs.resolve_features(OPTIONAL)
    spine = enterprise_spine_spark(spark, sources, defs, dates, known_from="any_record")
    views = set(_spine_views(spark))
    frame = build_feature_frame_spark(
        spark, spine, resolved, definitions=defs, sources=sources
    )
    (view,) = set(_spine_views(spark)) - views
    assert spark.catalog.isCached(view)
    spine_rows = spark.table(view)
    assert spine_rows.storageLevel.useMemory
    operators = _operators_outside_the_cache(frame)
    # Read from the cache by the base and the views of the non-empty sources.
    assert operators.count("InMemoryTableScan") > 1
    # A lazy spine put its join to the rating dates (a nested loop join) in
    # every view that reads it, and a sort-merge join once records were large.
    assert "BroadcastNestedLoopJoin Inner BuildRight" not in operators
    assert "SortMergeJoin Inner" not in operators
    rows = spine_rows.count()
    stats = spine_rows._jdf.queryExecution().optimizedPlan().stats()
    assert stats.rowCount().get() == rows  # sized: Spark can broadcast it
    # The records are grouped by the spine's integer row key and the date,
    # never by the text uscc beside the date.
    keys = _aggregate_keys(frame)
    per_row = [k for k in keys if "as_of" in k]
    assert per_row
    assert all("_row" in k and "uscc" not in k for k in per_row), per_row
    on_spark = frame.orderBy("uscc", "as_of").toArrow().to_pandas()
    on_spark["as_of"] = pd.to_datetime(on_spark["as_of"]).dt.date
    duck_spine = enterprise_spine(sources, defs, dates, known_from="any_record")
    duck = build_feature_frame(duck_spine, resolved, definitions=defs, sources=sources)
    assert len(duck) == rows
    assert_same_cells(duck, on_spark, set())
    del frame
    gc.collect()
    # Released by the next call, once its frame is gone.
    again = build_feature_frame_spark(
        spark, duck_spine, resolved, definitions=defs, sources=sources
    )
    assert view not in _spine_views(spark)
    level = spine_rows.storageLevel  # looked up in Spark's cache
    assert not level.useMemory
    assert not level.useDisk
    assert again.count() == rows


def test_the_snapshot_is_sorted_on_spark_once_its_rows_are_kept(spark, defs, tmp_path):
    """No global sort in the frame; the writer sorts it, kept, and lets it go.

    A global sort samples its input first: inside the frame, it computed the
    widest stage (every view joined to the spine) twice.
    """
    tables = {"annual_report": _reports(), "samr_registration": _registration()}
    sources = FrameSources(tables, defs.contracts)
    dates = [dt.date(2024, 5, 1), AS_OF]
    resolved = defs.resolve_features(OPTIONAL)
    spine = enterprise_spine_spark(spark, sources, defs, dates, known_from="any_record")
    frame = build_feature_frame_spark(
        spark, spine, resolved, definitions=defs, sources=sources
    )
    plan = frame._jdf.queryExecution().optimizedPlan().toString()
    assert "Sort [" in plan  # the spine's numbering sorts within partitions,
    assert not re.search(r"Sort \[[^\n]*\], true", plan)  # nothing globally
    on_spark = tmp_path / "spark.parquet"
    write_snapshot_spark(
        frame, on_spark, resolved=resolved, sources=sources, as_of=dates
    )
    assert not frame.is_cached  # kept on disk while sorted, then released
    duck_spine = enterprise_spine(sources, defs, dates, known_from="any_record")
    duck = tmp_path / "duck.parquet"
    write_snapshot(
        build_feature_frame(duck_spine, resolved, definitions=defs, sources=sources),
        duck,
        resolved=resolved,
        sources=sources,
        as_of=dates,
    )
    written = pd.read_parquet(on_spark)
    assert len(written) == len(duck_spine) > 2
    keys = written[["uscc", "as_of"]]
    assert keys.equals(keys.sort_values(["uscc", "as_of"]).reset_index(drop=True))
    assert_same_cells(pd.read_parquet(duck), written, set())


def test_float_sums_on_spark_are_duckdbs_decimals(spark, defs):
    """Spark's integer sums of millionths give DuckDB's exact decimal sums.

    Ties at the seventh decimal, both signs, and a sum of 2 x 10^13 whose
    millionths overflow one 64-bit integer (ANSI mode would raise).
    """
    from tests.unit.features.test_engine import A, B, hard_invoices
    from tests.unit.features.test_engine import rows as table

    sources = FrameSources(
        {"vat_invoice": table(defs, "vat_invoice", hard_invoices())}, defs.contracts
    )
    spine = pd.DataFrame({"uscc": [A, B], "as_of": [AS_OF, AS_OF]})
    resolved = defs.resolve_features(["vat_invoices:*"])
    duck = build_feature_frame(spine, resolved, definitions=defs, sources=sources)
    frame = build_feature_frame_spark(
        spark, spine, resolved, definitions=defs, sources=sources
    )
    on_spark = frame.orderBy("uscc", "as_of").toArrow().to_pandas()
    on_spark["as_of"] = pd.to_datetime(on_spark["as_of"]).dt.date
    assert duck["vat_invoices__output_amount_all"].max() > 9.3e12
    assert_same_cells(duck, on_spark, set())
