"""Out-of-time splits by rating date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from credit_engine.exceptions import DataContractError

__all__ = ["out_of_time_mask"]


def out_of_time_mask(as_of: pd.Series, oot_dates: int) -> np.ndarray:
    """Mask of the rows whose ``as_of`` is among the last ``oot_dates`` dates.

    Raises
    ------
    DataContractError
        If fewer than ``oot_dates + 2`` distinct dates are present (development
        needs at least two).

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]))
    >>> out_of_time_mask(s, 1).tolist()
    [False, False, True]
    """
    dates = np.sort(pd.to_datetime(as_of).unique())
    if len(dates) < oot_dates + 2:
        raise DataContractError(
            f"An out-of-time split needs at least {oot_dates + 2} rating dates with "
            f"complete outcomes ({oot_dates} held out, 2 for development); got "
            f"{len(dates)}. Build features for more as_of dates (credit-engine "
            "features --as-of ...) or lower split.oot_dates in the model spec."
        )
    first_oot = dates[-oot_dates]
    return np.asarray(pd.to_datetime(as_of).to_numpy() >= first_oot)
