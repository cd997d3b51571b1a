"""credit-engine: credit rating and risk scoring for a cross-border e-commerce zone.

Four departments share records on the same enterprises, keyed by the Unified Social
Credit Code (USCC): customs, tax, forex (SAFE) and market regulation (SAMR). The
engine validates and lands those records, builds point-in-time features, trains
and validates rating models, and turns scores into treatment tiers.

Glossary
--------
uscc
    Unified Social Credit Code (统一社会信用代码), GB 32100-2015, 18 characters.
as_of
    Rating date: a feature may only use what was known (``ingested_at``) and
    had happened (``event_ts`` / ``effective_from``) by then.
event_ts, ingested_at, effective_from, effective_to
    Valid time of an event, knowledge time of a record, validity interval of a
    state record.
woe, iv, psi, ks, pdo, oot
    Weight of evidence, information value, population stability index,
    Kolmogorov-Smirnov statistic, points to double the odds, out of time.

Importing the package has no side effects: it configures no logging, reads no
files and starts no service.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
