"""The simulator's feed outages, rated: stale, marked, and nobody downgraded.

The small zone of ``champion_home`` is simulated again with the shipped
scenarios ``feed_outage_customs`` (the customs feed stops on 2026-08-01 and is
still down at the extract, 2026-09-30) and ``feed_outage_tax_backlog`` (the tax
feed stops on 2026-05-01 and delivers its backlog on 2026-07-01), ingested into
a lake of its own, and rated with the same champion as the zone without
scenarios (``tests/freshness_outage.py``). The issue's story: an enterprise rated
after a feed went silent must not be downgraded by the records the lake has not
heard of, e.g. a customs tax bill whose payment never arrived must not become
``CUSTOMS_ART22_PENDING``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from credit_engine.config import Settings
from credit_engine.data import ingest_batch
from credit_engine.features import LakeSources
from credit_engine.freshness import FreshnessStatus, lake_freshness
from credit_engine.rating import RatingEngine
from credit_engine.rules import statutory_facts
from credit_engine.simulation import FeedOutage, load_scenario, simulate_zone
from credit_engine.store import OperationalStore
from credit_engine.vocabulary import Department
from credit_engine.watch import lake_freshness_data
from tests.conftest import SMALL_ZONE
from tests.freshness_outage import ABSENCE_ITEMS, OutageZone, check_outage

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

EXTRACT = SMALL_ZONE.end  # 2026-09-30: the lakes end here
STORY_DAY = dt.date(2026, 12, 4)  # the rating date, after the lake ends


@pytest.fixture(scope="module")
def scenarios() -> tuple[FeedOutage, FeedOutage]:
    customs = load_scenario("feed_outage_customs")
    backlog = load_scenario("feed_outage_tax_backlog")
    assert isinstance(customs, FeedOutage)
    assert isinstance(backlog, FeedOutage)
    assert customs.department == "CUSTOMS"
    assert customs.end is None
    assert backlog.department == "TAX"
    assert backlog.end is not None
    assert SMALL_ZONE.start < backlog.start < customs.start < EXTRACT
    return customs, backlog


@pytest.fixture(scope="module")
def outage_home(scenarios, contracts, tmp_path_factory) -> Settings:
    """The small zone with both outages, simulated and ingested."""
    root = tmp_path_factory.mktemp("outage_zone")
    summary = simulate_zone(
        SMALL_ZONE, contracts, root / "records", root / "truth", scenarios=scenarios
    )
    truth = pd.read_parquet(Path(summary.truth_dir) / "scenarios.parquet")
    withheld = truth.groupby("scenario")["records_withheld"].sum()
    assert withheld["feed_outage_customs"] > 0, truth
    settings = Settings(home=root / "home")
    ingest_batch(Path(summary.out_dir), settings)
    return settings


@pytest.fixture(scope="module")
def engines(champion_home, outage_home, contracts, tmp_path_factory):
    """Rating engines of the same champion on the complete and the outage lake."""
    db = tmp_path_factory.mktemp("outage_store") / "store.db"
    store = OperationalStore(f"sqlite:///{db}")
    store.create_schema()
    complete = RatingEngine(champion_home, store=store)

    def engine_for(sources):
        return RatingEngine(
            champion_home, store=store, model=complete.loaded, sources=sources
        )

    zone = OutageZone(
        complete=complete.sources(),
        outage=LakeSources.from_settings(outage_home, contracts),
        table="customs_tax_bill",
        stop=dt.date(2026, 7, 31),  # the customs feed's last day
    )
    return engine_for, zone


def test_the_outage_makes_customs_stale_and_nothing_else(outage_home, scenarios):
    customs, backlog = scenarios
    at_extract = lake_freshness(outage_home, EXTRACT)
    departments = {d.value: f.status for d, f in at_extract.departments.items()}
    assert departments["CUSTOMS"] is FreshnessStatus.STALE
    assert {v for k, v in departments.items() if k != "CUSTOMS"} <= {
        FreshnessStatus.FRESH, FreshnessStatus.LATE,
    }  # fmt: skip
    stale = at_extract.stale_sources
    assert {s.department for s in stale} == {"CUSTOMS"}
    assert "customs_declaration" in {s.table for s in stale}
    assert all(
        s.watermark is not None and s.watermark.date() < customs.start for s in stale
    )
    assert at_extract.freshness_date is not None
    assert at_extract.freshness_date < EXTRACT
    # The monitoring report's data section says the same.
    data = lake_freshness_data(outage_home, EXTRACT)
    red = {t for t, e in data.items() if e["status"] == "red"}
    assert red == {s.table for s in stale}
    assert {data[t]["department"] for t in red} == {"CUSTOMS"}
    # The tax backlog: stale inside its outage, current once delivered.
    assert backlog.end is not None
    inside = lake_freshness(outage_home, backlog.end - dt.timedelta(days=10))
    assert inside.departments[Department.TAX].status is FreshnessStatus.STALE
    assert inside.departments[Department.CUSTOMS].status is FreshnessStatus.FRESH
    after = lake_freshness(outage_home, backlog.end + dt.timedelta(days=10))
    assert after.departments[Department.TAX].status is FreshnessStatus.FRESH


@pytest.mark.parametrize("at", [EXTRACT, STORY_DAY], ids=["extract", "story"])
def test_a_customs_outage_asserts_nothing_from_an_unheard_payment(engines, at):
    engine_for, zone = engines
    figures = check_outage(engine_for, zone, at)
    assert figures["rated"] > 500, figures
    # What a reading of the silence up to the rating date would assert: bills
    # whose payment the outage lake never heard of look unpaid.
    outage = engine_for(zone.outage)
    naive = statutory_facts(
        outage.sources(),
        at,
        rulebook=outage.rulebook,
        watermarks={
            t: dt.datetime.combine(at, dt.time(23, 59), dt.UTC) for t in ABSENCE_ITEMS
        },
    )
    careful = outage.facts(at)
    item = ABSENCE_ITEMS[zone.table]

    def pending(facts: pd.DataFrame) -> set[str]:
        art22 = facts[facts["code"] == "CUSTOMS_ART22_PENDING"]
        has = art22["detail"].fillna("").str.split(";").map(lambda d: item in d)
        return set(art22.loc[has, "uscc"])

    assert pending(careful) <= pending(naive)
    if at == STORY_DAY:
        # The story: four months of silence would make overdue bills
        # of enterprises that paid; the engine asserts none of them.
        assert len(pending(naive) - pending(careful)) > 0, figures
