"""Pandas to Arrow without the deprecated time-zone path.

``pa.Table.from_pandas`` and ``pa.array`` read time-zone-aware columns through
``Series.values``, which pandas 3.1 deprecates (one warning per column and
call). Here such columns travel as UTC instants and get their zone back as an
Arrow type: the same values, no warning. Everything else converts as
``pa.Table.from_pandas`` would, pandas metadata included.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["array_from_series", "table_from_frame"]


def _zoned_type(dtype: pd.DatetimeTZDtype) -> pa.DataType:
    return pa.timestamp(dtype.unit, tz=str(dtype.tz))


def _utc_instants(values: pd.Series | pd.DatetimeIndex) -> pd.Series:
    series = pd.Series(values)
    naive: pd.Series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return naive


def array_from_series(
    values: pd.Series | pd.DatetimeIndex, type: pa.DataType | None = None
) -> pa.Array:
    """Return ``values`` as an Arrow array (time-zone-aware values kept aware).

    Parameters
    ----------
    values : pandas.Series or pandas.DatetimeIndex
        The values to convert.
    type : pyarrow.DataType, optional
        The Arrow type wanted; default: the natural type of ``values``.

    Returns
    -------
    pyarrow.Array

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(pd.to_datetime(["2024-01-01T08:00:00+08:00"], utc=True))
    >>> array_from_series(s).type
    TimestampType(timestamp[us, tz=UTC])
    """
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        utc = _utc_instants(values)
        naive = pa.array(utc, pa.timestamp(dtype.unit), from_pandas=True)
        array = pc.cast(naive, _zoned_type(dtype))
        return array if type is None else pc.cast(array, type, safe=False)
    return pa.array(values, type, from_pandas=True)


def table_from_frame(frame: pd.DataFrame) -> pa.Table:
    """Return ``frame`` as an Arrow table, as ``pa.Table.from_pandas`` would.

    The index is not kept (``preserve_index=False``); time-zone-aware columns
    keep their zone.

    Parameters
    ----------
    frame : pandas.DataFrame
        The frame to convert.

    Returns
    -------
    pyarrow.Table
    """
    zoned: dict[str, pd.DatetimeTZDtype] = {
        str(name): dtype
        for name, dtype in frame.dtypes.items()
        if isinstance(dtype, pd.DatetimeTZDtype)
    }
    if zoned:
        frame = frame.assign(**{name: _utc_instants(frame[name]) for name in zoned})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, dtype in zoned.items():
        index = table.schema.get_field_index(name)
        zoned_type = _zoned_type(dtype)
        table = table.set_column(
            index, pa.field(name, zoned_type), pc.cast(table.column(name), zoned_type)
        )
    return table
