"""Point in time: only what was known at the rating date counts.

This package states the engine's core invariant once and writes its SQL once;
the feature engine, the statutory rule layers and the outcome labels build their
queries with it.

The rule
--------
For a rating date ``as_of``:

1. **Cutoff.** The cutoff is ``as_of + 1 day`` at 00:00 UTC, exclusive: the
   end of the rating date. For one rating date it is a UTC literal computed in
   Python (:meth:`Cutoff.end_of`), right whatever the session time zone; for a
   spine of rating rows it is computed per row in SQL (:func:`spine_sql`),
   which needs a UTC session (the feature engine's connections are).
2. **Known records.** A record counts if it was ingested before the cutoff
   (``ingested_at < cutoff``) and its time column, taken from its contract's
   kind (``event_ts`` for events, ``effective_from`` for states), is before
   the cutoff; a window of ``N`` days further keeps ``time >= cutoff - N
   days`` (:func:`known`).
3. **Latest version.** Of a versioned record (contract ``versioned``; state
   tables always are) the versions share the contract's key; the one with the
   largest ``ingested_at`` before the cutoff stands for the record (per spine
   row when each row has its own cutoff). Earlier versions are superseded,
   later ones unknown.
4. **Spells in force.** A state spell is in force at the cutoff if, in that
   latest version, ``effective_from < cutoff`` and ``effective_to`` is null or
   ``>= cutoff`` (:func:`spell_in_force`). Where one spell per enterprise is
   needed and several are in force (the closing version of the older one has
   not arrived), the one that started last wins, ties going to the larger
   record id (:func:`in_force`).
5. **Known enterprises.** An enterprise is known to a source at the cutoff if
   its first record there was ingested before it (:func:`first_known`,
   :func:`known_enterprise`).
6. **Watermark.** What a table's feed had told the zone by the cutoff is the
   latest knowledge time of its known records (:func:`watermark`,
   :func:`watermark_day`): the silence of a feed is evidence only up to it
   (see :mod:`credit_engine.freshness`).

Outcome labels are the one exception: they judge with hindsight, from the
latest version of every record whenever it arrived (:func:`latest_versions`),
and only the training package may read them.

No other module writes ``ingested_at < ...`` or a latest-version window; a unit
test keeps it so.

Examples
--------
>>> import datetime as dt
>>> Cutoff.end_of(dt.date(2026, 3, 31)).sql
"TIMESTAMPTZ '2026-04-01 00:00:00+00:00'"
"""

from __future__ import annotations

from credit_engine.point_in_time._cutoff import (
    CUTOFF_COLUMN,
    Cutoff,
    cutoff_of,
    spine_sql,
    sql_literal,
    uscc_filter,
)
from credit_engine.point_in_time._select import (
    FIRST_KNOWN,
    WATERMARK_COLUMNS,
    first_known,
    in_force,
    known,
    known_enterprise,
    latest_versions,
    spell_in_force,
    watermark,
    watermark_day,
)

__all__ = [
    "CUTOFF_COLUMN",
    "FIRST_KNOWN",
    "WATERMARK_COLUMNS",
    "Cutoff",
    "cutoff_of",
    "first_known",
    "in_force",
    "known",
    "known_enterprise",
    "latest_versions",
    "spell_in_force",
    "spine_sql",
    "sql_literal",
    "uscc_filter",
    "watermark",
    "watermark_day",
]
