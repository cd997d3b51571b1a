"""The operational store's facade: one object, three repositories, one engine."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import pandas as pd
from sqlalchemy import URL, Connection, Engine

from credit_engine.store._decisions import RatingRun
from credit_engine.store._engine import (
    create_store_engine,
    normalize_url,
    safe_url,
    sqlite_file,
)
from credit_engine.store._migrations import upgrade_schema
from credit_engine.store._queries import check_role
from credit_engine.store._repo_overrides import OverrideRepository
from credit_engine.store._schema import RunRole
from credit_engine.store._store_warnings import WarningReads
from credit_engine.store._unit_of_work import (
    UnitOfWork,
    open_reader,
    open_unit_of_work,
)

if TYPE_CHECKING:
    from credit_engine.config import Settings

__all__ = ["OperationalStore"]


class OperationalStore(WarningReads):
    """Rating runs, decisions, overrides and early warnings, in SQLite or PostgreSQL.

    The same code runs on both backends through SQLAlchemy Core. Every write is
    one transaction; every query has a deterministic order. Instants are stored
    and returned as timezone-aware UTC, rating dates as ``DATE``.

    This is the facade callers use: each method opens a unit of work (one
    connection, one transaction) and delegates to a repository
    (:class:`RatingRunRepository`, :class:`DecisionRepository`,
    :class:`OverrideRepository`, and for the reads of early warnings,
    :class:`WarningRepository`). To write through several repositories, or
    beside them, in one transaction, use :meth:`unit_of_work`.

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
        The engine.
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
        """Bring the database to the current schema with its migrations (idempotent).

        Runs Alembic's ``upgrade head`` (see :func:`upgrade_schema`): nothing
        but one read when the database is already current; otherwise under a
        lock, so that processes starting together migrate it once. A store
        created by release 0.1.0 (no ``alembic_version`` table) is checked,
        stamped at the baseline revision and upgraded, its data kept.

        Raises
        ------
        StoreError
            If the database cannot be reached, refuses the DDL, or holds tables
            of the store that match neither a revision nor release 0.1.0.
        """
        upgrade_schema(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection; the store reconnects if used again."""
        self.engine.dispose()

    @contextlib.contextmanager
    def unit_of_work(
        self,
        action: str = "write to the store",
        *,
        immediate: bool = False,
        durable: bool = True,
        busy_timeout_ms: int | None = None,
    ) -> Iterator[UnitOfWork]:
        """Open one transaction that several repositories write in together.

        Parameters
        ----------
        action : str, default="write to the store"
            What the transaction does, for error messages ("Could not <action>
            in the operational store at ...").
        immediate : bool, default=False
            On SQLite, take the database write lock at once (``BEGIN
            IMMEDIATE``, waiting up to 30 s for another writer) rather than at
            the first write: for read-then-write transactions that must
            serialise, like the audit log's appends.
        durable : bool, default=True
            ``False`` commits without waiting for the disk (SQLite
            ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit = off``).
        busy_timeout_ms : int, optional
            How long to wait for another writer's lock (default 30 s) before
            failing with :class:`~credit_engine.exceptions.StoreUnavailableError`.

        Yields
        ------
        UnitOfWork
            Its repositories (``runs``, ``decisions``, ``overrides``) and its
            ``connection``; committed when the block ends, rolled back if it
            raises.

        Raises
        ------
        StoreError
            If the database fails (the transaction is rolled back).

        Examples
        --------
        >>> import datetime as dt
        >>> with OperationalStore("sqlite://") as store:
        ...     store.create_schema()
        ...     with store.unit_of_work("record an override") as uow:
        ...         oid = uow.overrides.add_override(
        ...             "91110000600037341L", "D", "fraud case 117", "officer.li",
        ...             dt.date(2025, 9, 1),
        ...         )
        ...         # Seen inside the transaction, by every repository of it.
        ...         len(uow.overrides.overrides_of("91110000600037341L"))
        ...     store.overrides_of("91110000600037341L")["override_id"].tolist()
        1
        [1]
        """
        with open_unit_of_work(
            self.engine,
            action,
            immediate=immediate,
            durable=durable,
            busy_timeout_ms=busy_timeout_ms,
        ) as uow:
            yield uow

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
        with self.unit_of_work("record a rating run") as uow:
            return uow.runs.record_run(run, decisions)

    def rating_dates(self) -> list[dt.date]:
        """Return every rating date with at least one served run, oldest first.

        A date rated only in shadow is not listed: it has no decisions to serve.

        Returns
        -------
        list of datetime.date
        """
        with open_reader(self.engine, "list rating dates") as uow:
            return uow.runs.rating_dates()

    def runs(self, *, role: RunRole | str | None = None) -> pd.DataFrame:
        """Return every rating run, oldest ``run_id`` first.

        Parameters
        ----------
        role : {"served", "shadow"}, optional
            Only runs of this role (default: both).

        Returns
        -------
        pandas.DataFrame
            Columns ``run_id``, ``as_of``, ``started_at``, ``finished_at``,
            ``actor``, ``model_name``, ``model_version``, ``policy_name``,
            ``policy_version``, ``rule_sets``, ``lake_state``, ``n_rated``,
            ``summary``, ``role``.

        Raises
        ------
        StoreError
            If ``role`` is neither ``served`` nor ``shadow``.
        """
        with open_reader(self.engine, "list rating runs") as uow:
            return uow.runs.runs(role=None if role is None else check_role(role))

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
        with open_reader(self.engine, "read decisions") as uow:
            return uow.decisions.decisions_at(
                as_of,
                usccs=usccs,
                tier=tier,
                green_channel=green_channel,
                limit=limit,
                offset=offset,
            )

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
        with open_reader(self.engine, "read a decision") as uow:
            return uow.decisions.latest_decision(uscc)

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
        with open_reader(self.engine, "read a history") as uow:
            return uow.decisions.decision_history(uscc)

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
        with open_reader(self.engine, "compute migrations") as uow:
            return uow.decisions.migration_matrix(from_date, to_date)

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
        with open_reader(self.engine, "count overrides") as uow:
            return uow.decisions.override_rate(as_of)

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
        with open_reader(self.engine, "count decisions") as uow:
            return uow.decisions.count_decisions(
                as_of, tier=tier, green_channel=green_channel
            )

    # ----------------------------------------- cohorts (served and shadow runs)
    def model_run_ids(
        self,
        model_name: str,
        model_version: str,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        role: RunRole | str | None = None,
    ) -> dict[dt.date, tuple[int, RunRole]]:
        """Return the run of one model version at each of its rating dates.

        A served run of the version wins over its shadow runs of the same date;
        among runs of one role the latest (highest ``run_id``) wins.

        Parameters
        ----------
        model_name, model_version : str
            Registered model and version (as recorded on the runs).
        since, until : datetime.date, optional
            Only rating dates in ``[since, until]``.
        role : {"served", "shadow"}, optional
            Only runs of this role.

        Returns
        -------
        dict of datetime.date to (int, RunRole)
            ``{as_of: (run_id, role)}``, oldest date first.
        """
        with open_reader(self.engine, "list a model's runs") as uow:
            return uow.decisions.model_run_ids(
                model_name,
                model_version,
                since=since,
                until=until,
                role=None if role is None else check_role(role),
            )

    def model_cohorts(
        self,
        model_name: str,
        model_version: str,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return the decisions of one model version: its cohorts for monitoring.

        One run per rating date, as :meth:`model_run_ids` picks it: the served
        run where the version served, else its latest shadow run.

        Parameters
        ----------
        model_name, model_version : str
            Registered model and version.
        since, until : datetime.date, optional
            Only rating dates in ``[since, until]``.
        columns : sequence of str, optional
            Decision columns to read (default :data:`COHORT_COLUMNS`, no JSON).

        Returns
        -------
        pandas.DataFrame
            One row per enterprise and rating date, ordered by ``as_of`` then
            ``uscc``; empty (with the columns) if the version has no runs.

        Raises
        ------
        StoreError
            If a column is unknown.
        """
        with open_reader(self.engine, "read a model's cohorts") as uow:
            return uow.decisions.model_cohorts(
                model_name, model_version, since=since, until=until, columns=columns
            )

    def served_cohorts(
        self,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return the zone's decisions (latest served run) of every date in a range.

        Parameters
        ----------
        since, until : datetime.date, optional
            Only rating dates in ``[since, until]``.
        columns : sequence of str, optional
            Decision columns to read (default :data:`COHORT_COLUMNS`).

        Returns
        -------
        pandas.DataFrame
            Ordered by ``as_of`` then ``uscc``.
        """
        with open_reader(self.engine, "read the served cohorts") as uow:
            return uow.decisions.served_cohorts(
                since=since, until=until, columns=columns
            )

    def run_decisions(
        self, run_id: int, *, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Return the decisions of one run, served or shadow, ordered by USCC.

        Parameters
        ----------
        run_id : int
            The run.
        columns : sequence of str, optional
            Decision columns to read (default :data:`COHORT_COLUMNS`).

        Returns
        -------
        pandas.DataFrame
            Empty if the run does not exist.
        """
        with open_reader(self.engine, f"read run {run_id}") as uow:
            return uow.decisions.run_decisions(run_id, columns=columns)

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
            transaction of its own. New code: ``uow.overrides.add_override``
            in a :meth:`unit_of_work`.

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
        if connection is not None:
            return OverrideRepository(connection).add_override(
                uscc, tier, reason, actor, effective_from, effective_to,
                created_at=created_at,
            )  # fmt: skip
        with self.unit_of_work(f"add an override for {uscc}") as uow:
            return uow.overrides.add_override(
                uscc, tier, reason, actor, effective_from, effective_to,
                created_at=created_at,
            )  # fmt: skip

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
        with self.unit_of_work(f"revoke override {override_id}") as uow:
            uow.overrides.revoke_override(
                override_id, actor, reason, revoked_at=revoked_at
            )

    def override_in_force(
        self, uscc: str, as_of: dt.date, *, known_before: dt.datetime | None = None
    ) -> dict[str, Any] | None:
        """Return the override in force for one enterprise at ``as_of``, if any.

        The same point-in-time rules as :meth:`overrides_in_force`, without a
        DataFrame: the scoring API calls this on every request.
        """
        with open_reader(self.engine, "read overrides") as uow:
            return uow.overrides.override_in_force(
                uscc, as_of, known_before=known_before
            )

    def overrides_of(self, uscc: str) -> pd.DataFrame:
        """Every override ever recorded for ``uscc`` (revoked ones too), oldest first.

        Returns
        -------
        pandas.DataFrame
            The columns of the ``overrides`` table.
        """
        with open_reader(self.engine, "read overrides") as uow:
            return uow.overrides.overrides_of(uscc)

    def overrides_in_force(
        self,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None = None,
        known_before: dt.datetime | None = None,
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
        known_before : datetime.datetime, optional
            Knowledge cutoff instead of the end of ``as_of``: the live service
            passes the present instant when it decides at its serving date,
            which may lie before today (the lake's freshness date), so that an
            override recorded today governs what is served now.

        Returns
        -------
        pandas.DataFrame
            Columns ``override_id``, ``uscc``, ``tier``, ``reason``, ``actor``,
            ``effective_from``, ``effective_to``, ``created_at``; one row per
            enterprise, ordered by ``uscc``.
        """
        with open_reader(self.engine, "read overrides") as uow:
            return uow.overrides.overrides_in_force(
                as_of, usccs=usccs, known_before=known_before
            )

    # -- zone statistics (issue 12): decisions of several dates, all overrides -
    def decisions_between(
        self,
        start: dt.date,
        end: dt.date,
        *,
        columns: Sequence[str],
        known_before: dt.datetime | None = None,
        joint_punishment: bool | None = None,
    ) -> pd.DataFrame:
        """Return some columns of the latest run of every rating date in a range.

        Parameters
        ----------
        start, end : datetime.date
            First and last rating date (inclusive).
        columns : sequence of str
            ``decisions`` columns besides ``as_of`` and ``uscc`` (returned first).
        known_before : datetime.datetime, optional
            Only runs finished before this aware instant count (a report's
            knowledge cutoff); each date's run is the latest of those.
        joint_punishment : bool, optional
            Only decisions with (``True``) or without joint punishment.

        Returns
        -------
        pandas.DataFrame
            Ordered by date and USCC, dtypes as :meth:`decisions_at`.

        Raises
        ------
        StoreError
            If a column is not a decision column or ``known_before`` is naive.
        """
        with open_reader(self.engine, "read decisions") as uow:
            return uow.decisions.decisions_between(
                start,
                end,
                columns=columns,
                known_before=known_before,
                joint_punishment=joint_punishment,
            )

    def list_overrides(
        self, *, created_before: dt.datetime | None = None
    ) -> pd.DataFrame:
        """Return every override recorded (revoked ones too), oldest first.

        Parameters
        ----------
        created_before : datetime.datetime, optional
            Only overrides created before this aware instant.

        Returns
        -------
        pandas.DataFrame
            The columns of the ``overrides`` table.
        """
        with open_reader(self.engine, "read overrides") as uow:
            return uow.overrides.list_overrides(created_before=created_before)

    # -- end zone statistics ---------------------------------------------------
