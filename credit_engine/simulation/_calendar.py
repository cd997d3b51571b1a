"""Month grid of a simulation and conversions between days and timestamps.

Days are integer days since 1970-01-01 (``numpy.datetime64[D]`` as int); timestamps
are integer microseconds since the epoch, UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from credit_engine.simulation._reference import BASE_SEASONALITY, CNY_PER_UNIT
from credit_engine.simulation._types import FloatArray, IntArray

US_PER_DAY = 86_400_000_000
NO_DAY = np.iinfo(np.int64).min
"""Sentinel for 'no date' in integer day arrays (open interval, unpaid ...)."""


def to_day(value: dt.date) -> int:
    """Return the day number (days since 1970-01-01) of a date."""
    return (value - dt.date(1970, 1, 1)).days


def day_to_date(day: int) -> dt.date:
    """Return the date of a day number."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


@dataclass(frozen=True)
class MonthGrid:
    """The calendar months covered by a simulation window.

    Attributes
    ----------
    start_day, end_day : int
        First and last simulated day (inclusive).
    month_start : numpy.ndarray of int64
        First day of each month of the grid.
    month_days : numpy.ndarray of int64
        Length of each month in days.
    year, month : numpy.ndarray of int64
        Calendar year and month (1-12) of each month.
    """

    start_day: int
    end_day: int
    month_start: IntArray
    month_days: IntArray
    year: IntArray
    month: IntArray

    @classmethod
    def between(cls, start: dt.date, end: dt.date) -> MonthGrid:
        """Build the grid of every month touching ``[start, end]``."""
        first = np.datetime64(start.replace(day=1), "M")
        last = np.datetime64(end.replace(day=1), "M")
        months = np.arange(first, last + 1)
        starts = months.astype("datetime64[D]")
        ends = (months + 1).astype("datetime64[D]")
        return cls(
            start_day=to_day(start),
            end_day=to_day(end),
            month_start=starts.astype(np.int64),
            month_days=(ends - starts).astype(np.int64),
            year=months.astype("datetime64[Y]").astype(np.int64) + 1970,
            month=months.astype(np.int64) % 12 + 1,
        )

    @property
    def n_months(self) -> int:
        """Number of months in the grid."""
        return len(self.month_start)

    @property
    def abs_month(self) -> IntArray:
        """Months since January 1970 of each grid month (calendar-stable index)."""
        return (self.year - 1970) * 12 + self.month - 1

    @property
    def month_end(self) -> IntArray:
        """Last day of each month."""
        return self.month_start + self.month_days - 1

    def month_of_day(self, days: IntArray) -> IntArray:
        """Index of the grid month holding each day (clipped to the grid)."""
        idx = np.searchsorted(self.month_start, days, side="right") - 1
        return np.clip(idx, 0, self.n_months - 1)

    def seasonality(self, amplitude: FloatArray) -> FloatArray:
        """Seasonal multipliers, shape ``(len(amplitude), n_months)``.

        ``amplitude`` scales the common e-commerce calendar per enterprise (0 = flat).
        """
        base = BASE_SEASONALITY[self.month - 1] - 1.0
        return np.asarray(np.clip(1.0 + amplitude[:, None] * base[None, :], 0.2, None))

    def random_days(self, month_idx: IntArray, rng: np.random.Generator) -> IntArray:
        """Draw a uniformly random day inside each given month."""
        return self.month_start[month_idx] + rng.integers(0, self.month_days[month_idx])


def random_timestamps(days: IntArray, rng: np.random.Generator) -> IntArray:
    """Timestamps (µs, UTC) on each day, during office hours (01:00-10:00 UTC)."""
    offset = rng.integers(3_600_000_000, 36_000_000_000, size=len(days))
    return days * US_PER_DAY + offset


def cny_per_unit(currency_idx: IntArray, abs_month: IntArray) -> FloatArray:
    """Deterministic monthly exchange rate, CNY per unit of each currency.

    Rates drift as a slow sine around their base level (±2 %), with a phase per
    currency, so that the same month and currency always give the same rate.
    """
    phase = currency_idx * 1.7
    drift = 1.0 + 0.02 * np.sin(2 * np.pi * abs_month / 14.0 + phase)
    drift = np.where(currency_idx == 0, 1.0, drift)
    return np.asarray(CNY_PER_UNIT[currency_idx] * drift, dtype=np.float64)
