"""Write a validation report to files: the one place the validation pack does I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from credit_engine.validation._render import render_html
from credit_engine.validation._results import ValidationReport

__all__ = ["ValidationFiles", "write_validation_report"]

HTML_NAME = "validation.html"
JSON_NAME = "validation.json"


@dataclass(frozen=True)
class ValidationFiles:
    """Files written by :func:`write_validation_report`.

    Attributes
    ----------
    html : pathlib.Path
        Self-contained HTML page (inline CSS, charts as base64 PNG).
    json : pathlib.Path
        :meth:`ValidationReport.to_json_dict` as indented JSON.
    """

    html: Path
    json: Path


def write_validation_report(report: ValidationReport, folder: Path) -> ValidationFiles:
    """Write the HTML page and the JSON of ``report`` into ``folder``.

    The files are ``validation.html`` and ``validation.json``. In the JSON, NaN
    is ``null`` and infinite bin edges are the strings ``"inf"`` and ``"-inf"``;
    the chart curves are in the HTML only.

    Parameters
    ----------
    report : ValidationReport
        Result of :func:`~credit_engine.validation.validate_model`.
    folder : pathlib.Path
        Target folder; created with its parents when missing. Existing files of
        the same names are replaced.

    Returns
    -------
    ValidationFiles
        Paths of the two files.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / HTML_NAME
    html.write_text(render_html(report), encoding="utf-8")
    data = folder / JSON_NAME
    text = json.dumps(report.to_json_dict(), indent=2, allow_nan=False)
    data.write_text(text + "\n", encoding="utf-8")
    return ValidationFiles(html=html, json=data)
