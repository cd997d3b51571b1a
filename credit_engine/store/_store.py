"""The operational store: rating runs, decisions and overrides over SQLAlchemy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import pandas as pd
from sqlalchemy import URL, Connection, CursorResult, Engine, func, select, update
from sqlalchemy.exc import DBAPIError, StatementError

from credit_engine.exceptions import OverrideError, OverrideNotFoundError, StoreError
from credit_engine.store._decisions import RatingRun, decision_rows, run_row
from credit_engine.store._engine import (
    create_store_engine,
    normalize_url,
    safe_url,
    sqlite_file,
    translate_errors,
)
from credit_engine.store._frames import (
    DECISION_DTYPES,
    OVERRIDE_DTYPES,
    RUN_DTYPES,
    to_frame,
)
from credit_engine.store._overrides import (
    end_of_day,
    in_force_query,
    one_in_force_query,
    override_row,
    require_text,
)
from credit_engine.store._queries import (
    as_date,
    check_override_refs,
    check_query,
    count_overrides,
    decision_columns,
    latest_run_id,
    latest_runs,
    migration_cells,
    rating_dates,
    select_decisions,
    uscc_chunks,
)
from credit_engine.store._schema import TIERS, metadata, overrides, rating_runs
from credit_engine.store._schema import decisions as decisions_table

if TYPE_CHECKING:
    from credit_engine.config import Settings

__all__ = ["OperationalStore"]

_INSERT_CHUNK = 10_000


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table has an integer key
        raise StoreError("the database returned no primary key; this is a bug")
    return int(key[0])


class OperationalStore:
    """Rating runs, their decisions and manual overrides, in SQLite or PostgreSQL.

    The same code runs on both backends through SQLAlchemy Core. Every write is
    one transaction; every query has a deterministic order. Instants are stored
    and returned as timezone-aware UTC, rating dates as ``DATE``.

    Parameters
    ----------
    url : str
        SQLAlchemy URL: ``sqlite:////abs/path/store.db``, ``sqlite://`` (memory)
        or ``postgresql://user@host:5432/db`` (driven by psycopg 3; the
        ``postgresql+psycopg://`` spelling is accepted too).
    echo : bool, default=False
        Log every SQL statement.

    Attributes
    ----------
    engine : sqlalchemy.Engine
        The engine (later stages add their own tables to :data:`metadata`).
    url : sqlalchemy.engine.URL
        The normalized URL.

    Raises
    ------
    ConfigurationError
        If the URL cannot be parsed or names an unsupported database.

    Examples
    --------
    >>> import datetime as dt
    >>> with OperationalStore("sqlite://") as store:
    ...     store.create_schema()
    ...     oid = store.add_override(
    ...         "91110000600037341L", "D", "customs fraud case 2025-117", "officer.li",
    ...         dt.date(2025, 9, 1), created_at=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
    ...     )
    ...     store.overrides_in_force(dt.date(2025, 9, 30))[["uscc", "tier"]]
                     uscc tier
    0  91110000600037341L    D
    """

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine: Engine = create_store_engine(self.url, echo=echo)

    @classmethod
    def from_settings(cls, settings: Settings, *, echo: bool = False) -> Self:
        """Open the store named by ``settings.database_url`` and create its schema.

        Parameters
        ----------
        settings : credit_engine.config.Settings
            Engine settings (``CREDIT_ENGINE_DATABASE_URL``; default: a SQLite
            file under the engine home).
        echo : bool, default=False
            Log every SQL statement.

        Returns
        -------
        OperationalStore
            Ready to use; the folder of a SQLite file is created if needed.
        """
        store = cls(settings.database_url, echo=echo)
        path = sqlite_file(store.url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        store.create_schema()
        return store

    def __repr__(self) -> str:
        return f"OperationalStore({safe_url(self.url)!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.dispose()

    def create_schema(self) -> None:
        """Create the missing tables and indexes (idempotent).

        Raises
        ------
        StoreError
            If the database cannot be reached or refuses the DDL.
        """
        with translate_errors(self.engine, "create the schema"):
            metadata.create_all(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection; the store reconnects if used again."""
        self.engine.dispose()

    # ------------------------------------------------------------------ runs
    def record_run(
        self,
        run: RatingRun,
        decisions: pd.DataFrame | Sequence[Mapping[str, Any]],
    ) -> int:
        """Record a rating run and all its decisions in one transaction.

        Parameters
        ----------
        run : RatingRun
            What the run was (date, timing, actor, model, policy, rule sets).
        decisions : pandas.DataFrame or sequence of mappings
            One row per enterprise with the columns ``uscc``, ``tier``, ``grade``,
            ``pd``, ``score``, ``in_default``, ``green_channel``, ``decided_by``,
            ``model_tier``, ``inspection_rate_factor``, ``joint_punishment``,
            ``joint_incentive``, ``measures``, ``reasons`` (lists of codes) and
            ``facts`` (list of dicts); optionally ``statutory_ceiling`` and
            ``override_id``. ``as_of``, ``model_name``, ``model_version``,
            ``policy_name``, ``policy_version`` and ``rule_sets`` are taken from
            ``run`` unless the frame has them (``as_of`` must then match).

        Returns
        -------
        int
            The new ``run_id``. Recording another run for the same ``as_of``
            supersedes this one in every query.

        Raises
        ------
        StoreError
            If the decisions fail validation (all problems are listed; nothing is
            written) or the database refuses the rows (e.g. an ``override_id``
            that does not exist).
        """
        if not isinstance(run, RatingRun):
            raise StoreError(
                f"run must be a RatingRun, got {type(run).__name__}; build one with "
                "credit_engine.store.RatingRun(...)."
            )
        rows = decision_rows(run, decisions)
        with (
            translate_errors(self.engine, f"record the rating run of {run.as_of}"),
            self.engine.begin() as conn,
        ):
            check_override_refs(conn, rows)
            try:
                result = conn.execute(rating_runs.insert(), run_row(run, len(rows)))
                run_id = _new_id(result)
                for start in range(0, len(rows), _INSERT_CHUNK):
                    chunk = rows[start : start + _INSERT_CHUNK]
                    for row in chunk:
                        row["run_id"] = run_id
                    conn.execute(decisions_table.insert(), chunk)
            except (TypeError, ValueError, StatementError) as exc:
                # Raised while encoding parameters (JSON in the driver for
                # PostgreSQL, in SQLAlchemy for SQLite); the transaction rolls back.
                cause = exc.orig if isinstance(exc, StatementError) else exc
                if isinstance(exc, DBAPIError) or not isinstance(
                    cause, TypeError | ValueError
                ):
                    raise
                raise StoreError(
                    f"Cannot record the rating run of {run.as_of}: a value could not "
                    f"be encoded ({cause}). JSON columns (facts, summary) take str, "
                    "int, float, bool, None, lists and dicts: convert dates and "
                    "numpy scalars first. Nothing was written."
                ) from exc
        return run_id

    def rating_dates(self) -> list[dt.date]:
        """Return every rating date with at least one run, oldest first.

        Returns
        -------
        list of datetime.date
        """
        with translate_errors(self.engine, "list rating dates"), self._read() as conn:
            return rating_dates(conn)

    def runs(self) -> pd.DataFrame:
        """Return every rating run, oldest ``run_id`` first.

        Returns
        -------
        pandas.DataFrame
            Columns ``run_id``, ``as_of``, ``started_at``, ``finished_at``,
            ``actor``, ``model_name``, ``model_version``, ``policy_name``,
            ``policy_version``, ``rule_sets``, ``lake_state``, ``n_rated``,
            ``summary``.
        """
        stmt = select(*(rating_runs.c[name] for name in RUN_DTYPES)).order_by(
            rating_runs.c.run_id
        )
        with translate_errors(self.engine, "list rating runs"), self._read() as conn:
            return to_frame(conn.execute(stmt).all(), RUN_DTYPES)

    # ------------------------------------------------------------- decisions
    def decisions_at(
        self,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None = None,
        tier: str | None = None,
        green_channel: bool | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Return the decisions of the latest run of ``as_of``, ordered by USCC.

        Parameters
        ----------
        as_of : datetime.date
            Rating date; its run with the highest ``run_id`` is used.
        usccs : sequence of str, optional
            Only these enterprises.
        tier : {"A", "B", "C", "D"}, optional
            Only this tier.
        green_channel : bool, optional
            Only enterprises with (``True``) or without (``False``) the green
            channel.
        limit : int, optional
            At most this many rows (paging).
        offset : int, default=0
            Skip this many rows first (paging).

        Returns
        -------
        pandas.DataFrame
            One row per decision with the columns of the ``decisions`` table
            (``decision_id``, ``run_id``, ``uscc``, ``as_of``, ``tier``, ...);
            ``measures``, ``reasons``, ``facts`` and ``rule_sets`` hold decoded
            lists and dicts.

        Raises
        ------
        NoRatingsError
            If no run was recorded for ``as_of`` (the message lists the dates
            that have one).
        StoreError
            If a filter or paging argument is invalid.
        """
        as_of = as_date(as_of, "as_of")
        check_query(tier, limit, offset)
        chunks = uscc_chunks(usccs)
        with translate_errors(self.engine, "read decisions"), self._read() as conn:
            rows = select_decisions(
                conn,
                latest_run_id(conn, as_of),
                chunks=chunks,
                tier=tier,
                green_channel=green_channel,
                limit=limit,
                offset=offset,
            )
        return to_frame(rows, DECISION_DTYPES)

    def latest_decision(self, uscc: str) -> dict[str, Any] | None:
        """Return the most recent decision on one enterprise, or ``None``.

        Only the latest run of each rating date counts; of those, the latest
        rating date wins.

        Parameters
        ----------
        uscc : str
            The enterprise.

        Returns
        -------
        dict or None
            Column name to value (dates as :class:`datetime.date`, JSON columns
            decoded), or ``None`` if the enterprise was never rated.
        """
        latest = latest_runs()
        stmt = (
            select(*decision_columns())
            .join(latest, decisions_table.c.run_id == latest.c.run_id)
            .where(decisions_table.c.uscc == uscc)
            .order_by(decisions_table.c.as_of.desc(), decisions_table.c.run_id.desc())
            .limit(1)
        )
        with translate_errors(self.engine, "read a decision"), self._read() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else dict(row._mapping)

    def decision_history(self, uscc: str) -> pd.DataFrame:
        """Return one enterprise's decisions, one per rating date, oldest first.

        Parameters
        ----------
        uscc : str
            The enterprise.

        Returns
        -------
        pandas.DataFrame
            The decision of the latest run of every rating date that rated the
            enterprise, with the columns of :meth:`decisions_at`; empty if it
            was never rated.
        """
        latest = latest_runs()
        stmt = (
            select(*decision_columns())
            .join(latest, decisions_table.c.run_id == latest.c.run_id)
            .where(decisions_table.c.uscc == uscc)
            .order_by(decisions_table.c.as_of)
        )
        with translate_errors(self.engine, "read a history"), self._read() as conn:
            return to_frame(conn.execute(stmt).all(), DECISION_DTYPES)

    def migration_matrix(self, from_date: dt.date, to_date: dt.date) -> pd.DataFrame:
        """Count enterprises by tier at ``from_date`` against tier at ``to_date``.

        Both dates use their latest run. The counting runs in the database (a
        join of the two runs' decisions), not in Python.

        Parameters
        ----------
        from_date, to_date : datetime.date
            Rating dates, each with at least one run.

        Returns
        -------
        pandas.DataFrame
            Integer counts; index ``from`` = A, B, C, D, ``new`` (rated only at
            ``to_date``); columns ``to`` = A, B, C, D, ``gone`` (rated only at
            ``from_date``).

        Raises
        ------
        NoRatingsError
            If either date has no run; the message lists the dates that do.
        """
        from_date = as_date(from_date, "from_date")
        to_date = as_date(to_date, "to_date")
        with translate_errors(self.engine, "compute migrations"), self._read() as conn:
            cells = migration_cells(
                conn, latest_run_id(conn, from_date), latest_run_id(conn, to_date)
            )
        matrix = pd.DataFrame(
            0,
            index=pd.Index([*TIERS, "new"], name="from"),
            columns=pd.Index([*TIERS, "gone"], name="to"),
            dtype="int64",
        )
        for from_tier, to_tier, count in cells:
            matrix.loc[from_tier, to_tier] = count
        return matrix

    def override_rate(self, as_of: dt.date) -> float:
        """Return the share of the latest run's decisions fixed by an override.

        Parameters
        ----------
        as_of : datetime.date
            Rating date.

        Returns
        -------
        float
            Decisions with ``decided_by == "OVERRIDE"`` over all decisions of the
            run; 0.0 for a run without decisions.

        Raises
        ------
        NoRatingsError
            If no run was recorded for ``as_of``.
        """
        as_of = as_date(as_of, "as_of")
        with translate_errors(self.engine, "count overrides"), self._read() as conn:
            total, overridden = count_overrides(conn, latest_run_id(conn, as_of))
        return float(overridden) / total if total else 0.0

    # ------------------------------------------------------------- overrides
    def add_override(  # noqa: PLR0917 - the call reads as the override's record
        self,
        uscc: str,
        tier: str,
        reason: str,
        actor: str,
        effective_from: dt.date,
        effective_to: dt.date | None = None,
        *,
        created_at: dt.datetime | None = None,
        connection: Connection | None = None,
    ) -> int:
        """Record a manual tier override for one enterprise.

        Parameters
        ----------
        uscc : str
            The enterprise (a valid GB 32100 code).
        tier : {"A", "B", "C", "D"}
            The tier to impose.
        reason : str
            Why (non-empty; shown to auditors).
        actor : str
            Who decided it (non-empty).
        effective_from : datetime.date
            First rating date it applies to.
        effective_to : datetime.date, optional
            First rating date it no longer applies to (exclusive end); ``None``
            means open-ended.
        created_at : datetime.datetime, optional
            When it was recorded (timezone-aware); default: now. An override only
            affects ratings of dates on or after the day it was created.
        connection : sqlalchemy.Connection, optional
            Write within this open transaction (e.g. the audit log's, so that
            the override and its audit entry commit together); default: a
            transaction of its own.

        Returns
        -------
        int
            The new ``override_id``.

        Raises
        ------
        InvalidUsccError
            If ``uscc`` is malformed.
        OverrideError
            If the tier is unknown, the reason or actor is empty, or
            ``effective_to`` is not after ``effective_from``.
        """
        row = override_row(
            uscc=uscc,
            tier=tier,
            reason=reason,
            actor=actor,
            effective_from=effective_from,
            effective_to=effective_to,
            created_at=created_at,
        )
        if connection is not None:
            with translate_errors(self.engine, f"add an override for {uscc}"):
                return _new_id(connection.execute(overrides.insert(), row))
        with (
            translate_errors(self.engine, f"add an override for {uscc}"),
            self.engine.begin() as conn,
        ):
            result = conn.execute(overrides.insert(), row)
            return _new_id(result)

    def revoke_override(
        self,
        override_id: int,
        actor: str,
        reason: str,
        *,
        revoked_at: dt.datetime | None = None,
    ) -> None:
        """Revoke an override; it stays stored so that past decisions stay explained.

        Parameters
        ----------
        override_id : int
            The override.
        actor : str
            Who revoked it (non-empty).
        reason : str
            Why (non-empty).
        revoked_at : datetime.datetime, optional
            When (timezone-aware, not before the override was created); default:
            now. The override no longer counts for rating dates on or after that
            day.

        Raises
        ------
        OverrideNotFoundError
            If no override has that id.
        OverrideError
            If ``actor`` or ``reason`` is empty, ``revoked_at`` is naive or before
            the override's creation, or the override was already revoked.
        """
        problems: list[str] = []
        require_text(actor, "actor", problems)
        require_text(reason, "reason", problems)
        if revoked_at is None:
            revoked_at = dt.datetime.now(dt.UTC)
        elif not isinstance(revoked_at, dt.datetime) or revoked_at.utcoffset() is None:
            problems.append(f"revoked_at must be timezone-aware, got {revoked_at!r}")
        if problems:
            raise OverrideError(
                f"Cannot revoke override {override_id}: " + "; ".join(problems) + "."
            )
        o = overrides.c
        with (
            translate_errors(self.engine, f"revoke override {override_id}"),
            self.engine.begin() as conn,
        ):
            current = conn.execute(
                select(o.created_at, o.revoked_at, o.revoked_by).where(
                    o.override_id == override_id
                )
            ).first()
            if current is None:
                raise OverrideNotFoundError(
                    f"No override with override_id={override_id!r}; list the "
                    "overrides in force with OperationalStore.overrides_in_force()."
                )
            created, revoked, revoked_by = current
            if revoked is not None:
                raise OverrideError(
                    f"Override {override_id} was already revoked at "
                    f"{revoked.isoformat()} by {revoked_by}; add a new override "
                    "instead of revoking it twice."
                )
            if revoked_at < created:
                raise OverrideError(
                    f"Cannot revoke override {override_id} before it was created: "
                    f"got revoked_at={revoked_at.isoformat()}, created_at="
                    f"{created.isoformat()}."
                )
            conn.execute(
                update(overrides)
                .where(o.override_id == override_id, o.revoked_at.is_(None))
                .values(
                    revoked_at=revoked_at,
                    revoked_by=actor.strip(),
                    revoke_reason=reason.strip(),
                )
            )

    def override_in_force(self, uscc: str, as_of: dt.date) -> dict[str, Any] | None:
        """Return the override in force for one enterprise at ``as_of``, if any.

        The same point-in-time rules as :meth:`overrides_in_force`, without a
        DataFrame: the scoring API calls this on every request.
        """
        as_of = as_date(as_of, "as_of")
        with translate_errors(self.engine, "read overrides"), self._read() as conn:
            params = {"uscc": uscc, "as_of": as_of, "cutoff": end_of_day(as_of)}
            row = conn.execute(one_in_force_query(), params).mappings().first()
        return dict(row) if row is not None else None

    def count_decisions(
        self,
        as_of: dt.date,
        *,
        tier: str | None = None,
        green_channel: bool | None = None,
    ) -> int:
        """Count the decisions of the latest run of ``as_of`` matching the filters.

        Raises
        ------
        NoRatingsError
            If no run was recorded for ``as_of``.
        """
        as_of = as_date(as_of, "as_of")
        check_query(tier, None, 0)
        c = decisions_table.c
        with translate_errors(self.engine, "count decisions"), self._read() as conn:
            stmt = select(func.count()).where(c.run_id == latest_run_id(conn, as_of))
            if tier is not None:
                stmt = stmt.where(c.tier == tier)
            if green_channel is not None:
                stmt = stmt.where(c.green_channel.is_(bool(green_channel)))
            return int(conn.scalar(stmt) or 0)

    def overrides_of(self, uscc: str) -> pd.DataFrame:
        """Every override ever recorded for ``uscc`` (revoked ones too), oldest first.

        Returns
        -------
        pandas.DataFrame
            The columns of the ``overrides`` table.
        """
        o = overrides.c
        stmt = select(overrides).where(o.uscc == uscc).order_by(o.override_id)
        with translate_errors(self.engine, "read overrides"), self._read() as conn:
            rows = conn.execute(stmt).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=list(overrides.c.keys()))

    def overrides_in_force(
        self, as_of: dt.date, *, usccs: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Return the override in force at ``as_of`` for each enterprise (if any).

        Point in time: an override counts at ``as_of`` only if it was created
        before the end of that day (UTC), ``effective_from <= as_of <
        effective_to`` (open end if ``effective_to`` is null) and it was not
        revoked before the end of that day. Of several, the most recently
        created wins.

        Parameters
        ----------
        as_of : datetime.date
            Rating date.
        usccs : sequence of str, optional
            Only these enterprises.

        Returns
        -------
        pandas.DataFrame
            Columns ``override_id``, ``uscc``, ``tier``, ``reason``, ``actor``,
            ``effective_from``, ``effective_to``, ``created_at``; one row per
            enterprise, ordered by ``uscc``.
        """
        as_of = as_date(as_of, "as_of")
        chunks = uscc_chunks(usccs)
        with translate_errors(self.engine, "read overrides"), self._read() as conn:
            if chunks is None:
                rows = list(conn.execute(in_force_query(as_of, None)).all())
            else:
                rows = [
                    row
                    for chunk in chunks
                    for row in conn.execute(in_force_query(as_of, chunk)).all()
                ]
        return to_frame(rows, OVERRIDE_DTYPES)

    # --------------------------------------------------------------- helpers
    def _read(self) -> Connection:
        return self.engine.connect()
