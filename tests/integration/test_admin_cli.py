"""The ``keys`` and ``audit`` commands on a temporary engine home (SQLite)."""

from __future__ import annotations

import re
import sqlite3

import pytest
from typer.testing import CliRunner

from credit_engine.audit import AuditLog
from credit_engine.auth import KeyStore
from credit_engine.cli import app
from credit_engine.config import Settings
from credit_engine.store import OperationalStore

runner = CliRunner()
KEY = re.compile(r"ce_[A-Za-z0-9_-]{43}")


@pytest.fixture
def home(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home")


def run(home: Settings, *args: str):
    return runner.invoke(app, [*args, "--home", str(home.home)])


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def store(home: Settings) -> OperationalStore:
    return OperationalStore.from_settings(home)


def test_keys_create_prints_the_key_once_and_it_authenticates(home):
    result = run(home, "keys", "create", "--role", "supervisor", "--name", "zone-sup",
                 "--by", "ops")  # fmt: skip
    assert result.exit_code == 0, result.output
    keys = KEY.findall(result.output)
    assert len(keys) == 1
    assert "only time the key is shown" in flat(result.output)
    with store(home) as opened:
        info = KeyStore(opened).authenticate(keys[0])
    assert (info.name, str(info.role), info.created_by) == (
        "zone-sup",
        "supervisor",
        "ops",
    )
    listed = run(home, "keys", "list")
    assert listed.exit_code == 0, listed.output
    assert "zone-sup" in listed.output
    assert keys[0][:8] in listed.output
    assert keys[0] not in listed.output


def test_keys_create_refuses_a_bad_role_or_a_taken_name(home):
    result = run(home, "keys", "create", "--role", "boss", "--name", "gw")
    assert result.exit_code == 2
    assert "invalid_key_request" in result.output
    assert "supervisor, inspection_system, data_scientist, admin" in flat(result.output)
    assert run(home, "keys", "create", "--role", "admin", "--name", "gw").exit_code == 0
    again = run(home, "keys", "create", "--role", "admin", "--name", "gw")
    assert again.exit_code == 2
    assert "name is taken" in flat(again.output)


def test_keys_revoke_then_the_key_fails_and_the_list_says_so(home):
    created = run(home, "keys", "create", "--role", "admin", "--name", "gw")
    key = KEY.findall(created.output)[0]
    result = run(home, "keys", "revoke", "gw", "--by", "root")
    assert result.exit_code == 0, result.output
    assert "revoked" in result.output
    with store(home) as opened:
        from credit_engine.auth import AuthenticationError

        with pytest.raises(AuthenticationError, match="revoked"):
            KeyStore(opened).authenticate(key)
    listed = run(home, "keys", "list")
    assert "by root" in listed.output
    active = run(home, "keys", "list", "--active")
    assert "gw" not in active.output
    missing = run(home, "keys", "revoke", "nobody")
    assert missing.exit_code == 2
    assert "api_key_not_found" in missing.output


def test_audit_verify_is_intact_then_names_the_tampered_entry(home):
    for name in ("a", "b", "c"):
        assert (
            run(home, "keys", "create", "--role", "admin", "--name", name).exit_code
            == 0
        )
    ok = run(home, "audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert "audit log intact: 3 entries" in flat(ok.output)
    db = home.home / "credit_engine.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        conn.execute("DELETE FROM audit_log WHERE seq = 3")
    broken = run(home, "audit", "verify")
    assert broken.exit_code == 1
    out = flat(broken.output)
    assert "seq 2: entry_hash does not match its content (edited)" in out
    assert "head says 3 but the log ends at 2 (newest entries deleted)" in out


def test_audit_list_and_show(home):
    run(home, "keys", "create", "--role", "admin", "--name", "gw", "--by", "ops")
    run(home, "keys", "revoke", "gw", "--by", "ops")
    listed = run(home, "audit", "list", "--kind", "key_revoked")
    assert listed.exit_code == 0, listed.output
    assert "key_revoked" in listed.output
    assert "key_created" not in listed.output
    shown = run(home, "audit", "show", "1")
    assert shown.exit_code == 0, shown.output
    for text in ("key_created", "entry_hash", '"role": "admin"', "ops"):
        assert text in shown.output
    missing = run(home, "audit", "show", "99")
    assert missing.exit_code == 2
    assert "No audit entry with seq 99" in flat(missing.output)


def test_audit_replay_refuses_an_entry_that_is_not_a_decision(home):
    run(home, "keys", "create", "--role", "admin", "--name", "gw")
    result = run(home, "audit", "replay", "1")
    assert result.exit_code == 2
    assert "'key_created' entry; only 'decision' entries" in flat(result.output)


def test_audit_replay_of_a_malformed_decision_entry_is_a_clear_error(home):
    with store(home) as opened:
        AuditLog(opened).append("decision", "api", {"decision": {"uscc": "x"}})
    result = run(home, "audit", "replay", "1")
    assert result.exit_code == 2
    assert "the payload lacks ['inputs']" in flat(result.output)


def test_audit_anchor_then_verify_with_it_catches_a_rollback(home, tmp_path):
    keys = runner.invoke(app, ["audit", "anchor-keygen", str(tmp_path / "keys")])
    assert keys.exit_code == 0, keys.output
    private = tmp_path / "keys" / "audit_anchor.pem"
    public = tmp_path / "keys" / "audit_anchor.pub.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    for name in ("a", "b", "c"):
        assert (
            run(home, "keys", "create", "--role", "admin", "--name", name).exit_code
            == 0
        )
    unsigned = run(home, "audit", "anchor")
    assert unsigned.exit_code != 0
    assert "No key to sign audit checkpoints" in flat(unsigned.output)
    signing = Settings(home=home.home, audit_anchor_private_key=private)
    from credit_engine.audit import (
        AuditLog,
        Ed25519Signer,
        make_checkpoint,
        write_checkpoint,
    )

    with store(home) as opened:
        cp = make_checkpoint(AuditLog(opened), Ed25519Signer.from_file(private))
    anchor = write_checkpoint(cp, tmp_path / "cp.json")
    assert signing.audit_anchor_private_key == private
    ok = run(
        home, "audit", "verify", "--anchor", str(anchor), "--public-key", str(public)
    )
    assert ok.exit_code == 0, ok.output
    assert "1 checkpoint(s) hold" in flat(ok.output)
    no_key = run(home, "audit", "verify", "--anchor", str(anchor))
    assert no_key.exit_code == 1
    assert "cannot be checked without a key" in flat(no_key.output)
    db = home.home / "credit_engine.db"
    with sqlite3.connect(db) as conn:
        (prev,) = conn.execute(
            "SELECT entry_hash FROM audit_log WHERE seq = 2"
        ).fetchone()
        conn.execute("DELETE FROM audit_log WHERE seq = 3")
        conn.execute("UPDATE audit_head SET seq = 2, entry_hash = ?", (prev,))
    broken = run(
        home, "audit", "verify", "--anchor", str(anchor), "--public-key", str(public)
    )
    assert broken.exit_code == 1
    assert "the log now ends at seq 2" in flat(broken.output)


def test_audit_anchor_writes_a_signed_checkpoint_with_the_configured_key(
    tmp_path, monkeypatch
):
    secret = "x" * 40
    monkeypatch.setenv("CREDIT_ENGINE_AUDIT_ANCHOR_KEY", secret)
    home = Settings(home=tmp_path / "home")
    assert run(home, "keys", "create", "--role", "admin", "--name", "a").exit_code == 0
    out = tmp_path / "anchors" / "cp.json"
    made = run(home, "audit", "anchor", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert "checkpoint of seq 1" in flat(made.output)
    again = run(home, "audit", "anchor", "--out", str(out))
    assert again.exit_code != 0  # never overwritten
    ok = run(home, "audit", "verify", "--anchor", str(out))
    assert ok.exit_code == 0, ok.output


def test_keys_create_with_a_console_password_and_change_it(home):
    from credit_engine.auth import ConsoleAccounts

    secret = "a console passphrase"
    result = runner.invoke(
        app,
        ["keys", "create", "--role", "auditor", "--name", "audit-1", "--password",
         "--home", str(home.home)],
        input=f"{secret}\n{secret}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "console password set" in flat(result.output)
    assert secret not in result.output  # asked hidden, never echoed
    with store(home) as opened:
        accounts = ConsoleAccounts(opened)
        assert str(accounts.authenticate("audit-1", secret).role) == "auditor"
    newer = "another console passphrase"
    changed = runner.invoke(
        app, ["keys", "password", "audit-1", "--home", str(home.home)],
        input=f"{newer}\n{newer}\n",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    short = runner.invoke(
        app, ["keys", "password", "audit-1", "--home", str(home.home)],
        input="short\nshort\n",
    )  # fmt: skip
    assert short.exit_code != 0
    assert "at least 12 characters" in flat(short.output)
    with store(home) as opened:
        assert ConsoleAccounts(opened).authenticate("audit-1", newer).name == "audit-1"
