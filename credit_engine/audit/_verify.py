"""Verification of the hash chain, streamed in chunks of rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, select

from credit_engine.audit._anchor import (
    AnchorVerifier,
    Checkpoint,
    checkpoint_problems,
)
from credit_engine.audit._chain import chain_hash
from credit_engine.audit._coverage import CoverageCheck
from credit_engine.audit._schema import GENESIS_HASH, HEAD_ID, audit_head, audit_log

__all__ = ["AuditVerification", "verify_log"]


@dataclass(frozen=True)
class AuditVerification:
    """What :meth:`AuditLog.verify` found.

    Attributes
    ----------
    ok : bool
        The chain is intact and ends where the head says.
    checked : int
        Entries read and checked.
    problems : list of str
        One readable line per problem, naming the ``seq`` and what is wrong
        ("seq 17: entry_hash does not match its content (edited)").
    head_seq : int or None
        ``seq`` the head row records (None if the row is missing).
    head_hash : str or None
        ``entry_hash`` the head row records.
    notes : list of str
        What was and was not checked (covered rows, anchors, coverage not begun).
    anchors : int
        Checkpoints compared with the log.
    """

    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)
    head_seq: int | None = None
    head_hash: str | None = None
    notes: list[str] = field(default_factory=list)
    anchors: int = 0


def _span(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}–{last}"


class _Checker:
    """Walks the rows in ``seq`` order, remembering only the previous entry."""

    def __init__(self, max_problems: int) -> None:
        self.max_problems = max_problems
        self.problems: list[str] = []
        self.dropped = 0
        self.checked = 0
        self.last_seq = 0
        self.last_hash = GENESIS_HASH

    def report(self, problem: str) -> None:
        if len(self.problems) < self.max_problems:
            self.problems.append(problem)
        else:
            self.dropped += 1

    def check(self, row: Row[Any]) -> None:
        seq = int(row.seq)
        expected = self.last_seq + 1
        gap = seq > expected
        if seq < expected:  # only a seq below 1 sorts before an earlier one
            self.report(f"seq {seq}: outside the log's numbering (inserted)")
        elif gap:
            self.report(f"{_span(expected, seq - 1)} missing (deleted)")
        try:
            content_ok = (
                chain_hash(
                    row.prev_hash,
                    seq=seq,
                    recorded_at=row.recorded_at,
                    kind=row.kind,
                    actor=row.actor,
                    subject=row.subject,
                    payload=row.payload,
                )
                == row.entry_hash
            )
        except (TypeError, ValueError, AttributeError):
            content_ok = False
        if not content_ok:
            self.report(f"seq {seq}: entry_hash does not match its content (edited)")
        if not gap and seq >= expected and row.prev_hash != self.last_hash:
            before = "the start of the log" if seq == 1 else f"seq {seq - 1}"
            self.report(
                f"seq {seq}: prev_hash does not match {before} (inserted or reordered)"
            )
        self.checked += 1
        self.last_seq = max(self.last_seq, seq)
        self.last_hash = row.entry_hash

    def check_head(self, head: Row[Any, Any, Any] | None) -> None:
        last = self.last_seq
        if head is None:
            self.report(
                f"the head row is missing (deleted); the log ends at seq {last}"
            )
            return
        head_seq = int(head.seq)
        if head_seq > last:
            self.report(
                f"head says {head_seq} but the log ends at {last} "
                "(newest entries deleted)"
            )
        elif head_seq < last:
            self.report(
                f"head says {head_seq} but the log continues to {last} (entries "
                "inserted after the head, or the head was rolled back)"
            )
        elif head.entry_hash != self.last_hash:
            self.report(
                f"head hash does not match seq {last} (the newest entry was replaced)"
            )


def verify_log(  # noqa: PLR0912, PLR0913 - the options of AuditLog.verify
    conn: Connection,
    *,
    chunk_size: int,
    max_problems: int,
    tables: bool = True,
    anchors: Sequence[Checkpoint] = (),
    verifier: AnchorVerifier | None = None,
) -> AuditVerification:
    """Check every entry read through ``conn`` (one snapshot) against the head.

    Then, with ``tables``, the covered tables against the digests the entries
    recorded, and each checkpoint of ``anchors`` against the entry it names.
    """
    head = conn.execute(
        select(
            audit_head.c.seq, audit_head.c.entry_hash, audit_head.c.coverage_started
        ).where(audit_head.c.head_id == HEAD_ID)
    ).first()
    checker = _Checker(max_problems)
    coverage = CoverageCheck()
    anchored = {a.seq for a in anchors}
    held: dict[int, str] = {}
    after: int | None = None
    while True:
        stmt = select(audit_log).order_by(audit_log.c.seq).limit(chunk_size)
        if after is not None:
            stmt = stmt.where(audit_log.c.seq > after)
        rows = conn.execute(stmt).all()
        for row in rows:
            checker.check(row)
            coverage.see(int(row.seq), str(row.kind), row.payload)
            if int(row.seq) in anchored:
                held[int(row.seq)] = str(row.entry_hash)
        if len(rows) < chunk_size:
            break
        after = int(rows[-1].seq)
    checker.check_head(head)
    notes: list[str] = []
    if tables:
        for problem in coverage.problems(conn):
            checker.report(problem)
        if coverage.started_at is None:
            notes.append(
                "no entry covers the business tables yet (a store from before "
                "coverage: the next write through the engine records a baseline)"
            )
        else:
            notes.append(
                f"tables checked against the digests of {len(coverage.rows)} rows "
                f"and {len(coverage.sets)} rating runs' decisions"
            )
    for checkpoint in anchors:
        for problem in checkpoint_problems(
            checkpoint, held, checker.last_seq, verifier
        ):
            checker.report(problem)
    if not anchors:
        notes.append(
            "no checkpoint given: a truncated or recomputed chain cannot be told "
            "from a genuine one (keep `credit-engine audit anchor` files and pass "
            "them with --anchor)"
        )
    problems = checker.problems
    if checker.dropped:
        problems.append(f"... and {checker.dropped} more problems")
    return AuditVerification(
        ok=not problems,
        checked=checker.checked,
        problems=problems,
        head_seq=None if head is None else int(head.seq),
        head_hash=None if head is None else str(head.entry_hash),
        notes=notes,
        anchors=len(anchors),
    )
