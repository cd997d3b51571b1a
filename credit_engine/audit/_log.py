"""The audit log over the operational store: serialised appends, reads, verify."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, select, update
from sqlalchemy.exc import IntegrityError

from credit_engine.audit._anchor import AnchorVerifier, Checkpoint
from credit_engine.audit._chain import (
    AuditEntry,
    NewEntry,
    PreparedEntry,
    prepare_entry,
    seal,
    stored_payload,
)
from credit_engine.audit._coverage import (
    BASELINE_KIND,
    baseline_payload,
    uncovered_rows_exist,
)
from credit_engine.audit._schema import GENESIS_HASH, HEAD_ID, audit_head, audit_log
from credit_engine.audit._verify import AuditVerification, verify_log
from credit_engine.exceptions import AuditEntryNotFoundError, AuditError
from credit_engine.store import OperationalStore, UnitOfWork
from credit_engine.store._engine import sqlite_file, translate_errors

__all__ = ["AuditLog", "AuditTransaction", "prepare_entries"]

_MAX_PAGE = 10_000
_ROWS_PER_INSERT = 100
"""Audit rows per INSERT statement (8 columns: 800 parameters, within every
SQLite's limit of 999)."""

_INSERT_ROWS = (
    audit_log.insert()
    .returning(audit_log.c.seq)
    .execution_options(insertmanyvalues_page_size=_ROWS_PER_INSERT)
)
"""The audit rows' INSERT, compiled once: with RETURNING, SQLAlchemy sends a
list of rows as multi-row statements of ``_ROWS_PER_INSERT`` rows
("insertmanyvalues") built from the cached compilation, not compiled anew for
each list (which cost three times the CPU) nor stepped row by row."""

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _process_lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


_FIELDS = {f.name for f in dataclasses.fields(NewEntry)}
_REQUIRED = ("kind", "actor", "payload")


def _new_entry(item: object) -> NewEntry:
    if isinstance(item, NewEntry):
        return item
    if not isinstance(item, Mapping):
        raise AuditError(
            f"Cannot append a {type(item).__name__}: pass a "
            "credit_engine.audit.NewEntry or a mapping with kind, actor and payload."
        )
    missing = [k for k in _REQUIRED if k not in item]
    unknown = sorted(str(k) for k in item if k not in _FIELDS)
    if missing or unknown:
        raise AuditError(
            "Cannot append the entry: "
            + "; ".join(
                ([f"missing {missing}"] if missing else [])
                + ([f"unknown fields {unknown[:5]}"] if unknown else [])
            )
            + f". Fields are {sorted(_FIELDS)}."
        )
    return NewEntry(**item)


def prepare_entries(
    entries: Sequence[NewEntry | Mapping[str, Any]], now: dt.datetime
) -> list[PreparedEntry]:
    """Validate and prepare entries for one append (an error names the position).

    Parameters
    ----------
    entries : sequence of NewEntry or mapping
        The entries (mappings with the fields of :class:`NewEntry`).
    now : datetime.datetime
        Their time where they give none (aware).

    Raises
    ------
    AuditError
        If an entry is invalid (the message names its position).
    """
    prepared: list[PreparedEntry] = []
    for i, item in enumerate(entries):
        try:
            prepared.append(prepare_entry(_new_entry(item), now))
        except AuditError as exc:
            if len(entries) == 1:
                raise
            raise AuditError(f"Entry {i}: {exc.message}") from None
    return prepared


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        seq=int(row.seq),
        recorded_at=row.recorded_at,
        kind=row.kind,
        actor=row.actor,
        subject=row.subject,
        payload=row.payload,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


class AuditTransaction:
    """An open write transaction on the audit log, holding its write lock.

    Obtained from :meth:`AuditLog.transaction`; it is a unit of work of the
    operational store: the business rows written through its repositories
    (:attr:`unit_of_work`) or its :attr:`connection` commit or roll back
    together with the appended entries.

    Attributes
    ----------
    unit_of_work : credit_engine.store.UnitOfWork
        The store's repositories in this transaction (``unit_of_work.overrides``
        ...).
    connection : sqlalchemy.Connection
        The transaction's connection (write other business rows through it).
    entries : list of AuditEntry
        Entries appended so far in this transaction.
    """

    def __init__(self, unit_of_work: UnitOfWork) -> None:
        self.unit_of_work = unit_of_work
        self.connection: Connection = unit_of_work.connection
        self.entries: list[AuditEntry] = []
        self._head: tuple[int, str] | None = None

    @property
    def head(self) -> tuple[int, str]:
        """The last ``seq`` and ``entry_hash`` including this transaction's appends.

        Reading it locks the log's head row (``SELECT ... FOR UPDATE``) until
        the transaction ends, as the first append does: business rows written
        before it do not hold up other appends on PostgreSQL.

        Raises
        ------
        AuditError
            If the head row is missing (run :meth:`AuditLog.verify`).
        """
        if self._head is None:
            row = self.connection.execute(
                select(audit_head.c.seq, audit_head.c.entry_hash)
                .where(audit_head.c.head_id == HEAD_ID)
                .with_for_update()
            ).first()
            if row is None:
                raise AuditError(
                    "The audit log's head row is missing, so nothing can be "
                    "appended safely; run `credit-engine audit verify` and "
                    "investigate before writing again."
                )
            self._head = (int(row.seq), str(row.entry_hash))
        return self._head

    @property
    def locked(self) -> bool:
        """Whether this transaction holds the head (has appended or read it)."""
        return self._head is not None

    def append(
        self,
        kind: str,
        actor: str,
        payload: Mapping[str, Any],
        *,
        subject: str | None = None,
        recorded_at: dt.datetime | None = None,
    ) -> AuditEntry:
        """Append one entry in this transaction (see :meth:`AuditLog.append`)."""
        prepared = prepare_entry(
            NewEntry(kind, actor, payload, subject, recorded_at),
            dt.datetime.now(dt.UTC),
        )
        return self._append_prepared([prepared])[0]

    def _append_prepared(self, prepared: Sequence[PreparedEntry]) -> list[AuditEntry]:
        """Chain and insert validated entries; the head is written at commit."""
        sealed: list[AuditEntry] = []
        seq, last = self.head
        for item in prepared:
            entry = seal(item, seq + 1, last)
            sealed.append(entry)
            seq, last = entry.seq, entry.entry_hash
        self._head = (seq, last)
        rows = [
            {
                "seq": e.seq,
                "recorded_at": e.recorded_at,
                "kind": e.kind,
                "actor": e.actor,
                "subject": e.subject,
                "payload": stored_payload(e),  # text as is, never decoded here
                "prev_hash": e.prev_hash,
                "entry_hash": e.entry_hash,
            }
            for e in sealed
        ]
        # Several rows per INSERT: one statement step per page rather than per
        # row (each step lets other threads take the interpreter, and getting it
        # back waits for them: the writer must not queue behind a batch).
        self.connection.execute(_INSERT_ROWS, rows).all()
        self.entries.extend(sealed)
        return sealed


class AuditLog:
    """A tamper-evident, append-only audit log in the operational store.

    Every entry carries ``prev_hash`` (its predecessor's ``entry_hash``) and
    ``entry_hash = sha256(prev_hash + canonical JSON of {seq, recorded_at,
    kind, actor, subject, payload})`` (:func:`chain_hash`). A single
    ``audit_head`` row holds the newest ``seq`` and hash and is updated in the
    same transaction as each append. :meth:`verify` recomputes the chain, so
    an edited, deleted, inserted or reordered row is reported with its ``seq``,
    and so is the removal of the newest entries.

    Appends are serialised so the chain never forks, across threads and
    processes: on PostgreSQL the head row is locked (``SELECT ... FOR
    UPDATE``); on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (the
    database write lock), and threads of one process queue on a lock first.

    Tamper evidence, not tamper proofing: someone able to write the tables can
    rewrite every hash from a point on and the head with them. Keep
    :meth:`head` (``seq`` and hash) somewhere they cannot write (a ticket, a
    signed e-mail, another database) and compare it later, and in production
    grant the application's database role only INSERT and SELECT on
    ``audit_log`` (it needs UPDATE on ``audit_head``).

    Parameters
    ----------
    store : OperationalStore
        Where the log lives; its schema is brought up to date
        (:meth:`OperationalStore.create_schema`, idempotent) and the head row
        created if missing.
    durable : bool, default=True
        Wait for each commit to reach the disk. ``False`` trades the last
        commits before a power loss (never the chain's consistency: entries
        and head commit together) for speed: SQLite commits with
        ``PRAGMA synchronous=NORMAL`` instead of ``FULL``, PostgreSQL with
        ``synchronous_commit = off``.

    Raises
    ------
    StoreError
        If the tables cannot be created or read.

    Examples
    --------
    >>> from credit_engine.store import OperationalStore
    >>> log = AuditLog(OperationalStore("sqlite://"))
    >>> entry = log.append("key_created", "admin", {"role": "supervisor"},
    ...                    subject="customs-gateway")
    >>> entry.seq, entry.prev_hash == GENESIS_HASH
    (1, True)
    >>> log.append("key_revoked", "admin", {}, subject="customs-gateway").seq
    2
    >>> log.verify().ok
    True
    """

    def __init__(self, store: OperationalStore, *, durable: bool = True) -> None:
        self.store = store
        self.durable = durable
        self._sqlite = store.engine.dialect.name == "sqlite"
        path = sqlite_file(store.url) if self._sqlite else None
        self._lock: threading.Lock | None = (
            _process_lock(str(path.resolve())) if path is not None else None
        )
        self._coverage_checked = False
        self._ensure_schema()

    def __repr__(self) -> str:
        return f"AuditLog({self.store!r})"

    # ---------------------------------------------------------------- writes
    def append(
        self,
        kind: str,
        actor: str,
        payload: Mapping[str, Any],
        *,
        subject: str | None = None,
        recorded_at: dt.datetime | None = None,
    ) -> AuditEntry:
        """Append one entry, in its own transaction.

        Parameters
        ----------
        kind : str
            What happened: an :class:`AuditKind` (``decision``, ``override``,
            ``key_created`` ...) or another lower_snake_case word.
        actor : str
            Who did it: an API key name or a CLI user (non-empty).
        payload : dict
            Details, JSON-ready (str keys; str, int, finite float, bool, None,
            lists, dicts). Never put secrets here.
        subject : str, optional
            Whom it concerns (a USCC, a key name); indexed for :meth:`entries`.
        recorded_at : datetime.datetime, optional
            When (timezone-aware); default: now.

        Returns
        -------
        AuditEntry
            The stored entry with its ``seq`` and hashes.

        Raises
        ------
        AuditError
            If the kind, actor, subject, timestamp or payload is invalid (every
            problem is listed; nothing is written) or the log's head is missing.
        StoreError
            If the database fails.
        """
        return self.append_many([NewEntry(kind, actor, payload, subject, recorded_at)])[
            0
        ]

    def append_many(
        self, entries: Sequence[NewEntry | Mapping[str, Any]]
    ) -> list[AuditEntry]:
        """Append several entries in one transaction (all or none).

        Parameters
        ----------
        entries : sequence of NewEntry or mapping
            In order; each is a :class:`NewEntry` or a mapping with its fields
            (``kind``, ``actor``, ``payload``; optionally ``subject`` and
            ``recorded_at``). All are validated before anything is written.

        Returns
        -------
        list of AuditEntry
            With consecutive ``seq``.

        Raises
        ------
        AuditError
            If any entry is invalid (naming its position) or the head is missing.
        StoreError
            If the database fails.
        """
        prepared = prepare_entries(entries, dt.datetime.now(dt.UTC))
        if not prepared:
            return []
        with self.transaction() as tx:
            return tx._append_prepared(prepared)

    @contextlib.contextmanager
    def transaction(
        self, *, busy_timeout_ms: int | None = None
    ) -> Iterator[AuditTransaction]:
        """Open a write transaction that holds the log's write lock.

        Everything written through the yielded :attr:`AuditTransaction.connection`
        commits with the entries appended through
        :meth:`AuditTransaction.append`, or rolls back with them. Keep it short:
        every other append waits for it. Do not call :meth:`append` on the same
        log inside it (it would wait for itself).

        Parameters
        ----------
        busy_timeout_ms : int, optional
            How long to wait for another writer's lock (default 30 s) before
            failing with :class:`~credit_engine.exceptions.StoreUnavailableError`.

        Yields
        ------
        AuditTransaction

        Raises
        ------
        AuditError
            If the head row is missing (run :meth:`verify`).
        StoreError
            If the database fails (the transaction is rolled back);
            :class:`~credit_engine.exceptions.StoreUnavailableError` if it is
            locked, read-only or unreachable.
        """
        if not self._coverage_checked:
            self.ensure_coverage(busy_timeout_ms=busy_timeout_ms)
        with self._write(busy_timeout_ms) as uow:
            tx = AuditTransaction(uow)
            yield tx
            if tx.entries:
                seq, last = tx.head
                uow.connection.execute(
                    update(audit_head)
                    .where(audit_head.c.head_id == HEAD_ID)
                    .values(seq=seq, entry_hash=last)
                )

    @contextlib.contextmanager
    def _write(self, busy_timeout_ms: int | None) -> Iterator[UnitOfWork]:
        lock = self._lock if self._lock is not None else contextlib.nullcontext()
        with (
            lock,
            self.store.unit_of_work(
                "append to the audit log",
                immediate=True,
                durable=self.durable,
                busy_timeout_ms=busy_timeout_ms,
            ) as uow,
        ):
            yield uow

    def ensure_coverage(self, *, busy_timeout_ms: int | None = None) -> int | None:
        """Start covering the business tables if this store has not yet.

        Every change the engine makes to ``overrides``, ``api_keys`` and
        ``rating_runs`` (and their decisions) is logged with digests of the rows
        (:mod:`credit_engine.audit._coverage`). A store whose rows predate that
        gets, once, a ``coverage_baseline`` entry digesting every row it holds,
        and its head's ``coverage_started`` is set in the same transaction. The
        first write transaction of each :class:`AuditLog` calls this; it costs
        one read afterwards.

        Returns
        -------
        int or None
            The ``seq`` of the baseline entry written, or None (not needed).
        """
        self._coverage_checked = True
        with self._write(busy_timeout_ms) as uow:
            conn = uow.connection
            started = conn.execute(
                select(audit_head.c.coverage_started).where(
                    audit_head.c.head_id == HEAD_ID
                )
            ).scalar()
            if started is None or started:
                return None  # no head (verify reports it) or covered already
            seq = None
            if uncovered_rows_exist(conn):
                tx = AuditTransaction(uow)
                payload = baseline_payload(conn)
                now = dt.datetime.now(dt.UTC)
                entry = tx._append_prepared(
                    [prepare_entry(NewEntry(BASELINE_KIND, "credit-engine", payload),
                                   now)]
                )[0]  # fmt: skip
                seq = entry.seq
                conn.execute(
                    update(audit_head)
                    .where(audit_head.c.head_id == HEAD_ID)
                    .values(seq=entry.seq, entry_hash=entry.entry_hash)
                )
            conn.execute(
                update(audit_head)
                .where(audit_head.c.head_id == HEAD_ID)
                .values(coverage_started=True)
            )
            return seq

    # ----------------------------------------------------------------- reads
    def get(self, seq: int) -> AuditEntry:
        """Return the entry ``seq``.

        Raises
        ------
        AuditEntryNotFoundError
            If there is no such entry (the message gives the log's range).
        """
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise AuditError(f"seq must be an integer, got {seq!r}.")
        with (
            translate_errors(self.store.engine, "read the audit log"),
            self.store.engine.connect() as conn,
        ):
            row = conn.execute(select(audit_log).where(audit_log.c.seq == seq)).first()
            if row is None:
                last = conn.execute(select(func.max(audit_log.c.seq))).scalar()
        if row is None:
            span = "the log is empty" if last is None else f"the log has 1..{last}"
            raise AuditEntryNotFoundError(f"No audit entry with seq {seq}; {span}.")
        return _entry(row)

    def entries(
        self,
        *,
        subject: str | None = None,
        kind: str | None = None,
        actor: str | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        """Return entries, by ``seq``, optionally of one subject, kind and/or actor.

        Parameters
        ----------
        subject : str, optional
            Only entries about this subject (e.g. a USCC).
        kind : str, optional
            Only entries of this kind.
        actor : str, optional
            Only entries by this actor (an API key name, a CLI user).
        limit : int, default=100
            At most this many (1 to 10,000).
        offset : int, default=0
            Skip this many first.
        newest_first : bool, default=False
            Highest ``seq`` first.

        Returns
        -------
        list of AuditEntry

        Raises
        ------
        AuditError
            If ``limit`` or ``offset`` is out of range.
        """
        problems = []
        if isinstance(limit, bool) or not isinstance(limit, int):
            problems.append(f"limit must be an integer, got {limit!r}")
        elif not 1 <= limit <= _MAX_PAGE:
            problems.append(f"limit must be between 1 and {_MAX_PAGE}, got {limit}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            problems.append(f"offset must be a non-negative integer, got {offset!r}")
        if problems:
            raise AuditError("Cannot list audit entries: " + "; ".join(problems) + ".")
        stmt = select(audit_log)
        if subject is not None:
            stmt = stmt.where(audit_log.c.subject == subject)
        if kind is not None:
            stmt = stmt.where(audit_log.c.kind == kind)
        if actor is not None:
            stmt = stmt.where(audit_log.c.actor == actor)
        order = audit_log.c.seq.desc() if newest_first else audit_log.c.seq
        stmt = stmt.order_by(order).limit(limit).offset(offset)
        with (
            translate_errors(self.store.engine, "read the audit log"),
            self.store.engine.connect() as conn,
        ):
            return [_entry(row) for row in conn.execute(stmt)]

    def head(self) -> tuple[int, str]:
        """Return the newest ``seq`` and its ``entry_hash`` (0 and zeros if empty).

        Keep this pair outside the database now and then: :meth:`verify` can
        then be checked against it (an anchor).

        Raises
        ------
        AuditError
            If the head row is missing.
        """
        with (
            translate_errors(self.store.engine, "read the audit log"),
            self.store.engine.connect() as conn,
        ):
            row = conn.execute(
                select(audit_head.c.seq, audit_head.c.entry_hash).where(
                    audit_head.c.head_id == HEAD_ID
                )
            ).first()
        if row is None:
            raise AuditError(
                "The audit log's head row is missing; run `credit-engine audit verify`."
            )
        return int(row.seq), str(row.entry_hash)

    def verify(
        self,
        *,
        chunk_size: int = 5_000,
        max_problems: int = 1_000,
        tables: bool = True,
        anchors: Sequence[Checkpoint] = (),
        verifier: AnchorVerifier | None = None,
    ) -> AuditVerification:
        """Recompute the whole chain and compare it with the head.

        The log is read in chunks of ``chunk_size`` rows (keyset paging on
        ``seq``) inside one read snapshot, so memory stays bounded for millions
        of entries and concurrent appends do not cause false alarms.

        Parameters
        ----------
        chunk_size : int, default=5000
            Rows per query.
        max_problems : int, default=1000
            Problems listed at most (the count of the rest is added).
        tables : bool, default=True
            Also compare the covered tables (overrides, API keys, rating runs
            and their decisions) with the digests their entries recorded.
        anchors : sequence of Checkpoint, default=()
            Signed checkpoints kept outside the database
            (:func:`~credit_engine.audit.read_checkpoint`): the log must still
            hold each one's ``seq`` with its ``entry_hash``, which catches a
            truncated, rolled-back or recomputed chain.
        verifier : AnchorVerifier, optional
            Checks the checkpoints' signatures (an HMAC key or an Ed25519
            public key); without one, a checkpoint's signature cannot be
            checked and that is reported as a problem.

        Returns
        -------
        AuditVerification
            ``ok``, the number of entries checked and every problem found, each
            naming the ``seq`` and what is wrong.
        """
        if chunk_size < 1 or max_problems < 1:
            raise AuditError(
                f"chunk_size and max_problems must be positive, got "
                f"chunk_size={chunk_size}, max_problems={max_problems}."
            )
        with (
            translate_errors(self.store.engine, "verify the audit log"),
            self._snapshot() as conn,
        ):
            return verify_log(
                conn,
                chunk_size=chunk_size,
                max_problems=max_problems,
                tables=tables,
                anchors=anchors,
                verifier=verifier,
            )

    # --------------------------------------------------------------- helpers
    def _ensure_schema(self) -> None:
        self.store.create_schema()
        engine = self.store.engine
        with translate_errors(engine, "create the audit log's head"):
            with engine.connect() as conn:
                present = conn.execute(
                    select(audit_head.c.head_id).where(audit_head.c.head_id == HEAD_ID)
                ).first()
                if present is not None:
                    return
                any_entry = conn.execute(select(audit_log.c.seq).limit(1)).first()
                if any_entry is not None:
                    return  # the head was deleted: verify reports it, append refuses
                try:
                    conn.execute(
                        audit_head.insert(),
                        {
                            "head_id": HEAD_ID,
                            "seq": 0,
                            "entry_hash": GENESIS_HASH,
                            # Rows written before there was any log are older
                            # than coverage: the first write records a baseline.
                            "coverage_started": not uncovered_rows_exist(conn),
                        },
                    )
                    conn.commit()
                except IntegrityError:  # another process created it first
                    conn.rollback()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """Yield a connection reading one consistent snapshot of the database."""
        engine = self.store.engine
        if self._sqlite:
            with engine.connect() as conn:
                conn.exec_driver_sql("BEGIN")  # WAL: the first read fixes the snapshot
                try:
                    yield conn
                finally:
                    conn.rollback()
        else:
            with (
                engine.connect().execution_options(
                    isolation_level="REPEATABLE READ"
                ) as conn,
                conn.begin(),
            ):
                yield conn
