"""Outcome labels: the only code allowed to look past ``as_of``.

A row ``(uscc, as_of)`` is labelled 1 when any adverse event of the model spec
(customs dishonest status, a tax D or major violation, SAFE class C, an
abnormal- or serious-list entry...) takes effect in ``(as_of, as_of + horizon]``,
as the lake finally knows it: the latest version of every record, whenever it
arrived (outcomes are judged with hindsight, the one exception to the rule of
:mod:`credit_engine.point_in_time`). Rows whose outcome window runs past the lake's
observation end are incomplete and dropped. Import-linter forbids the feature
engine, decisioning and the API from importing this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from credit_engine.data import RecordKind, SourceContract
from credit_engine.exceptions import ConfigurationError
from credit_engine.features import Sources, check_expression
from credit_engine.point_in_time import cutoff_of, latest_versions, sql_literal
from credit_engine.training._spec import EventRule, LabelSpec

__all__ = ["attach_labels", "event_sql", "lake_observation_end", "observation_end"]


def event_sql(rule: EventRule, contract: SourceContract) -> str:
    """Return the SQL selecting ``uscc, event_ts, code`` of one event rule's events.

    For state tables with ``starts_only``, a record is an event only if the
    enterprise's previous spell was not adverse or ended before it started.
    """
    latest = latest_versions(contract)
    code = sql_literal(rule.code)
    if contract.kind is RecordKind.EVENT:
        return (
            f"SELECT uscc, event_ts, {code} AS code FROM {latest} AS t "
            f"WHERE ({rule.when})"
        )
    if not rule.starts_only:
        return (
            f"SELECT uscc, effective_from AS event_ts, {code} AS code "
            f"FROM {latest} AS t WHERE ({rule.when})"
        )
    return (
        f"SELECT uscc, effective_from AS event_ts, {code} AS code FROM ("
        f"SELECT uscc, effective_from, coalesce(({rule.when}), false) AS hit, "
        "lag(coalesce((" + rule.when + "), false)) OVER w AS prev_hit, "
        "lag(effective_to) OVER w AS prev_to "
        f"FROM {latest} AS t WINDOW w AS (PARTITION BY uscc "
        "ORDER BY effective_from, source_record_id)) "
        "WHERE hit AND (prev_hit IS NULL OR NOT prev_hit OR prev_to < effective_from)"
    )


def _check_rules(spec: LabelSpec, contracts: Mapping[str, SourceContract]) -> None:
    unknown = sorted({r.table for r in spec.events} - set(contracts))
    if unknown:
        raise ConfigurationError(
            f"The label definition reads unknown tables {unknown}; known tables: "
            f"{', '.join(sorted(contracts))}."
        )
    for rule in spec.events:
        contract = contracts[rule.table]
        check_expression(
            rule.when, contract.column_names, f"label event {rule.code!r} when"
        )


def observation_end(
    spec: LabelSpec, contracts: Mapping[str, SourceContract], sources: Sources, con: Any
) -> dt.date | None:
    """Last day the lake has outcome records for (latest ``ingested_at``, UTC)."""
    tables = sorted({r.table for r in spec.events})
    sources.register(con, tables)
    union = " UNION ALL ".join(f"SELECT max(ingested_at) AS m FROM {t}" for t in tables)
    row = con.execute(f"SELECT max(m) FROM ({union})").fetchone()
    if row is None or row[0] is None:
        return None
    value = row[0]
    return value.date() if isinstance(value, dt.datetime) else value


def lake_observation_end(
    spec: LabelSpec, contracts: Mapping[str, SourceContract], sources: Sources
) -> dt.date | None:
    """Last day the lake has outcome records of ``spec``'s event tables for.

    :func:`observation_end` on a connection of its own: outcome windows ending
    after this day are not complete yet.

    Returns
    -------
    datetime.date or None
        ``None`` when the event tables hold no record.
    """
    from credit_engine.features._engine import connect

    _check_rules(spec, contracts)
    con = connect()
    try:
        return observation_end(spec, contracts, sources, con)
    finally:
        con.close()


def attach_labels(
    spine: pd.DataFrame,
    spec: LabelSpec,
    *,
    contracts: Mapping[str, SourceContract],
    sources: Sources,
    observed_until: dt.date | None = None,
) -> pd.DataFrame:
    """Label each ``(uscc, as_of)`` of ``spine``; drop rows with incomplete windows.

    Parameters
    ----------
    spine : pandas.DataFrame
        Columns ``uscc`` and ``as_of`` (dates), plus anything else (kept).
    spec : LabelSpec
        Event rules and horizon.
    contracts : mapping
        Record contracts by table name.
    sources : Sources
        The lake (or frames) to read outcomes from.
    observed_until : datetime.date, optional
        Last day outcomes are complete; default: the lake's latest ingestion.

    Returns
    -------
    pandas.DataFrame
        The kept spine rows in their order, with ``label`` (0/1),
        ``event_date`` (first adverse event in the window) and ``event_code``.
    """
    from credit_engine.features._engine import connect

    _check_rules(spec, contracts)
    con = connect()
    try:
        end = observed_until or observation_end(spec, contracts, sources, con)
        sources.register(con, sorted({r.table for r in spec.events}))
        frame = spine.reset_index(drop=True).copy()
        frame["_row"] = range(len(frame))
        keys = pa.table(
            {
                "_row": pa.array(frame["_row"], pa.int64()),
                "uscc": pa.array(frame["uscc"].astype(str), pa.string()),
                "as_of": pa.array(pd.to_datetime(frame["as_of"]).dt.date, pa.date32()),
            }
        )
        con.register("label_spine", keys)
        events = " UNION ALL ".join(
            event_sql(r, contracts[r.table]) for r in spec.events
        )
        # The outcome window opens where the rating's knowledge ends: at the cutoff.
        start = cutoff_of("s.as_of")
        sql = (
            f"WITH ev AS ({events}) "
            "SELECT s._row, min(ev.event_ts) AS event_ts, "
            "arg_min(ev.code, ev.event_ts) AS event_code "
            "FROM label_spine AS s JOIN ev ON ev.uscc = s.uscc "
            f"AND ev.event_ts >= {start} "
            f"AND ev.event_ts < {start} + INTERVAL '{spec.horizon_days}' DAY "
            "GROUP BY s._row"
        )
        hits = con.sql(sql).to_arrow_table().to_pandas()
    finally:
        con.close()
    frame = frame.merge(hits, on="_row", how="left")
    frame["label"] = frame["event_ts"].notna().astype("int64")
    frame["event_date"] = pd.to_datetime(frame.pop("event_ts"), utc=True).dt.date
    if end is not None:
        window_end = pd.to_datetime(frame["as_of"]) + pd.Timedelta(
            days=spec.horizon_days
        )
        frame = frame[window_end.dt.date <= end]
    return frame.drop(columns="_row").reset_index(drop=True)
