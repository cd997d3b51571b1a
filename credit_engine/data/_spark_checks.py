"""The ``raw.<table>`` suites on Spark: Great Expectations on Spark dataframes.

The suites are those of the DuckDB path (:func:`~credit_engine.data._suites.
build_suite`, from :func:`~credit_engine.data._suites.plan_checks`); only their
row conditions change language: the contracts write them in pandas query syntax
(``status=="VALID"``), which :func:`spark_condition` translates to Spark SQL with
pandas' treatment of nulls (a null never equals a value, so ``x != "A"`` holds
for a null ``x``).

Great Expectations validates each table's Spark dataframe with those suites
(aggregates only: pass or fail per expectation, and the Data Docs); the rows
that fail are marked on the executors by the same checks written as Spark SQL
conditions (:func:`failure_condition`), and the two are reconciled: an
expectation passes exactly when its condition marks no row, or the run stops.
Nothing is collected to the driver but counts.
"""

from __future__ import annotations

import ast
import datetime as dt
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from credit_engine.data._contracts import SourceContract
from credit_engine.data._spark_sql import sql_string, uscc_valid_sql
from credit_engine.data._suites import (
    Check,
    CheckKind,
    build_suite,
    plan_checks,
    string_row_conditions,
    suite_name,
)
from credit_engine.exceptions import ConfigurationError, IngestionError

__all__ = [
    "SparkSuiteRunner",
    "failure_condition",
    "reconcile",
    "spark_condition",
    "sql_string",
    "uscc_valid_sql",
]

_DOCS_SITE = "credit_engine"
_DATASOURCE = "raw_spark"


def _literal(node: ast.expr, where: str) -> str:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return sql_string(value)
        if isinstance(value, int | float):
            return repr(value)
    raise ConfigurationError(
        f"Row condition {where!r}: {ast.unparse(node)!r} is not a literal; "
        "conditions compare a column with strings, numbers or booleans."
    )


def _items(node: ast.expr, where: str) -> str:
    if not isinstance(node, ast.List | ast.Tuple):
        raise ConfigurationError(
            f'Row condition {where!r}: \'in\' needs a list such as ["A", "B"]; '
            f"got {ast.unparse(node)!r}."
        )
    return ", ".join(_literal(e, where) for e in node.elts)


def _translate(node: ast.expr, where: str) -> str:  # noqa: PLR0911 -- one per form
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert | ast.Not):
        return f"(NOT {_translate(node.operand, where)})"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
        word = "AND" if isinstance(node.op, ast.BitAnd) else "OR"
        first, second = _translate(node.left, where), _translate(node.right, where)
        return f"({first} {word} {second})"
    if isinstance(node, ast.BoolOp):
        joiner = " AND " if isinstance(node.op, ast.And) else " OR "
        return "(" + joiner.join(_translate(v, where) for v in node.values) + ")"
    if (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.left, ast.Name)
    ):
        column, cmp, right = f"`{node.left.id}`", node.ops[0], node.comparators[0]
        # Each comparison is false (never null) on a null value, as in pandas.
        if isinstance(cmp, ast.In | ast.NotIn):
            test = f"coalesce({column} IN ({_items(right, where)}), false)"
            return test if isinstance(cmp, ast.In) else f"(NOT {test})"
        symbols: dict[type[ast.cmpop], str] = {
            ast.Eq: "=",
            ast.NotEq: "=",
            ast.Lt: "<",
            ast.LtE: "<=",
            ast.Gt: ">",
            ast.GtE: ">=",
        }
        if type(cmp) in symbols:
            literal = _literal(right, where)
            test = f"coalesce({column} {symbols[type(cmp)]} {literal}, false)"
            return f"(NOT {test})" if isinstance(cmp, ast.NotEq) else test
    raise ConfigurationError(
        f"Row condition {where!r} cannot run on Spark: {ast.unparse(node)!r} is not "
        "supported. Conditions may compare a column with a literal (==, !=, <, <=, "
        ">, >=), test membership (in / not in a list) and combine with ~, &, |, "
        "not, and, or; rewrite the contract's condition in that form."
    )


def spark_condition(condition: str) -> str:
    """Translate a contract row condition (pandas query syntax) to Spark SQL.

    Comparisons are false on nulls, as pandas evaluates them, so the rows a
    condition selects are the same on both engines.

    Raises
    ------
    ConfigurationError
        If the condition uses a form Spark cannot be given (the message lists
        the supported ones).

    Examples
    --------
    >>> spark_condition('status=="VALID"')
    "coalesce(`status` = 'VALID', false)"
    >>> spark_condition('~(financials_published == False)')
    '(NOT coalesce(`financials_published` = false, false))'
    >>> spark_condition('k not in ["A", "B"]')
    "(NOT coalesce(`k` IN ('A', 'B'), false))"
    """
    try:
        tree = ast.parse(condition.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigurationError(
            f"Row condition {condition!r} is not valid pandas query syntax ({exc.msg})."
        ) from exc
    return _translate(tree.body, condition)


def _bound(value: float | None) -> str:
    return f"CAST({sql_string(repr(float(value or 0.0)))} AS DOUBLE)"


def failure_condition(check: Check) -> str:
    """Return the Spark SQL condition true on the rows ``check`` fails.

    Nulls are ignored as Great Expectations ignores them (except by the
    not-null check); a check's row condition restricts the rows checked.
    """
    col = f"`{check.column}`"
    if check.kind is CheckKind.NOT_NULL:
        failed = f"{col} IS NULL"
    elif check.kind is CheckKind.USCC:
        failed = f"{col} IS NOT NULL AND NOT {uscc_valid_sql(check.column)}"
    elif check.kind is CheckKind.IN_SET:
        values = ", ".join(sql_string(v) for v in check.value_set or ())
        failed = f"{col} IS NOT NULL AND NOT {col} IN ({values})"
    elif check.kind is CheckKind.MIN:
        failed = f"{col} IS NOT NULL AND {col} < {_bound(check.bound)}"
    elif check.kind is CheckKind.MAX:
        failed = f"{col} IS NOT NULL AND {col} > {_bound(check.bound)}"
    elif check.kind is CheckKind.REGEX:
        failed = (
            f"{col} IS NOT NULL AND NOT {col} rlike {sql_string(check.regex or '')}"
        )
    else:
        other = f"`{check.other}`"
        failed = f"{col} IS NOT NULL AND {other} IS NOT NULL AND NOT {col} >= {other}"
    if check.when is not None:
        failed = f"({failed}) AND {spark_condition(check.when)}"
    return f"({failed})"


def _spark_suite(contract: SourceContract) -> Any:
    """Return the suite of :func:`build_suite`, its row conditions in Spark SQL."""
    import great_expectations as gx

    suite = build_suite(contract)
    checks = plan_checks(contract)
    expectations = []
    for index, (check, expectation) in enumerate(
        zip(checks, suite.expectations, strict=True)
    ):
        update: dict[str, Any] = {"meta": {**(expectation.meta or {}), "check": index}}
        if check.when is not None:
            update |= {
                "row_condition": spark_condition(check.when),
                "condition_parser": "spark",
            }
        expectations.append(expectation.copy(update=update))
    return gx.ExpectationSuite(
        name=suite.name, expectations=expectations, meta=dict(suite.meta or {})
    )


class SparkSuiteRunner:
    """Validate Spark dataframes of typed records, one GX checkpoint per table.

    Parameters
    ----------
    contracts : sequence of SourceContract
        Tables of the run.
    docs_dir : pathlib.Path
        Folder of the GX Data Docs site (emptied first).
    run_label : str
        Prefix of the GX run names (the batch id).
    """

    def __init__(
        self, contracts: Sequence[SourceContract], docs_dir: Path, run_label: str
    ) -> None:
        import great_expectations as gx
        from great_expectations.checkpoint.actions import UpdateDataDocsAction
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # Registers the Spark form of the USCC metric (column_values.valid_uscc).
        import credit_engine.data._expectations  # noqa: F401

        self.docs_dir = docs_dir
        self.run_label = run_label
        if docs_dir.exists():
            shutil.rmtree(docs_dir)
        docs_dir.mkdir(parents=True)
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        for site, config in list(ctx.list_data_docs_sites().items()):
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
        source = ctx.data_sources.add_spark(_DATASOURCE, persist=False)
        self._checkpoints: dict[str, Any] = {}
        with string_row_conditions():
            for contract in contracts:
                asset = source.add_dataframe_asset(contract.name)
                batch = asset.add_batch_definition_whole_dataframe(contract.name)
                suite = ctx.suites.add(_spark_suite(contract))
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
                        # Pass/fail per expectation: aggregates only, a few
                        # Spark jobs per table (SUMMARY costs two jobs more
                        # per expectation for its lists of sample values).
                        result_format={"result_format": "BOOLEAN_ONLY"},
                    )
                )
        self._context = ctx

    @property
    def docs_index(self) -> Path:
        """Path of the Data Docs ``index.html``."""
        return self.docs_dir / "index.html"

    def outcomes(self, table: str, records: Any) -> dict[int, bool]:
        """Run the table's suite on a Spark dataframe; whether each check passed.

        Parameters
        ----------
        table : str
            Table name (its suite was built).
        records : pyspark.sql.DataFrame
            Typed records (contract columns).

        Returns
        -------
        dict of int to bool
            Index of the check in :func:`plan_checks` to its success (no
            unexpected row).

        Raises
        ------
        IngestionError
            If an expectation could not be evaluated.
        """
        from great_expectations.core.run_identifier import RunIdentifier

        from credit_engine.data._validate import _raise_on_exception

        run_id = RunIdentifier(
            run_name=f"{self.run_label}-{table}-spark",
            run_time=dt.datetime.now(dt.UTC),
        )
        with string_row_conditions():
            result = self._checkpoints[table].run(
                batch_parameters={"dataframe": records}, run_id=run_id
            )
        passed: dict[int, bool] = {}
        for suite_result in result.run_results.values():
            for item in suite_result.results:
                config = item.expectation_config
                _raise_on_exception(table, config.type, item.exception_info)
                meta: Mapping[str, Any] = config.meta or {}
                passed[int(meta["check"])] = bool(item.success)
        return passed


def reconcile(
    table: str,
    checks: Sequence[Check],
    passed: Mapping[int, bool],
    marked: Mapping[int, int],
) -> None:
    """Raise unless GX passed exactly the checks whose Spark condition marks no row.

    Raises
    ------
    IngestionError
        Naming the checks whose counts differ (a bug: nothing is committed).
    """
    wrong = [
        f"{checks[i].kind.value} on {checks[i].column!r}: Great Expectations "
        f"{'passed' if passed.get(i) else 'failed'}, Spark condition marked "
        f"{marked.get(i)} row(s)"
        for i in range(len(checks))
        if passed.get(i) is None or passed[i] != (marked.get(i) == 0)
    ]
    if wrong:
        raise IngestionError(
            f"Table {table!r}: the Spark validation marked other rows than Great "
            f"Expectations counted ({'; '.join(wrong)}). Nothing was committed. "
            "This is a bug in credit-engine (a check's Spark condition); please "
            "report it, and ingest with --engine duckdb meanwhile."
        )
