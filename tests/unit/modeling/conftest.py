from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def credit_data():
    """Seeded data with one risk-raising, one risk-lowering and one noise feature."""
    rng = np.random.default_rng(20260401)
    n = 6000
    frame = pd.DataFrame(
        {
            "penalties": rng.poisson(0.6, n).astype(float),
            "age_years": rng.gamma(3.0, 2.0, n),
            "noise": rng.normal(size=n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "age_years"] = np.nan
    logit = -2.6 + 0.9 * frame["penalties"] - 0.15 * frame["age_years"].fillna(4.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    directions = {"penalties": "increasing", "age_years": "decreasing", "noise": "none"}
    return frame, y.to_numpy(), directions
