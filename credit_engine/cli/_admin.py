"""Administration commands: API keys (``keys``) and the audit log (``audit``)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.json import JSON
from rich.table import Table

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    err_console,
    friendly_errors,
    settings_for,
)
from credit_engine.config import Settings

if TYPE_CHECKING:
    from credit_engine.audit import AnchorSigner, AnchorVerifier, AuditLog
    from credit_engine.auth import KeyStore

__all__ = ["audit_app", "keys_app"]

keys_app = typer.Typer(
    help="API keys of the scoring and supervision API (stored hashed, with a role).",
    no_args_is_help=True,
)
audit_app = typer.Typer(
    help="The tamper-evident audit log: verify the chain, show and replay entries.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")


def _user() -> str:
    """Return the login name of who runs the command (recorded as the actor)."""
    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who does it (recorded). Default: your login name."),
]


def _keys(settings: Settings) -> KeyStore:
    from credit_engine.auth import KeyStore
    from credit_engine.store import OperationalStore

    return KeyStore(OperationalStore.from_settings(settings), cache_ttl=0)


def _log(settings: Settings) -> AuditLog:
    from credit_engine.audit import AuditLog
    from credit_engine.store import OperationalStore

    return AuditLog(OperationalStore.from_settings(settings))


def _day(value: Any) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d")


def _when(value: Any) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------------ keys
def _ask_password(name: str) -> str:
    """Prompt twice, hidden, for a console password (refusing a short one)."""
    from credit_engine.auth import MIN_PASSWORD_LENGTH

    password: str = typer.prompt(
        f"Console password for {name} (at least {MIN_PASSWORD_LENGTH} characters)",
        hide_input=True,
        confirmation_prompt=True,
    )
    return password


PasswordOption = Annotated[
    bool,
    typer.Option(
        "--password",
        help="Also set a console password (asked twice, hidden): the holder can "
        "then sign in to /console with the key's name and it.",
    ),
]


@keys_app.command("create")
@friendly_errors
def keys_create(
    role: Annotated[
        str,
        typer.Option(
            help="supervisor, inspection_system, data_scientist, admin or auditor."
        ),
    ],
    name: Annotated[
        str, typer.Option(help="Unique name of the key's holder (e.g. customs-gw).")
    ],
    password: PasswordOption = False,
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Create an API key and print it once: it cannot be shown again."""
    settings = settings_for(home)
    secret = _ask_password(name) if password else None
    keys = _keys(settings)
    info, key = keys.create(name, role.strip().lower(), created_by=by or _user())
    console.print(
        f"API key {info.name!r} (id {info.key_id}, role {info.role}) created:"
    )
    console.print(key, markup=False, highlight=False, soft_wrap=True)
    if secret is not None:
        from credit_engine.auth import ConsoleAccounts

        ConsoleAccounts(keys.store, keys=keys).set_password(
            info.key_id, secret, by=by or _user()
        )
        console.print(
            f"console password set: sign in to /console as {info.name!r} with it"
        )
    err_console.print(
        "[bold yellow]warning[/]: this is the only time the key is shown; only its "
        "hash is stored. Hand it over securely now; if it is lost, revoke it and "
        "create another."
    )


@keys_app.command("password")
@friendly_errors
def keys_password(
    name: Annotated[str, typer.Argument(help="Name (or id) of the key.")],
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Set or change the console password of a key's holder (asked twice, hidden)."""
    from credit_engine.auth import ConsoleAccounts

    keys = _keys(settings_for(home))
    info = keys.get(name)
    secret = _ask_password(info.name)
    ConsoleAccounts(keys.store, keys=keys).set_password(
        info.key_id, secret, by=by or _user()
    )
    console.print(
        f"console password of {info.name!r} (role {info.role}) set; its holder signs "
        "in to /console with the name and this password"
    )


@keys_app.command("list")
@friendly_errors
def keys_list(
    active: Annotated[
        bool, typer.Option("--active", help="Only keys that are not revoked.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """List the API keys (names, roles and prefixes; never the keys)."""
    listed = _keys(settings_for(home)).list(include_revoked=not active)
    table = Table(title=f"API keys ({len(listed)})")
    table.add_column("name", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column("prefix", no_wrap=True)
    table.add_column("created")
    table.add_column("revoked")
    used = any(k.last_used_at is not None for k in listed)
    if used:
        table.add_column("last used")
    for k in listed:
        cells = [
            k.name, str(k.role), f"{k.key_prefix}…",
            f"{_day(k.created_at)} by {k.created_by}",
            "-" if k.revoked_at is None else f"{_day(k.revoked_at)} by {k.revoked_by}",
        ]  # fmt: skip
        if used:
            cells.append(_day(k.last_used_at))
        table.add_row(*cells, style="dim" if k.revoked_at is not None else None)
    console.print(table)


@keys_app.command("revoke")
@friendly_errors
def keys_revoke(
    name: Annotated[str, typer.Argument(help="Name (or id) of the key.")],
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Revoke an API key (running API processes drop it within seconds).

    Its console sessions end at once, and its console password with it.
    """
    info = _keys(settings_for(home)).revoke(name, by=by or _user())
    console.print(
        f"API key {info.name!r} (role {info.role}) revoked at "
        f"{_when(info.revoked_at)} by {info.revoked_by}; running API processes "
        "refuse it within their key-cache time (5 s by default)."
    )


# ----------------------------------------------------------------------- audit
def _signer(settings: Settings) -> AnchorSigner:
    """Return the checkpoint signer the settings configure (Ed25519 first)."""
    from credit_engine.audit import Ed25519Signer, HmacSigner
    from credit_engine.exceptions import ConfigurationError

    if settings.audit_anchor_private_key is not None:
        return Ed25519Signer.from_file(settings.audit_anchor_private_key)
    if settings.audit_anchor_key is not None:
        return HmacSigner(settings.audit_anchor_key.get_secret_value())
    raise ConfigurationError(
        "No key to sign audit checkpoints: set CREDIT_ENGINE_AUDIT_ANCHOR_PRIVATE_KEY "
        "to an Ed25519 private key (make one with `credit-engine audit anchor-keygen "
        "DIR`) or CREDIT_ENGINE_AUDIT_ANCHOR_KEY to a secret of at least 32 bytes."
    )


def _verifier(settings: Settings, public_key: Path | None) -> AnchorVerifier | None:
    """Return what checks checkpoint signatures: a public key, else the settings."""
    from credit_engine.audit import Ed25519Signer, Ed25519Verifier, HmacSigner

    if public_key is not None:
        return Ed25519Verifier.from_file(public_key)
    if settings.audit_anchor_private_key is not None:
        return Ed25519Signer.from_file(settings.audit_anchor_private_key)
    if settings.audit_anchor_key is not None:
        return HmacSigner(settings.audit_anchor_key.get_secret_value())
    return None


AnchorOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--anchor",
        help="A checkpoint file from `audit anchor` (repeatable): the log must "
        "still hold its entry with its hash (catches truncation, rollback and a "
        "recomputed chain).",
    ),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="Ed25519 public key (PEM) that checks the checkpoints' signatures "
        "(default: the configured anchor key).",
    ),
]


@audit_app.command("verify")
@friendly_errors
def audit_verify(
    anchor: AnchorOption = None,
    public_key: PublicKeyOption = None,
    home: HomeOption = None,
) -> None:
    """Recompute the chain and the covered tables; exit 1 listing every problem.

    With --anchor, also check the log against checkpoints kept outside it.
    """
    from credit_engine.audit import read_checkpoint

    settings = settings_for(home)
    checkpoints = [read_checkpoint(p) for p in anchor or []]
    verifier = _verifier(settings, public_key) if checkpoints else None
    result = _log(settings).verify(anchors=checkpoints, verifier=verifier)
    if result.ok:
        console.print(
            f"audit log intact: {result.checked:,} entries; head seq "
            f"{result.head_seq}, hash {result.head_hash}"
            + (f"; {len(checkpoints)} checkpoint(s) hold" if checkpoints else "")
        )
        for note in result.notes:
            console.print(f"  note: {note}", markup=False, highlight=False)
        return
    err_console.print(
        f"[bold red]audit log broken[/]: {len(result.problems)} problem(s) in "
        f"{result.checked:,} entries read"
    )
    for problem in result.problems:
        err_console.print(f"  - {problem}", markup=False, highlight=False)
    raise typer.Exit(code=1)


@audit_app.command("anchor")
@friendly_errors
def audit_anchor(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Checkpoint file to write (never overwritten; default: "
            "HOME/audit-anchors/checkpoint-<seq>-<time>.json). Give it to an "
            "auditor to keep outside the database.",
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Sign a checkpoint of the audit log's head and write it to a file."""
    import datetime as dt

    from credit_engine.audit import make_checkpoint, write_checkpoint

    settings = settings_for(home)
    checkpoint = make_checkpoint(_log(settings), _signer(settings))
    if out is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        out = (
            settings.home
            / "audit-anchors"
            / f"checkpoint-{checkpoint.seq}-{stamp}.json"
        )
    path = write_checkpoint(checkpoint, out)
    console.print(
        f"checkpoint of seq {checkpoint.seq} (hash {checkpoint.entry_hash}) signed "
        f"({checkpoint.scheme}, key {checkpoint.key_id}) and written to {path}; keep "
        "it outside the database and pass it to `audit verify --anchor`."
    )


@audit_app.command("anchor-keygen")
@friendly_errors
def audit_anchor_keygen(
    directory: Annotated[Path, typer.Argument(help="Folder for the key pair.")],
    name: Annotated[str, typer.Option(help="File name stem.")] = "audit_anchor",
) -> None:
    """Make an Ed25519 key pair for signing checkpoints (private key mode 0600)."""
    from credit_engine.audit import generate_ed25519_keypair

    private, public = generate_ed25519_keypair(directory, name)
    console.print(
        f"private key {private} (set CREDIT_ENGINE_AUDIT_ANCHOR_PRIVATE_KEY to it); "
        f"public key {public} (give it to auditors: `audit verify --public-key`)."
    )


@audit_app.command("list")
@friendly_errors
def audit_list(
    subject: Annotated[
        str | None, typer.Option(help="Only entries about this subject (a USCC).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Only entries of this kind (e.g. decision).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
    home: HomeOption = None,
) -> None:
    """List the newest audit entries."""
    entries = _log(settings_for(home)).entries(
        subject=subject, kind=kind, limit=limit, newest_first=True
    )
    table = Table(title="Audit log (newest first)")
    for column in ("seq", "recorded", "kind", "actor", "subject"):
        table.add_column(column, justify="right" if column == "seq" else "left")
    for e in entries:
        table.add_row(str(e.seq), _when(e.recorded_at), e.kind, e.actor,
                      e.subject or "-")  # fmt: skip
    console.print(table)


@audit_app.command("show")
@friendly_errors
def audit_show(
    seq: Annotated[int, typer.Argument(help="Sequence number of the entry.")],
    home: HomeOption = None,
) -> None:
    """Print one audit entry with its payload and hashes."""
    entry = _log(settings_for(home)).get(seq)
    head = Table(title=f"Audit entry {entry.seq}", show_header=False)
    head.add_column("field", style="bold")
    head.add_column("value")
    for field, value in entry.to_dict().items():
        if field != "payload":
            head.add_row(field, "-" if value is None else str(value))
    console.print(head)
    console.print(JSON(json.dumps(entry.payload, ensure_ascii=False)))


def _codes(items: list[dict[str, Any]]) -> str:
    return ", ".join(str(i.get("code")) for i in items) or "-"


def _pd(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.4%}"
    return "-" if value is None else str(value)


@audit_app.command("replay")
@friendly_errors
def audit_replay(
    seq: Annotated[int, typer.Argument(help="Sequence number of a decision entry.")],
    home: HomeOption = None,
) -> None:
    """Re-derive a logged decision with the versions it used; exit 1 if it differs."""
    from credit_engine.exceptions import AuditError
    from credit_engine.rating import replay_decision

    settings = settings_for(home)
    entry = _log(settings).get(seq)
    if entry.kind != "decision":
        raise AuditError(
            f"Audit entry {seq} is a {entry.kind!r} entry; only 'decision' entries "
            "can be replayed (find them with `credit-engine audit list --kind "
            "decision`)."
        )
    result = replay_decision(settings, entry.payload)
    logged, now = result.logged["decision"], result.rederived["decision"]
    table = Table(
        title=f"Replay of entry {seq}: {logged.get('uscc')} at {logged.get('as_of')} "
        f"({logged.get('model_name')} v{logged.get('model_version')}, policy "
        f"{logged.get('policy_name')} v{logged.get('policy_version')})"
    )
    table.add_column("field", style="bold")
    table.add_column("logged")
    table.add_column("re-derived")
    rows = [
        ("tier", logged.get("tier"), now.get("tier")),
        ("decided by", logged.get("decided_by"), now.get("decided_by")),
        ("grade", logged.get("grade"), now.get("grade")),
        ("PD", _pd(logged.get("pd")), _pd(now.get("pd"))),
        ("green channel", logged.get("green_channel"), now.get("green_channel")),
        ("inspection rate", logged.get("inspection_rate"),
         now.get("inspection_rate")),
        ("measures", _codes(logged.get("measures", [])), _codes(now["measures"])),
        ("reasons", _codes(logged.get("reasons", [])), _codes(now["reasons"])),
    ]  # fmt: skip
    for label, before, after in rows:
        style = None if before == after else "bold red"
        table.add_row(label, str(before), str(after), style=style)
    console.print(table)
    if result.ok:
        console.print("[bold green]matches[/]: the decision re-derives exactly")
        return
    err_console.print(f"[bold red]differs[/] in {len(result.differences)} field(s):")
    for line in result.differences:
        err_console.print(f"  - {line}", markup=False, highlight=False)
    raise typer.Exit(code=1)
