"""Tampering with the stored log through raw SQL is detected and located by seq."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from credit_engine.audit import AuditLog, audit_log, chain_hash

N = 50


@pytest.fixture
def filled(log: AuditLog) -> AuditLog:
    for i in range(1, N + 1):
        log.append("decision", "api", {"i": i, "pd": i / 997}, subject=f"S{i % 5}")
    assert log.verify().ok
    return log


def sql(log: AuditLog, *statements: str) -> None:
    with log.store.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def problems(log: AuditLog, **kwargs) -> list[str]:
    result = log.verify(**kwargs)
    assert result.ok is (not result.problems)
    assert result.ok is False
    return result.problems


def test_an_edited_payload_is_named(filled):
    sql(
        filled,
        """UPDATE audit_log SET payload = '{"i": 17, "pd": 0.0}' WHERE seq = 17""",
    )
    assert problems(filled) == [
        "seq 17: entry_hash does not match its content (edited)"
    ]


def test_an_edited_kind_is_named(filled):
    sql(filled, "UPDATE audit_log SET kind = 'override' WHERE seq = 5")
    assert problems(filled) == ["seq 5: entry_hash does not match its content (edited)"]


def test_an_edited_timestamp_actor_or_subject_is_named(filled):
    sql(
        filled,
        "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3",
        "UPDATE audit_log SET subject = NULL WHERE seq = 4",
        "UPDATE audit_log SET recorded_at = recorded_at + INTERVAL '1 hour' "
        "WHERE seq = 6"
        if filled.store.engine.dialect.name == "postgresql"
        else "UPDATE audit_log SET recorded_at = datetime(recorded_at, '+1 hour') "
        "WHERE seq = 6",
    )
    assert problems(filled) == [
        f"seq {s}: entry_hash does not match its content (edited)" for s in (3, 4, 6)
    ]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(filled):
    entry = filled.get(17)
    payload = {"i": 17, "pd": 0.0}
    forged = chain_hash(
        entry.prev_hash, seq=17, recorded_at=entry.recorded_at, kind=entry.kind,
        actor=entry.actor, subject=entry.subject, payload=payload,
    )  # fmt: skip
    sql(
        filled,
        f"UPDATE audit_log SET payload = '{json.dumps(payload)}', "
        f"entry_hash = '{forged}' WHERE seq = 17",
    )
    assert problems(filled) == [
        "seq 18: prev_hash does not match seq 17 (inserted or reordered)"
    ]


def test_deleted_middle_rows_are_named_as_a_range(filled):
    sql(filled, "DELETE FROM audit_log WHERE seq BETWEEN 40 AND 42")
    assert problems(filled) == ["seq 40–42 missing (deleted)"]
    sql(filled, "DELETE FROM audit_log WHERE seq = 1")
    assert problems(filled) == [
        "seq 1 missing (deleted)",
        "seq 40–42 missing (deleted)",
    ]


def test_deleting_the_newest_rows_is_caught_by_the_head(filled):
    sql(filled, f"DELETE FROM audit_log WHERE seq > {N - 3}")
    assert problems(filled) == [
        f"head says {N} but the log ends at {N - 3} (newest entries deleted)"
    ]


def test_deleting_everything_is_caught_by_the_head(filled):
    sql(filled, "DELETE FROM audit_log")
    result = filled.verify()
    assert (result.ok, result.checked) == (False, 0)
    assert result.problems == [
        f"head says {N} but the log ends at 0 (newest entries deleted)"
    ]


def test_a_forged_row_with_a_recomputed_hash_but_wrong_prev_is_caught(filled):
    newest = filled.get(N)
    wrong_prev = filled.get(N - 1).entry_hash
    recorded_at = newest.recorded_at
    forged = chain_hash(
        wrong_prev, seq=N + 1, recorded_at=recorded_at, kind="decision",
        actor="api", subject="S1", payload={"i": N + 1},
    )  # fmt: skip
    # Written behind the log's back (no head update), as an intruder would.
    with filled.store.engine.begin() as conn:
        conn.execute(
            audit_log.insert(),
            {"seq": N + 1, "recorded_at": recorded_at, "kind": "decision",
             "actor": "api", "subject": "S1", "payload": {"i": N + 1},
             "prev_hash": wrong_prev, "entry_hash": forged},
        )  # fmt: skip
    assert problems(filled) == [
        f"seq {N + 1}: prev_hash does not match seq {N} (inserted or reordered)",
        f"head says {N} but the log continues to {N + 1} (entries inserted after "
        "the head, or the head was rolled back)",
    ]


def test_a_row_replaced_with_a_consistent_forgery_breaks_the_next_link(filled):
    original = filled.get(20)
    forged_hash = chain_hash(
        original.prev_hash, seq=20, recorded_at=original.recorded_at, kind="decision",
        actor="api", subject=original.subject, payload={"i": 20, "pd": 0.5},
    )  # fmt: skip
    sql(
        filled,
        f"""UPDATE audit_log SET payload = '{{"i": 20, "pd": 0.5}}', """
        f"entry_hash = '{forged_hash}' WHERE seq = 20",
    )
    assert problems(filled) == [
        "seq 21: prev_hash does not match seq 20 (inserted or reordered)"
    ]


def test_two_swapped_rows_are_both_named(filled):
    sql(
        filled,
        "UPDATE audit_log SET seq = 1000011 WHERE seq = 11",
        "UPDATE audit_log SET seq = 11 WHERE seq = 10",
        "UPDATE audit_log SET seq = 10 WHERE seq = 1000011",
    )
    found = problems(filled)
    assert found == [
        "seq 10: entry_hash does not match its content (edited)",
        "seq 10: prev_hash does not match seq 9 (inserted or reordered)",
        "seq 11: entry_hash does not match its content (edited)",
        "seq 11: prev_hash does not match seq 10 (inserted or reordered)",
        "seq 12: prev_hash does not match seq 11 (inserted or reordered)",
    ]


def test_a_replaced_newest_entry_is_caught_by_the_head_hash(filled):
    newest = filled.get(N)
    forged = chain_hash(
        newest.prev_hash, seq=N, recorded_at=newest.recorded_at, kind="decision",
        actor="api", subject=newest.subject, payload={"i": 0},
    )  # fmt: skip
    sql(
        filled,
        f"""UPDATE audit_log SET payload = '{{"i": 0}}', entry_hash = '{forged}' """
        f"WHERE seq = {N}",
    )
    assert problems(filled) == [
        f"head hash does not match seq {N} (the newest entry was replaced)"
    ]


def test_verification_streams_in_chunks_with_the_same_findings(filled):
    sql(
        filled,
        "UPDATE audit_log SET kind = 'override' WHERE seq = 7",
        "DELETE FROM audit_log WHERE seq IN (13, 14)",
        "DELETE FROM audit_log WHERE seq = 50",
    )
    expected = problems(filled)
    assert len(expected) == 3
    for chunk_size in (1, 6, 7, 13, 49, 1000):
        assert problems(filled, chunk_size=chunk_size) == expected, chunk_size
    assert filled.verify(chunk_size=7).checked == N - 3


def test_the_list_of_problems_is_capped(filled):
    sql(filled, "UPDATE audit_log SET actor = 'x'")
    found = problems(filled, max_problems=5)
    assert found[:5] == [
        f"seq {s}: entry_hash does not match its content (edited)" for s in range(1, 6)
    ]
    assert found[5] == f"... and {N - 5} more problems"


def test_a_corrupt_payload_is_reported_not_raised(filled):
    sql(filled, """UPDATE audit_log SET payload = '[1, 2]' WHERE seq = 2""")
    assert problems(filled) == ["seq 2: entry_hash does not match its content (edited)"]
