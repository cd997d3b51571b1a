"""Excel workbooks (``.xlsx``) as a mapping's source: one sheet, every cell as text.

Departments often hand over extracts as Excel workbooks. A source with
``format: xlsx`` (or files ending in ``.xlsx``) reads one sheet of each
workbook (``sheet``: its name or 0-based position; the first by default) with
openpyxl in read-only mode, streaming rows, so a sheet of a million rows never
sits in memory whole. ``skip_rows`` rows are skipped before the header row.

Every cell becomes text, as it would in a CSV saved from the same sheet, so the
mapping converts it the same way whichever format a department sends:

* numbers: integers without a decimal point (``12``), other numbers in their
  shortest exact form (``0.1``, ``12345.678``);
* dates and times typed as such in Excel: ISO text, ``2024-03-05`` for a date
  (a time of midnight is a date), ``2024-03-05 14:30:00`` for a date and time,
  ``14:30:00`` for a time (write the mapping's ``date`` format for them
  accordingly, e.g. ``"%Y-%m-%d"``);
* booleans: ``TRUE`` / ``FALSE``; error cells (``#N/A``) as shown;
* empty cells: empty (null). Rows with no value at all are skipped, as empty
  lines of a CSV are.

Old binary workbooks (``.xls``) are not read: save them as ``.xlsx`` or CSV.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from credit_engine.data._mapping_spec import SourceSpec
from credit_engine.exceptions import DataContractError

__all__ = ["cell_text", "xlsx_batches", "xlsx_header"]


def cell_text(value: Any) -> str:  # noqa: PLR0911 - one return per cell type
    """Return an Excel cell's value as the text a CSV export would hold.

    Examples
    --------
    >>> cell_text(12.0), cell_text(0.1), cell_text(dt.datetime(2024, 3, 5))
    ('12', '0.1', '2024-03-05')
    >>> cell_text(None), cell_text(True), cell_text(dt.time(14, 30))
    ('', 'TRUE', '14:30:00')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _open_sheet(path: Path, spec: SourceSpec) -> tuple[Any, Any]:
    if path.suffix.lower() == ".xls":
        raise DataContractError(
            f"{path.name}: old binary Excel workbooks (.xls) cannot be read; open it "
            "in Excel or LibreOffice and save it as .xlsx (or each sheet as CSV)."
        )
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException
        raise DataContractError(
            f"{path.name}: cannot open the workbook ({type(exc).__name__}: {exc}). "
            "Check that it is an .xlsx file saved by Excel, WPS or LibreOffice."
        ) from exc
    names = book.sheetnames
    sheet = spec.sheet if spec.sheet is not None else 0
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            book.close()
            raise DataContractError(
                f"{path.name}: has {len(names)} sheet(s) {names}; sheet position "
                f"{sheet} does not exist (positions start at 0)."
            )
        return book, book[names[sheet]]
    if sheet not in names:
        book.close()
        raise DataContractError(
            f"{path.name}: has no sheet {sheet!r}; its sheets are {names}. Set the "
            "source's 'sheet' to one of them (or to a 0-based position)."
        )
    return book, book[sheet]


def _rows(path: Path, spec: SourceSpec) -> Generator[tuple[Any, ...], None, None]:
    book, sheet = _open_sheet(path, spec)
    try:
        yield from sheet.iter_rows(values_only=True)
    finally:
        book.close()


def xlsx_header(path: Path, spec: SourceSpec) -> list[str]:
    """Return the header of a workbook's sheet (after ``skip_rows`` rows), trimmed.

    Raises
    ------
    DataContractError
        If the sheet is missing, has no header row, or a column inside the
        header has no name.
    """
    rows = _rows(path, spec)
    try:
        for _ in range(spec.skip_rows):
            next(rows, None)
        header = next(rows, None)
    finally:
        rows.close()
    if header is None:
        raise DataContractError(
            f"{path.name}: the sheet has no header row after skip_rows="
            f"{spec.skip_rows}."
        )
    names = [cell_text(v).strip().lstrip("\ufeff").strip() for v in header]
    while names and not names[-1]:
        names.pop()
    blank = [i + 1 for i, n in enumerate(names) if not n]
    if blank or not names:
        raise DataContractError(
            f"{path.name}: header cells {blank or [1]} are empty; give every column "
            "a name in the header row (or set skip_rows to the rows above it)."
        )
    return names


def xlsx_batches(
    path: Path, spec: SourceSpec, columns: list[str], batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Stream a workbook's data rows (after its header) as text record batches.

    Raises
    ------
    DataContractError
        If a row holds values beyond the header's last column.
    """
    width = len(columns)
    rows = _rows(path, spec)
    try:
        for _ in range(spec.skip_rows + 1):
            next(rows, None)
        cells: list[list[str]] = [[] for _ in range(width)]
        count = 0
        for number, row in enumerate(rows, start=1):
            if all(v is None or v == "" for v in row):
                continue
            extra = [v for v in row[width:] if v is not None and v != ""]
            if extra:
                raise DataContractError(
                    f"{path.name}: data row {number} holds {len(extra)} value(s) right "
                    f"of the header's last column {columns[-1]!r}, e.g. {extra[0]!r}; "
                    "name those columns in the header row."
                )
            for i in range(width):
                cells[i].append(cell_text(row[i]) if i < len(row) else "")
            count += 1
            if count == batch_rows:
                yield _batch(cells, columns)
                cells = [[] for _ in range(width)]
                count = 0
        if count:
            yield _batch(cells, columns)
    finally:
        rows.close()


def _batch(cells: list[list[str]], columns: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array(c, pa.string()) for c in cells], names=columns
    )
