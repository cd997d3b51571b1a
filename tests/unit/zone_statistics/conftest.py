"""A hand-built mini zone with known figures, and helpers to build records.

Four enterprises, each testing a convention (report 2026-01-01 .. 2026-06-30,
knowledge date 2026-07-15):

* ``E1`` (思明 350203): in business since 2020, e-commerce enterprise with
  customs; declarations on both sides of the January/February boundary.
* ``E2`` (湖里 350206): established 2026-02-15 (new in February), never
  registered with customs, one bonded import (1210) in March.
* ``E3`` (110105, a Beijing code shown raw): cancelled on 2026-03-20, which the
  zone learned on 2026-04-11/12: still registered at the end of March as known
  then, deregistered in March by event date.
* ``E4`` (集美 350211): in business since 2018 but first known on 2026-05-20;
  its March declaration arrives on 2026-07-20, after the knowledge date.

Ratings on 2025-12-31, 2026-03-31 and 2026-06-30 (see :func:`record_ratings`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from credit_engine.config import Settings
from credit_engine.data import load_contracts
from credit_engine.features import FrameSources
from credit_engine.store import OperationalStore, RatingRun
from credit_engine.uscc import check_character
from credit_engine.zone_statistics import Name, ZoneReference
from tests.unit.store.factories import decision


def valid_uscc(body: str) -> str:
    """A valid USCC from its first 17 characters."""
    return body + check_character(body)


E1 = valid_uscc("91350203MA0000001")
E2 = valid_uscc("91350206MA0000002")
E3 = valid_uscc("91110105MA0000003")
E4 = valid_uscc("91350211MA0000004")
START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
KNOWN = dt.date(2026, 7, 15)


def ts(text: str) -> pd.Timestamp:
    """An aware UTC instant."""
    return pd.Timestamp(text, tz="UTC")


def table(contract: Any, rows: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table of a contract (missing columns null, all cast)."""
    columns = {}
    for column in contract.columns:
        values = [row.get(column.name) for row in rows]
        columns[column.name] = pa.array(
            [v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in values],
            type=column.type.arrow_type(),
        )
    return pa.table(columns)


def frame_sources(contracts: Any, records: dict[str, list[dict[str, Any]]]) -> Any:
    """FrameSources over every contract (tables not given are empty)."""
    return FrameSources(
        {name: table(contracts[name], rows) for name, rows in records.items()},
        contracts,
    )


def samr(uscc, rid, status, start, ingested, *, end=None, established=None):
    return {
        "uscc": uscc,
        "source_record_id": rid,
        "name": "n",
        "established_date": established or ts(start).date(),
        "district_code": uscc[2:8],
        "status": status,
        "effective_from": ts(start),
        "effective_to": None if end is None else ts(end),
        "ingested_at": ts(ingested),
    }


def declaration(uscc, rid, when, mode, flag, value, ingested=None):
    moment = ts(when)
    return {
        "uscc": uscc,
        "source_record_id": rid,
        "event_ts": moment,
        "ie_flag": flag,
        "trade_mode": mode,
        "value_cny": float(value),
        "declared_value": float(value),
        "ingested_at": ts(ingested) if ingested else moment + pd.Timedelta(hours=6),
    }


def mini_zone_records() -> dict[str, list[dict[str, Any]]]:
    return {
        "samr_registration": [
            samr(E1, "M1", "IN_BUSINESS", "2020-01-01", "2020-01-02"),
            samr(E2, "M2", "IN_BUSINESS", "2026-02-15", "2026-02-16"),
            samr(E3, "M3", "IN_BUSINESS", "2019-01-01", "2019-01-02"),
            samr(E3, "M3", "IN_BUSINESS", "2019-01-01", "2026-04-11", end="2026-03-20"),
            samr(
                E3,
                "M4",
                "CANCELLED",
                "2026-03-20",
                "2026-04-12",
                established=dt.date(2019, 1, 1),
            ),  # fmt: skip
            samr(E4, "M5", "IN_BUSINESS", "2018-05-05", "2026-05-20"),
        ],
        "customs_registration": [
            {
                "uscc": E1,
                "source_record_id": "C1",
                "customs_code": "3502960001",
                "is_customs_broker": False,
                "cbec_role": "ECOMMERCE_ENTERPRISE",
                "effective_from": ts("2020-02-01"),
                "ingested_at": ts("2020-02-02"),
            },  # fmt: skip
        ],
        "customs_declaration": [
            declaration(E1, "D1", "2026-01-10 10:00", "9610", "E", 100),
            declaration(E1, "D2", "2026-01-31 23:59:59", "9710", "E", 50),
            declaration(E1, "D3", "2026-02-01 00:00:00", "0110", "I", 30),
            declaration(E2, "D4", "2026-03-05 09:00", "1210", "I", 70),
            declaration(E4, "D5", "2026-03-10 09:00", "9810", "E", 500, "2026-07-20"),
            declaration(E1, "D6", "2026-06-03 09:00", "0130", "E", 10),
        ],
        "export_refund_claim": [
            {
                "uscc": E1,
                "source_record_id": "R1",
                "event_ts": ts("2026-02-10"),
                "period": "202601",
                "export_value_cny": 150.0,
                "refund_claimed_cny": 13.0,
                "status": "FILED",
                "ingested_at": ts("2026-02-10 08:00"),
            },  # fmt: skip
            {
                "uscc": E1,
                "source_record_id": "R1",
                "event_ts": ts("2026-02-10"),
                "period": "202601",
                "export_value_cny": 150.0,
                "refund_claimed_cny": 13.0,
                "refund_approved_cny": 12.0,
                "status": "APPROVED",
                "ingested_at": ts("2026-03-01"),
            },  # fmt: skip
        ],
        "fx_transaction": [
            {
                "uscc": E1,
                "source_record_id": "F1",
                "event_ts": ts("2026-01-20"),
                "direction": "IN",
                "amount_usd": 20.0,
                "is_goods_trade": True,
                "ingested_at": ts("2026-01-21"),
            },  # fmt: skip
            {
                "uscc": E1,
                "source_record_id": "F2",
                "event_ts": ts("2026-01-25"),
                "direction": "OUT",
                "amount_usd": 5.0,
                "is_goods_trade": False,
                "ingested_at": ts("2026-01-26"),
            },  # fmt: skip
        ],
    }


@pytest.fixture(scope="session")
def zone_contracts() -> Any:
    return load_contracts(Settings().sources_dir)


@pytest.fixture(scope="session")
def mini_zone(zone_contracts) -> Any:
    return frame_sources(zone_contracts, mini_zone_records())


@pytest.fixture(scope="session")
def reference() -> ZoneReference:
    return ZoneReference(
        districts={
            "350203": Name(zh="思明区", en="Siming"),
            "350206": Name(zh="湖里区", en="Huli"),
            "350211": Name(zh="集美区", en="Jimei"),
        },
        trade_modes={
            code: Name(zh=code, en=f"mode {code}")
            for code in ("9610", "9710", "9810", "1210", "1239", "0110")
        },
    )


def _run(as_of: dt.date, finished: str) -> RatingRun:
    t = ts(finished).to_pydatetime()
    return RatingRun(
        as_of=as_of, started_at=t - dt.timedelta(minutes=5), finished_at=t,
        actor="test", model_name="m", model_version="1", policy_name="zone",
        policy_version=2, rule_sets={}, lake_state="s",
    )  # fmt: skip


def record_ratings(store: OperationalStore) -> dict[str, int]:
    """Three rating dates, two overrides; returns the override ids."""
    on_e2 = store.add_override(
        E2, "C", "audit", "officer", dt.date(2026, 2, 10),
        created_at=ts("2026-02-10 09:00").to_pydatetime(),
    )  # fmt: skip
    store.revoke_override(
        on_e2, "officer", "closed", revoked_at=ts("2026-05-05").to_pydatetime()
    )
    on_e4 = store.add_override(
        E4, "D", "fraud case", "officer", dt.date(2026, 6, 1),
        created_at=ts("2026-06-01 09:00").to_pydatetime(),
    )  # fmt: skip
    store.record_run(
        _run(dt.date(2025, 12, 31), "2026-01-01 02:00"),
        pd.DataFrame([decision(E1, "A"), decision(E3, "B")]),
    )
    store.record_run(
        _run(dt.date(2026, 3, 31), "2026-04-01 02:00"),
        pd.DataFrame(
            [
                decision(E1, "A", green_channel=True, measures=["GC-01"]),
                decision(E2, "C", decided_by="POLICY"),
                decision(
                    E3,
                    "D",
                    decided_by="STATUTORY",
                    joint_punishment=True,
                    measures=["ZS-03", "JP-02"],
                ),  # fmt: skip
            ]
        ),
    )
    store.record_run(
        _run(dt.date(2026, 6, 30), "2026-07-01 02:00"),
        pd.DataFrame(
            [
                decision(E1, "B"),
                decision(E2, "C"),
                decision(E4, "D", decided_by="OVERRIDE", override_id=on_e4),
            ]
        ),
    )
    return {"E2": on_e2, "E4": on_e4}


@pytest.fixture(scope="module")
def rated_store(tmp_path_factory) -> Any:
    """The mini zone's ratings in a SQLite store (read-only for the tests)."""
    path = tmp_path_factory.mktemp("zone_store") / "store.db"
    with OperationalStore(f"sqlite:///{path}") as store:
        store.create_schema()
        record_ratings(store)
        yield store
