"""Read and check the six gzip CSVs of the CUMCM 2020 C data (see ``_cumcm``).

Every cell is read as text; every problem of every file is collected, and the
caller raises one :class:`~credit_engine.exceptions.DataContractError` listing
them before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from credit_engine.exceptions import DataContractError

__all__ = [
    "ENTERPRISE_ID",
    "GRADES",
    "InvoiceStats",
    "check_files",
    "listing",
    "read_enterprises",
    "read_invoices",
]

ENTERPRISE_ID = re.compile(r"^E([1-9][0-9]{0,4})$")
"""A contest enterprise id (企业代号): ``E`` and a number from 1 to 99999."""

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
"""Credit grades (信誉评级), best to worst."""

_INVOICE_NUMBER = re.compile(r"^[0-9A-Za-z]+$")
_MAX_LISTED = 5

_ENTERPRISE_FILES = ("attach1_enterprises.csv.gz", "attach2_enterprises.csv.gz")
_INVOICE_FILES: tuple[tuple[str, str], ...] = (
    ("attach1_input_invoices.csv.gz", "INPUT"),
    ("attach1_output_invoices.csv.gz", "OUTPUT"),
    ("attach2_input_invoices.csv.gz", "INPUT"),
    ("attach2_output_invoices.csv.gz", "OUTPUT"),
)
_COUNTERPARTY = {"INPUT": "销方单位代号", "OUTPUT": "购方单位代号"}
_INVOICE_COLUMNS = (
    "企业代号",
    "发票号码",
    "开票日期",
    "金额",
    "税额",
    "价税合计",
    "发票状态",
)
_LABELLED_COLUMNS = ("企业代号", "企业名称", "信誉评级", "是否违约")
_UNLABELLED_COLUMNS = ("企业代号", "企业名称")
_STATUS = {"有效发票": "VALID", "作废发票": "VOID"}
_DEFAULTED = {"是": 1, "否": 0}


def listing(values: Sequence[object]) -> str:
    """Show up to five values, and how many there are in all."""
    shown = ", ".join(repr(v) for v in values[:_MAX_LISTED])
    more = len(values) - _MAX_LISTED
    return shown + (f" ... ({len(values)} in total)" if more > 0 else "")


def _read_text_csv(
    path: Path, columns: Sequence[str], keep: Collection[str] | None = None
) -> pd.DataFrame:
    """Read a gzip CSV with every cell as text; check its header.

    ``keep`` restricts the rows to these enterprise ids (filtered in Arrow).
    """
    try:
        with pa.input_stream(path, compression="gzip") as stream:
            table = pacsv.read_csv(
                stream,
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(columns, pa.string()),
                    strings_can_be_null=False,
                ),
            )
    except (OSError, pa.ArrowException) as exc:
        raise DataContractError(
            f"{path.name}: cannot read the gzip CSV ({exc}); restore the file from "
            "the contest data (see its README for the sha256)."
        ) from exc
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise DataContractError(
            f"{path.name}: missing column(s) {missing}; got {table.column_names}. "
            "Give the contest's CSV export unchanged."
        )
    table = table.select(list(columns))
    if keep is not None:
        wanted = pa.array(sorted(keep), pa.string())
        table = table.filter(pc.is_in(table.column(columns[0]), value_set=wanted))
    frame: pd.DataFrame = table.to_pandas()
    return frame


def check_files(source_dir: Path) -> None:
    """Raise unless ``source_dir`` holds the six files of the contest data."""
    if not source_dir.is_dir():
        raise DataContractError(
            f"CUMCM source folder {str(source_dir)!r} does not exist or is not a "
            "folder; pass the folder holding the six attach*.csv.gz files of the "
            "contest data (the repository ships it in data/cumcm2020c)."
        )
    names = [*_ENTERPRISE_FILES, *(n for n, _ in _INVOICE_FILES)]
    missing = [n for n in names if not (source_dir / n).is_file()]
    if missing:
        raise DataContractError(
            f"CUMCM source folder {str(source_dir)!r} lacks {listing(missing)}; it "
            f"must hold all of {', '.join(names)}."
        )


def read_enterprises(
    source_dir: Path, only: Collection[str] | None, problems: list[str]
) -> pd.DataFrame:
    """Read both enterprise lists; record problems in ``problems``.

    Returns
    -------
    pandas.DataFrame
        ``cumcm_id``, ``name`` (stripped), ``grade`` (A-D, null when ungraded) and
        ``defaulted`` (nullable 0/1), in file order; only ``only`` if given.
    """
    graded = _read_text_csv(source_dir / _ENTERPRISE_FILES[0], _LABELLED_COLUMNS)
    ungraded = _read_text_csv(source_dir / _ENTERPRISE_FILES[1], _UNLABELLED_COLUMNS)
    graded = graded.apply(lambda column: column.str.strip())
    ids = pd.concat([graded["企业代号"], ungraded["企业代号"].str.strip()])
    bad_ids = ids[~ids.str.fullmatch(ENTERPRISE_ID.pattern)].tolist()
    if bad_ids:
        problems.append(
            f"enterprise ids not of the form 'E<number>': {listing(bad_ids)}"
        )
    dupes = sorted(set(ids[ids.duplicated()]))
    if dupes:
        problems.append(f"enterprise ids listed more than once: {listing(dupes)}")
    bad_grades = sorted(set(graded["信誉评级"]) - set(GRADES))
    if bad_grades:
        problems.append(
            f"{_ENTERPRISE_FILES[0]}: grades {listing(bad_grades)} are not one of "
            f"{list(GRADES)}"
        )
    bad_flags = sorted(set(graded["是否违约"]) - set(_DEFAULTED))
    if bad_flags:
        problems.append(
            f"{_ENTERPRISE_FILES[0]}: 是否违约 values {listing(bad_flags)} are not "
            f"one of {list(_DEFAULTED)}"
        )
    frame = pd.DataFrame(
        {
            "cumcm_id": ids.to_numpy(),
            "name": pd.concat([graded["企业名称"], ungraded["企业名称"]])
            .str.strip()
            .to_numpy(),
            "grade": pd.concat(
                [graded["信誉评级"], pd.Series([None] * len(ungraded), dtype="str")]
            ).to_numpy(),
            "defaulted": pd.concat(
                [
                    graded["是否违约"].map(_DEFAULTED),
                    pd.Series([None] * len(ungraded), dtype="float64"),
                ]
            ).to_numpy(),
        }
    )
    frame["defaulted"] = frame["defaulted"].astype("Int64")
    if only is not None:
        unknown = sorted(set(only) - set(ids))
        if unknown:
            problems.append(
                f"requested enterprises {listing(unknown)} are not in the data"
            )
        frame = frame[frame["cumcm_id"].isin(set(only))]
    return frame.reset_index(drop=True)


@dataclass
class InvoiceStats:
    """Counts gathered while reading and mapping the invoice files."""

    source_rows: dict[str, int] = field(default_factory=dict)
    status_whitespace: int = 0
    renumbered: int = 0
    identical_rows: int = 0


def _local_dates(text: pd.Series, name: str, problems: list[str]) -> pd.Series:
    uniques = pd.Series(text.unique())
    parsed = pd.to_datetime(uniques, format="%Y/%m/%d", errors="coerce")
    bad = uniques[parsed.isna()].tolist()
    if bad:
        problems.append(f"{name}: 开票日期 values not in YYYY/M/D form: {listing(bad)}")
    lookup = dict(zip(uniques, parsed, strict=True))
    return pd.Series(pd.DatetimeIndex(text.map(lookup)), index=text.index)


def _numbers(
    frame: pd.DataFrame, name: str, problems: list[str]
) -> dict[str, pd.Series]:
    out = {}
    for column, target in (("金额", "amount"), ("税额", "tax"), ("价税合计", "total")):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.loc[values.isna() | ~np.isfinite(values), column].tolist()
        if bad:
            problems.append(f"{name}: {column} values not numbers: {listing(bad)}")
        out[target] = values.astype("float64")
    return out


def read_invoices(
    source_dir: Path,
    known: pd.Series,
    stats: InvoiceStats,
    problems: list[str],
    *,
    subset: bool,
) -> pd.DataFrame:
    """Read the four invoice files, map statuses, parse dates and amounts.

    Parameters
    ----------
    source_dir : pathlib.Path
        The contest data folder.
    known : pandas.Series
        Enterprise ids of the conversion; an invoice of any other enterprise is
        a problem unless ``subset`` (then only these enterprises are read).
    stats : InvoiceStats
        Updated with rows per file, identical rows and stripped statuses.
    problems : list of str
        Every problem found is appended (the caller raises once).
    subset : bool
        Whether ``known`` is a requested subset of the enterprises.

    Returns
    -------
    pandas.DataFrame
        ``cumcm_id``, ``number``, ``local_date`` (naive), ``direction``,
        ``counterparty_id``, ``amount_cny``, ``tax_cny``, ``total_cny`` and
        ``status`` (``VALID``/``VOID``), files in order attachment 1 input,
        output, attachment 2 input, output, rows in file order.
    """
    parts = []
    for name, direction in _INVOICE_FILES:
        cp_column = _COUNTERPARTY[direction]
        raw = _read_text_csv(
            source_dir / name,
            (*_INVOICE_COLUMNS, cp_column),
            keep=set(known) if subset else None,
        )
        ids = raw["企业代号"].str.strip()
        unknown = sorted(set(ids.unique()) - set(known))
        if unknown:
            problems.append(
                f"{name}: invoices of enterprises missing from the enterprise lists: "
                f"{listing(unknown)}"
            )
        stats.source_rows[name] = len(raw)
        stats.identical_rows += int(raw.duplicated().sum())
        status_text = raw["发票状态"].str.strip()
        stats.status_whitespace += int((status_text != raw["发票状态"]).sum())
        status = status_text.map(_STATUS)
        bad_status = sorted(set(status_text[status.isna()]))
        if bad_status:
            problems.append(
                f"{name}: 发票状态 values {listing(bad_status)} are not one of "
                f"{list(_STATUS)}"
            )
        numbers = raw["发票号码"].str.strip()
        bad_numbers = numbers[~numbers.str.fullmatch(_INVOICE_NUMBER.pattern)]
        if len(bad_numbers):
            problems.append(
                f"{name}: 发票号码 values that are not letters and digits: "
                f"{listing(bad_numbers.tolist())}"
            )
        counterparty = raw[cp_column].str.strip()
        if (counterparty == "").any():
            problems.append(
                f"{name}: {int((counterparty == '').sum())} empty {cp_column}"
            )
        values = _numbers(raw, name, problems)
        parts.append(
            pd.DataFrame(
                {
                    "cumcm_id": ids,
                    "number": numbers,
                    "local_date": _local_dates(
                        raw["开票日期"].str.strip(), name, problems
                    ),
                    "direction": direction,
                    "counterparty_id": counterparty,
                    "amount_cny": values["amount"],
                    "tax_cny": values["tax"],
                    "total_cny": values["total"],
                    "status": status,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
