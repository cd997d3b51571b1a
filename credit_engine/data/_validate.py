"""Run the ``raw.<table>`` suites with Great Expectations and map failures to rows.

GX is imported when a :class:`SuiteRunner` is created, never at package import.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from credit_engine.data._contracts import SourceContract
from credit_engine.data._suites import build_suite, string_row_conditions, suite_name
from credit_engine.exceptions import IngestionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SuiteRunner", "gx_frame", "reasons_list_array"]

_DOCS_SITE = "credit_engine"
_DATASOURCE = "raw"

RowPositions = npt.NDArray[np.int64]


class SuiteRunner:
    """Validate chunks of typed records, one GX checkpoint per table.

    Parameters
    ----------
    contracts : sequence of SourceContract
        Tables of the run; their suites are built once, here.
    docs_dir : pathlib.Path
        Folder of the GX Data Docs site (emptied first).
    run_label : str
        Prefix of the GX run names, e.g. the batch id.
    """

    def __init__(
        self, contracts: Sequence[SourceContract], docs_dir: Path, run_label: str
    ) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.docs_dir = docs_dir
        self.run_label = run_label
        if docs_dir.exists():
            shutil.rmtree(docs_dir)
        docs_dir.mkdir(parents=True)
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        for site, config in list(ctx.list_data_docs_sites().items()):
            # The ephemeral context's default site lives in a fresh temp folder.
            ctx.delete_data_docs_site(site)
            base = Path(str(config.get("store_backend", {}).get("base_directory", "")))
            if base.is_absolute() and base.is_dir() and not any(base.iterdir()):
                base.rmdir()
        ctx.add_data_docs_site(
            _DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        source = ctx.data_sources.add_pandas(_DATASOURCE)
        self._checkpoints: dict[str, Any] = {}
        with string_row_conditions():
            self._add_tables(ctx, source, contracts)
        self._context = ctx

    def _add_tables(
        self, ctx: Any, source: Any, contracts: Sequence[SourceContract]
    ) -> None:
        import great_expectations as gx
        from great_expectations.checkpoint.actions import UpdateDataDocsAction

        for contract in contracts:
            asset = source.add_dataframe_asset(contract.name)
            batch = asset.add_batch_definition_whole_dataframe(contract.name)
            suite = ctx.suites.add(build_suite(contract))
            definition = ctx.validation_definitions.add(
                gx.ValidationDefinition(
                    name=suite_name(contract.name), data=batch, suite=suite
                )
            )
            self._checkpoints[contract.name] = ctx.checkpoints.add(
                gx.Checkpoint(
                    name=suite_name(contract.name),
                    validation_definitions=[definition],
                    actions=[
                        UpdateDataDocsAction(
                            name="update_data_docs", site_names=[_DOCS_SITE]
                        )
                    ],
                    result_format={"result_format": "COMPLETE"},
                )
            )

    @property
    def docs_index(self) -> Path:
        """Path of the Data Docs ``index.html``."""
        return self.docs_dir / "index.html"

    def validate(
        self, table: str, records: pa.Table, chunk: int
    ) -> dict[str, RowPositions]:
        """Validate one chunk and return the failing row positions per reason label.

        Parameters
        ----------
        table : str
            Table name (its suite must have been built).
        records : pyarrow.Table
            Typed chunk (contract columns and storage types).
        chunk : int
            Chunk number, used in the GX run name.

        Returns
        -------
        dict of str to numpy.ndarray
            ``"<code>:<column>"`` to the 0-based positions of failing rows.

        Raises
        ------
        IngestionError
            If an expectation could not be evaluated (a bug, not a data problem).
        """
        from great_expectations.core.run_identifier import RunIdentifier

        run_id = RunIdentifier(
            run_name=f"{self.run_label}-{table}-chunk-{chunk:04d}",
            run_time=dt.datetime.now(dt.UTC),
        )
        with string_row_conditions():
            result = self._checkpoints[table].run(
                batch_parameters={"dataframe": gx_frame(records)}, run_id=run_id
            )
        failures: dict[str, list[RowPositions]] = {}
        for suite_result in result.run_results.values():
            for item in suite_result.results:
                config = item.expectation_config
                _raise_on_exception(table, config.type, item.exception_info)
                meta: Mapping[str, Any] = config.meta or {}
                label = f"{meta['reason']}:{meta['column']}"
                rows = _unexpected_rows(table, label, item.result)
                if rows.size:
                    failures.setdefault(label, []).append(rows)
        return {label: np.concatenate(parts) for label, parts in failures.items()}


def gx_frame(records: pa.Table) -> pd.DataFrame:
    """Convert typed records to the pandas frame GX validates.

    Timestamps become naive UTC (``datetime64[us]``): every stored timestamp is
    UTC, and GX's pair expectations use ``Series.values``, which pandas 3.1
    deprecates for time-zone-aware columns. Dates become ``datetime64``; the
    index is the default ``RangeIndex``, so GX row indices are chunk positions.
    """
    columns = [
        column.cast(pa.timestamp("us"))
        if pa.types.is_timestamp(column.type)
        else column
        for column in records.columns
    ]
    naive = pa.Table.from_arrays(columns, names=records.column_names)
    frame: pd.DataFrame = naive.to_pandas(date_as_object=False)
    return frame


def _raise_on_exception(table: str, kind: str, info: Any) -> None:
    if not info:
        return
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("raised_exception"):
            message = str(entry.get("exception_message", "")).strip()
            raise IngestionError(
                f"Great Expectations could not evaluate {kind} on table {table!r}: "
                f"{message}. Nothing was committed. This is a bug in credit-engine "
                "(the suite or the typed frame); please report it."
            )


def _unexpected_rows(table: str, label: str, result: Mapping[str, Any]) -> RowPositions:
    count = int(result.get("unexpected_count") or 0)
    if count == 0:
        return np.empty(0, dtype=np.int64)
    rows = np.asarray(result.get("unexpected_index_list") or [], dtype=np.int64)
    if rows.size != count:
        raise IngestionError(
            f"Great Expectations reported {count} failing rows for {label} on table "
            f"{table!r} but returned {rows.size} row indices; it's a bug in "
            "credit-engine (result_format must be COMPLETE). Please report it."
        )
    return rows


def reasons_list_array(n_rows: int, failures: Mapping[str, RowPositions]) -> pa.Array:
    """Assemble per-row reason labels into an Arrow ``list<string>`` column.

    Parameters
    ----------
    n_rows : int
        Rows in the chunk.
    failures : mapping of str to numpy.ndarray
        Reason label to failing row positions (duplicates are dropped).

    Returns
    -------
    pyarrow.ListArray
        One (possibly empty) list of labels per row, labels in sorted order.

    Examples
    --------
    >>> import numpy as np
    >>> failures = {"b:x": np.array([0]), "a:y": np.array([0, 2])}
    >>> reasons_list_array(3, failures).to_pylist()
    [['a:y', 'b:x'], [], ['a:y']]
    """
    labels = sorted(failures)
    if not labels:
        offsets = np.zeros(n_rows + 1, dtype=np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array([], pa.string()))
    rows = np.concatenate([failures[label] for label in labels]).astype(np.int64)
    ids = np.concatenate(
        [
            np.full(failures[label].size, i, dtype=np.int64)
            for i, label in enumerate(labels)
        ]
    )
    pairs = np.unique(rows * len(labels) + ids)
    rows, ids = np.divmod(pairs, len(labels))
    offsets = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int32)
    values = pa.array(labels, pa.string()).take(pa.array(ids))
    return pa.ListArray.from_arrays(pa.array(offsets), values)
