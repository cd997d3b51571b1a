"""Semantics of the feature engine on small hand-made records (real DuckDB)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from credit_engine.config import Settings
from credit_engine.exceptions import DataContractError
from credit_engine.features import FrameSources, build_feature_frame, load_definitions

A = "91350203MA0U4AAAAA"
B = "91350203MA0U4BBBBB"
AS_OF = dt.date(2025, 6, 30)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def defs():
    return load_definitions(Settings().definitions_dir)


def rows(defs, table: str, records: list[dict]) -> pd.DataFrame:
    cols = defs.contracts[table].column_names
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in records], columns=cols)


def features(defs, tables: dict[str, list[dict]], refs: list[str], spine=None):
    sources = FrameSources(
        {t: rows(defs, t, r) for t, r in tables.items()}, defs.contracts
    )
    if spine is None:
        spine = pd.DataFrame({"uscc": [A, B], "as_of": [AS_OF, AS_OF]})
    resolved = defs.resolve_features(refs)
    return build_feature_frame(spine, resolved, definitions=defs, sources=sources)


def decl(rid, event, known, value=100.0, ie="E", mode="9610", uscc=A):
    return {
        "uscc": uscc,
        "source_record_id": rid,
        "event_ts": ts(event),
        "ingested_at": ts(known),
        "ie_flag": ie,
        "trade_mode": mode,
        "hs_code": "8517120000",
        "declared_value": value,
        "currency": "CNY",
        "value_cny": value,
        "country": "USA",
        "port_code": "3701",
        "item_count": 1,
        "gross_weight_kg": 1.0,
        "modified_or_cancelled": False,
    }


def test_windows_and_knowledge_time_decide_what_counts(defs):
    records = [
        decl("1", "2025-06-01", "2025-06-02", 100),  # in 90d, known
        decl("2", "2025-02-01", "2025-02-02", 200),  # in 365d only
        decl("3", "2024-05-01", "2024-05-02", 400),  # older than 365d
        decl("4", "2025-06-20", "2025-07-05", 800),  # known only after as_of
        decl("5", "2025-07-02", "2025-07-02", 1600),  # happens after as_of
        decl("6", "2025-06-30 23:00", "2025-06-30 23:30", 3200),  # last hour of as_of
    ]
    f = features(
        defs,
        {"customs_declaration": records},
        [
            "customs_declarations:count_90d",
            "customs_declarations:count_365d",
            "customs_declarations:export_value_cny_365d",
            "customs_declarations:days_since_last",
        ],
    ).set_index("uscc")
    assert f.loc[A, "customs_declarations__count_90d"] == 2
    assert f.loc[A, "customs_declarations__count_365d"] == 3
    assert f.loc[A, "customs_declarations__export_value_cny_365d"] == 3500
    assert f.loc[A, "customs_declarations__days_since_last"] == 0
    # B has no declaration at all: unknown, not zero.
    assert pd.isna(f.loc[B, "customs_declarations__count_90d"])


def test_no_record_is_null_for_activity_sources_and_zero_for_exception_sources(defs):
    f = features(
        defs,
        {"customs_declaration": [decl("1", "2024-01-01", "2024-01-02")]},
        [
            "customs_declarations:count_90d",
            "customs_declarations:present",
            "customs_penalties:count_365d",
            "abnormal_list:active",
        ],
    ).set_index("uscc")
    assert f.loc[A, "customs_declarations__count_90d"] == 0  # has records, none recent
    assert f.loc[A, "customs_declarations__present"] == 1
    assert f.loc[B, "customs_declarations__present"] == 0
    assert pd.isna(f.loc[B, "customs_declarations__count_90d"])
    assert f.loc[B, "customs_penalties__count_365d"] == 0  # never penalised
    assert f.loc[B, "abnormal_list__active"] == 0  # never listed


def test_the_latest_version_known_at_as_of_is_used(defs):
    fine = {
        "uscc": A,
        "source_record_id": "CP1",
        "event_ts": ts("2024-01-01"),
        "category": "SUPERVISION_VIOLATION",
        "amount_cny": 50_000.0,
        "non_intentional": False,
        "due_date": dt.date(2024, 1, 16),
    }
    versions = [
        fine | {"ingested_at": ts("2024-01-03"), "paid_date": None},
        fine | {"ingested_at": ts("2025-08-01"), "paid_date": dt.date(2025, 7, 30)},
    ]
    refs = ["customs_penalties:fines_unpaid_180d", "customs_penalties:count_365d"]
    before = features(defs, {"customs_penalty": versions}, refs).set_index("uscc")
    assert before.loc[A, "customs_penalties__fines_unpaid_180d"] == 1  # paid later
    spine = pd.DataFrame({"uscc": [A], "as_of": [dt.date(2025, 8, 2)]})
    after = features(defs, {"customs_penalty": versions}, refs, spine).set_index("uscc")
    assert after.loc[A, "customs_penalties__fines_unpaid_180d"] == 0
    assert after.loc[A, "customs_penalties__count_365d"] == 0  # one record, not two


def level(rid, value, start, known, end=None, reason="INITIAL"):
    return {
        "uscc": A,
        "source_record_id": rid,
        "credit_level": value,
        "regime": "CUSTOMS_251",
        "reason_code": reason,
        "effective_from": ts(start),
        "effective_to": None if end is None else ts(end),
        "ingested_at": ts(known),
    }


def test_state_in_force_follows_validity_and_knowledge(defs):
    spells = [
        level("L1", "REGULAR", "2020-01-01", "2020-01-02"),
        level("L1", "REGULAR", "2020-01-01", "2025-03-02", end="2025-03-01"),
        level(
            "L2",
            "DISHONEST",
            "2025-03-01",
            "2025-03-02",
            reason="ART22_2_SMUGGLING_ADMIN",
        ),
        level("L2", "DISHONEST", "2025-03-01", "2025-07-15", end="2025-07-10"),
    ]
    refs = [
        "customs_level:level_ord",
        "customs_level:dishonest_active",
        "customs_level:days_in_level",
        "customs_level:dishonest_starts_730d",
    ]
    f = features(defs, {"customs_credit_level": spells}, refs).set_index("uscc")
    assert f.loc[A, "customs_level__level_ord"] == 2
    assert f.loc[A, "customs_level__dishonest_active"] == 1
    assert (
        f.loc[A, "customs_level__days_in_level"] == (AS_OF - dt.date(2025, 3, 1)).days
    )
    assert f.loc[A, "customs_level__dishonest_starts_730d"] == 1
    early = pd.DataFrame({"uscc": [A], "as_of": [dt.date(2025, 2, 28)]})
    g = features(defs, {"customs_credit_level": spells}, refs, early).set_index("uscc")
    assert g.loc[A, "customs_level__level_ord"] == 3


def test_shares_concentration_and_derived_features(defs):
    records = [
        decl(
            str(i), "2025-05-01", "2025-05-02", 100.0, mode="9610" if i < 3 else "0110"
        )
        for i in range(4)
    ]
    records.append(decl("9", "2025-05-01", "2025-05-02", 100.0, ie="I", mode="1210"))
    inv = [
        {
            "uscc": A,
            "source_record_id": f"I{i}",
            "event_ts": ts("2025-05-01"),
            "ingested_at": ts("2025-05-02"),
            "direction": "OUTPUT",
            "counterparty_id": cp,
            "amount_cny": amt,
            "tax_cny": 0.0,
            "total_cny": amt,
            "status": "VALID",
        }
        for i, (cp, amt) in enumerate(
            [("B00001", 300.0), ("B00002", 100.0), ("B00001", 100.0)]
        )
    ]
    f = features(
        defs,
        {"customs_declaration": records, "vat_invoice": inv},
        [
            "customs_declarations:share_9610_365d",
            "vat_invoices:top_buyer_share_365d",
            "cross_department:mode_entropy_365d",
            "cross_department:declaration_trend",
        ],
    ).set_index("uscc")
    assert f.loc[A, "customs_declarations__share_9610_365d"] == pytest.approx(3 / 5)
    assert f.loc[A, "vat_invoices__top_buyer_share_365d"] == pytest.approx(400 / 500)
    import math

    shares = [1 / 5, 3 / 5, 1 / 5]  # 0110, 9610, 1210
    assert f.loc[A, "cross_department__mode_entropy_365d"] == pytest.approx(
        -sum(p * math.log(p) for p in shares)
    )
    assert f.loc[A, "cross_department__declaration_trend"] == pytest.approx(
        (5 / 90) / (5 / 365)
    )


@pytest.mark.parametrize(
    ("spine", "message"),
    [
        (pd.DataFrame({"uscc": [A]}), r"lacks column\(s\) \['as_of'\]"),
        (pd.DataFrame({"uscc": [A, A], "as_of": [AS_OF, AS_OF]}), "1 duplicate"),
        (pd.DataFrame({"uscc": [None], "as_of": [AS_OF]}), "null uscc or as_of"),
    ],
)
def test_a_malformed_spine_is_refused(defs, spine, message):
    with pytest.raises(DataContractError, match=message):
        features(defs, {}, ["customs_declarations:count_90d"], spine)


def test_an_empty_spine_gives_an_empty_frame_with_every_column(defs):
    spine = pd.DataFrame(
        {"uscc": pd.Series([], dtype=str), "as_of": pd.Series([], dtype=object)}
    )
    f = features(defs, {}, ["customs_declarations:count_90d"], spine)
    assert list(f.columns) == ["uscc", "as_of", "customs_declarations__count_90d"]
    assert f.empty


def test_several_rating_dates_are_computed_each_on_its_own(defs):
    records = [
        decl("1", "2025-01-10", "2025-01-11"),
        decl("2", "2025-06-10", "2025-06-11"),
    ]
    spine = pd.DataFrame(
        {"uscc": [A, A], "as_of": [dt.date(2025, 6, 30), dt.date(2025, 3, 31)]}
    )
    f = features(
        defs,
        {"customs_declaration": records},
        ["customs_declarations:count_365d"],
        spine,
    )
    assert f["as_of"].tolist() == [dt.date(2025, 3, 31), dt.date(2025, 6, 30)]
    assert f["customs_declarations__count_365d"].tolist() == [1, 2]


def test_distinct_counts_apart_give_the_same_features(defs, monkeypatch):
    # The Spark path computes a view's distinct counts in an aggregate of
    # their own (compile_feature_sql(distinct_apart=True)): same values.
    import functools

    from credit_engine.features import _engine, compile_feature_sql

    inv = [
        {
            "uscc": uscc,
            "source_record_id": f"I{i}",
            "event_ts": ts(event),
            "ingested_at": ts(event),
            "direction": direction,
            "counterparty_id": cp,
            "amount_cny": 100.0 + i,
            "tax_cny": 0.0,
            "total_cny": 100.0 + i,
            "status": status,
        }
        for i, (uscc, event, direction, cp, status) in enumerate(
            [
                (A, "2025-05-01", "OUTPUT", "B00001", "VALID"),
                (A, "2025-04-01", "OUTPUT", "B00001", "VALID"),
                (A, "2024-01-01", "OUTPUT", "B00002", "VOID"),
                (A, "2025-03-01", "INPUT", "S00001", "VALID"),
                (A, "2025-03-02", "INPUT", None, "VALID"),
                (B, "2025-06-01", "INPUT", None, "VALID"),
            ]
        )
    ]
    refs = ["vat_invoices:*", "customs_declarations:*"]
    tables = {
        "vat_invoice": inv,
        "customs_declaration": [decl("1", "2025-05-01", "2025-05-02")],
    }
    together = features(defs, tables, refs)
    sql = compile_feature_sql(
        defs.resolve_features(refs), defs.contracts, distinct_apart=True
    )
    assert "d_vat_invoices AS" in sql
    v = sql[sql.index("v_vat_invoices AS") : sql.index("d_vat_invoices AS")]
    assert "DISTINCT" not in v
    monkeypatch.setattr(
        _engine,
        "compile_feature_sql",
        functools.partial(compile_feature_sql, distinct_apart=True),
    )
    apart = features(defs, tables, refs)
    assert together.notna().sum().sum() > 20
    # Largest shares of one by-column, each under its own filter, in one CTE.
    a = together.set_index("uscc").loc[A]
    assert a["vat_invoices__top_buyer_share_365d"] == 1.0  # B00002's is void
    assert a["vat_invoices__top_buyer_share_all"] == 1.0
    assert a["vat_invoices__top_supplier_share_365d"] == pytest.approx(104 / 207)
    pd.testing.assert_frame_equal(together, apart)
    # ... and with every filter and exact value computed once per record.
    monkeypatch.setattr(
        _engine,
        "compile_feature_sql",
        functools.partial(compile_feature_sql, distinct_apart=True, shared_terms=True),
    )
    shared = features(defs, tables, refs)
    pd.testing.assert_frame_equal(together, shared)


def _hard_amounts() -> list[float]:
    """Amounts whose millionths are hard to get right, and sums beyond 2^63."""
    ties = [5e-7, 2.5e-6, 0.0012345, 1.0000005, 2.5000005, 1234.5678905, 0.1234565]
    near = [0.49999999999999994e-6, 999_999_999.9999995, 0.1 + 0.2, 1e-7, 5e-7]
    large = [999_999_999.999_999, 123_456_789.123_456_7] * 3
    # 20,000 invoices of 10^9: 2 x 10^13 in all (> 2^63 millionths).
    many = [1e9] * 20_000
    signed = [-x for x in (*ties, *near)]
    return [*ties, *near, *large, *signed, *many]


def hard_invoices() -> list[dict]:
    """VAT invoices of A with hard millionths, and of B summing beyond 2^63."""
    return [
        {
            # B has the large sums; A's are small enough to show a millionth.
            "uscc": B if amount == 1e9 else A,
            "source_record_id": f"I{i}",
            "event_ts": ts("2025-05-01"),
            "ingested_at": ts("2025-05-01"),
            # Signs apart: ties rounded towards zero would cancel out.
            "direction": "OUTPUT" if amount > 0 else "INPUT",
            "counterparty_id": f"B{i % 5:05d}",
            "amount_cny": amount,
            "tax_cny": 0.0,
            "total_cny": amount,
            "status": "VALID",
        }
        for i, amount in enumerate(_hard_amounts())
    ]


def test_integer_sums_give_the_same_features(defs, monkeypatch):
    # The Spark path sums the float columns as two 64-bit integer sums of
    # their millionths (compile_feature_sql(integer_sums=True)): the same
    # decimals as DuckDB's DECIMAL(38, 6) casts and sums, ties and signs
    # included, and a sum whose millionths overflow one 64-bit integer.
    import functools

    from credit_engine.features import _engine, compile_feature_sql

    inv = hard_invoices()
    refs = ["vat_invoices:*"]
    decimal = features(defs, {"vat_invoice": inv}, refs)
    sql = compile_feature_sql(
        defs.resolve_features(refs), defs.contracts, integer_sums=True
    )
    assert "CAST(amount_cny AS DECIMAL(38, 6))" not in sql  # a float column
    assert f"// {1_000_000_000}" in sql
    monkeypatch.setattr(
        _engine,
        "compile_feature_sql",
        functools.partial(compile_feature_sql, integer_sums=True),
    )
    integer = features(defs, {"vat_invoice": inv}, refs)
    sums = [c for c in decimal.columns if "amount" in c]
    assert decimal[sums].abs().max().max() > 9.3e12  # beyond one BIGINT
    pd.testing.assert_frame_equal(decimal, integer, check_exact=True)


def test_unordered_sql_gives_the_same_rows_in_any_order(defs, monkeypatch):
    # For Spark (compile_feature_sql(ordered=False)): the caller sorts once
    # what it sorts is stored.
    import functools

    from credit_engine.features import _engine, compile_feature_sql

    refs = ["vat_invoices:*"]
    tables = {"vat_invoice": hard_invoices()}
    ordered = features(defs, tables, refs)
    sql = compile_feature_sql(defs.resolve_features(refs), defs.contracts)
    unordered = compile_feature_sql(
        defs.resolve_features(refs), defs.contracts, ordered=False
    )
    assert sql.endswith("ORDER BY uscc, as_of")
    assert "ORDER BY uscc" not in unordered
    monkeypatch.setattr(
        _engine,
        "compile_feature_sql",
        functools.partial(compile_feature_sql, ordered=False),
    )
    loose = features(defs, tables, refs)
    assert len(ordered) == 2
    pd.testing.assert_frame_equal(
        ordered, loose.sort_values(["uscc", "as_of"]).reset_index(drop=True)
    )
