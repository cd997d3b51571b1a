"""The same five features in plain pandas: the baseline of bench_features.py.

Usage: _features_pandas5.py HOME AS_OF SPINE_PARQUET OUT

Reads only the needed columns of the committed lake files and applies the same
point-in-time rules by hand: knowledge cutoff, windows, latest version of a
versioned record, spell in force, "no record" kept apart from zero.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from credit_engine.config import Settings
from credit_engine.data import Lake

LEVELS = {
    "ADV_CERT": 5,
    "CERT": 4,
    "REGULAR": 3,
    "DISHONEST": 2,
    "SERIOUS_DISHONEST": 1,
}


def main() -> None:
    home, as_of = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
    spine_path, out = sys.argv[3], sys.argv[4]
    settings = Settings(home=home)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    cut = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)
    year = cut - pd.Timedelta(days=365)

    def read(table: str, cols: list[str]) -> pd.DataFrame:
        return pd.concat(
            pd.read_parquet(f, columns=cols) for f in lake.table_files(table)
        )

    frame = pd.read_parquet(spine_path)[["uscc"]].set_index("uscc")

    def known(series: pd.Series, present: set[str], fill: float | None) -> pd.Series:
        col = series.reindex(frame.index)
        if fill is not None:
            col = col.fillna(fill)
        return col.where(frame.index.isin(list(present)))

    d = read(
        "customs_declaration",
        ["uscc", "event_ts", "ingested_at", "ie_flag", "value_cny"],
    )
    present = set(d.loc[d.ingested_at < cut, "uscc"])
    w = d[(d.ingested_at < cut) & (d.event_ts < cut) & (d.event_ts >= year)]
    frame["customs_declarations__count_365d"] = known(
        w.groupby("uscc").size(), present, 0
    )
    exports = w[w.ie_flag == "E"].groupby("uscc").value_cny.sum()
    frame["customs_declarations__export_value_cny_365d"] = known(exports, present, 0)

    fx = read("fx_transaction", ["uscc", "event_ts", "ingested_at", "direction",
                                 "counterparty_type"])  # fmt: skip
    present = set(fx.loc[fx.ingested_at < cut, "uscc"])
    r = fx[(fx.ingested_at < cut) & (fx.event_ts < cut) & (fx.event_ts >= year)]
    r = r[r.direction == "IN"]
    share = (r.counterparty_type != "TRADE_PARTNER").groupby(r.uscc).mean()
    frame["fx_receipts__third_party_share_365d"] = known(share, present, None)

    lv = read(
        "customs_credit_level",
        [
            "uscc",
            "source_record_id",
            "credit_level",
            "effective_from",
            "effective_to",
            "ingested_at",
        ],
    )
    present = set(lv.loc[lv.ingested_at < cut, "uscc"])
    lv = lv[(lv.ingested_at < cut) & (lv.effective_from < cut)].sort_values(
        "ingested_at"
    )
    lv = lv.drop_duplicates(["uscc", "source_record_id"], keep="last")
    lv = lv[lv.effective_to.isna() | (lv.effective_to >= cut)].sort_values(
        "effective_from"
    )
    level = (
        lv.drop_duplicates("uscc", keep="last")
        .set_index("uscc")
        .credit_level.map(LEVELS)
    )
    frame["customs_level__level_ord"] = known(level, present, None)

    tf = read("tax_filing", ["uscc", "source_record_id", "event_ts", "ingested_at",
                             "filing_status"])  # fmt: skip
    present = set(tf.loc[tf.ingested_at < cut, "uscc"])
    tf = tf[(tf.ingested_at < cut) & (tf.event_ts < cut) & (tf.event_ts >= year)]
    tf = tf.sort_values("ingested_at").drop_duplicates(
        ["uscc", "source_record_id"], keep="last"
    )
    late = tf[tf.filing_status.isin(["LATE", "OVERDUE"])].groupby("uscc").size()
    frame["tax_filings__late_count_365d"] = known(late, present, 0)
    frame.reset_index().to_parquet(out)


if __name__ == "__main__":
    main()
