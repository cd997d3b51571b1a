"""Human-readable HTML report of an ingestion run (self-contained file)."""

from __future__ import annotations

import io
import os
from collections import Counter
from importlib import resources
from pathlib import Path

from credit_engine.data._reasons import QuarantineReason
from credit_engine.data._results import IngestReport

__all__ = ["write_ingest_html"]

_TEMPLATE = "ingest_report.html.j2"


def _reason_chart(totals: list[tuple[str, int]]) -> str:
    """Horizontal bar chart of quarantined rows per reason, as inline SVG."""
    if not totals:
        return ""
    # The object-oriented API needs no pyplot state and no GUI backend.
    from matplotlib.figure import Figure

    codes = [code for code, _ in totals][::-1]
    counts = [count for _, count in totals][::-1]
    fig = Figure(figsize=(7, 0.45 * len(codes) + 1.0))
    ax = fig.add_subplot()
    bars = ax.barh(codes, counts, color="#d9822b")
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=3, fontsize=8)
    ax.set_xlabel("quarantined rows (a row counts once per reason code)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(x=0.15)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def write_ingest_html(report: IngestReport, path: Path) -> Path:
    """Write the HTML report of an ingestion run.

    The file is self-contained (inline CSS and SVG chart): per-table counts,
    reasons with their meaning, a chart of quarantine reasons, sample
    quarantined rows per reason and a link to the GX Data Docs.

    Parameters
    ----------
    report : IngestReport
        Result of :func:`~credit_engine.data.ingest_batch`.
    path : pathlib.Path
        Target file; parent folders are created.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import jinja2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = resources.files("credit_engine.data").joinpath("_templates", _TEMPLATE)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(source.read_text(encoding="utf-8"))
    tables = [report.tables[name] for name in sorted(report.tables)]
    counter: Counter[str] = Counter()
    for table in tables:
        counter.update(table.reasons)
    reason_totals = counter.most_common()
    docs_link = None
    if report.data_docs:
        docs_link = Path(os.path.relpath(report.data_docs, path.parent)).as_posix()
    totals = {
        key: sum(getattr(t, key) for t in tables)
        for key in ("rows_in", "loaded", "quarantined", "duplicates")
    }
    html = template.render(
        report=report,
        tables=tables,
        totals=totals,
        reason_totals=reason_totals,
        descriptions={code.value: code.describe() for code in QuarantineReason},
        chart=_reason_chart(reason_totals),
        docs_link=docs_link,
    )
    path.write_text(html, encoding="utf-8")
    return path
