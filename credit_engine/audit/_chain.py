"""The hash chain: canonical JSON, entry hashes and the entry record.

``entry_hash = sha256(prev_hash + canonical_json(content))`` where ``content`` is
``{"seq", "recorded_at", "kind", "actor", "subject", "payload"}``,
``recorded_at`` is the ISO 8601 UTC instant with microseconds, and canonical
JSON is ``json.dumps(..., sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8. Anyone holding a copy of the table can
recompute every hash with the standard library alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from credit_engine.audit._schema import GENESIS_HASH
from credit_engine.exceptions import AuditError
from credit_engine.store import EncodedJSON, JSONText

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditKind",
    "Canonical",
    "NewEntry",
    "PreparedEntry",
    "WireEntry",
    "canonical_json",
    "chain_hash",
    "iso_utc",
    "prepare_entry",
]

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MAX_TEXT = 200


class AuditKind(StrEnum):
    """Kinds of entries the engine writes (other lower_snake_case kinds are allowed)."""

    DECISION = "decision"
    OVERRIDE = "override"
    OVERRIDE_REVOKED = "override_revoked"
    MODEL_RELOAD = "model_reload"
    KEY_CREATED = "key_created"
    KEY_REVOKED = "key_revoked"
    RATING_RUN = "rating_run"
    MODEL_PROMOTION = "model_promotion"
    SUPERVISOR_READ = "supervisor_read"
    COVERAGE_BASELINE = "coverage_baseline"
    # Early warnings (issue 12)
    WARNINGS_EVALUATED = "warnings_evaluated"
    WARNINGS_READ = "warnings_read"
    WARNING_ACKNOWLEDGED = "warning_acknowledged"
    WARNING_CLOSED = "warning_closed"


def canonical_json(value: Any) -> str:
    """Serialise ``value`` as the canonical JSON the chain hashes.

    Parameters
    ----------
    value : object
        JSON-ready data: dict (string keys), list, str, int, finite float,
        bool or None.

    Returns
    -------
    str
        Sorted keys, no whitespace, non-ASCII kept as is.

    Raises
    ------
    TypeError
        For a value JSON cannot encode (dates, numpy scalars, sets ...).
    ValueError
        For NaN or infinite floats (not JSON; PostgreSQL refuses them).

    Examples
    --------
    >>> canonical_json({"b": [1, 0.1], "a": "厦门"})
    '{"a":"厦门","b":[1,0.1]}'
    """
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


class Canonical:
    """A JSON value already normalised, with its canonical JSON text.

    A payload given to :class:`NewEntry` may hold these as values of its
    mappings (at any depth of mappings, not inside lists): the entry's
    canonical JSON is then assembled from their ``text`` without encoding
    them again, and its normalised payload holds their ``value``. Build one
    with :meth:`of` (it normalises exactly as :func:`prepare_entry` does); the
    constructor trusts its caller that ``text == canonical_json(value)`` and
    that ``value`` is what JSON decodes ``text`` to (tests prove it for the
    fragments the engine pre-encodes).

    Parameters
    ----------
    value : object
        JSON data as :func:`json.loads` returns it (dict keys sorted).
    text : str
        ``canonical_json(value)``.

    A fragment made with ``Canonical.of(value, keep_value=False)`` keeps only
    its text (less memory for long-lived fragments) and decodes a new
    ``value`` at each access. One that keeps its value shares it with every
    entry built from it: never mutate it.
    """

    __slots__ = ("_value", "text")

    def __init__(self, value: Any, text: str) -> None:
        self._value = value
        self.text = text

    @property
    def value(self) -> Any:
        """The normalised value (decoded from :attr:`text` if not kept)."""
        if self._value is _NOT_KEPT:
            return json.loads(self.text)
        return self._value

    @classmethod
    def from_text(cls, text: str) -> Canonical:
        """Return the fragment of a canonical JSON text, its value decoded on access.

        ``text`` must be canonical JSON of a value whose mappings have string
        keys only (as :meth:`of` makes it): decoding it gives the value.
        """
        return cls(_NOT_KEPT, text)

    @classmethod
    def of(cls, value: Any, *, keep_value: bool = True) -> Canonical:
        """Normalise ``value`` through canonical JSON (as an entry's payload is).

        Parameters
        ----------
        value : object
            JSON-ready data.
        keep_value : bool, default=True
            Keep the decoded value; ``False``: keep the text only, where
            decoding it again gives the same value in the same key order
            (mappings with string keys only; otherwise the value is kept).

        Raises
        ------
        TypeError, ValueError
            As :func:`canonical_json`.

        Examples
        --------
        >>> Canonical.of({"b": (1, 0.5), "a": None}).text
        '{"a":null,"b":[1,0.5]}'
        """
        first = canonical_json(value)
        decoded = json.loads(first)
        text = canonical_json(decoded)
        # Equal texts: decoding `text` again yields `decoded`'s key order.
        kept = decoded if keep_value or text != first else _NOT_KEPT
        return cls(kept, text)


_NOT_KEPT: Any = object()


def _holds_canonical(value: Mapping[Any, Any]) -> bool:
    for item in value.values():
        if isinstance(item, Canonical):
            return True
        if isinstance(item, Mapping) and _holds_canonical(item):
            return True
    return False


def _spliced_text(value: Mapping[Any, Any]) -> str:
    """Return the canonical JSON of a mapping holding :class:`Canonical` fragments.

    Equal to :func:`canonical_json` of the mapping normalised through JSON with
    each fragment replaced by its value; fragments are spliced as their text and
    never decoded (keys must be strings: an int key would change the sorted
    order once JSON turned it into a string).
    """
    keys = list(value)
    if not all(isinstance(k, str) for k in keys):
        bad = [k for k in keys if not isinstance(k, str)][:3]
        raise TypeError(
            f"keys of a mapping holding pre-encoded values must be strings, got {bad}"
        )
    parts: list[str] = []
    for key in sorted(keys):
        item = value[key]
        if isinstance(item, Canonical):
            text = item.text
        elif isinstance(item, Mapping) and _holds_canonical(item):
            text = _spliced_text(item)
        else:
            text = canonical_json(json.loads(canonical_json(item)))
        parts.append(f"{_key_text(key)}:{text}")
    return "{" + ",".join(parts) + "}"


@functools.lru_cache(maxsize=1024)
def _key_text(key: str) -> str:
    """Return a mapping key's canonical JSON (keys repeat in every entry)."""
    return canonical_json(key)


def iso_utc(instant: dt.datetime) -> str:
    """Render an aware instant as the chain does: UTC, microseconds, ``+00:00``.

    Examples
    --------
    >>> iso_utc(dt.datetime(2026, 6, 30, 8, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    '2026-06-30T00:00:00.000000+00:00'
    """
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


def chain_hash(
    prev_hash: str,
    *,
    seq: int,
    recorded_at: dt.datetime,
    kind: str,
    actor: str,
    subject: str | None,
    payload: Mapping[str, Any],
) -> str:
    """Return the ``entry_hash`` of an entry whose predecessor hashed to ``prev_hash``.

    Parameters
    ----------
    prev_hash : str
        64 hex digits: the previous entry's ``entry_hash``, or
        :data:`GENESIS_HASH` for ``seq`` 1.
    seq : int
        Position in the log.
    recorded_at : datetime.datetime
        Aware instant (hashed as :func:`iso_utc`).
    kind, actor : str
        What happened and who did it.
    subject : str or None
        Whom it concerns.
    payload : mapping
        JSON-ready details.

    Returns
    -------
    str
        SHA-256 hex digest of ``prev_hash + canonical_json(content)``.

    Examples
    --------
    >>> h = chain_hash(GENESIS_HASH, seq=1,
    ...                recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    ...                kind="key_created", actor="admin", subject="gateway",
    ...                payload={"role": "admin"})
    >>> len(h), h == chain_hash(GENESIS_HASH, seq=2,
    ...                recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    ...                kind="key_created", actor="admin", subject="gateway",
    ...                payload={"role": "admin"})
    (64, False)
    """
    return hash_content(
        prev_hash,
        seq=seq,
        recorded_at=recorded_at,
        kind=kind,
        actor=actor,
        subject=subject,
        payload_json=canonical_json(payload),
    )


def hash_content(
    prev_hash: str,
    *,
    seq: int,
    recorded_at: dt.datetime,
    kind: str,
    actor: str,
    subject: str | None,
    payload_json: str,
) -> str:
    """:func:`chain_hash` from the payload's canonical JSON (encoded once)."""
    # The canonical JSON of the content, assembled in sorted key order: equal to
    # canonical_json({...}) (tested) without encoding the payload a second time.
    content = (
        f'{{"actor":{canonical_json(actor)},"kind":{canonical_json(kind)},'
        f'"payload":{payload_json},"recorded_at":"{iso_utc(recorded_at)}",'
        f'"seq":{int(seq)},"subject":{canonical_json(subject)}}}'
    )
    return sha256_holding_gil((prev_hash + content).encode("utf-8"))


_GIL_FREE_FROM = 2048
"""hashlib lets other threads run while it hashes this many bytes or more."""


def sha256_holding_gil(data: bytes) -> str:
    """Return the hex SHA-256 of ``data``, hashed in pieces shorter than 2 KiB.

    The same digest as ``hashlib.sha256(data).hexdigest()``. hashlib releases
    the interpreter lock for a buffer of 2 KiB or more, and getting it back
    costs the writer thread up to a switch interval whenever another thread
    is busy (a batch): per entry of the audit log, that wait dwarfed the
    microseconds of hashing. In pieces, the lock is kept.
    """
    digest = hashlib.sha256()
    view = memoryview(data)
    step = _GIL_FREE_FROM - 1
    for start in range(0, len(view), step):
        digest.update(view[start : start + step])
    return digest.hexdigest()


class _DecodedOnRead:
    """An entry's ``payload`` that may be kept as its JSON text until read.

    A data descriptor set on :class:`AuditEntry` and :class:`PreparedEntry`
    after their dataclass is made: the constructor's ``payload`` (through the
    frozen dataclass's ``object.__setattr__``) lands in the instance's
    ``__dict__`` as given. A :class:`~credit_engine.store.JSONText` is decoded
    on the first read into an :class:`~credit_engine.store.EncodedJSON` (which
    keeps the text) and kept; anything else is returned as it is. Equality,
    pickling and ``to_dict`` read through it, so an entry behaves as if it had
    been given the decoded mapping. The served decisions' entries are written
    to the store and answered by their ``seq`` without anybody decoding them.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        kept = obj.__dict__[self.name]
        if type(kept) is JSONText:
            kept = EncodedJSON(json.loads(kept), str.__str__(kept))
            obj.__dict__[self.name] = kept
        return kept

    def __set__(self, obj: object, value: Any) -> None:
        obj.__dict__[self.name] = value


def stored_payload(entry: AuditEntry | PreparedEntry) -> Any:
    """Return an entry's payload as kept: to write it without decoding its text."""
    return entry.__dict__["payload"]


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log.

    Attributes
    ----------
    seq : int
        Position in the log: 1, 2, 3 ... without gaps.
    recorded_at : datetime.datetime
        When it was recorded (aware UTC).
    kind : str
        What happened (:class:`AuditKind` or another lower_snake_case word).
    actor : str
        Who did it: an API key name or a CLI user.
    subject : str or None
        Whom it concerns (a USCC, a key name ...).
    payload : dict
        The details, JSON-ready.
    prev_hash, entry_hash : str
        The chain: the predecessor's hash and this entry's.
    """

    seq: int
    recorded_at: dt.datetime
    kind: str
    actor: str
    subject: str | None
    payload: dict[str, Any] = field(repr=False)
    prev_hash: str = field(repr=False)
    entry_hash: str

    def to_dict(self) -> dict[str, Any]:
        """Return every field, JSON-ready (``recorded_at`` as ISO 8601)."""
        return {
            "seq": self.seq,
            "recorded_at": iso_utc(self.recorded_at),
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }


@dataclass(frozen=True)
class NewEntry:
    """An entry to append (see :meth:`AuditLog.append_many`).

    Attributes
    ----------
    kind, actor : str
        What happened and who did it.
    payload : mapping
        JSON-ready details.
    subject : str or None
        Whom it concerns.
    recorded_at : datetime.datetime or None
        When (aware); default: the time of the append.
    """

    kind: str
    actor: str
    payload: Mapping[str, Any]
    subject: str | None = None
    recorded_at: dt.datetime | None = None


@dataclass(frozen=True)
class PreparedEntry:
    """A validated :class:`NewEntry` with its payload normalised through JSON."""

    kind: str
    actor: str
    subject: str | None
    recorded_at: dt.datetime
    payload: dict[str, Any]
    payload_json: str

    def to_wire(self) -> WireEntry:
        """Return the entry compactly, for another process (no decoded payload).

        A tuple of strings and the timestamp pickles in microseconds where the
        payload mapping would take a long unbroken hold of the interpreter to
        rebuild; :meth:`from_wire` decodes it entry by entry.
        """
        return (
            self.kind,
            self.actor,
            self.subject,
            self.recorded_at,
            self.payload_json,
        )

    @classmethod
    def from_wire(cls, wire: WireEntry) -> PreparedEntry:
        """Rebuild an entry from :meth:`to_wire` (its payload decoded when read)."""
        kind, actor, subject, recorded_at, text = wire
        return cls(
            kind=kind,
            actor=actor,
            subject=subject,
            recorded_at=recorded_at,
            payload=JSONText(text),  # type: ignore[arg-type]  # decoded on read
            payload_json=text,
        )


# Payloads kept as text until read (see _DecodedOnRead); set after the
# dataclasses are made, so that their constructors keep the field.
for _cls in (AuditEntry, PreparedEntry):
    setattr(_cls, "payload", _DecodedOnRead("payload"))  # noqa: B010

WireEntry = tuple[str, str, str | None, dt.datetime, str]
"""A :class:`PreparedEntry` sent between processes (``to_wire``)."""


def _text(value: object, name: str, problems: list[str], *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{name} must be a non-empty string, got {value!r}")
    elif len(value) > _MAX_TEXT:
        problems.append(f"{name} has {len(value)} characters; at most {_MAX_TEXT}")


def prepare_entry(entry: NewEntry, now: dt.datetime) -> PreparedEntry:
    """Validate an entry and normalise its payload (what is hashed is what is read).

    The payload goes through canonical JSON and back, so tuples become lists and
    the entry returned by an append equals the one read from the store. Values
    that are :class:`Canonical` fragments are taken as they are (their text is
    spliced into the payload's canonical JSON): the same text, without encoding
    them again.

    Raises
    ------
    AuditError
        Listing every problem: kind, actor, subject, timestamp, payload.
    """
    problems: list[str] = []
    if not isinstance(entry.kind, str) or not _KIND.match(entry.kind):
        problems.append(
            f"kind must be a lower_snake_case word of at most 64 characters "
            f"(e.g. {', '.join(repr(str(k)) for k in AuditKind)}), got {entry.kind!r}"
        )
    _text(entry.actor, "actor", problems, optional=False)
    _text(entry.subject, "subject", problems, optional=True)
    recorded_at = now if entry.recorded_at is None else entry.recorded_at
    if not isinstance(recorded_at, dt.datetime) or recorded_at.utcoffset() is None:
        problems.append(
            f"recorded_at must be a timezone-aware datetime, got {recorded_at!r}"
        )
    payload: dict[str, Any] | None = None
    payload_json = ""
    if not isinstance(entry.payload, Mapping):
        problems.append(
            f"payload must be a mapping, got {type(entry.payload).__name__}"
        )
    else:
        try:
            if _holds_canonical(entry.payload):
                # Pre-encoded fragments (decisions served): spliced, not
                # re-encoded, and the payload decoded only if somebody reads it.
                payload_json = _spliced_text(entry.payload)
            else:
                payload = json.loads(canonical_json(dict(entry.payload)))
                # Again from the decoded form: JSON turns int keys into strings,
                # which changes their sorted order; hash what will be read back.
                payload_json = canonical_json(payload)
        except (TypeError, ValueError) as exc:
            problems.append(
                f"payload is not JSON-ready ({exc}); convert dates to ISO strings, "
                "numpy scalars to int/float and NaN to None"
            )
    if problems:
        raise AuditError("Cannot append to the audit log: " + "; ".join(problems) + ".")
    assert isinstance(recorded_at, dt.datetime)
    return PreparedEntry(
        kind=str(entry.kind),
        actor=entry.actor,
        subject=entry.subject,
        recorded_at=recorded_at.astimezone(dt.UTC),
        # Carries its canonical text: the store writes it instead of encoding
        # the payload a third time (it decodes to the same payload). Spliced
        # payloads are kept as that text alone until read (_DecodedOnRead).
        payload=(
            JSONText(payload_json)  # type: ignore[arg-type]
            if payload is None
            else EncodedJSON(payload, payload_json)
        ),
        payload_json=payload_json,
    )


def seal(prepared: PreparedEntry, seq: int, prev_hash: str) -> AuditEntry:
    """Give a prepared entry its place in the chain."""
    return AuditEntry(
        seq=seq,
        recorded_at=prepared.recorded_at,
        kind=prepared.kind,
        actor=prepared.actor,
        subject=prepared.subject,
        payload=stored_payload(prepared),  # as kept: not decoded here
        prev_hash=prev_hash,
        entry_hash=hash_content(
            prev_hash,
            seq=seq,
            recorded_at=prepared.recorded_at,
            kind=prepared.kind,
            actor=prepared.actor,
            subject=prepared.subject,
            payload_json=prepared.payload_json,
        ),
    )
