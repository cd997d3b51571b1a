"""Hand-written lake tables for dated rule scenarios (FrameSources, real DuckDB)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from credit_engine.config import Settings
from credit_engine.features import FrameSources
from credit_engine.rules import RuleBook, statutory_facts
from credit_engine.uscc import check_character


def make_uscc(i: int) -> str:
    """A valid Xiamen enterprise USCC numbered ``i``."""
    body = f"91350203MA{i:07d}"
    return body + check_character(body)


A, B, C, D = (make_uscc(i) for i in (1, 2, 3, 4))


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _known(start: str, known: str | None) -> pd.Timestamp:
    return ts(known) if known else ts(start) + pd.Timedelta(hours=6)


class Records:
    """Records of a few enterprises, added table by table; facts at any date.

    Test modules cannot import from conftest (importlib mode), so the USCCs
    and helpers ride on the fixture: ``records.A``, ``records.uscc(7)``.
    """

    A, B, C, D = A, B, C, D
    uscc = staticmethod(make_uscc)
    day = staticmethod(day)

    def __init__(self, contracts: dict[str, Any], rulebook: RuleBook) -> None:
        self.contracts = contracts
        self.rulebook = rulebook
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:06d}"

    def add(self, table: str, **values: Any) -> dict[str, Any]:
        """Append a row (missing optional columns are null)."""
        self.rows.setdefault(table, []).append(values)
        return values

    # ---------------------------------------------------------------- state
    def spell(
        self,
        table: str,
        start: str,
        *,
        uscc: str = A,
        known: str | None = None,
        end: str | None = None,
        end_known: str | None = None,
        rid: str | None = None,
        **values: Any,
    ) -> str:
        """A state spell; with ``end``, its closing version too (known later)."""
        rid = rid or self._id("S")
        base = {"uscc": uscc, "source_record_id": rid, **values}
        self.add(
            table,
            **base,
            effective_from=ts(start),
            effective_to=None,
            ingested_at=_known(start, known),
        )
        if end is not None:
            self.add(
                table,
                **base,
                effective_from=ts(start),
                effective_to=ts(end),
                ingested_at=_known(end, end_known),
            )
        return rid

    def level(
        self, level: str, start: str, *, reason: str = "INITIAL", **kw: Any
    ) -> str:
        regime = "CUSTOMS_282" if ts(start) >= ts("2026-04-01") else "CUSTOMS_251"
        return self.spell(
            "customs_credit_level",
            start,
            credit_level=level,
            regime=regime,
            reason_code=reason,
            **kw,
        )

    def registration(
        self, start: str = "2015-01-01", *, broker: bool, **kw: Any
    ) -> str:
        return self.spell(
            "customs_registration",
            start,
            customs_code="3701A1B2C3",
            is_customs_broker=broker,
            cbec_role="NONE",
            **kw,
        )

    def rating(
        self,
        year: int,
        level: str,
        start: str,
        *,
        direct_d: int | None = None,
        regime: str = "TAX_2014",
        **kw: Any,
    ) -> str:
        return self.spell(
            "tax_credit_rating",
            start,
            rating_year=year,
            level=level,
            score=None if direct_d else 75.0,
            start_score=100,
            direct_d_code=direct_d,
            regime=regime,
            **kw,
        )

    def tax_status(self, status: str, start: str, **kw: Any) -> str:
        return self.spell(
            "tax_registration",
            start,
            taxpayer_type="GENERAL",
            collection_method="AUDIT",
            status=status,
            **kw,
        )

    def safe(
        self, fx_class: str, start: str, *, reason: str = "INITIAL", **kw: Any
    ) -> str:
        return self.spell(
            "safe_classification",
            start,
            fx_class=fx_class,
            on_list=True,
            reason_code=reason,
            **kw,
        )

    def serious(self, start: str, *, removal: str | None = None, **kw: Any) -> str:
        return self.spell(
            "serious_violation_list",
            start,
            cause="HEAVIER_PENALTY",
            removal_reason=removal,
            **kw,
        )

    def abnormal(
        self, start: str, *, cause: str = "ANNUAL_REPORT_MISSING", **kw: Any
    ) -> str:
        return self.spell("abnormal_list", start, cause=cause, **kw)

    def samr_status(self, status: str, start: str, **kw: Any) -> str:
        return self.spell(
            "samr_registration",
            start,
            name="厦门示例贸易有限公司",
            established_date=day("2015-01-01"),
            reg_capital_cny=1_000_000.0,
            industry_code="F5179",
            district_code="350203",
            status=status,
            **kw,
        )

    # ---------------------------------------------------------------- events
    def penalty(
        self,
        when: str,
        *,
        uscc: str = A,
        category: str = "SUPERVISION_VIOLATION",
        amount: float = 5_000.0,
        non_intentional: bool = False,
        due: str | None = None,
        known: str | None = None,
        paid: str | None = None,
        paid_known: str | None = None,
    ) -> str:
        """A customs penalty; with ``paid``, the paid version (known later)."""
        rid = self._id("CP")
        base = {
            "uscc": uscc,
            "source_record_id": rid,
            "event_ts": ts(when),
            "category": category,
            "amount_cny": float(amount),
            "non_intentional": non_intentional,
            "due_date": day(due) if due else (ts(when) + pd.Timedelta(days=15)).date(),
        }
        self.add(
            "customs_penalty", **base, paid_date=None, ingested_at=_known(when, known)
        )
        if paid is not None:
            self.add(
                "customs_penalty",
                **base,
                paid_date=day(paid),
                ingested_at=_known(paid, paid_known),
            )
        return rid

    def bill(
        self,
        due: str,
        *,
        uscc: str = A,
        amount: float = 50_000.0,
        known: str | None = None,
        paid: str | None = None,
        paid_known: str | None = None,
    ) -> str:
        """A customs tax bill issued 15 days before ``due``; optionally paid."""
        rid = self._id("TB")
        issued = ts(due) - pd.Timedelta(days=15)
        base = {
            "uscc": uscc,
            "source_record_id": rid,
            "entry_id": "370320250000000001",
            "event_ts": issued,
            "tax_type": "IMPORT_VAT",
            "amount_cny": float(amount),
            "due_date": day(due),
        }
        self.add(
            "customs_tax_bill",
            **base,
            paid_date=None,
            ingested_at=ts(known) if known else issued + pd.Timedelta(hours=2),
        )
        if paid is not None:
            self.add(
                "customs_tax_bill",
                **base,
                paid_date=day(paid),
                ingested_at=_known(paid, paid_known),
            )
        return rid

    def declarations(self, n: int, first: str, last: str, *, uscc: str = A) -> None:
        """``n`` export declarations spread evenly over ``[first, last]``."""
        times = pd.date_range(ts(first), ts(last), periods=n)
        for i, t in enumerate(times):
            self.add(
                "customs_declaration",
                uscc=uscc,
                source_record_id=f"{self._n:06d}{i:012d}",
                event_ts=t,
                ie_flag="E",
                trade_mode="9610",
                hs_code="8517120000",
                declared_value=100.0,
                currency="CNY",
                value_cny=100.0,
                country="USA",
                port_code="3701",
                item_count=1,
                gross_weight_kg=1.0,
                modified_or_cancelled=False,
                ingested_at=t + pd.Timedelta(hours=1),
            )
        self._n += 1

    def violation(
        self,
        when: str,
        *,
        uscc: str = A,
        kind: str = "EVASION",
        major: bool = False,
        known: str | None = None,
    ) -> str:
        rid = self._id("TV")
        self.add(
            "tax_violation",
            uscc=uscc,
            source_record_id=rid,
            event_ts=ts(when),
            violation_type=kind,
            amount_cny=500_000.0,
            major_violation=major,
            ingested_at=_known(when, known),
        )
        return rid

    # ---------------------------------------------------------------- facts
    def frames(self) -> dict[str, pd.DataFrame]:
        """One pandas frame per table, exactly the contract's columns."""
        out = {}
        for table, rows in self.rows.items():
            contract = self.contracts[table]
            cols = contract.column_names
            frame = pd.DataFrame(
                [{c: r.get(c) for c in cols} for r in rows], columns=cols
            )
            for col in contract.columns:
                if pa.types.is_timestamp(col.type.arrow_type()):
                    # Arrow-backed, so that pyarrow does not go through
                    # Series.values (deprecated for tz-aware data in pandas 3.1).
                    frame[col.name] = frame[col.name].astype(
                        pd.ArrowDtype(pa.timestamp("us", tz="UTC"))
                    )
            out[table] = frame
        return out

    def sources(self) -> FrameSources:
        return FrameSources(self.frames(), self.contracts)

    def current_feeds(self, as_of: dt.date) -> dict[str, dt.datetime]:
        """Watermarks of feeds that delivered through the end of ``as_of``."""
        end = dt.datetime.combine(as_of, dt.time(23, 59, 59), dt.UTC)
        return dict.fromkeys(self.contracts, end)

    def facts(
        self, as_of: str | dt.date, *, feeds: str = "current", **kw: Any
    ) -> pd.DataFrame:
        """Statutory facts at ``as_of``.

        The scenarios describe feeds that deliver every day, whatever few
        records they hold: with ``feeds="current"`` (default) every table's
        watermark is the end of ``as_of``. ``feeds="records"`` lets the query
        measure each table's watermark from its records (a feed that stopped).
        """
        when = day(as_of) if isinstance(as_of, str) else as_of
        if feeds == "current" and "watermarks" not in kw:
            kw["watermarks"] = self.current_feeds(when)
        return statutory_facts(self.sources(), when, rulebook=self.rulebook, **kw)

    def at(
        self, as_of: str | dt.date, uscc: str = A, **kw: Any
    ) -> dict[str, dict[str, Any]]:
        """Facts of one enterprise at ``as_of``, by code."""
        frame = self.facts(as_of, **kw)
        frame = frame[frame["uscc"] == uscc]
        return {r["code"]: r for r in frame.to_dict("records")}


@pytest.fixture(scope="session")
def rulebook() -> RuleBook:
    return RuleBook.load(Settings().definitions_dir)


@pytest.fixture
def records(contracts, rulebook) -> Records:
    return Records(contracts, rulebook)
