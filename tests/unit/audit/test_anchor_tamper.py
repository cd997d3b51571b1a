"""The tampers of issue 14, each caught by `verify` (tables) or a checkpoint (anchor).

A writer of the database can rewrite the log consistently (delete the newest
entries and roll the head back, append a forged entry with a new head, edit
an entry and recompute every hash after it): only a checkpoint kept outside
the database tells. Changes to the covered tables (an override's tier, an
override without its entry, a key's role) are caught by the digests the
entries recorded. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text, update

from credit_engine.audit import (
    AuditLog,
    Checkpoint,
    HmacSigner,
    audit_head,
    audit_log,
    chain_hash,
    make_checkpoint,
    read_checkpoint,
    record_override,
    write_checkpoint,
)
from credit_engine.auth import KeyStore
from credit_engine.exceptions import AuditError
from credit_engine.uscc import check_character

USCC = "91350200MA2XYW000" + check_character("91350200MA2XYW000")
OTHER = "91350200MA2XYW001" + check_character("91350200MA2XYW001")


def _today() -> dt.date:
    """Today (UTC), asked when used: a module-level date goes stale at midnight."""
    return dt.datetime.now(dt.UTC).date()


SIGNER = HmacSigner("an-auditor-kept-secret-of-32-bytes!!")


@pytest.fixture
def filled(log: AuditLog) -> AuditLog:
    """A log with decisions, an override and a key, all intact."""
    for i in range(1, 11):
        log.append("decision", "api", {"i": i}, subject=USCC)
    record_override(log, USCC, "C", "Smuggling probe", "sup", _today())
    KeyStore(log.store, audit=log, cache_ttl=0).create(
        "port-1", "inspection_system", created_by="admin"
    )
    result = log.verify()
    assert result.ok, result.problems
    return log


def _problems(log: AuditLog, **kwargs: Any) -> list[str]:
    result = log.verify(**kwargs)
    assert not result.ok
    return result.problems


def _recompute_from(log: AuditLog, first: int) -> None:
    """Rewrite every hash from ``first`` on and move the head: a consistent log."""
    with log.store.engine.begin() as conn:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.seq >= first).order_by(audit_log.c.seq)
        ).all()
        prev = conn.execute(
            select(audit_log.c.entry_hash).where(audit_log.c.seq == first - 1)
        ).scalar_one()
        for row in rows:
            new = chain_hash(
                prev, seq=row.seq, recorded_at=row.recorded_at, kind=row.kind,
                actor=row.actor, subject=row.subject, payload=row.payload,
            )  # fmt: skip
            conn.execute(
                update(audit_log)
                .where(audit_log.c.seq == row.seq)
                .values(prev_hash=prev, entry_hash=new)
            )
            prev = new
        conn.execute(update(audit_head).values(seq=rows[-1].seq, entry_hash=prev))


def _anchored(log: AuditLog, tmp_path) -> Checkpoint:
    path = write_checkpoint(make_checkpoint(log, SIGNER), tmp_path / "cp.json")
    checkpoint = read_checkpoint(path)
    assert log.verify(anchors=[checkpoint], verifier=SIGNER).ok
    return checkpoint


def test_deleting_the_newest_and_rolling_the_head_back_is_caught_by_the_anchor(
    filled, tmp_path
):
    checkpoint = _anchored(filled, tmp_path)
    head = checkpoint.seq
    with filled.store.engine.begin() as conn:
        prev = conn.execute(
            select(audit_log.c.entry_hash).where(audit_log.c.seq == head - 1)
        ).scalar_one()
        conn.execute(audit_log.delete().where(audit_log.c.seq == head))
        conn.execute(update(audit_head).values(seq=head - 1, entry_hash=prev))
    # Self-consistent now, apart from the key row its deleted entry covered:
    # the anchor names the truncation itself.
    problems = _problems(filled, anchors=[checkpoint], verifier=SIGNER)
    assert any(
        f"the log now ends at seq {head - 1}" in p and "truncation" in p
        for p in problems
    ), problems


def test_a_pure_rollback_of_decision_entries_is_caught_only_by_the_anchor(
    log, tmp_path
):
    for i in range(1, 6):
        log.append("decision", "api", {"i": i}, subject=USCC)
    checkpoint = _anchored(log, tmp_path)
    with log.store.engine.begin() as conn:
        prev = conn.execute(
            select(audit_log.c.entry_hash).where(audit_log.c.seq == 3)
        ).scalar_one()
        conn.execute(audit_log.delete().where(audit_log.c.seq > 3))
        conn.execute(update(audit_head).values(seq=3, entry_hash=prev))
    assert log.verify().ok  # undetectable without the checkpoint ...
    problems = _problems(log, anchors=[checkpoint], verifier=SIGNER)
    assert problems == [
        f"checkpoint of seq 5 (anchored {checkpoint.anchored_at}): the log now "
        "ends at seq 3 (entries deleted and the head rolled back: truncation)"
    ]


def test_a_forged_append_with_a_new_head_is_caught_when_it_replaces_anchored_ones(
    log, tmp_path
):
    for i in range(1, 6):
        log.append("decision", "api", {"i": i}, subject=USCC)
    checkpoint = _anchored(log, tmp_path)
    # Forge: drop the anchored newest entry and append another in its place.
    with log.store.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 5))
        prev = conn.execute(
            select(audit_log.c.entry_hash).where(audit_log.c.seq == 4)
        ).scalar_one()
        when = dt.datetime.now(dt.UTC)
        payload = {"i": 5, "forged": True}
        forged = chain_hash(
            prev, seq=5, recorded_at=when, kind="decision", actor="api",
            subject=OTHER, payload=payload,
        )  # fmt: skip
        conn.execute(
            audit_log.insert().values(
                seq=5,
                recorded_at=when,
                kind="decision",
                actor="api",
                subject=OTHER,
                payload=payload,
                prev_hash=prev,
                entry_hash=forged,
            )  # fmt: skip
        )
        conn.execute(update(audit_head).values(seq=5, entry_hash=forged))
    assert log.verify().ok  # consistent chain and head ...
    problems = _problems(log, anchors=[checkpoint], verifier=SIGNER)
    assert len(problems) == 1
    assert "entry 5 now hashes to" in problems[0]
    assert "rewritten and recomputed" in problems[0]


def test_an_edit_with_the_whole_chain_recomputed_is_caught_by_the_anchor(log, tmp_path):
    for i in range(1, 8):
        log.append("decision", "api", {"i": i, "tier": "B"}, subject=USCC)
    checkpoint = _anchored(log, tmp_path)
    with log.store.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET payload = :p WHERE seq = 3"),
            {"p": '{"i": 3, "tier": "A"}'},
        )
    _recompute_from(log, 3)
    assert log.verify().ok  # the chain is consistent again ...
    problems = _problems(log, anchors=[checkpoint], verifier=SIGNER)
    assert len(problems) == 1
    assert "entry 7 now hashes to" in problems[0]


def test_a_forged_checkpoint_is_refused(log, tmp_path):
    log.append("decision", "api", {"i": 1}, subject=USCC)
    genuine = make_checkpoint(log, SIGNER)
    forged = Checkpoint(**{**genuine.__dict__, "seq": genuine.seq + 5})
    problems = _problems(log, anchors=[forged], verifier=SIGNER)
    assert any("signature does not match" in p for p in problems), problems
    other_key = HmacSigner("another-secret-of-at-least-32-bytes!")
    assert _problems(log, anchors=[genuine], verifier=other_key)


def test_an_override_tier_changed_in_the_table_is_caught(filled):
    with filled.store.engine.begin() as conn:
        conn.execute(text("UPDATE overrides SET tier = 'A'"))
    problems = _problems(filled)
    assert any("override" in p.lower() for p in problems), problems


def test_an_override_inserted_without_an_audit_entry_is_caught(filled):
    with filled.store.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM overrides")).mappings().one()
        values = {k: v for k, v in row.items() if k != "override_id"}
        values["uscc"] = OTHER
        values["tier"] = "A"
        columns = ", ".join(values)
        params = ", ".join(f":{k}" for k in values)
        conn.execute(
            text(f"INSERT INTO overrides ({columns}) VALUES ({params})"), values
        )  # noqa: S608
    problems = _problems(filled)
    assert any("override" in p.lower() for p in problems), problems


def test_a_key_role_raised_to_admin_in_the_table_is_caught(filled):
    with filled.store.engine.begin() as conn:
        conn.execute(text("UPDATE api_keys SET role = 'admin' WHERE name = 'port-1'"))
    problems = _problems(filled)
    assert any("api_key" in p.lower() or "key" in p.lower() for p in problems), problems


def test_an_empty_log_cannot_be_anchored(log):
    with pytest.raises(AuditError, match="empty"):
        make_checkpoint(log, SIGNER)
