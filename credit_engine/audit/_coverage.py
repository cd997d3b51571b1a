"""The chain covers the business tables: digests of rows recorded in audit entries.

An edit of the ``overrides``, ``api_keys``, ``rating_runs`` or ``decisions``
tables made outside the engine (an override's tier changed, an override
inserted without its entry, a key's role raised to ``admin``, a stored decision
altered) must show in :meth:`AuditLog.verify <credit_engine.audit.AuditLog.verify>`.
So every change the engine makes to one of those rows is logged with a digest
of the row as the database holds it after the change, in the same transaction:

* an override, API key or rating run: ``covers.rows`` = ``[{"table", "id",
  "columns", "digest"}]``, the digest being SHA-256 of the canonical JSON of
  ``{column: value}`` over ``columns`` (every column of the table when the
  entry was written, except ``api_keys.last_used_at``, which the API touches
  without an entry);
* a rating run's decisions: ``covers.decision_sets`` = ``[{"run_id",
  "columns", "count", "digest"}]``, a rolling SHA-256 over the row digests of
  the run's decisions ordered by USCC (one entry for 100,000 rows).

:func:`check_coverage` replays those expectations (the last entry about a row
wins) against the tables: a row that differs, one without any entry once
coverage has begun, and one that was covered but is gone are all reported.
Rows that existed before coverage began (stores from before this release) are
recorded once by a ``coverage_baseline`` entry (:func:`baseline_payload`).

Values are canonicalised as the chain does: dates ISO, instants
:func:`~credit_engine.audit.iso_utc`, JSON columns decoded, non-finite floats
as strings; everyone holding a copy of the tables can recompute a digest with
the standard library.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select

from credit_engine.audit._chain import canonical_json, iso_utc
from credit_engine.store import api_keys, decisions, overrides, rating_runs

__all__ = [
    "BASELINE_KIND",
    "COVERED_TABLES",
    "CoverageCheck",
    "baseline_payload",
    "covers",
    "decision_set",
    "row_coverage",
    "row_digest",
    "uncovered_rows_exist",
]

COVERED_TABLES: dict[str, tuple[Table, str, tuple[str, ...]]] = {
    "overrides": (overrides, "override_id", ()),
    "api_keys": (api_keys, "key_id", ("last_used_at",)),
    "rating_runs": (rating_runs, "run_id", ()),
}
"""Table name to (table, key column, columns left out of the digest)."""

BASELINE_KIND = "coverage_baseline"
"""Kind of the entry that records the rows written before coverage began."""

_DECISIONS_EXCLUDED: tuple[str, ...] = ()
_CHUNK = 20_000


def _canonical(value: Any) -> Any:  # noqa: PLR0911 - one return per type
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return iso_utc(aware)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def row_digest(row: Mapping[Any, Any], columns: Sequence[str]) -> str:
    """Return the SHA-256 of a row's canonical JSON over ``columns``.

    Examples
    --------
    >>> row_digest({"tier": "D", "effective_from": dt.date(2026, 1, 5)},
    ...            ["effective_from", "tier"])[:16]
    'cbb52de0bf85cbdc'
    """
    content = {c: _canonical(row[c]) for c in columns}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _columns(table: Table, excluded: Iterable[str]) -> list[str]:
    skip = set(excluded)
    return [c.name for c in table.c if c.name not in skip]


def row_coverage(conn: Connection, table_name: str, key: int) -> dict[str, Any]:
    """Digest one row of a covered table as the transaction of ``conn`` sees it.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        The connection of the transaction that just wrote the row.
    table_name : {"overrides", "api_keys", "rating_runs"}
        The table.
    key : int
        The row's id.

    Returns
    -------
    dict
        ``{"table", "id", "columns", "digest"}`` for ``covers.rows``.
    """
    table, key_column, excluded = COVERED_TABLES[table_name]
    columns = _columns(table, excluded)
    row = conn.execute(select(table).where(table.c[key_column] == key)).mappings().one()
    return {
        "table": table_name,
        "id": int(key),
        "columns": columns,
        "digest": row_digest(row, columns),
    }


def _decisions_digest(
    conn: Connection, run_id: int, columns: Sequence[str]
) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    stmt = (
        select(*(decisions.c[c] for c in columns))
        .where(decisions.c.run_id == run_id)
        .order_by(decisions.c.uscc)
        .execution_options(yield_per=_CHUNK)
    )
    for row in conn.execute(stmt).mappings():
        digest.update(row_digest(row, columns).encode("ascii") + b"\n")
        count += 1
    return count, digest.hexdigest()


def decision_set(conn: Connection, run_id: int) -> dict[str, Any]:
    """Digest every decision of one rating run (rolling SHA-256, by USCC).

    Returns
    -------
    dict
        ``{"run_id", "columns", "count", "digest"}`` for ``covers.decision_sets``.
    """
    columns = _columns(decisions, _DECISIONS_EXCLUDED)
    count, digest = _decisions_digest(conn, run_id, columns)
    return {"run_id": int(run_id), "columns": columns, "count": count,
            "digest": digest}  # fmt: skip


def covers(
    rows: Sequence[Mapping[str, Any]] = (),
    decision_sets: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Return the ``covers`` member of an entry's payload."""
    out: dict[str, Any] = {"rows": [dict(r) for r in rows]}
    if decision_sets:
        out["decision_sets"] = [dict(d) for d in decision_sets]
    return out


def _ids(conn: Connection, table_name: str) -> list[int]:
    table, key_column, _ = COVERED_TABLES[table_name]
    column = table.c[key_column]
    return [int(v) for v in conn.execute(select(column).order_by(column)).scalars()]


def uncovered_rows_exist(conn: Connection) -> bool:
    """Whether any covered table holds a row (a store that needs a baseline)."""
    for table, key_column, _ in COVERED_TABLES.values():
        if conn.execute(select(table.c[key_column]).limit(1)).first() is not None:
            return True
    return False


def baseline_payload(conn: Connection) -> dict[str, Any]:
    """Digest every existing covered row: the payload of a ``coverage_baseline``.

    Written once, when a store whose rows predate coverage is first written to
    by this release (see :meth:`AuditLog.ensure_coverage
    <credit_engine.audit.AuditLog.ensure_coverage>`).
    """
    rows = [
        row_coverage(conn, name, key)
        for name in COVERED_TABLES
        for key in _ids(conn, name)
    ]
    sets = [decision_set(conn, run_id) for run_id in _ids(conn, "rating_runs")]
    return {
        "note": "rows recorded before the audit log covered the tables",
        "covers": covers(rows, sets),
    }


# ----------------------------------------------------------------- checking
@dataclass
class _Expected:
    seq: int
    columns: list[str]
    digest: str
    count: int | None = None


@dataclass
class CoverageCheck:
    """Collects what the entries say the tables hold, then compares.

    Feed it every entry in ``seq`` order (:meth:`see`), then call
    :meth:`problems` with a connection to the same snapshot.
    """

    rows: dict[tuple[str, int], _Expected] = field(default_factory=dict)
    sets: dict[int, _Expected] = field(default_factory=dict)
    started_at: int | None = None
    malformed: list[str] = field(default_factory=list)

    def see(self, seq: int, kind: str, payload: Any) -> None:
        """Record the expectations of one entry (if it covers anything)."""
        if not isinstance(payload, Mapping):
            return
        cov = payload.get("covers")
        if cov is None:
            return
        if kind == BASELINE_KIND and self.started_at is not None:
            self.malformed.append(
                f"seq {seq}: a coverage baseline after coverage began at seq "
                f"{self.started_at}; the rows it lists were not audited when written "
                "(audit_head.coverage_started was reset outside the engine?)"
            )
        try:
            for r in cov.get("rows", []):
                key = (str(r["table"]), int(r["id"]))
                self.rows[key] = _Expected(seq, list(r["columns"]), str(r["digest"]))
            for d in cov.get("decision_sets", []):
                self.sets[int(d["run_id"])] = _Expected(
                    seq, list(d["columns"]), str(d["digest"]), int(d["count"])
                )
        except (AttributeError, KeyError, TypeError, ValueError):
            self.malformed.append(f"seq {seq}: its 'covers' record is malformed")
            return
        if self.started_at is None:
            self.started_at = seq

    def problems(self, conn: Connection, *, decisions_too: bool = True) -> list[str]:
        """Compare the tables read through ``conn`` with the expectations."""
        out = list(self.malformed)
        for name, (table, key_column, _) in COVERED_TABLES.items():
            present: set[int] = set()
            result = conn.execute(select(table).order_by(table.c[key_column]))
            for row in result.mappings():
                key = int(row[key_column])
                present.add(key)
                out.extend(self._check_row(name, key, row))
            for (t, key), exp in sorted(self.rows.items()):
                if t == name and key not in present:
                    out.append(
                        f"{_label(name, key)} is covered by seq {exp.seq} but is "
                        "missing from the table (deleted outside the engine)"
                    )
        if decisions_too:
            out.extend(self._check_sets(conn))
        return out

    def _check_row(self, name: str, key: int, row: Mapping[Any, Any]) -> list[str]:
        exp = self.rows.get((name, key))
        if exp is None:
            if self.started_at is None:
                return []  # coverage has not begun on this store yet
            return [
                f"{_label(name, key)} has no audit entry (inserted outside the engine)"
            ]
        missing = [c for c in exp.columns if c not in row]
        if missing:
            return [
                f"{_label(name, key)}: columns {missing} recorded at seq {exp.seq} "
                "no longer exist"
            ]
        if row_digest(row, exp.columns) != exp.digest:
            return [
                f"{_label(name, key)} differs from its state recorded at seq "
                f"{exp.seq} (edited outside the engine)"
            ]
        return []

    def _check_sets(self, conn: Connection) -> list[str]:
        out: list[str] = []
        counted = conn.execute(
            select(rating_runs.c.run_id).order_by(rating_runs.c.run_id)
        ).scalars()
        present = {int(r) for r in counted}
        for run_id, exp in sorted(self.sets.items()):
            if run_id not in present:
                continue  # the run row's own check reports it missing
            try:
                count, digest = _decisions_digest(conn, run_id, exp.columns)
            except KeyError:
                out.append(
                    f"decisions of rating run {run_id}: columns recorded at seq "
                    f"{exp.seq} no longer exist"
                )
                continue
            if (count, digest) != (exp.count, exp.digest):
                out.append(
                    f"decisions of rating run {run_id} differ from the digest "
                    f"recorded at seq {exp.seq} ({count} rows now, {exp.count} "
                    "then; edited, inserted or deleted outside the engine)"
                )
        if self.started_at is not None:
            stray = conn.execute(
                select(decisions.c.run_id).distinct().order_by(decisions.c.run_id)
            ).scalars()
            for run_id in stray:
                if int(run_id) not in self.sets:
                    out.append(
                        f"decisions of rating run {run_id} have no audit entry "
                        "(inserted outside the engine)"
                    )
        return out


def _label(table: str, key: int) -> str:
    names = {"overrides": "override", "api_keys": "API key",
             "rating_runs": "rating run"}  # fmt: skip
    return f"{names.get(table, table)} {key}"
