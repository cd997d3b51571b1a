"""Data freshness: what the lake knows of each table, and whether it is current.

A department's feed can stop while the engine keeps rating; the records it did
not deliver then look like records that do not exist (a payment never received
looks like a bill never paid). This package says how current each table is:

* :func:`lake_watermarks` / :func:`source_watermarks`: per table, the
  watermark of what the lake knew at a date (latest ``ingested_at``, latest
  valid time, rows; point in time by :func:`credit_engine.point_in_time.watermark`),
  rolled up per department; :func:`source_watermarks_spark`: the same on
  Apache Spark (the rating's freshness check with ``--engine spark``);
* the freshness policy as data (``features/freshness.yaml``,
  :func:`load_freshness_policy`): per table the expected cadence and the
  allowed lag, department defaults, conventions marked;
* :func:`assess_freshness`: per table fresh, late or stale at a date, per
  department the worst, overall the worst; :func:`freshness_date`: the latest
  date at which no required table is stale; :func:`lake_freshness`: all of it
  for an engine home; :func:`freshness_lights`: per table green/amber/red for
  the monitoring report.

Rating at a date where a required table is stale marks every decision with its
:class:`StaleSource` entries; the rule layers assert no fact from the silence
of a feed past its watermark, and the model grades what the lake knew at the
:func:`knowledge_date`: stale data can only fail to assert, never worsen.

Layer: above :mod:`credit_engine.data` and :mod:`credit_engine.point_in_time`
(it reads the lake's commit records and the point-in-time watermark) and
:mod:`credit_engine.features` (its Spark sources and SQL transpiler), below
the rules, decisions, rating and API that use it.
"""

from __future__ import annotations

from credit_engine.freshness._assess import (
    NOT_DELIVERED,
    NOT_DELIVERED_TEXT,
    DepartmentFreshness,
    FreshnessReport,
    FreshnessStatus,
    StaleSource,
    TableFreshness,
    assess_freshness,
    default_serving_date,
    freshness_date,
    freshness_lights,
    knowledge_date,
)
from credit_engine.freshness._home import lake_freshness
from credit_engine.freshness._policy import (
    POLICY_FILE,
    Cadence,
    FreshnessPolicy,
    SourcePolicy,
    department_of,
    load_freshness_policy,
)
from credit_engine.freshness._spark import source_watermarks_spark
from credit_engine.freshness._watermarks import (
    DepartmentWatermark,
    TableSource,
    TableWatermark,
    Watermarks,
    lake_watermarks,
    source_watermarks,
)

__all__ = [
    "NOT_DELIVERED",
    "NOT_DELIVERED_TEXT",
    "POLICY_FILE",
    "Cadence",
    "DepartmentFreshness",
    "DepartmentWatermark",
    "FreshnessPolicy",
    "FreshnessReport",
    "FreshnessStatus",
    "SourcePolicy",
    "StaleSource",
    "TableFreshness",
    "TableSource",
    "TableWatermark",
    "Watermarks",
    "assess_freshness",
    "default_serving_date",
    "department_of",
    "freshness_date",
    "freshness_lights",
    "knowledge_date",
    "lake_freshness",
    "lake_watermarks",
    "load_freshness_policy",
    "source_watermarks",
    "source_watermarks_spark",
]
