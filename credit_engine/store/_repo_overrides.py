"""The override repository: add, revoke, in force at a date, history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, update

from credit_engine.exceptions import OverrideError, OverrideNotFoundError
from credit_engine.store._engine import translate_errors
from credit_engine.store._frames import OVERRIDE_DTYPES, to_frame
from credit_engine.store._overrides import (
    end_of_day,
    in_force_query,
    one_in_force_query,
    override_row,
    require_text,
)
from credit_engine.store._queries import as_date, new_id, uscc_chunks
from credit_engine.store._schema import overrides

__all__ = ["OverrideRepository"]


class OverrideRepository:
    """Manual tier overrides, on one connection of a unit of work.

    The methods behave as their namesakes on
    :class:`~credit_engine.store.OperationalStore`, which documents them, but
    write within the caller's transaction: nothing is committed here.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        The unit of work's connection.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

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
    ) -> int:
        """Insert a manual tier override; return its ``override_id``."""
        row = override_row(
            uscc=uscc,
            tier=tier,
            reason=reason,
            actor=actor,
            effective_from=effective_from,
            effective_to=effective_to,
            created_at=created_at,
        )
        with translate_errors(self.connection.engine, f"add an override for {uscc}"):
            return new_id(self.connection.execute(overrides.insert(), row))

    def revoke_override(
        self,
        override_id: int,
        actor: str,
        reason: str,
        *,
        revoked_at: dt.datetime | None = None,
    ) -> None:
        """Revoke an override; its row stays, with who revoked it, when and why."""
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
        conn = self.connection
        with translate_errors(conn.engine, f"revoke override {override_id}"):
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

    def override_in_force(
        self, uscc: str, as_of: dt.date, *, known_before: dt.datetime | None = None
    ) -> dict[str, Any] | None:
        """Return the override in force for one enterprise at ``as_of``, if any."""
        as_of = as_date(as_of, "as_of")
        cutoff = end_of_day(as_of) if known_before is None else known_before
        params = {"uscc": uscc, "as_of": as_of, "cutoff": cutoff}
        with translate_errors(self.connection.engine, "read overrides"):
            row = (
                self.connection.execute(one_in_force_query(), params).mappings().first()
            )
        return dict(row) if row is not None else None

    def overrides_in_force(
        self,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None = None,
        known_before: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Return the override in force at ``as_of`` for each enterprise (if any)."""
        as_of = as_date(as_of, "as_of")
        chunks = uscc_chunks(usccs)
        conn = self.connection
        with translate_errors(conn.engine, "read overrides"):
            if chunks is None:
                query = in_force_query(as_of, None, known_before)
                rows = list(conn.execute(query).all())
            else:
                rows = [
                    row
                    for chunk in chunks
                    for row in conn.execute(
                        in_force_query(as_of, chunk, known_before)
                    ).all()
                ]
        return to_frame(rows, OVERRIDE_DTYPES)

    def overrides_of(self, uscc: str) -> pd.DataFrame:
        """Return every override recorded for ``uscc`` (revoked too), oldest first."""
        o = overrides.c
        stmt = select(overrides).where(o.uscc == uscc).order_by(o.override_id)
        with translate_errors(self.connection.engine, "read overrides"):
            rows = self.connection.execute(stmt).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=list(overrides.c.keys()))

    # -- zone statistics (issue 12): every override, for period counts ---------
    def list_overrides(
        self, *, created_before: dt.datetime | None = None
    ) -> pd.DataFrame:
        """Return every override created before an instant (revoked too), in order."""
        o = overrides.c
        stmt = select(overrides).order_by(o.override_id)
        if created_before is not None:
            stmt = stmt.where(o.created_at < created_before)
        with translate_errors(self.connection.engine, "read overrides"):
            rows = self.connection.execute(stmt).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=list(overrides.c.keys()))

    # -- end zone statistics ---------------------------------------------------
