"""Check an ingestion of a simulated zone against the simulator's dirty-row truth.

The simulator knows which rows it corrupted and how; ingestion must quarantine
exactly those rows, each with the reason its kind calls for, and count exact
duplicates, while loading every other row. This is the demo's self-check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from credit_engine.data import IngestReport, Lake
from credit_engine.simulation._dirty import DIRTY_KINDS, EXPECTED_REASON

__all__ = ["KindCheck", "ZoneAudit", "audit_ingestion"]


@dataclass(frozen=True)
class KindCheck:
    """How ingestion handled one kind of dirty row."""

    kind: str
    expected_reason: str
    injected: int
    caught: int

    @property
    def ok(self) -> bool:
        """Whether every injected row of the kind was caught."""
        return self.caught == self.injected


@dataclass(frozen=True)
class ZoneAudit:
    """Result of :func:`audit_ingestion`."""

    kinds: list[KindCheck]
    clean_rows_rejected: int
    unbalanced_tables: list[str]

    @property
    def ok(self) -> bool:
        """Every dirty row caught, no clean row rejected, every table balanced."""
        return (
            all(k.ok for k in self.kinds)
            and self.clean_rows_rejected == 0
            and not self.unbalanced_tables
        )


def _quarantined(lake: Lake, report: IngestReport) -> pd.DataFrame:
    frames = []
    for name in report.tables:
        for path in lake.quarantine_files(name):
            frame = pd.read_parquet(
                path, columns=["_batch_id", "_source_file", "_row_number", "_reasons"]
            )
            frame = frame[frame["_batch_id"] == report.batch_id]
            frames.append(frame.assign(table=name))
    if not frames:
        return pd.DataFrame(columns=["table", "_row_number", "codes"])
    out = pd.concat(frames, ignore_index=True)
    out["codes"] = out["_reasons"].map(lambda rs: {r.split(":", 1)[0] for r in rs})
    return out


def audit_ingestion(truth_dir: Path, lake: Lake, report: IngestReport) -> ZoneAudit:
    """Compare an ingestion of simulated records with the dirty rows injected.

    Parameters
    ----------
    truth_dir : pathlib.Path
        The simulator's truth folder (holds ``dirty_rows.parquet``).
    lake : Lake
        The lake the batch was committed to.
    report : IngestReport
        The report of the (first) ingestion of the simulated records.

    Returns
    -------
    ZoneAudit
        Injected versus caught per dirty kind, clean rows wrongly quarantined or
        counted as duplicates, and tables whose counts do not balance.
    """
    dirty = pd.read_parquet(Path(truth_dir) / "dirty_rows.parquet")
    quarantined = _quarantined(lake, report)
    reasons = {
        (t, int(r)): c
        for t, r, c in zip(
            quarantined["table"],
            quarantined["_row_number"],
            quarantined["codes"],
            strict=True,
        )
    }
    checks = []
    extra_duplicates = 0
    for kind in DIRTY_KINDS:
        rows = dirty[dirty["kind"] == kind]
        want = EXPECTED_REASON[kind]
        if kind == "exact_duplicate":
            per_table = {
                str(n): int(k) for n, k in rows.groupby("table").size().items()
            }
            counted = {n: t.duplicates for n, t in report.tables.items()}
            caught = sum(min(counted.get(n, 0), k) for n, k in per_table.items())
            # A duplicate count above the injected copies means clean rows were
            # taken for duplicates.
            extra_duplicates = sum(
                max(0, d - per_table.get(n, 0)) for n, d in counted.items()
            )
        else:
            caught = sum(
                want in reasons.get((t, int(r)), set())
                for t, r in zip(rows["table"], rows["row_number"], strict=True)
            )
        checks.append(KindCheck(kind, want, len(rows), int(caught)))
    dirty_keys = {
        (t, int(r))
        for t, r, k in zip(
            dirty["table"], dirty["row_number"], dirty["kind"], strict=True
        )
        if k != "exact_duplicate"
    }
    false_positives = sum(key not in dirty_keys for key in reasons) + extra_duplicates
    unbalanced = [
        n
        for n, t in report.tables.items()
        if t.rows_in != t.loaded + t.quarantined + t.duplicates
    ]
    return ZoneAudit(checks, false_positives, unbalanced)
