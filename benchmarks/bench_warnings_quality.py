"""Benchmark: do the warnings find the refund ring earlier than any statutory list?

Evaluates the early-warning signals at every month end of a period on a
simulated zone's lake (the engine home's stored rating runs, if any, feed the
grade-jump signal and the PD tie-break; nothing is written), then measures the
history against the simulator's truth (``credit_engine.early_warning.warning_quality``):

* precision at the top N: the share of the N enterprises at the top of the
  queue (ranked by the highest priority each reached) that are members of the
  refund ring (or, without the scenario, latent refund fraudsters); also the
  share that are members or had a true adverse event within 12 months of their
  first warning;
* lead time: days from each caught member's first warning (from its scheme
  start) to its first statutory fact; the median and the share of 60 days or
  more.

Usage::

    credit-engine simulate --enterprises 10000 --scenario refund_ring --out Z/records \
        --truth Z/truth
    credit-engine ingest Z/records --home H
    python benchmarks/bench_warnings_quality.py --home H --truth Z/truth \
        --from 2025-01-31 --to 2026-09-30 --out quality.json

Targets (issue 12): precision at the top 100 ≥ 0.5, median lead time ≥ 60 days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

from credit_engine.config import Settings
from credit_engine.early_warning import (
    WarningSetup,
    load_truth,
    month_ends,
    warning_history,
    warning_quality,
)
from credit_engine.jsonable import to_jsonable
from credit_engine.store import OperationalStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument(
        "--from", dest="first", type=dt.date.fromisoformat, default=dt.date(2025, 1, 31)
    )
    parser.add_argument(
        "--to", dest="last", type=dt.date.fromisoformat, default=dt.date(2026, 9, 30)
    )
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument(
        "--no-store", action="store_true", help="Ignore the home's stored ratings."
    )
    parser.add_argument("--history", type=Path, default=None, help="Save it here.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    settings = Settings(home=args.home)
    setup = WarningSetup.load(settings)
    store = None if args.no_store else OperationalStore.from_settings(settings)
    dates = month_ends(args.first, args.last)
    start = time.perf_counter()
    history = warning_history(
        lambda day: setup.evaluate(day, store=store),
        dates,
        progress=lambda day, ev: print(
            f"{day}: {len(ev.warnings):,} warnings on {ev.enterprises:,} enterprises"
            + (
                f" ({', '.join(ev.not_evaluated)} not evaluated)"
                if ev.not_evaluated
                else ""
            ),
            flush=True,
        ),
    )
    seconds = time.perf_counter() - start
    if args.history is not None:
        history.to_parquet(args.history)
    truth = load_truth(args.truth, since=dates[0])
    quality = warning_quality(history, truth, top=args.top)
    summary = quality.summary()
    summary["seconds"] = round(seconds, 1)
    summary["signals"] = f"{setup.book.name}_v{setup.book.version}"
    summary["stored_ratings"] = store is not None
    summary["lead_days"] = quality.lead_days
    print(json.dumps({k: v for k, v in summary.items() if k != "by_signal"}, indent=1))
    print(quality.queue.head(args.top).to_string())
    if args.out is not None:
        summary["queue_head"] = to_jsonable(
            quality.queue.head(args.top).to_dict("records"), where="queue"
        )
        args.out.write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        print(f"report: {args.out}")


if __name__ == "__main__":
    main()
