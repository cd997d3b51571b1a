"""Write a zone report: ``zone_report.html`` and ``.json``, one CSV per table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from credit_engine.zone_statistics._disclosure import (
    DEFAULT_MIN_CELL,
    SUPPRESSED_COLUMN,
    suppress_small_cells,
)
from credit_engine.zone_statistics._html import render_html
from credit_engine.zone_statistics._reference import ZoneReference
from credit_engine.zone_statistics._report import ZoneReport

__all__ = ["CSV_DIR", "HTML_NAME", "JSON_NAME", "report_payload", "write_zone_report"]

HTML_NAME = "zone_report.html"
JSON_NAME = "zone_report.json"
CSV_DIR = "csv"


def report_payload(
    report: ZoneReport, *, min_cell: int = DEFAULT_MIN_CELL
) -> dict[str, Any]:
    """Return the JSON document: the report's keys plus ``small_cells``.

    ``small_cells`` states the rule of the CSV files (``min_cell``, the
    ``suppressed`` column); the JSON itself, like the HTML, is INTERNAL and
    exact.
    """
    payload = report.to_json_dict()
    payload["small_cells"] = {
        "min_cell": min_cell,
        "applies_to": "csv",
        "column": SUPPRESSED_COLUMN,
        "rule": (
            "CSV figures resting on 1 to min_cell - 1 enterprises are blank, and "
            "one complementary cell per breakdown; the HTML and JSON are exact "
            "(INTERNAL)."
        ),
    }
    return payload


def write_zone_report(
    report: ZoneReport,
    folder: str | Path,
    *,
    reference: ZoneReference | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
) -> dict[str, Path]:
    """Write the report's HTML, JSON and CSV files into ``folder``.

    Parameters
    ----------
    report : ZoneReport
        The report.
    folder : str or pathlib.Path
        Target folder, created if needed; files of the same names are replaced
        (and CSV files of tables the report no longer has are removed).
    reference : ZoneReference, optional
        Names on the charts.
    min_cell : int, default=5
        Small-cell threshold of the CSV files (``0`` keeps every figure).

    Returns
    -------
    dict of str to pathlib.Path
        ``{"html": ..., "json": ..., "csv": <folder of the CSV files>}``.
    """
    target = Path(folder)
    csv_dir = target / CSV_DIR
    csv_dir.mkdir(parents=True, exist_ok=True)
    names = {t.name for t in report.tables()}
    for stale in csv_dir.glob("*.csv"):
        if stale.stem not in names:
            stale.unlink()
    for table in report.tables():
        frame = suppress_small_cells(table, min_cell)
        frame.to_csv(csv_dir / f"{table.name}.csv", index=False, encoding="utf-8")
    json_path = target / JSON_NAME
    text = json.dumps(
        report_payload(report, min_cell=min_cell),
        indent=2,
        ensure_ascii=False,
        allow_nan=False,
    )
    json_path.write_text(text + "\n", encoding="utf-8")
    html_path = target / HTML_NAME
    html_path.write_text(
        render_html(report, reference, min_cell=min_cell), encoding="utf-8"
    )
    return {"html": html_path, "json": json_path, "csv": csv_dir}
