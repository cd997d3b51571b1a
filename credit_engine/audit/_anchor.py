"""Signed checkpoints of the audit log's head, kept outside the database.

The chain makes every entry depend on all before it, but someone able to write
the database can rewrite the entries from a point on, recompute every hash and
move the head row with them: the log stays self-consistent. A *checkpoint*
fixes the head at a moment, outside their reach: ``credit-engine audit anchor``
writes ``{"seq", "entry_hash", "recorded_at", "anchored_at"}`` of the newest
entry, signed, to a file that an auditor keeps (a ticket, a mail, a WORM
bucket). ``credit-engine audit verify --anchor FILE`` then requires the log to
still hold entry ``seq`` with that very hash:

* the newest entries deleted and the head rolled back below ``seq``: the log
  ends before ``seq`` (**truncation**, **rollback**);
* entries up to ``seq`` edited and the chain recomputed: entry ``seq`` has
  another hash (**recomputed chain**);
* a forged checkpoint: its signature does not verify.

Two signature schemes, chosen by the key configured:

``ed25519`` (preferred)
    ``CREDIT_ENGINE_AUDIT_ANCHOR_PRIVATE_KEY`` names a PEM private key (make one
    with ``credit-engine audit anchor-keygen``); auditors verify with the public
    key alone, so they cannot forge checkpoints themselves. Needs the
    ``cryptography`` package.
``hmac-sha256``
    ``CREDIT_ENGINE_AUDIT_ANCHOR_KEY`` holds a shared secret (at least 32
    bytes); whoever verifies holds the secret, and could sign too.

The signed message is the canonical JSON of the checkpoint without its
``signature``; its ``key_id`` (first 16 hex digits of the SHA-256 of the HMAC
key or of the raw public key) says which key signed it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from credit_engine.audit._chain import AuditEntry, canonical_json, iso_utc
from credit_engine.exceptions import AuditError, ConfigurationError

__all__ = [
    "AnchorSigner",
    "AnchorVerifier",
    "Checkpoint",
    "Ed25519Signer",
    "Ed25519Verifier",
    "HmacSigner",
    "checkpoint_problems",
    "generate_ed25519_keypair",
    "make_checkpoint",
    "read_checkpoint",
    "sign_checkpoint",
    "write_checkpoint",
]

_FORMAT = "credit-engine audit checkpoint v1"
_MIN_HMAC_KEY = 32


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the audit log's head at a moment.

    Attributes
    ----------
    seq : int
        Newest entry's sequence number when anchored.
    entry_hash : str
        Its ``entry_hash``.
    recorded_at : str
        Its ``recorded_at`` (ISO 8601 UTC).
    anchored_at : str
        When the checkpoint was made (ISO 8601 UTC).
    scheme : str
        ``ed25519`` or ``hmac-sha256``.
    key_id : str
        Which key signed it.
    signature : str
        Base64 of the signature over :meth:`message`.
    format : str
        Format tag.
    """

    seq: int
    entry_hash: str
    recorded_at: str
    anchored_at: str
    scheme: str
    key_id: str
    signature: str = ""
    format: str = _FORMAT

    def message(self) -> bytes:
        """Return the bytes signed: canonical JSON of all fields but ``signature``."""
        body = {k: v for k, v in asdict(self).items() if k != "signature"}
        return canonical_json(body).encode("utf-8")


class AnchorSigner(Protocol):
    """Signs checkpoints."""

    scheme: str
    key_id: str

    def sign(self, message: bytes) -> bytes:
        """Return the signature of ``message``."""
        ...


class AnchorVerifier(Protocol):
    """Checks checkpoint signatures."""

    def verify(self, checkpoint: Checkpoint) -> str | None:
        """Return None if the signature holds, else what is wrong."""
        ...


def _key_id(material: bytes) -> str:
    return hashlib.sha256(material).hexdigest()[:16]


class HmacSigner:
    """HMAC-SHA256 with a shared secret; signs and verifies.

    Parameters
    ----------
    key : bytes or str
        The secret, at least 32 bytes (e.g. ``openssl rand -hex 32``).

    Examples
    --------
    >>> signer = HmacSigner("k" * 32)
    >>> cp = Checkpoint(3, "ab" * 32, "2026-01-01T00:00:00.000000+00:00",
    ...                 "2026-01-01T00:00:01.000000+00:00", signer.scheme,
    ...                 signer.key_id)
    >>> signer.verify(sign_checkpoint(cp, signer)) is None
    True
    """

    scheme = "hmac-sha256"

    def __init__(self, key: bytes | str) -> None:
        raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if len(raw) < _MIN_HMAC_KEY:
            raise ConfigurationError(
                f"The audit anchor HMAC key has {len(raw)} bytes; use at least "
                f"{_MIN_HMAC_KEY} random bytes (e.g. `openssl rand -hex 32`) in "
                "CREDIT_ENGINE_AUDIT_ANCHOR_KEY."
            )
        self._key = raw
        self.key_id = _key_id(raw)

    def sign(self, message: bytes) -> bytes:
        """Return HMAC-SHA256(key, message)."""
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def verify(self, checkpoint: Checkpoint) -> str | None:
        """Check a checkpoint signed with this key."""
        return _check(checkpoint, self.scheme, self.key_id,
                      lambda sig: hmac.compare_digest(sig, self.sign(
                          checkpoint.message())))  # fmt: skip


def _cryptography() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:  # pragma: no cover - installed with the engine's deps
        raise ConfigurationError(
            "Ed25519 audit anchors need the 'cryptography' package, which is not "
            "installed; install it, or use an HMAC key "
            "(CREDIT_ENGINE_AUDIT_ANCHOR_KEY) instead."
        ) from exc
    return serialization, ed25519


def _raw_public(public_key: Any) -> bytes:
    serialization, _ = _cryptography()
    raw: bytes = public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return raw


class Ed25519Verifier:
    """Checks Ed25519 checkpoint signatures with a public key (PEM file)."""

    scheme = "ed25519"

    def __init__(self, public_key: Any) -> None:
        self._key = public_key
        self.key_id = _key_id(_raw_public(public_key))

    @classmethod
    def from_file(cls, path: Path) -> Ed25519Verifier:
        """Load a PEM public key (``anchor-keygen`` writes ``*.pub.pem``)."""
        serialization, ed25519 = _cryptography()
        key = serialization.load_pem_public_key(_read(path, "public key"))
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ConfigurationError(f"{path} is not an Ed25519 public key.")
        return cls(key)

    def verify(self, checkpoint: Checkpoint) -> str | None:
        """Check a checkpoint against this public key."""

        def valid(sig: bytes) -> bool:
            try:
                self._key.verify(sig, checkpoint.message())
            except Exception:  # noqa: BLE001 - InvalidSignature and malformed input
                return False
            return True

        return _check(checkpoint, self.scheme, self.key_id, valid)


class Ed25519Signer(Ed25519Verifier):
    """Signs checkpoints with an Ed25519 private key (PEM file, no passphrase)."""

    def __init__(self, private_key: Any) -> None:
        super().__init__(private_key.public_key())
        self._private = private_key

    @classmethod
    def from_file(cls, path: Path) -> Ed25519Signer:
        """Load a PEM private key (``anchor-keygen`` writes it with mode 0600)."""
        serialization, ed25519 = _cryptography()
        key = serialization.load_pem_private_key(_read(path, "private key"), None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ConfigurationError(f"{path} is not an Ed25519 private key.")
        return cls(key)

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of ``message``."""
        signature: bytes = self._private.sign(message)
        return signature


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read the audit anchor {what} {str(path)!r}: {exc.strerror}."
        ) from None


def _check(checkpoint: Checkpoint, scheme: str, key_id: str, valid: Any) -> str | None:
    if checkpoint.scheme != scheme:
        return (
            f"the checkpoint is signed with {checkpoint.scheme}, but the key "
            f"given is for {scheme}"
        )
    if checkpoint.key_id != key_id:
        return (
            f"the checkpoint was signed by key {checkpoint.key_id}, not by the "
            f"key given ({key_id})"
        )
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        return "its signature is not base64"
    if not valid(signature):
        return "its signature does not match its content (forged or altered)"
    return None


def generate_ed25519_keypair(
    directory: Path, name: str = "audit_anchor"
) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair: ``NAME.pem`` (mode 0600) and ``NAME.pub.pem``.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The private and the public key files.

    Raises
    ------
    AuditError
        If either file exists already (keys are never overwritten).
    """
    serialization, ed25519 = _cryptography()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / f"{name}.pem"
    public_path = directory / f"{name}.pub.pem"
    taken = [str(p) for p in (private_path, public_path) if p.exists()]
    if taken:
        raise AuditError(
            f"Key files {taken} exist already; keys are never overwritten. Move "
            "them away (keep the old public key to verify old checkpoints) or "
            "choose another --name."
        )
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )
    return private_path, public_path


def sign_checkpoint(checkpoint: Checkpoint, signer: AnchorSigner) -> Checkpoint:
    """Return ``checkpoint`` with its signature (scheme and key id must match)."""
    unsigned = Checkpoint(**{**asdict(checkpoint), "signature": ""})
    signature = base64.b64encode(signer.sign(unsigned.message())).decode("ascii")
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


class _HeadedLog(Protocol):
    """What a checkpoint reads of an audit log (:class:`AuditLog` has both)."""

    def head(self) -> tuple[int, str]: ...

    def get(self, seq: int) -> AuditEntry: ...


def make_checkpoint(log: _HeadedLog, signer: AnchorSigner) -> Checkpoint:
    """Read the log's head and its entry, and sign a checkpoint of them.

    Raises
    ------
    AuditError
        If the log is empty (nothing to anchor) or its head is inconsistent.
    """
    seq, entry_hash = log.head()
    if seq == 0:
        raise AuditError("The audit log is empty: there is no head to anchor yet.")
    entry = log.get(seq)
    if entry.entry_hash != entry_hash:
        raise AuditError(
            f"The head says seq {seq} hashes to {entry_hash[:12]}… but the entry "
            f"hashes to {entry.entry_hash[:12]}…; run `credit-engine audit verify` "
            "before anchoring."
        )
    checkpoint = Checkpoint(
        seq=seq,
        entry_hash=entry_hash,
        recorded_at=iso_utc(entry.recorded_at),
        anchored_at=iso_utc(dt.datetime.now(dt.UTC)),
        scheme=signer.scheme,
        key_id=signer.key_id,
    )
    return sign_checkpoint(checkpoint, signer)


def write_checkpoint(checkpoint: Checkpoint, path: Path) -> Path:
    """Write a checkpoint as JSON (never over an existing file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(checkpoint), indent=2, sort_keys=True) + "\n"
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise AuditError(
            f"{path} exists already; checkpoints are never overwritten. Choose "
            "another file name (the default names carry the time)."
        ) from None
    return path


def read_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint file.

    Raises
    ------
    AuditError
        If the file is missing, not JSON, or not a checkpoint.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"not a '{_FORMAT}' document")
        checkpoint = Checkpoint(**data)
        if not isinstance(checkpoint.seq, int) or checkpoint.seq < 1:
            raise ValueError(f"seq must be a positive integer, got {checkpoint.seq!r}")
    except (OSError, ValueError, TypeError) as exc:
        raise AuditError(f"Cannot read the audit checkpoint {path}: {exc}.") from None
    return checkpoint


def checkpoint_problems(
    checkpoint: Checkpoint,
    held: dict[int, str],
    last_seq: int,
    verifier: AnchorVerifier | None,
) -> list[str]:
    """Compare one checkpoint with the log (``held``: seq to entry_hash read).

    Returns
    -------
    list of str
        Empty if the signature holds and the log still has the entry.
    """
    where = f"checkpoint of seq {checkpoint.seq} (anchored {checkpoint.anchored_at})"
    out: list[str] = []
    if verifier is None:
        out.append(
            f"{where}: its signature cannot be checked without a key (give the "
            "public key with --public-key, or set the HMAC key)"
        )
    else:
        bad = verifier.verify(checkpoint)
        if bad is not None:
            out.append(f"{where}: {bad}")
    found = held.get(checkpoint.seq)
    if checkpoint.seq > last_seq:
        out.append(
            f"{where}: the log now ends at seq {last_seq} (entries deleted and the "
            "head rolled back: truncation)"
        )
    elif found is None:
        out.append(f"{where}: entry {checkpoint.seq} is missing (deleted)")
    elif found != checkpoint.entry_hash:
        out.append(
            f"{where}: entry {checkpoint.seq} now hashes to {found[:12]}…, not "
            f"{checkpoint.entry_hash[:12]}… (the chain was rewritten and recomputed)"
        )
    return out
