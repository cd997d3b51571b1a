"""SQL of the point-in-time rule: known records, latest versions, spells in force."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from credit_engine.data import RecordKind, SourceContract
from credit_engine.exceptions import ConfigurationError
from credit_engine.point_in_time._cutoff import CUTOFF_COLUMN, Cutoff, uscc_filter

__all__ = [
    "FIRST_KNOWN",
    "WATERMARK_COLUMNS",
    "first_known",
    "in_force",
    "known",
    "known_enterprise",
    "latest_versions",
    "spell_in_force",
    "watermark",
    "watermark_day",
]

FIRST_KNOWN = "first_known"
"""Column of :func:`first_known`: when an enterprise's first record arrived."""

WATERMARK_COLUMNS = ("watermark", "latest_time", "known_rows")
"""Columns of :func:`watermark`: the latest knowledge time, the latest valid time
and the number of record versions known."""

_KNOWLEDGE_TIME = "ingested_at"
_VALID_TO = "effective_to"


def _record_key(contract: SourceContract) -> tuple[str, ...]:
    """Return the columns identifying a record (its versions share them)."""
    return contract.key or ("source_record_id",)


def _all(parts: Iterable[str | None]) -> str:
    kept = [f"({p})" for p in parts if p]
    return " AND ".join(kept) if kept else "true"


def _latest_version(partition: Sequence[str], alias: str) -> str:
    """QUALIFY clause keeping the latest version (largest ``ingested_at``)."""
    return (
        f"QUALIFY row_number() OVER (PARTITION BY {', '.join(partition)} "
        f"ORDER BY {alias}{_KNOWLEDGE_TIME} DESC) = 1"
    )


def known(
    contract: SourceContract,
    cutoff: Cutoff,
    columns: Iterable[str] = (),
    *,
    window_days: int | None = None,
    where: str | None = None,
    usccs: Sequence[str] | None = None,
    keys_from: str | None = None,
    every_version: bool = False,
) -> str:
    """Select the records of a contract table known at ``cutoff``.

    A record is known if ``ingested_at < cutoff`` and its time column
    (``event_ts`` or ``effective_from``, from the contract's kind) ``< cutoff``.
    Of a versioned record (same contract key) only the latest known version is
    kept, unless ``every_version``.

    Parameters
    ----------
    contract : SourceContract
        The table (read under its contract name, aliased ``t``).
    cutoff : Cutoff
        :meth:`Cutoff.end_of` a rating date, or :meth:`Cutoff.per_spine_row`:
        then the spine is joined (aliased ``s``) on ``uscc`` and the latest
        version is taken per spine row (per ``row_key`` and ``as_of`` when the
        cutoff has a row key).
    columns : iterable of str
        Columns to return besides the key (and the spine's ``uscc, as_of,
        _cutoff``).
    window_days : int, optional
        Keep only records whose time column is ``>= cutoff - window_days``.
    where : str, optional
        Extra condition on the rows scanned (on ``t.``), before the latest
        version is taken. It must not depend on columns a later version may
        change, unless ``keys_from`` limits the versions read to those keys.
    usccs : sequence of str, optional
        Read only these enterprises.
    keys_from : str, optional
        A table or CTE with the key columns: only those records are read.
    every_version : bool, default=False
        Keep every known version (for instance to find keys that *were* in some
        state), not only the latest.

    Returns
    -------
    str
        A SELECT of ``[s.uscc, s.as_of, s._cutoff,]`` the key and ``columns``
        (``s.<row_key>`` in place of ``s.uscc`` when the cutoff has a row key).

    Examples
    --------
    >>> import datetime as dt
    >>> from credit_engine.config import Settings
    >>> from credit_engine.data import load_contracts
    >>> bills = load_contracts(Settings().sources_dir)["customs_tax_bill"]
    >>> print(known(bills, Cutoff.end_of(dt.date(2025, 6, 30)), ["due_date"]))
    ... # doctest: +NORMALIZE_WHITESPACE
    SELECT t.uscc, t.source_record_id, t.due_date FROM customs_tax_bill AS t
    WHERE (t.ingested_at < TIMESTAMPTZ '2025-07-01 00:00:00+00:00')
    AND (t.event_ts < TIMESTAMPTZ '2025-07-01 00:00:00+00:00')
    QUALIFY row_number() OVER (PARTITION BY t.uscc, t.source_record_id
    ORDER BY t.ingested_at DESC) = 1
    """
    per_row = cutoff.spine is not None
    at = cutoff.on_spine()
    key = [k for k in _record_key(contract) if not (per_row and k == "uscc")]
    # The spine row: (uscc, as_of), or (row key, as_of).
    entity = [f"s.{cutoff.row_key or 'uscc'}", "s.as_of"]
    selected = [*entity, f"s.{CUTOFF_COLUMN}"] if per_row else []
    selected += [f"t.{c}" for c in dict.fromkeys([*key, *columns])]
    time = contract.time_column
    condition = _all(
        (
            f"t.{_KNOWLEDGE_TIME} < {at.sql}",
            f"t.{time} < {at.sql}",
            (
                f"t.{time} >= {at.days_before(window_days)}"
                if window_days is not None
                else None
            ),
            uscc_filter("t.uscc", usccs),
            where,
        )
    )
    source = f"{contract.name} AS t"
    if per_row:
        source = f"{cutoff.spine} AS s JOIN {source} ON t.uscc = s.uscc"
    if keys_from is not None:
        on = " AND ".join(f"k.{c} = t.{c}" for c in _record_key(contract))
        source += f" SEMI JOIN {keys_from} AS k ON {on}"
    sql = f"SELECT {', '.join(selected)} FROM {source} WHERE {condition}"
    if not contract.is_versioned or every_version:
        return sql
    partition = (entity if per_row else []) + [f"t.{k}" for k in key]
    return f"{sql} {_latest_version(partition, 't.')}"


def latest_versions(contract: SourceContract) -> str:
    """Return a relation of the latest version of every record, whenever it arrived.

    No cutoff: this is hindsight, for outcome labels only. An unversioned table
    is returned as is (its name).
    """
    if not contract.is_versioned:
        return contract.name
    partition = [f"t.{k}" for k in _record_key(contract)]
    return f"(SELECT * FROM {contract.name} AS t {_latest_version(partition, 't.')})"


def spell_in_force(cutoff: Cutoff) -> str:
    """Condition that a known spell (latest version) is still in force at ``cutoff``.

    It started before the cutoff (:func:`known` ensures it) and had not ended
    by it: ``effective_to`` is null or ``>= cutoff``. Unqualified columns.
    """
    return f"{_VALID_TO} IS NULL OR {_VALID_TO} >= {cutoff.sql}"


def in_force(
    contract: SourceContract, relation: str, cutoff: Cutoff, columns: Iterable[str]
) -> str:
    """Select the one spell in force per enterprise among known spells.

    When several are in force (the closing version of the older one has not
    arrived), the one that started last wins; ties go to the larger record id.

    Parameters
    ----------
    contract : SourceContract
        The state table the spells come from (for its record key).
    relation : str
        Table or CTE of known spells (latest versions, :func:`known`) with the
        key, ``effective_from``, ``effective_to`` and ``columns``.
    cutoff : Cutoff
        The cutoff the spells were selected at.
    columns : iterable of str
        Columns to return besides the key and ``effective_from`` /
        ``effective_to``.

    Returns
    -------
    str
        A SELECT of the key, ``effective_from``, ``columns`` and
        ``effective_to``, one row per enterprise (per spine row with a
        per-row cutoff).

    Raises
    ------
    ConfigurationError
        If ``contract`` is not a state table.
    """
    if contract.kind is not RecordKind.STATE:
        raise ConfigurationError(
            f"in_force needs a state table (spells with effective_from and "
            f"effective_to); {contract.name!r} is an {contract.kind.value} table."
        )
    entity = ["uscc", "as_of"] if cutoff.spine is not None else ["uscc"]
    record = [k for k in _record_key(contract) if k not in entity]
    cols = ", ".join(dict.fromkeys([*entity, *record, "effective_from", *columns]))
    order = ", ".join(f"{c} DESC" for c in ["effective_from", *record])
    return (
        f"SELECT {cols}, {_VALID_TO} FROM {relation} "
        f"WHERE {spell_in_force(cutoff)} "
        f"QUALIFY row_number() OVER (PARTITION BY {', '.join(entity)} "
        f"ORDER BY {order}) = 1"
    )


def first_known(relation: str, *, usccs: Sequence[str] | None = None) -> str:
    """Select, per enterprise of ``relation``, when its first record arrived.

    Returns
    -------
    str
        A SELECT of ``uscc`` and :data:`FIRST_KNOWN` (the least ``ingested_at``).
    """
    where = uscc_filter("uscc", usccs)
    return (
        f"SELECT uscc, min({_KNOWLEDGE_TIME}) AS {FIRST_KNOWN} FROM {relation}"
        + (f" WHERE {where}" if where else "")
        + " GROUP BY uscc"
    )


def known_enterprise(first_known_column: str, cutoff: str) -> str:
    """Condition that an enterprise was known to a source at ``cutoff``.

    Parameters
    ----------
    first_known_column : str
        The :data:`FIRST_KNOWN` column of :func:`first_known`, qualified.
    cutoff : str
        SQL of the cutoff instant (e.g. :func:`cutoff_of` a date column).
    """
    return f"({first_known_column} < {cutoff})"


def _known_condition(contract: SourceContract, cutoff: Cutoff | None) -> str:
    if cutoff is None:
        return "true"
    time = contract.time_column
    return _all((f"t.{_KNOWLEDGE_TIME} < {cutoff.sql}", f"t.{time} < {cutoff.sql}"))


def watermark(contract: SourceContract, cutoff: Cutoff | None = None) -> str:
    """Select what a table's feed had told the zone by ``cutoff``: its watermark.

    Over every version of every record known at the cutoff (the condition of
    :func:`known`, no latest-version step): the latest knowledge time, the
    latest valid time (``event_ts`` or ``effective_from``) and the number of
    versions. The watermark is the whole table's, never one enterprise's: the
    silence of a feed is judged by the feed, not by one enterprise's records.

    Parameters
    ----------
    contract : SourceContract
        The table (read under its contract name, aliased ``t``).
    cutoff : Cutoff, optional
        :meth:`Cutoff.end_of` a rating date; ``None`` for every record of the
        table as it stands.

    Returns
    -------
    str
        A SELECT of one row with :data:`WATERMARK_COLUMNS` (``watermark`` and
        ``latest_time`` null when no record is known).

    Examples
    --------
    >>> import datetime as dt
    >>> from credit_engine.config import Settings
    >>> from credit_engine.data import load_contracts
    >>> bills = load_contracts(Settings().sources_dir)["customs_tax_bill"]
    >>> print(watermark(bills, Cutoff.end_of(dt.date(2025, 6, 30))))
    ... # doctest: +NORMALIZE_WHITESPACE
    SELECT max(t.ingested_at) AS watermark, max(t.event_ts) AS latest_time,
    count(*) AS known_rows FROM customs_tax_bill AS t
    WHERE (t.ingested_at < TIMESTAMPTZ '2025-07-01 00:00:00+00:00')
    AND (t.event_ts < TIMESTAMPTZ '2025-07-01 00:00:00+00:00')
    """
    if cutoff is not None and cutoff.spine is not None:
        raise ConfigurationError(
            "watermark needs one cutoff for the whole table (Cutoff.end_of a "
            "rating date); a per-spine-row cutoff has no single watermark."
        )
    name, time = WATERMARK_COLUMNS[:2]
    return (
        f"SELECT max(t.{_KNOWLEDGE_TIME}) AS {name}, "
        f"max(t.{contract.time_column}) AS {time}, "
        f"count(*) AS {WATERMARK_COLUMNS[2]} FROM {contract.name} AS t "
        f"WHERE {_known_condition(contract, cutoff)}"
    )


def watermark_day(contract: SourceContract, cutoff: Cutoff) -> str:
    """Scalar SQL: the UTC date of the table's watermark at ``cutoff``.

    ``NULL`` when nothing of the table is known yet (then no comparison with
    it holds: a feed that has said nothing is evidence of nothing).

    Examples
    --------
    >>> import datetime as dt
    >>> from credit_engine.config import Settings
    >>> from credit_engine.data import load_contracts
    >>> pens = load_contracts(Settings().sources_dir)["customs_penalty"]
    >>> watermark_day(pens, Cutoff.end_of(dt.date(2025, 6, 30)))[:53]
    "(SELECT CAST(timezone('UTC', watermark) AS DATE) FROM"
    """
    return (
        f"(SELECT CAST(timezone('UTC', {WATERMARK_COLUMNS[0]}) AS DATE) "
        f"FROM ({watermark(contract, cutoff)}) AS w)"
    )
