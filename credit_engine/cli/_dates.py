"""One parser for every date on the command line: ``YYYY-MM-DD``.

Every date option and argument of every command is declared with
:func:`date_option` (or passes :func:`parse_date` as its ``parser``), so a bad
date always gets the same message and exit status 2, like any other bad
parameter::

    Invalid value for '--as-of': '2026-13-01' is not a date; use YYYY-MM-DD,
    e.g. 2026-06-30.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import typer
from pydantic_core import PydanticCustomError

__all__ = ["DATE_METAVAR", "date_option", "parse_date"]

DATE_METAVAR = "YYYY-MM-DD"
"""How a date is shown in the help."""

_FORM = re.compile(r"\d{4}-\d{2}-\d{2}")
_EXAMPLE = "2026-06-30"


def parse_date(value: Any) -> dt.date:
    """Return a command-line value ``YYYY-MM-DD`` as a date.

    Parameters
    ----------
    value : str or datetime.date
        What was typed (a date default is returned as it is).

    Returns
    -------
    datetime.date

    Raises
    ------
    ValueError
        ``'<value>' is not a date; use YYYY-MM-DD, e.g. 2026-06-30.`` for any
        other form (``2026-6-30``, ``20260630``) and for impossible dates
        (``2026-13-01``, ``2026-02-30``). Typer reports it as a bad parameter.

    Examples
    --------
    >>> parse_date("2026-06-30")
    datetime.date(2026, 6, 30)
    >>> parse_date("2026-13-01")
    Traceback (most recent call last):
    ...
    ValueError: '2026-13-01' is not a date; use YYYY-MM-DD, e.g. 2026-06-30.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value)
    if _FORM.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass  # e.g. month 13 or 30 February: the same message as any other
    raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. {_EXAMPLE}.")


def date_option(*param_decls: str, **kwargs: Any) -> Any:
    """Return a ``typer.Option`` that parses ``YYYY-MM-DD`` into ``datetime.date``.

    Annotate the parameter ``datetime.date`` (or ``list[datetime.date]``,
    ``datetime.date | None``).

    Parameters
    ----------
    *param_decls : str
        Option names, e.g. ``"--as-of"``.
    **kwargs
        Any other ``typer.Option`` argument (``help``, ``show_default``, ...).
    """
    return typer.Option(
        *param_decls, parser=_typer_parse_date, metavar=DATE_METAVAR, **kwargs
    )


def _typer_parse_date(value: Any) -> dt.date:
    """Run :func:`parse_date` for Typer, whose error message is then exactly ours.

    Typer (0.29) validates parameters with pydantic, which shows a ``ValueError``
    as ``"Value error, <message>"``; a ``PydanticCustomError`` is shown as its
    message alone.
    """
    try:
        return parse_date(value)
    except ValueError as exc:
        raise PydanticCustomError("date", "{message}", {"message": str(exc)}) from None
