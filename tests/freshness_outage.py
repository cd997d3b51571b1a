"""A feed that stops delivering, and what rating through the outage may assert.

Build an :class:`OutageZone` from any zone: the records as the lake holds them
(``complete``) and the same records with one table cut off after its last
delivery (``outage``). :func:`outage_from_tables` cuts a zone by hand (drops the
table's records ingested after the stop day); a simulator scenario with a feed
outage (``--scenario feed_outage``) gives an outage zone directly: pass its lake
as ``outage`` and the same zone without the scenario as ``complete``.

:func:`check_outage` rates both zones with the same champion and returns the
figures; it asserts the engine's promise: decisions through an outage are
marked with the stale table, no fact is inferred from the table's silence past
its watermark, and no enterprise gets a worse tier from the outage than the
complete lake gives it at the stop day or at the rating day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from credit_engine.data import Lake, SourceContract
from credit_engine.features import FrameSources, Sources
from credit_engine.rating import RatingEngine, RatingResult
from credit_engine.vocabulary import Tier

ABSENCE_ITEMS = {"customs_tax_bill": "ART22_4", "customs_penalty": "ART22_5"}
"""Art. 22 items inferred from the silence of each table."""


@dataclass(frozen=True)
class OutageZone:
    """A zone with and without a feed outage.

    Attributes
    ----------
    complete, outage : Sources
        The records as delivered, and with ``table`` stopped after ``stop``.
    table : str
        The table whose feed stopped.
    stop : datetime.date
        The last day the table was delivered (its watermark date in ``outage``).
    """

    complete: Sources
    outage: Sources
    table: str
    stop: dt.date


def lake_tables(lake: Lake, contracts: Mapping[str, SourceContract]) -> dict[str, Any]:
    """Every table of a committed lake as one Arrow table."""
    import pyarrow.parquet as pq

    out = {}
    for name, contract in contracts.items():
        files = lake.table_files(name)
        if files:
            out[name] = pa.concat_tables(
                [pq.read_table(f).select(contract.column_names) for f in files]
            ).cast(contract.arrow_schema())
    return out


def outage_from_tables(
    tables: Mapping[str, Any],
    contracts: Mapping[str, SourceContract],
    table: str,
    stop: dt.date,
) -> OutageZone:
    """Cut ``table`` off after ``stop``: drop its records ingested after that day."""
    end = pd.Timestamp(stop + dt.timedelta(days=1), tz="UTC")
    cut = tables[table]
    kept = cut.filter(
        pc.less(cut["ingested_at"], pa.scalar(end, cut["ingested_at"].type))
    )
    return OutageZone(
        complete=FrameSources(dict(tables), contracts),
        outage=FrameSources({**tables, table: kept}, contracts),
        table=table,
        stop=stop,
    )


def _items(result: RatingResult, item: str) -> set[str]:
    """Enterprises with an Art. 22 situation ``item`` pending."""
    return {
        d.uscc
        for d in result.decisions
        for f in d.facts
        if f.code == "CUSTOMS_ART22_PENDING" and item in (f.detail or "").split(";")
    }


def check_outage(
    engine_for: Callable[[Sources], RatingEngine], zone: OutageZone, at: dt.date
) -> dict[str, int]:
    """Rate through an outage and assert that it can only fail to assert.

    Parameters
    ----------
    engine_for : callable
        Builds a rating engine (same champion, own store) reading a zone.
    zone : OutageZone
        The zone with and without the outage.
    at : datetime.date
        Rating date, after the table's allowed lag has run out.

    Returns
    -------
    dict
        ``rated``, ``knowledge_lag_days`` (days between the stop day and the
        knowledge date the model graded; 0 when the stopped feed bounds it),
        ``item_at_stop`` (enterprises with the table's Art. 22 item
        at the stop day), ``item_outage`` (through the outage),
        ``item_complete`` (complete lake at ``at``), ``not_asserted`` (items
        of the complete lake the outage could not see), ``tiers_better`` and
        ``tiers_equal`` (outage against the complete lake at ``at``).
    """
    complete, outage = engine_for(zone.complete), engine_for(zone.outage)
    at_stop = complete.rate(zone.stop, store=False)
    through = outage.rate(at, store=False)
    known = complete.rate(at, store=False)
    # The outage is seen and every decision is marked with it.
    assert through.freshness is not None
    stale = {s.table for s in through.freshness.stale_sources}
    assert zone.table in stale, stale
    # The model grades what was known before the stopped feed fell silent.
    knowledge = through.freshness.knowledge_date
    assert knowledge <= zone.stop, (knowledge, zone.stop)
    for d in through.decisions:
        assert zone.table in {s.table for s in d.stale_sources}, d.uscc
        assert d.reasons[0].code == "DATA-STALE", d.uscc
    # No fact inferred from the stopped table's silence past its watermark:
    # what the outage asserts, the complete lake asserted at the stop day.
    item = ABSENCE_ITEMS.get(zone.table)
    figures = {
        "rated": len(through.decisions),
        "knowledge_lag_days": (zone.stop - knowledge).days,
    }
    if item is not None:
        stop_items, out_items = _items(at_stop, item), _items(through, item)
        complete_items = _items(known, item)
        assert out_items <= stop_items, sorted(out_items - stop_items)[:5]
        figures |= {
            "item_at_stop": len(stop_items),
            "item_outage": len(out_items),
            "item_complete": len(complete_items),
            "not_asserted": len(complete_items - out_items),
        }
    # No tier worse than the complete lake's at the stop day or at the rating
    # day: stale data can only fail to assert.
    before = {d.uscc: d.tier for d in at_stop.decisions}
    after = {d.uscc: d.tier for d in known.decisions}
    worse = [
        (d.uscc, d.tier, before[d.uscc], after[d.uscc])
        for d in through.decisions
        if d.uscc in before and d.uscc in after
        and d.tier > Tier.worst([before[d.uscc], after[d.uscc]])  # type: ignore[operator]
    ]  # fmt: skip
    assert not worse, worse[:5]
    figures["tiers_better"] = sum(
        d.tier < after[d.uscc] for d in through.decisions if d.uscc in after
    )
    figures["tiers_equal"] = sum(
        d.tier == after[d.uscc] for d in through.decisions if d.uscc in after
    )
    return figures
