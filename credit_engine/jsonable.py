"""One conversion to plain JSON values, for the API, the audit log and the reports.

:func:`to_jsonable` turns what the engine computes (numpy and pandas scalars,
dates, enums, dataclasses, pydantic models, NaN) into ``dict``, ``list``,
``str``, ``int``, ``float``, ``bool`` and ``None``, the same way everywhere:

* missing values (``None``, NaN, ``pandas.NA``, ``NaT``) become ``None``;
* infinities become the strings ``"inf"`` and ``"-inf"`` (JSON has no infinity;
  a band edge at infinity must not read as missing);
* dates and datetimes become ISO 8601 strings (``2026-06-30``,
  ``2026-06-30T08:00:00+00:00``); enums their value;
* mapping keys become strings; tuples, sets (sorted) and arrays become lists.

Anything else is refused with a message naming where it was found, so that no
value is silently turned into its ``repr``.

Examples
--------
>>> import datetime as dt, math
>>> to_jsonable({"pd": math.nan, "as_of": dt.date(2026, 6, 30), "edge": math.inf})
{'pd': None, 'as_of': '2026-06-30', 'edge': 'inf'}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections.abc import Mapping, Set
from decimal import Decimal
from typing import Any

__all__ = ["to_jsonable"]


def _float(value: float) -> float | str | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _is_missing(value: Any) -> bool:
    # pandas.NA and NaT without importing pandas at module import.
    name = type(value).__name__
    return name in {"NAType", "NaTType"}


def to_jsonable(value: Any, where: str = "value") -> Any:  # noqa: PLR0911, PLR0912 - one exit per kind
    """Return ``value`` as plain JSON data (see the module docstring for the rules).

    Parameters
    ----------
    value : object
        What to convert.
    where : str, default="value"
        Name of ``value`` in error messages (nested paths are appended).

    Returns
    -------
    object
        ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` or ``None``.

    Raises
    ------
    TypeError
        If a value has no JSON form; the message names where it is.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if _is_missing(value):  # before dates: NaT is a datetime
        return None
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, where)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, Decimal):
        return _float(float(value))
    if isinstance(value, dt.date):  # datetimes included
        return value.isoformat()
    if hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic
        return to_jsonable(value.model_dump(), where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return to_jsonable(fields, where)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, Set):
        return [to_jsonable(v, f"{where}[]") for v in sorted(value)]
    if isinstance(value, list | tuple):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if callable(item) and getattr(value, "ndim", None) == 0:
        return to_jsonable(item(), where)
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return to_jsonable(tolist(), where)
    if isinstance(value, dt.time):
        return value.isoformat()
    raise TypeError(
        f"{where} holds a {type(value).__name__} ({value!r}), which has no JSON "
        "form; pass str, int, float, bool, None, dates, enums, lists and mappings."
    )
