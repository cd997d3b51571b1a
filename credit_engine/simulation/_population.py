"""The enterprises of a synthetic zone and their latent drivers.

Every enterprise gets static drivers drawn once: sector, business model and
trade-mode mix, size (heavy-tailed), age, compliance propensity, long-run
financial health, under-declaration and refund-fraud propensities, payment
channels and counterparty pools. ``docs/simulator.md`` documents each draw.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from credit_engine.simulation import _reference as ref
from credit_engine.simulation._calendar import MonthGrid
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray, ObjectArray
from credit_engine.uscc import USCC_ALPHABET, USCC_WEIGHTS

MAX_POOL = 24
N_PRODUCTS = 6
ZIPF_PRODUCTS = 1.0 / np.arange(1, N_PRODUCTS + 1) ** 1.1


@dataclass(frozen=True)
class Population:
    """Static drivers of the enterprises, one array entry per enterprise.

    Attributes are documented in ``docs/simulator.md`` (section *Enterprises*).
    ``counterparty`` pools hold ``-1 - k`` for zone enterprise ``k`` and a
    non-negative number for an external masked taxpayer id.
    """

    uscc: ObjectArray
    name: ObjectArray
    customs_code: ObjectArray
    sector: IntArray
    model: IntArray
    is_broker: BoolArray
    mode_mix: FloatArray
    import_share_0110: FloatArray
    import_share_9610: FloatArray
    size: FloatArray
    decl_factor: FloatArray
    growth: FloatArray
    season_amp: FloatArray
    domestic_share: FloatArray
    established_day: IntArray
    reg_capital: FloatArray
    compliance: FloatArray
    health_mean: FloatArray
    health_start: FloatArray
    under_declaration: FloatArray
    refund_fraud: BoolArray
    collection_ratio: FloatArray
    third_party_share: FloatArray
    pi_share: FloatArray
    general_taxpayer: BoolArray
    deemed_collection: BoolArray
    on_fx_list: BoolArray
    district: IntArray
    review_month: IntArray
    market_mix: FloatArray
    products: IntArray
    buyers: IntArray
    suppliers: IntArray
    pool_size: IntArray
    bank: IntArray
    payment_institution: IntArray

    def __len__(self) -> int:
        return len(self.uscc)

    def take(self, idx: slice) -> Population:
        """Return the enterprises ``idx`` (a contiguous chunk) as a population."""
        return Population(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


def _base_digits(values: IntArray, base: int, width: int) -> IntArray:
    """Digits of ``values`` in ``base``, most significant first, shape (n, width)."""
    out = np.empty((len(values), width), dtype=np.int64)
    rest = values.copy()
    for pos in range(width - 1, -1, -1):
        out[:, pos] = rest % base
        rest //= base
    return out


def make_usccs(
    district: IntArray, established_year: IntArray, offset: int
) -> ObjectArray:
    """Make unique valid USCCs: ``91`` + district + organisation code + check.

    Enterprises founded from 2016 get a new-style organisation code ``MA`` + 7
    characters; older ones a 9-digit legacy code. Uniqueness comes from bijective
    maps of the enterprise index, so no retry loop is needed.
    """
    n = len(district)
    idx = np.arange(n, dtype=np.int64)
    alphabet_values = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
    new_style = established_year >= 2016
    body = np.zeros((n, 17), dtype=np.int64)
    body[:, 0] = alphabet_values["9"]
    body[:, 1] = alphabet_values["1"]
    division = np.asarray([ref.DISTRICTS[d] for d in district])
    div_digits = np.array([[int(c) for c in s] for s in division], dtype=np.int64)
    body[:, 2:8] = div_digits.reshape(n, 6)
    new_serial = (idx * 7_919 + offset) % 31**7
    old_serial = (idx * 7_919 + offset) % 10**9
    body[:, 8] = np.where(new_style, alphabet_values["M"], 0)
    body[:, 9] = np.where(new_style, alphabet_values["A"], 0)
    body[new_style, 10:17] = _base_digits(new_serial[new_style], 31, 7)
    body[~new_style, 8:17] = _base_digits(old_serial[~new_style], 10, 9)
    check = (31 - (body * np.array(USCC_WEIGHTS)).sum(axis=1) % 31) % 31
    chars = np.array(list(USCC_ALPHABET))
    letters = np.concatenate([chars[body], chars[check][:, None]], axis=1)
    return np.asarray(["".join(row) for row in letters], dtype=object)


def _names(rng: np.random.Generator, sector: IntArray) -> ObjectArray:
    syl = np.array(ref.NAME_SYLLABLES)
    first = rng.choice(syl, len(sector))
    second = rng.choice(syl, len(sector))
    kind = rng.choice(
        np.array(["科技", "贸易", "进出口", "供应链", "电子商务"]), len(sector)
    )
    word = np.array(ref.SECTOR_WORD)[sector]
    return np.asarray(
        [
            "厦门" + a + b + w + k + "有限公司"
            for a, b, w, k in zip(first, second, word, kind, strict=True)
        ],
        dtype=object,
    )


def _hs_products(rng: np.random.Generator, sector: IntArray) -> IntArray:
    n = len(sector)
    out = np.empty((n, N_PRODUCTS), dtype=np.int64)
    for s, chapters in enumerate(ref.SECTOR_HS_CHAPTERS):
        rows = np.flatnonzero(sector == s)
        chapter = rng.choice(
            np.array([int(c) for c in chapters]), (len(rows), N_PRODUCTS)
        )
        heading = rng.integers(1, 97, (len(rows), N_PRODUCTS))
        rest = rng.integers(0, 1_000_000, (len(rows), N_PRODUCTS))
        out[rows] = chapter * 10**8 + heading * 10**6 + rest
    return out


def _pools(
    rng: np.random.Generator, size: FloatArray, compliance: FloatArray, fraud: BoolArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Counterparty pools: buyers and suppliers, some of them zone enterprises."""
    n = len(size)
    pool_size = np.clip(3 + rng.poisson(6 * np.sqrt(size)), 3, MAX_POOL)
    external_buyers = rng.integers(0, 100_000, (n, MAX_POOL))
    external_suppliers = rng.integers(0, 100_000, (n, MAX_POOL))
    zone_peer = rng.integers(0, n, (n, MAX_POOL))
    buyers = np.where(rng.random((n, MAX_POOL)) < 0.15, -1 - zone_peer, external_buyers)
    zone_peer = rng.integers(0, n, (n, MAX_POOL))
    suppliers = np.where(
        rng.random((n, MAX_POOL)) < 0.2, -1 - zone_peer, external_suppliers
    )
    # Refund fraudsters buy invoices from the least compliant zone enterprises
    # (the shells that later abscond): 買单配票.
    shells = np.flatnonzero(compliance < np.quantile(compliance, 0.03))
    if len(shells) and fraud.any():
        rows = np.flatnonzero(fraud)
        picks = rng.choice(shells, (len(rows), MAX_POOL))
        use_shell = rng.random((len(rows), MAX_POOL)) < 0.5
        suppliers[rows] = np.where(use_shell, -1 - picks, suppliers[rows])
    return buyers, suppliers, pool_size


def draw_population(n: int, grid: MonthGrid, rng: np.random.Generator) -> Population:
    """Draw ``n`` enterprises for a zone simulated over ``grid``.

    Parameters
    ----------
    n : int
        Number of enterprises.
    grid : MonthGrid
        Simulation window; new entrants are founded inside it.
    rng : numpy.random.Generator
        Source of randomness (the population stream of the seed).

    Returns
    -------
    Population
        Static drivers of every enterprise.
    """
    sector = rng.choice(len(ref.SECTORS), n, p=ref.normalise(ref.SECTOR_WEIGHTS))
    model = rng.choice(len(ref.MODELS), n, p=ref.normalise(ref.MODEL_WEIGHTS))
    mix = np.vstack([rng.dirichlet(25 * ref.MODEL_MODE_MIX[m] + 0.05) for m in model])
    mix[:, 4] = np.where(ref.MODEL_MODE_MIX[model, 4] > 0, mix[:, 4], 0.0)
    mix /= mix.sum(axis=1, keepdims=True)

    # Heavy-tailed size: lognormal with sigma 1.3, mean one, capped at 150.
    raw = rng.lognormal(0.0, 1.3, n) * ref.MODEL_SIZE_FACTOR[model]
    size = np.minimum(raw / raw.mean(), 150.0)

    # Age: most enterprises founded years before the window, 12 % inside it.
    years_before = np.minimum(rng.exponential(5.5, n), 30.0)
    est = grid.start_day - (years_before * 365.25).astype(np.int64) - 30
    entrant = rng.random(n) < 0.12
    span = max(grid.end_day - grid.start_day - 180, 1)
    est = np.where(entrant, grid.start_day + rng.integers(0, span, n), est)
    est_year = (
        est.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    )
    age_years = np.maximum((grid.start_day - est) / 365.25, 0.0)

    # Compliance propensity: Beta(6, 1.8), nudged up for large and old firms.
    c0 = rng.beta(6.0, 1.8, n)
    logit = (
        np.log(c0 / (1 - c0)) + 0.25 * np.log(size) + 0.03 * np.minimum(age_years, 10)
    )
    compliance = np.clip(1 / (1 + np.exp(-logit)), 0.02, 0.995)
    health_mean = rng.normal(0.1 + 0.3 * np.log(size) / 1.3, 1.0)
    health_start = health_mean + rng.normal(0.0, 0.7, n)

    exporter = ref.MODEL_MODE_MIX[model, 4] < 0.5
    cheats = (compliance < 0.6) & (rng.random(n) < 0.6) & exporter
    under = np.where(cheats, rng.beta(2.0, 5.0, n) * 0.5 + 0.05, 0.0)
    refund_capable = mix[:, [0, 2, 3]].sum(axis=1) > 0.3
    fraud = (compliance < 0.45) & refund_capable & (rng.random(n) < 0.15) & ~cheats
    third_party = np.clip(
        0.02 + 0.35 * (1 - compliance) ** 2 + 0.30 * fraud + rng.normal(0, 0.02, n),
        0.0,
        0.9,
    )
    pi_share = np.clip(ref.MODEL_PI_SHARE[model] + rng.normal(0, 0.08, n), 0.0, 1.0)
    general = (size > 0.5) | (rng.random(n) < 0.3)
    district = rng.choice(len(ref.DISTRICTS), n, p=ref.normalise(ref.DISTRICT_WEIGHTS))
    market = rng.dirichlet(4 * ref.normalise(ref.EXPORT_MARKET_WEIGHTS), n)
    buyers, suppliers, pool_size = _pools(rng, size, compliance, fraud)

    offset = int(rng.integers(0, 10**9))
    uscc = make_usccs(district, est_year, offset)
    customs_code = np.asarray(
        [
            f"37{d:02d}{(i * 7_919 + offset) % 16**6:06X}"
            for i, d in enumerate(rng.integers(1, 16, n))
        ],
        dtype=object,
    )
    return Population(
        uscc=uscc,
        name=_names(rng, sector),
        customs_code=customs_code,
        sector=sector,
        model=model,
        is_broker=model == ref.MODELS.index("CUSTOMS_BROKER"),
        mode_mix=mix,
        import_share_0110=np.clip(
            ref.MODEL_IMPORT_SHARE_0110[model] + rng.normal(0, 0.05, n), 0.0, 1.0
        ),
        import_share_9610=ref.MODEL_IMPORT_SHARE_9610[model].astype(np.float64),
        size=size,
        decl_factor=ref.MODEL_DECL_FACTOR[model].astype(np.float64),
        growth=rng.lognormal(0.05, 0.15, n),
        season_amp=ref.SECTOR_SEASONALITY[sector] * rng.uniform(0.6, 1.4, n),
        domestic_share=np.clip(
            ref.MODEL_DOMESTIC_SHARE[model] + rng.normal(0, 0.05, n), 0.02, 0.95
        ),
        established_day=est.astype(np.int64),
        reg_capital=np.round(10**5.5 * size**0.6 * rng.lognormal(0.0, 0.8, n), -4).clip(
            10_000, 5e9
        ),
        compliance=compliance,
        health_mean=health_mean,
        health_start=health_start,
        under_declaration=under,
        refund_fraud=fraud,
        collection_ratio=np.clip(rng.normal(0.97, 0.03, n), 0.85, 1.0),
        third_party_share=third_party,
        pi_share=pi_share,
        general_taxpayer=general,
        deemed_collection=~general & (rng.random(n) < 0.3),
        on_fx_list=~((model == 0) & (size < 0.4) & (rng.random(n) < 0.5)),
        district=district,
        review_month=rng.integers(0, 12, n),
        market_mix=market,
        products=_hs_products(rng, sector),
        buyers=buyers,
        suppliers=suppliers,
        pool_size=pool_size,
        bank=rng.integers(0, ref.N_BANKS, n),
        payment_institution=rng.integers(0, ref.N_PAYMENT_INSTITUTIONS, n),
    )
