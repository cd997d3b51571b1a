"""Reference code lists and constants of the synthetic zone.

These are illustrative stand-ins for the zone's real reference data: sector to HS
chapter maps, destination markets, currencies and rates, Xiamen customs port codes
and districts. Every table of codes here is documented in ``docs/simulator.md``.
"""

from __future__ import annotations

import numpy as np

from credit_engine.simulation._types import FloatArray

SECTORS = (
    "electronics",
    "apparel",
    "home_goods",
    "toys_sports",
    "beauty",
    "food_health",
    "machinery",
    "furniture",
)
SECTOR_WEIGHTS = np.array([0.22, 0.18, 0.16, 0.10, 0.10, 0.08, 0.09, 0.07])
SECTOR_WORD = ("电子", "服饰", "家居", "玩具", "美妆", "食品", "机械", "家具")
SECTOR_HS_CHAPTERS: tuple[tuple[str, ...], ...] = (
    ("85", "84"),
    ("61", "62", "64"),
    ("39", "73", "69", "63"),
    ("95",),
    ("33",),
    ("21", "19", "04"),
    ("84", "87"),
    ("94",),
)
SECTOR_CNY_PER_KG = np.array([400.0, 150.0, 60.0, 80.0, 300.0, 50.0, 100.0, 30.0])
SECTOR_REFUND_RATE = np.array([0.13, 0.13, 0.13, 0.13, 0.09, 0.09, 0.13, 0.13])
SECTOR_INDUSTRY = (
    "F5176",
    "F5132",
    "F5137",
    "F5141",
    "F5124",
    "F5126",
    "F5174",
    "F5137",
)
# Seasonal amplitude of each sector around the common e-commerce calendar.
SECTOR_SEASONALITY = np.array([1.0, 1.2, 1.0, 1.5, 1.1, 0.6, 0.4, 0.7])

# Business models: the dominant way an enterprise trades across the border.
MODELS = (
    "B2C_EXPORT",
    "B2B_EXPORT",
    "OVERSEAS_WAREHOUSE",
    "BONDED_IMPORT",
    "GENERAL_TRADE",
    "CUSTOMS_BROKER",
)
MODEL_WEIGHTS = np.array([0.35, 0.20, 0.12, 0.10, 0.18, 0.05])
TRADE_MODES = ("0110", "9610", "9710", "9810", "1210")
# Mean trade-mode mix per business model (rows: MODELS, columns: TRADE_MODES).
MODEL_MODE_MIX = np.array(
    [
        [0.10, 0.75, 0.05, 0.10, 0.00],
        [0.25, 0.00, 0.65, 0.10, 0.00],
        [0.20, 0.00, 0.10, 0.70, 0.00],
        [0.05, 0.15, 0.00, 0.00, 0.80],
        [0.85, 0.05, 0.10, 0.00, 0.00],
        [0.40, 0.30, 0.15, 0.00, 0.15],
    ]
)
# Share of imports among declarations of each mode for each model (0110 and 9610
# run both ways; 1210 is bonded import; 9710/9810 are export-only).
MODEL_IMPORT_SHARE_0110 = np.array([0.15, 0.15, 0.15, 0.60, 0.40, 0.50])
MODEL_IMPORT_SHARE_9610 = np.array([0.00, 0.00, 0.00, 1.00, 0.20, 0.40])
MODEL_SIZE_FACTOR = np.array([0.8, 1.2, 1.1, 1.0, 1.4, 1.6])
MODEL_DECL_FACTOR = np.array([1.3, 0.8, 0.9, 1.2, 0.6, 1.5])
MODEL_PI_SHARE = np.array([0.80, 0.10, 0.30, 0.20, 0.05, 0.10])
MODEL_CBEC_ROLE = (
    "ECOMMERCE_ENTERPRISE",
    "ECOMMERCE_ENTERPRISE",
    "OVERSEAS_WAREHOUSE",
    "ECOMMERCE_ENTERPRISE",
    "NONE",
    "LOGISTICS",
)
MODEL_DOMESTIC_SHARE = np.array([0.10, 0.15, 0.10, 0.85, 0.35, 0.30])

CURRENCIES = ("CNY", "USD", "EUR", "GBP", "JPY", "HKD", "AUD", "CAD", "KRW", "SGD")
# CNY per unit, a base level; monthly rates drift deterministically around it.
CNY_PER_UNIT = np.array([1.0, 7.10, 7.75, 9.00, 0.048, 0.91, 4.70, 5.20, 0.0053, 5.30])
EXPORT_CURRENCY_WEIGHTS = np.array(
    [0.05, 0.70, 0.12, 0.05, 0.02, 0.01, 0.02, 0.02, 0.0, 0.01]
)
IMPORT_CURRENCY_WEIGHTS = np.array(
    [0.05, 0.35, 0.15, 0.03, 0.20, 0.05, 0.07, 0.0, 0.08, 0.02]
)
USD_INDEX = 1

EXPORT_MARKETS = (
    "USA",
    "GBR",
    "DEU",
    "FRA",
    "NLD",
    "ITA",
    "ESP",
    "POL",
    "JPN",
    "KOR",
    "AUS",
    "CAN",
    "MEX",
    "BRA",
    "RUS",
    "ARE",
    "SAU",
    "SGP",
    "MYS",
    "THA",
    "VNM",
    "IDN",
    "PHL",
    "NZL",
)
EXPORT_MARKET_WEIGHTS = np.array(
    [30, 7, 8, 5, 3, 3, 3, 2, 6, 3, 5, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1],
    dtype=float,
)
IMPORT_ORIGINS = ("JPN", "KOR", "AUS", "USA", "DEU", "FRA", "NZL", "ITA", "THA", "NLD")
IMPORT_ORIGIN_WEIGHTS = np.array([20, 18, 14, 12, 10, 8, 6, 5, 4, 3], dtype=float)
# Payers of trade receipts not located in the buyer's country (round-tripping).
OFFSHORE_PAYER_COUNTRIES = ("HKG", "SGP", "ARE", "VGB", "CYM")

# Illustrative Xiamen customs-area port codes (37xx) and their weights.
PORT_CODES = ("3701", "3702", "3703", "3704", "3705", "3706", "3712", "3714")
PORT_WEIGHTS = np.array([20, 15, 25, 15, 8, 5, 7, 5], dtype=float)
# Xiamen districts (GB/T 2260): Siming, Haicang, Huli, Jimei, Tong'an, Xiang'an.
DISTRICTS = ("350203", "350205", "350206", "350211", "350212", "350213")
DISTRICT_WEIGHTS = np.array([0.20, 0.15, 0.30, 0.15, 0.10, 0.10])
NAME_SYLLABLES = tuple("海瑞鹭岛嘉禾鼓浪金鹰同安翔集美华泰鑫源恒达顺通远航星辰宏图益丰")

TRADE_CNY_PER_YEAR = 8.0e6
"""Cross-border trade of an enterprise of size 1 at activity 1, CNY per year."""

N_BANKS = 40
N_PAYMENT_INSTITUTIONS = 12

# E-commerce calendar shared by all sectors: Spring Festival dip (Jan/Feb), 618
# (June), Prime Day (July), Double 11 and Black Friday (Nov), Christmas (Oct-Dec
# shipping). Index 0 = January.
BASE_SEASONALITY = np.array(
    [0.85, 0.70, 0.95, 0.95, 1.00, 1.10, 1.05, 0.95, 1.05, 1.15, 1.25, 1.00]
)

# Customs credit levels (integer codes used inside the simulator).
LEVEL_ADV_CERT = 0
LEVEL_CERT = 1
LEVEL_REGULAR = 2
LEVEL_DISHONEST = 3
LEVEL_SERIOUS = 4
LEVEL_NAMES = ("ADV_CERT", "CERT", "REGULAR", "DISHONEST", "SERIOUS_DISHONEST")
# Inspection probability per declaration by level: certified at most 0.2 of the
# regular rate (Order 251 measure 1); dishonest at 80% (Order 237/251 practice).
BASE_INSPECTION_RATE = 0.03
LEVEL_INSPECTION_RATE = np.array([0.006, 0.012, 0.03, 0.80, 0.80])

SAFE_A = 0
SAFE_B = 1
SAFE_C = 2
SAFE_NAMES = ("A", "B", "C")

ORDER_282_EFFECTIVE = np.datetime64("2026-04-01")
TAX_2025_EFFECTIVE = np.datetime64("2025-07-01")


def normalise(weights: FloatArray) -> FloatArray:
    """Return ``weights`` scaled to sum to one."""
    return np.asarray(weights / weights.sum(), dtype=np.float64)
