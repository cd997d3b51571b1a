"""The API with the console, whose directory covers the fabricated 100,000 codes.

Used by ``bench_console.py``: the demo lake knows 10,000 enterprises; the
fabricated store has 90,000 more, given synthetic names, districts and trade
modes here so that search and breakdowns work on all of them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from fastapi import FastAPI

from credit_engine.api import create_app
from credit_engine.config import Settings
from credit_engine.console import Directory, build_directory
from credit_engine.store import OperationalStore

WORDS = ("贸易", "电子", "科技", "供应链", "家居", "服饰", "食品", "美妆", "进出口")


def _directory(settings: Settings, as_of: dt.date) -> Directory:
    demo = build_directory(settings, as_of)
    store = OperationalStore.from_settings(settings)
    codes = store.decisions_at(store.rating_dates()[-1])["uscc"]
    store.dispose()
    extra = pd.Index(sorted(set(codes) - set(demo.frame.index)), name="uscc")
    rng = np.random.default_rng(7)
    names = [f"厦门{WORDS[i % len(WORDS)]}{i:05d}有限公司" for i in range(len(extra))]
    synthetic = pd.DataFrame(
        {
            "name": names,
            "district": rng.choice(demo.frame["district"].to_numpy(), len(extra)),
            "industry": rng.choice(demo.frame["industry"].to_numpy(), len(extra)),
            "status": "IN_BUSINESS",
            "trade_mode": rng.choice(demo.frame["trade_mode"].to_numpy(), len(extra)),
        },
        index=extra,
    )
    return Directory(
        pd.concat([demo.frame, synthetic]).sort_index(), demo.key + "+bench"
    )


def app() -> FastAPI:
    """Build ``credit-engine serve``'s app with the benchmark's directory."""
    built = create_app(Settings())
    mount = next(r for r in built.routes if getattr(r, "path", "") == "/console")
    mount.app.state.console.directory.builder = _directory  # type: ignore[attr-defined]
    return built
