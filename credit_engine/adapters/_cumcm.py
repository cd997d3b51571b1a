"""Adapter for the CUMCM 2020 Problem C invoice data (real VAT invoice records).

The contest data (全国大学生数学建模竞赛 2020 C, 中小微企业的信贷决策) holds the VAT
invoices of 425 small enterprises, with a bank's credit grade (A-D) and default flag
for the first 123. :func:`convert_cumcm` turns its six gzip CSVs into a batch that
``credit-engine ingest`` accepts (``vat_invoice.parquet``, contract
``features/sources/vat_invoice.yaml``) and writes the labels next to it in the format
of the evaluation (``uscc``, ``as_of``, ``label``). See ``docs/cumcm.md``.

Mapping
-------
Pseudo-USCC
    The enterprise ids ``E1`` ... ``E425`` are not Unified Social Credit Codes. Each
    is mapped, deterministically and one to one, to a *valid* but fictitious code::

        9 1 990000 CUMC<nnnnn> <check>

    registration authority ``9`` (market regulation), entity category ``1``
    (enterprise), administrative division ``990000`` (no province has code 99 in
    GB/T 2260, so no real enterprise and no enterprise of the simulated Xiamen zone,
    3502xx, can carry it), organisation code ``CUMC`` followed by the enterprise
    number zero-padded to five digits, and the GB 32100-2015 check character. ``E1``
    becomes ``91990000CUMC000019`` (number ``00001``, check character ``9``).
Direction
    Input invoices (进项, received from suppliers) are ``INPUT``, output invoices
    (销项, issued to buyers) ``OUTPUT``. ``counterparty_id`` is the seller
    (销方单位代号) or the buyer (购方单位代号) id as given (``A``/``C`` sellers and
    ``B``/``D`` buyers of attachments 1 and 2).
Status
    ``有效发票`` is ``VALID`` and ``作废发票`` is ``VOID`` (95 output rows carry a
    leading space, `` 作废发票``, which is stripped). A valid invoice with a negative
    amount is a red-letter credit note, ``RED_LETTER``. A *voided* invoice with a
    negative amount (a red-letter invoice that was itself voided) stays ``VOID``
    with its sign: it had no effect, and the contract allows either sign on
    ``VOID`` rows. The contract does quarantine red-letter rows with a positive
    tax or total (``above_max``) and valid rows with a negative tax or total
    (``below_min``); :attr:`CumcmBatch.expected_quarantined` counts them, so that
    nothing is lost silently.
Time
    ``开票日期`` (``YYYY/M/D``) is a local date: ``event_ts`` is its midnight in
    Asia/Shanghai converted to UTC (16:00 UTC the day before), and ``ingested_at``
    is the end of the issue day, 23:59:59 Asia/Shanghai (an invoice is known to the
    tax authority when it is issued).
Invoice numbers
    ``source_record_id`` is the invoice number (发票号码). Numbers repeat within an
    enterprise and direction (the invoice code, 发票代码, that makes them unique is
    not in the data; some repeats are identical rows). Every row is kept: the first
    occurrence keeps the number, the k-th repeat in file order becomes
    ``<number>-<k>``.
Rating date
    :data:`CUMCM_AS_OF` (2020-02-29), the month end after the last invoice
    (2020-02-21): every invoice happened and was known by then.

Examples
--------
>>> cumcm_uscc("E1")
'91990000CUMC000019'
>>> cumcm_uscc("E425")
'91990000CUMC00425E'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from credit_engine.adapters._cumcm_read import (
    ENTERPRISE_ID,
    GRADES,
    InvoiceStats,
    check_files,
    listing,
    read_enterprises,
    read_invoices,
)
from credit_engine.exceptions import DataContractError
from credit_engine.uscc import pseudo_uscc

__all__ = [
    "CUMCM_AS_OF",
    "CUMCM_GRADES",
    "CUMCM_TIMEZONE",
    "CumcmBatch",
    "convert_cumcm",
    "cumcm_uscc",
]

CUMCM_AS_OF = dt.date(2020, 2, 29)
"""Rating date of the labels: the month end after the last invoice (2020-02-21)."""

CUMCM_TIMEZONE = "Asia/Shanghai"
"""Time zone of the invoice dates (开票日期)."""

CUMCM_GRADES: tuple[str, ...] = GRADES
"""Credit grades (信誉评级), best to worst; the ordinal label is the position."""

USCC_PREFIX = "91990000"
"""Authority 9, category 1 and the fictitious division 990000 of every pseudo-USCC."""

_ORG_PREFIX = "CUMC"
_MAX_NUMBER = 99_999
CUMCM_ID_NUMBER = r"^E([1-9][0-9]{0,4})$"
"""The number in a contest enterprise id, for :func:`credit_engine.uscc.pseudo_uscc`."""

_INVOICE_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("source_record_id", pa.string()),
        ("event_ts", pa.timestamp("us", tz="UTC")),
        ("direction", pa.string()),
        ("counterparty_id", pa.string()),
        ("amount_cny", pa.float64()),
        ("tax_cny", pa.float64()),
        ("total_cny", pa.float64()),
        ("status", pa.string()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)
"""Columns and storage types of contract ``vat_invoice``, in contract order."""


def cumcm_uscc(enterprise_id: str) -> str:
    """Return the pseudo-USCC of a CUMCM enterprise id (``E1`` ... ``E99999``).

    Parameters
    ----------
    enterprise_id : str
        The contest's enterprise id (企业代号), ``E`` and a number without leading
        zeros.

    Returns
    -------
    str
        ``91990000CUMC<number, 5 digits><check character>``: valid under GB 32100,
        fictitious (division 990000 does not exist), the same for the same id;
        the numbered pseudo-USCC of namespace ``CUMC``
        (:func:`credit_engine.uscc.pseudo_uscc`), which the CUMCM source mapping
        ``data/cumcm2020c/mapping.yaml`` uses too.

    Raises
    ------
    DataContractError
        If ``enterprise_id`` is not ``E`` followed by a number from 1 to 99999.

    Examples
    --------
    >>> cumcm_uscc("E124")
    '91990000CUMC00124A'
    """
    match = (
        ENTERPRISE_ID.match(enterprise_id) if isinstance(enterprise_id, str) else None
    )
    if match is None:
        raise DataContractError(
            f"CUMCM enterprise id {enterprise_id!r} is not 'E' followed by a number "
            f"from 1 to {_MAX_NUMBER} without leading zeros (e.g. 'E1', 'E425'); "
            "pass the 企业代号 column as it is in the contest data."
        )
    return pseudo_uscc(_ORG_PREFIX, enterprise_id, number=CUMCM_ID_NUMBER)


@dataclass(frozen=True)
class CumcmBatch:
    """What :func:`convert_cumcm` wrote, with its counts.

    Attributes
    ----------
    out_dir : pathlib.Path
        The output folder.
    records_dir : pathlib.Path
        The batch to ingest (``credit-engine ingest RECORDS_DIR``): it holds only
        ``vat_invoice.parquet``.
    invoices_path : pathlib.Path
        ``records/vat_invoice.parquet``.
    enterprises_path : pathlib.Path
        ``enterprises.csv``: uscc, cumcm_id, name, grade, defaulted.
    spine_path : pathlib.Path
        ``spine.csv``: uscc, as_of of every enterprise (for feature building).
    labels_default_path, labels_d_vs_rest_path, labels_grade_path : pathlib.Path
        ``labels_*.csv``: uscc, as_of, label of the graded enterprises.
    to_rate_path : pathlib.Path
        ``to_rate.csv``: uscc, as_of of the ungraded enterprises.
    as_of : datetime.date
        Rating date of the labels and the spine.
    source_rows : dict of str to int
        Rows taken from each invoice file (all of them unless ``enterprises``
        restricts the conversion).
    rows : int
        Invoice rows written (the sum of ``source_rows``).
    directions, statuses : dict of str to int
        Rows written per ``direction`` and per ``status`` code.
    status_whitespace : int
        Status values that carried leading or trailing spaces (stripped).
    renumbered : int
        Rows whose invoice number repeats within (enterprise, direction) and got
        a ``-<k>`` suffix.
    identical_rows : int
        Rows identical in every source column to an earlier row of their file
        (kept; counted for information).
    expected_quarantined : dict of str to int
        Rows the sign rules of the ``vat_invoice`` contract will quarantine, by
        cause (causes with no row are left out): ``red_letter_positive_tax``
        (negative amount but positive tax or total) and ``valid_negative``
        (non-negative amount but negative tax or total). ``VOID`` rows may carry
        either sign (a voided red-letter invoice keeps its negative amounts), so
        none of them is expected here.
    enterprises, labelled, defaulted, grade_d, to_rate : int
        Enterprises written; with a grade; defaulted (是否违约 是); grade D;
        without a grade.
    grades : dict of str to int
        Graded enterprises per grade.
    """

    out_dir: Path
    records_dir: Path
    invoices_path: Path
    enterprises_path: Path
    spine_path: Path
    labels_default_path: Path
    labels_d_vs_rest_path: Path
    labels_grade_path: Path
    to_rate_path: Path
    as_of: dt.date
    source_rows: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    directions: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    status_whitespace: int = 0
    renumbered: int = 0
    identical_rows: int = 0
    expected_quarantined: dict[str, int] = field(default_factory=dict)
    enterprises: int = 0
    labelled: int = 0
    defaulted: int = 0
    grade_d: int = 0
    to_rate: int = 0
    grades: dict[str, int] = field(default_factory=dict)

    @property
    def expected_quarantined_total(self) -> int:
        """Rows the ingestion is expected to quarantine (all causes)."""
        return sum(self.expected_quarantined.values())


def _enterprise_table(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "uscc": frame["cumcm_id"].map(cumcm_uscc),
            "cumcm_id": frame["cumcm_id"],
            "name": frame["name"],
            "grade": frame["grade"],
            "defaulted": frame["defaulted"],
        }
    )
    ordered: pd.DataFrame = out.sort_values("uscc", kind="stable")
    return ordered.reset_index(drop=True)


def _finish_invoices(frame: pd.DataFrame, stats: InvoiceStats) -> pd.DataFrame:
    """Red-letter status, unique record ids, UTC timestamps (after all checks)."""
    red = (frame["status"] == "VALID") & (frame["amount_cny"] < 0)
    frame.loc[red, "status"] = "RED_LETTER"
    repeat = frame.groupby(["cumcm_id", "direction", "number"], sort=False).cumcount()
    stats.renumbered = int((repeat > 0).sum())
    record_id = frame["number"].where(
        repeat == 0, frame["number"] + "-" + (repeat + 1).astype(str)
    )
    local = frame["local_date"].dt.tz_localize(CUMCM_TIMEZONE)
    end_of_day = local + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    return pd.DataFrame(
        {
            "uscc": frame["cumcm_id"].map(_uscc_lookup(frame["cumcm_id"])),
            "source_record_id": record_id,
            "event_ts": local.dt.tz_convert("UTC"),
            "direction": frame["direction"],
            "counterparty_id": frame["counterparty_id"],
            "amount_cny": frame["amount_cny"],
            "tax_cny": frame["tax_cny"],
            "total_cny": frame["total_cny"],
            "status": frame["status"],
            "ingested_at": end_of_day.dt.tz_convert("UTC"),
        }
    )


def _uscc_lookup(ids: pd.Series) -> dict[str, str]:
    return {i: cumcm_uscc(i) for i in ids.unique()}


def _expected_quarantine(invoices: pd.DataFrame) -> dict[str, int]:
    """Rows breaking the sign rules of contract ``vat_invoice`` (see module doc).

    ``VALID`` rows must be >= 0 and ``RED_LETTER`` rows <= 0 in amount, tax and
    total; ``VOID`` rows may have either sign, so they are never counted.
    """
    amounts = invoices[["amount_cny", "tax_cny", "total_cny"]]
    negative = (amounts < 0).any(axis=1)
    positive = (amounts > 0).any(axis=1)
    return {
        "red_letter_positive_tax": int(
            ((invoices["status"] == "RED_LETTER") & positive).sum()
        ),
        "valid_negative": int(((invoices["status"] == "VALID") & negative).sum()),
    }


def _to_arrow(invoices: pd.DataFrame) -> pa.Table:
    arrays = []
    for f in _INVOICE_SCHEMA:
        column = invoices[f.name]
        if pa.types.is_timestamp(f.type):
            values = column.dt.tz_convert("UTC").dt.as_unit("us")
            arrays.append(pa.array(values.to_numpy("datetime64[us]"), f.type))
        elif pa.types.is_string(f.type):
            arrays.append(pa.array(column.astype(object).tolist(), f.type))
        else:
            arrays.append(pa.array(column.to_numpy("float64"), f.type))
    return pa.Table.from_arrays(arrays, schema=_INVOICE_SCHEMA)


def _label_frames(enterprises: pd.DataFrame, as_of: dt.date) -> dict[str, pd.DataFrame]:
    graded = enterprises[enterprises["grade"].notna()]
    base = pd.DataFrame({"uscc": graded["uscc"], "as_of": as_of.isoformat()})
    ordinal = {g: i for i, g in enumerate(CUMCM_GRADES)}
    ungraded = enterprises[enterprises["grade"].isna()]
    return {
        "labels_default": base.assign(label=graded["defaulted"].astype(int)),
        "labels_d_vs_rest": base.assign(label=(graded["grade"] == "D").astype(int)),
        "labels_grade": base.assign(label=graded["grade"].map(ordinal).astype(int)),
        "to_rate": pd.DataFrame({"uscc": ungraded["uscc"], "as_of": as_of.isoformat()}),
        "spine": pd.DataFrame(
            {"uscc": enterprises["uscc"], "as_of": as_of.isoformat()}
        ),
    }


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _prepare_out(out_dir: Path) -> Path:
    records = out_dir / "records"
    records.mkdir(parents=True, exist_ok=True)
    stray = sorted(p.name for p in records.iterdir() if p.name != "vat_invoice.parquet")
    if stray:
        raise DataContractError(
            f"{str(records)!r} holds other files ({listing(stray)}); they would be "
            "ingested with the batch. Choose an empty --out folder or remove them."
        )
    return records


def convert_cumcm(
    source_dir: Path,
    out_dir: Path,
    *,
    enterprises: Collection[str] | None = None,
) -> CumcmBatch:
    """Convert the CUMCM 2020 C data into an ingestible batch and label files.

    Parameters
    ----------
    source_dir : pathlib.Path
        Folder holding ``attach1_enterprises.csv.gz``, ``attach1_input_invoices``,
        ``attach1_output_invoices``, ``attach2_enterprises.csv.gz`` and the two
        invoice files of attachment 2 (gzip CSV, UTF-8).
    out_dir : pathlib.Path
        Output folder; created if needed. Written: ``records/vat_invoice.parquet``
        (the batch), ``enterprises.csv``, ``spine.csv``, ``labels_default.csv``,
        ``labels_d_vs_rest.csv``, ``labels_grade.csv`` and ``to_rate.csv``.
    enterprises : collection of str, optional
        Convert only these enterprise ids (e.g. ``{"E1", "E130"}``), for tests and
        quick looks. Default: all 425.

    Returns
    -------
    CumcmBatch
        Paths and counts. The same input gives byte-identical files.

    Raises
    ------
    DataContractError
        If a file is missing or unreadable, or the content does not fit what the
        mapping expects (unknown status, malformed date, number or enterprise id,
        invoices of unlisted enterprises), listing every problem found; or if
        ``out_dir/records`` holds other files. Nothing is written then.

    Notes
    -----
    The mapping (pseudo-USCC, statuses, time zone, rating date) is described in
    the module docstring and ``docs/cumcm.md``. Labels: ``labels_default`` is 1
    where 是否违约 is 是; ``labels_d_vs_rest`` is 1 for grade D; ``labels_grade``
    is the ordinal grade, A=0, B=1, C=2, D=3 (best to worst). Every label file has
    the columns ``uscc``, ``as_of``, ``label`` with ``as_of`` = :data:`CUMCM_AS_OF`.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    check_files(source_dir)
    problems: list[str] = []
    only = None if enterprises is None else set(enterprises)
    companies = read_enterprises(source_dir, only, problems)
    _raise_problems(source_dir, problems)  # before reading 1.1 M invoice rows
    stats = InvoiceStats()
    raw = read_invoices(
        source_dir, companies["cumcm_id"], stats, problems, subset=only is not None
    )
    _raise_problems(source_dir, problems)
    invoices = _finish_invoices(raw, stats)
    table = _enterprise_table(companies)
    records = _prepare_out(out_dir)
    invoices_path = records / "vat_invoice.parquet"
    pq.write_table(
        _to_arrow(invoices), invoices_path, compression="zstd", row_group_size=250_000
    )
    _write_csv(table, out_dir / "enterprises.csv")
    paths = {}
    for name, frame in _label_frames(table, CUMCM_AS_OF).items():
        paths[name] = out_dir / f"{name}.csv"
        _write_csv(frame, paths[name])
    graded = table[table["grade"].notna()]
    return CumcmBatch(
        out_dir=out_dir,
        records_dir=records,
        invoices_path=invoices_path,
        enterprises_path=out_dir / "enterprises.csv",
        spine_path=paths["spine"],
        labels_default_path=paths["labels_default"],
        labels_d_vs_rest_path=paths["labels_d_vs_rest"],
        labels_grade_path=paths["labels_grade"],
        to_rate_path=paths["to_rate"],
        as_of=CUMCM_AS_OF,
        source_rows=stats.source_rows,
        rows=len(invoices),
        directions=_counts(invoices["direction"]),
        statuses=_counts(invoices["status"]),
        status_whitespace=stats.status_whitespace,
        renumbered=stats.renumbered,
        identical_rows=stats.identical_rows,
        expected_quarantined={
            k: v for k, v in _expected_quarantine(invoices).items() if v
        },
        enterprises=len(table),
        labelled=len(graded),
        defaulted=int(graded["defaulted"].sum()),
        grade_d=int((graded["grade"] == "D").sum()),
        to_rate=len(table) - len(graded),
        grades={g: int((graded["grade"] == g).sum()) for g in CUMCM_GRADES},
    )


def _raise_problems(source_dir: Path, problems: list[str]) -> None:
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DataContractError(
            f"The CUMCM data in {str(source_dir)!r} does not fit the adapter's "
            f"mapping; nothing was written ({len(problems)} problem(s)):\n{lines}"
        )


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(values.value_counts().items())}
