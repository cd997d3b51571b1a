"""Show that a change leaves the demo's outputs identical.

Two steps, so that each engine home is read by the code that built it:

``dump HOME OUT``
    With the checkout to test on ``PYTHONPATH`` (or installed), write to ``OUT``:
    the feature snapshot (``features.parquet``, as the demo wrote it), the
    statutory facts in force at several rating dates computed by *this* code from
    the home's lake (``facts.parquet``), and every stored decision of the home's
    rating runs (``decisions.parquet``).

``compare DUMP_BEFORE DUMP_AFTER``
    Compare two dumps cell by cell and exit 1 naming the first differences.

Usage, before and after a refactor::

    PYTHONPATH=/tmp/before python benchmarks/compare_demo_outputs.py \
        dump /tmp/before/.credit-engine /tmp/dump-before
    python benchmarks/compare_demo_outputs.py dump .credit-engine /tmp/dump-after
    python benchmarks/compare_demo_outputs.py compare /tmp/dump-before /tmp/dump-after

Run-specific identifiers (decision and run ids, MLflow run ids, timestamps) are
left out of the comparison; everything a decision says is compared: tier, grade,
PD, score, layer, measures, reasons, facts and the versions it used.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path

import pandas as pd

FACT_DATES = (
    dt.date(2024, 6, 30),
    dt.date(2025, 3, 31),
    dt.date(2025, 9, 30),
    dt.date(2026, 3, 31),
    dt.date(2026, 6, 30),
    dt.date(2026, 9, 30),
)
"""Dates spanning every regime version of the demo window (tax 2014/2025,
customs 251/282, both repair regimes)."""

RUN_SPECIFIC = {"decision_id", "run_id", "override_id"}


def _facts(home: Path) -> pd.DataFrame:
    from credit_engine.config import Settings
    from credit_engine.data import load_contracts
    from credit_engine.features import LakeSources
    from credit_engine.rules import RuleBook, statutory_facts

    settings = Settings(home=home)
    contracts = load_contracts(settings.sources_dir)
    sources = LakeSources.from_settings(settings, contracts)
    book = RuleBook.load(settings.definitions_dir)
    frames = []
    for day in FACT_DATES:
        frame = statutory_facts(sources, day, rulebook=book)
        frame.insert(0, "as_of", day)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _decisions(home: Path) -> pd.DataFrame:
    with sqlite3.connect(home / "credit_engine.db") as con:
        frame = pd.read_sql_query("SELECT * FROM decisions", con)
    frame = frame.drop(columns=[c for c in RUN_SPECIFIC if c in frame.columns])
    # JSON columns compared as canonical text: key order must not matter.
    for column in ("measures", "reasons", "facts", "rule_sets"):
        frame[column] = [
            json.dumps(json.loads(v), sort_keys=True, ensure_ascii=False)
            for v in frame[column]
        ]
    return frame.sort_values(["as_of", "uscc"]).reset_index(drop=True)


def dump(home: Path, out: Path) -> None:
    """Write the home's snapshot, facts (by this code) and decisions to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    snapshot = pd.read_parquet(home / "features" / "credit_v1_monthly.parquet")
    snapshot.to_parquet(out / "features.parquet")
    _facts(home).to_parquet(out / "facts.parquet")
    _decisions(home).to_parquet(out / "decisions.parquet")
    print(f"dumped {home} -> {out}")


def _compare_frames(name: str, before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    if list(before.columns) != list(after.columns):
        return [
            f"{name}: columns differ: only before "
            f"{sorted(set(before.columns) - set(after.columns))}, only after "
            f"{sorted(set(after.columns) - set(before.columns))}"
        ]
    if len(before) != len(after):
        return [f"{name}: {len(before):,} rows before, {len(after):,} after"]
    problems = []
    for column in before.columns:
        left, right = before[column], after[column]
        same = (left == right) | (left.isna() & right.isna())
        if not bool(same.all()):
            first = int((~same).to_numpy().argmax())
            problems.append(
                f"{name}.{column}: {int((~same).sum()):,} cells differ; first at "
                f"row {first}: {left.iloc[first]!r} != {right.iloc[first]!r}"
            )
    return problems


def compare(before_dir: Path, after_dir: Path) -> int:
    """Compare two dumps; return the exit status (0 identical, 1 different)."""
    problems: list[str] = []
    for name in ("features", "facts", "decisions"):
        before = pd.read_parquet(before_dir / f"{name}.parquet")
        after = pd.read_parquet(after_dir / f"{name}.parquet")
        found = _compare_frames(name, before, after)
        print(
            f"{name:10s} {len(before):>10,} rows x {before.shape[1]:>3} columns: "
            + ("identical" if not found else f"{len(found)} columns differ")
        )
        problems += found
    for line in problems[:20]:
        print("  " + line)
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "dump":
        dump(Path(argv[1]), Path(argv[2]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
