"""The point-in-time module: its SQL on small tables, and that it is the only one.

Each rule of :mod:`credit_engine.point_in_time` is checked on hand-made records
around one cutoff (end of 2025-06-30, UTC), with a literal cutoff (the rules)
and a per-row cutoff over a spine (the features).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import credit_engine
from credit_engine import point_in_time as pit
from credit_engine.exceptions import ConfigurationError

AS_OF = dt.date(2025, 6, 30)
CUT = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
PACKAGE = Path(credit_engine.__file__).parent

# What only the point-in-time module may write: a knowledge-time comparison and
# a latest-version window over the knowledge time.
FORBIDDEN = {
    "a knowledge cutoff (ingested_at < ...)": re.compile(r"ingested_at\s*<"),
    "a latest-version window (ORDER BY ingested_at DESC)": re.compile(
        r"ORDER\s+BY\s+[\w.]*ingested_at\s+DESC", re.IGNORECASE
    ),
}


def _ts(days: float) -> dt.datetime:
    """An instant ``days`` days after the cutoff (negative: before)."""
    return CUT + dt.timedelta(days=days)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")  # literals must not depend on it
    yield con
    con.close()


def _register(con, contract, rows: list[dict]) -> None:
    columns = {c: [r.get(c) for r in rows] for c in contract.column_names}
    table = pa.table(columns, schema=contract.arrow_schema())
    con.register(f"_{contract.name}", table)
    con.execute(f"CREATE VIEW {contract.name} AS SELECT * FROM _{contract.name}")


def _rows(con, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=repr)


# ------------------------------------------------------------------ the rule
def test_nothing_outside_the_module_writes_the_rule():
    """Only credit_engine/point_in_time writes the knowledge cutoff or versioning."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if PACKAGE / "point_in_time" in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(PACKAGE)}:{line}: {what}")
    assert not offenders, (
        "Point-in-time SQL written outside credit_engine/point_in_time; build it "
        "with credit_engine.point_in_time (known, latest_versions, in_force):\n"
        + "\n".join(offenders)
    )
    # The patterns do find what they forbid (in the module itself).
    own = "\n".join(
        p.read_text(encoding="utf-8") for p in (PACKAGE / "point_in_time").glob("*.py")
    )
    assert all(p.search(own) for p in FORBIDDEN.values())


def test_the_cutoff_is_the_end_of_the_rating_date_in_utc():
    cutoff = pit.Cutoff.end_of(AS_OF)
    assert cutoff.sql == "TIMESTAMPTZ '2025-07-01 00:00:00+00:00'"
    assert cutoff.days_before(1) == "TIMESTAMPTZ '2025-06-30 00:00:00+00:00'"
    per_row = pit.Cutoff.per_spine_row("_spine")
    assert per_row.sql == pit.CUTOFF_COLUMN
    assert per_row.on_spine().sql == f"s.{pit.CUTOFF_COLUMN}"
    assert per_row.days_before(7) == f"{pit.CUTOFF_COLUMN} - INTERVAL '7' DAY"


def test_the_spine_cutoff_equals_the_literal_on_a_utc_session(con):
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE spine AS SELECT 'A' AS uscc, DATE '2025-06-30' AS as_of")
    got = con.execute(pit.spine_sql("spine")).fetchall()
    literal = con.execute(f"SELECT {pit.Cutoff.end_of(AS_OF).sql}").fetchone()
    assert got == [("A", AS_OF, literal[0])]


def test_literals_and_the_enterprise_filter_are_quoted():
    assert pit.sql_literal("it's") == "'it''s'"
    assert pit.uscc_filter("t.uscc", ["A'", "B"]) == "t.uscc IN ('A''', 'B')"
    assert pit.uscc_filter("t.uscc", None) is None


# ----------------------------------------------------------- known records
def _events(contracts):
    """customs_declaration (unversioned events) around the cutoff."""
    return contracts["customs_declaration"], [
        {"uscc": "A", "source_record_id": "old", "event_ts": _ts(-400)},
        {"uscc": "A", "source_record_id": "in", "event_ts": _ts(-10)},
        {"uscc": "A", "source_record_id": "late", "event_ts": _ts(-10), "ik": 0.5},
        {"uscc": "A", "source_record_id": "future", "event_ts": _ts(1)},
        {"uscc": "B", "source_record_id": "b", "event_ts": _ts(-1)},
    ]


def _with_ingestion(rows: list[dict]) -> list[dict]:
    """Records arrive when they happen, or ``ik`` days after the cutoff."""
    out = []
    for row in rows:
        record = dict(row)
        late = record.pop("ik", None)
        record["ingested_at"] = _ts(late) if late is not None else record["event_ts"]
        out.append(record)
    return out


def test_a_record_counts_if_known_and_happened_before_the_cutoff(con, contracts):
    contract, rows = _events(contracts)
    _register(con, contract, _with_ingestion(rows))
    cutoff = pit.Cutoff.end_of(AS_OF)
    sql = pit.known(contract, cutoff, ["event_ts"])
    assert [r[:2] for r in _rows(con, sql)] == [("A", "in"), ("A", "old"), ("B", "b")]
    windowed = pit.known(contract, cutoff, [], window_days=365, usccs=["A"])
    assert _rows(con, windowed) == [("A", "in")]
    assert "QUALIFY" not in sql  # not versioned: every row is a record


def _bills(contracts):
    """customs_tax_bill (versioned events): versions of two bills."""
    contract = contracts["customs_tax_bill"]
    base = {"uscc": "A", "event_ts": _ts(-100), "due_date": dt.date(2025, 4, 1)}
    rows = [
        {**base, "source_record_id": "x", "ingested_at": _ts(-99)},
        {
            **base,
            "source_record_id": "x",
            "ingested_at": _ts(-5),
            "paid_date": dt.date(2025, 6, 20),
        },
        {
            **base,
            "source_record_id": "x",
            "ingested_at": _ts(0),  # at the cutoff: not yet known
            "paid_date": dt.date(2025, 6, 1),
        },
        {**base, "source_record_id": "y", "ingested_at": _ts(-50)},
    ]
    return contract, rows


def test_the_latest_known_version_stands_for_a_record(con, contracts):
    contract, rows = _bills(contracts)
    _register(con, contract, rows)
    cutoff = pit.Cutoff.end_of(AS_OF)
    latest = pit.known(contract, cutoff, ["paid_date"])
    assert _rows(con, latest) == [
        ("A", "x", dt.date(2025, 6, 20)),
        ("A", "y", None),
    ]
    every = pit.known(contract, cutoff, ["paid_date"], every_version=True)
    assert len(_rows(con, every)) == 3
    # Hindsight (labels): the latest version whenever it arrived.
    hindsight = (
        f"SELECT source_record_id, paid_date FROM {pit.latest_versions(contract)}"
    )
    assert _rows(con, hindsight) == [("x", dt.date(2025, 6, 1)), ("y", None)]
    # keys_from: only the versions of the listed records.
    con.execute("CREATE TABLE keys AS SELECT 'A' AS uscc, 'y' AS source_record_id")
    only_y = pit.known(contract, cutoff, [], keys_from="keys")
    assert _rows(con, only_y) == [("A", "y")]


def test_with_a_spine_each_row_sees_its_own_cutoff(con, contracts):
    con.execute("SET TimeZone = 'UTC'")
    contract, rows = _bills(contracts)
    _register(con, contract, rows)
    con.execute(
        "CREATE TABLE spine_in AS SELECT * FROM (VALUES "
        "('A', DATE '2025-06-30'), ('A', DATE '2025-07-01'), ('A', DATE '2025-03-01'))"
        " AS v(uscc, as_of)"
    )
    con.execute(f"CREATE TABLE _spine AS {pit.spine_sql('spine_in')}")
    cutoff = pit.Cutoff.per_spine_row("_spine")
    sql = pit.known(contract, cutoff, ["paid_date"])
    got = [(r[1], r[3], r[4]) for r in _rows(con, sql)]
    assert got == [
        (dt.date(2025, 6, 30), "x", dt.date(2025, 6, 20)),
        (dt.date(2025, 6, 30), "y", None),
        (dt.date(2025, 7, 1), "x", dt.date(2025, 6, 1)),
        (dt.date(2025, 7, 1), "y", None),
    ]


def test_a_spine_row_key_stands_for_uscc_and_as_of(con, contracts):
    # Two enterprises share one record id, and the row key numbers each
    # date's enterprises (A is 1 at both dates): the latest version is still
    # taken per spine row, and the records carry the key, not the text uscc.
    con.execute("SET TimeZone = 'UTC'")
    contract, rows = _bills(contracts)
    rows += [{**r, "uscc": "B"} for r in rows if r["source_record_id"] == "x"]
    _register(con, contract, rows)
    con.execute(
        "CREATE TABLE spine_in AS SELECT * FROM (VALUES "
        "('A', DATE '2025-06-30', 1), ('A', DATE '2025-07-01', 1), "
        "('B', DATE '2025-06-30', 2)) AS v(uscc, as_of, _row)"
    )
    con.execute(f"CREATE TABLE _spine AS {pit.spine_sql('spine_in', row_key='_row')}")
    keyed = pit.Cutoff.per_spine_row("_spine", row_key="_row")
    assert keyed.on_spine().row_key == "_row"
    sql = pit.known(contract, keyed, ["paid_date"])
    assert "s.uscc," not in sql
    assert "PARTITION BY s._row, s.as_of, t.source_record_id" in sql
    got = [(r[0], r[1], r[3], r[4]) for r in _rows(con, sql)]
    assert got == [
        (1, dt.date(2025, 6, 30), "x", dt.date(2025, 6, 20)),
        (1, dt.date(2025, 6, 30), "y", None),
        (1, dt.date(2025, 7, 1), "x", dt.date(2025, 6, 1)),
        (1, dt.date(2025, 7, 1), "y", None),
        (2, dt.date(2025, 6, 30), "x", dt.date(2025, 6, 20)),
    ]
    # The same records as keyed by (uscc, as_of).
    plain = pit.known(contract, pit.Cutoff.per_spine_row("_spine"), ["paid_date"])
    assert [(r[1], r[3], r[4]) for r in _rows(con, plain)] == [g[1:] for g in got]


# ------------------------------------------------------------ spells in force
def test_the_spell_that_started_last_is_in_force(con, contracts):
    contract = contracts["customs_credit_level"]
    spell = {"uscc": "A", "credit_level": "REGULAR", "reason_code": "INITIAL"}
    rows = [
        # a: started first, its closing version not yet arrived -> still open
        {**spell, "source_record_id": "a", "effective_from": _ts(-300)},
        # b and c start the same day: the larger record id wins
        {**spell, "source_record_id": "b", "effective_from": _ts(-20)},
        {
            **spell,
            "source_record_id": "c",
            "effective_from": _ts(-20),
            "credit_level": "DISHONEST",
        },
        # B's spell ended exactly at the cutoff: still in force then
        {
            **spell,
            "uscc": "B",
            "source_record_id": "d",
            "effective_from": _ts(-30),
            "effective_to": _ts(0),
        },
        # C's spell ended before the cutoff in its latest known version
        {**spell, "uscc": "C", "source_record_id": "e", "effective_from": _ts(-30)},
        {
            **spell,
            "uscc": "C",
            "source_record_id": "e",
            "effective_from": _ts(-30),
            "effective_to": _ts(-2),
            "ik": -1,
        },
    ]
    for r in rows:
        late = r.pop("ik", None)
        r["ingested_at"] = _ts(late) if late is not None else r["effective_from"]
    _register(con, contract, rows)
    cutoff = pit.Cutoff.end_of(AS_OF)
    con.execute(
        "CREATE TABLE k AS "
        + pit.known(
            contract, cutoff, ["credit_level", "effective_from", "effective_to"]
        )
    )
    active = f"SELECT uscc, source_record_id FROM k WHERE {pit.spell_in_force(cutoff)}"
    assert _rows(con, active) == [("A", "a"), ("A", "b"), ("A", "c"), ("B", "d")]
    now = pit.in_force(contract, "k", cutoff, ["credit_level"])
    assert [(r[0], r[1], r[3]) for r in _rows(con, now)] == [
        ("A", "c", "DISHONEST"),
        ("B", "d", "REGULAR"),
    ]


def test_in_force_needs_a_state_table(contracts):
    with pytest.raises(ConfigurationError, match="'customs_declaration' is an event"):
        pit.in_force(
            contracts["customs_declaration"], "k", pit.Cutoff.end_of(AS_OF), []
        )


def test_an_enterprise_is_known_from_its_first_record(con, contracts):
    contract, rows = _events(contracts)
    _register(con, contract, _with_ingestion(rows))
    cutoff = pit.Cutoff.end_of(AS_OF).days_before(5)
    sql = (
        f"SELECT uscc, {pit.known_enterprise('f.' + pit.FIRST_KNOWN, cutoff)} "
        f"FROM ({pit.first_known(contract.name)}) AS f"
    )
    assert _rows(con, sql) == [("A", True), ("B", False)]
    only_b = pit.first_known(contract.name, usccs=["B"])
    assert [r[0] for r in _rows(con, only_b)] == ["B"]


# ------------------------------------------------------------------ watermark
def test_the_watermark_is_the_feed_s_latest_knowledge_at_the_cutoff(con, contracts):
    contract, rows = _bills(contracts)
    rows.append(
        {**rows[0], "uscc": "B", "source_record_id": "z", "ingested_at": _ts(3)}
    )
    _register(con, contract, rows)
    cutoff = pit.Cutoff.end_of(AS_OF)
    # Every known version counts (the paid version of x at -5 days), not only the
    # latest versions, and not what arrives at or after the cutoff.
    ((mark, latest, n),) = con.execute(pit.watermark(contract, cutoff)).fetchall()
    assert mark == _ts(-5)
    assert latest == _ts(-100)
    assert n == 3
    ((mark, _, n),) = con.execute(pit.watermark(contract)).fetchall()
    assert (mark, n) == (_ts(3), 5)
    # The date of the watermark, as the rule layers compare it with dates.
    day = con.execute(f"SELECT {pit.watermark_day(contract, cutoff)}").fetchone()
    assert day == ((_ts(-5)).date(),)
    # Nothing known yet: NULL, so that no comparison with it holds.
    early = pit.Cutoff.end_of(dt.date(2024, 1, 1))
    assert con.execute(f"SELECT {pit.watermark_day(contract, early)}").fetchone() == (
        None,
    )
    with pytest.raises(ConfigurationError, match="one cutoff for the whole table"):
        pit.watermark(contract, pit.Cutoff.per_spine_row("_spine"))
