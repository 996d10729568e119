"""One parser for date parameters (observation windows, ``as_of``, ranges).

Every public function that takes a date-like parameter parses it here, so a bad
value gives the same clear error everywhere. What a caller accepts differs and
is said explicitly at each call: whether ``None`` is allowed, what happens to a
time zone, and whether a time of day is kept, dropped or refused.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import datetime as _dt
import re
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

__all__ = ["parse_date", "ISO_DATE"]

#: What a date parameter written as text must look like: ISO 8601,
#: ``YYYY-MM-DD`` with an optional time (``T`` or a blank before it) and an
#: optional UTC offset. ``01/12/2014`` is refused: it is 1 December in one
#: country and 12 January in another.
ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


@overload
def parse_date(
    value: Any,
    name: str,
    *,
    allow_none: Literal[False] = False,
    tz: Literal["strip", "reject", "keep"] = "strip",
    time: Literal["keep", "normalize", "reject"] = "keep",
) -> pd.Timestamp: ...


@overload
def parse_date(
    value: Any,
    name: str,
    *,
    allow_none: Literal[True],
    tz: Literal["strip", "reject", "keep"] = "strip",
    time: Literal["keep", "normalize", "reject"] = "keep",
) -> pd.Timestamp | None: ...


def parse_date(
    value: Any,
    name: str,
    *,
    allow_none: bool = False,
    tz: Literal["strip", "reject", "keep"] = "strip",
    time: Literal["keep", "normalize", "reject"] = "keep",
) -> pd.Timestamp | None:
    """Parse a date parameter, naming it in any error.

    Parameters
    ----------
    value : date-like
        An ISO 8601 string (``"2024-12-31"``, ``"2024-12-31 18:00"``), a
        ``datetime``, ``date``, ``numpy.datetime64`` or ``Timestamp``. Other
        text (``"01/12/2014"``, ``"31 Dec 2024"``) and numbers are refused:
        their reading depends on a convention the parameter cannot carry.
    name : str
        Parameter name used in error messages.
    allow_none : bool, default False
        Return ``None`` for ``None`` (otherwise ``None`` is an error: "required").
    tz : {"strip", "reject", "keep"}, default "strip"
        A time-zone-aware value: drop the zone keeping the local clock time,
        refuse it, or keep it.
    time : {"keep", "normalize", "reject"}, default "keep"
        A time of day: keep it, floor to midnight, or refuse it (the parameter
        must be a calendar date).

    Returns
    -------
    pandas.Timestamp or None

    Raises
    ------
    ValueError
        ``"<name>=<value> is not a date"`` for unparseable values and NaT,
        ``"<name>=<value> is not a date in ISO form ..."`` for text in another form,
        and a message naming the rule for the refusals above.
    """
    if value is None:
        if allow_none:
            return None
        raise InputError(f"{name} is required")
    if isinstance(value, str):
        text = value.strip()
        if not ISO_DATE.match(text):
            raise InputError(
                f"{name}={shown(value)} is not a date in ISO form: write it as YYYY-MM-DD (e.g. '2014-12-01'), "
                "so that day and month cannot be confused"
            )
        value = text
    elif isinstance(value, (bool, int, float, np.number)) and not (isinstance(value, float) and value != value):
        raise InputError(f"{name}={shown(value)} is a number, not a date: write it as 'YYYY-MM-DD'")
    elif not isinstance(value, (_dt.date, np.datetime64)) and value is not pd.NaT and not (
        isinstance(value, float) and value != value
    ):
        raise InputError(f"{name}={shown(value)} is not a date: give 'YYYY-MM-DD' or a Timestamp")
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}={shown(value)} is not a date") from exc
    if ts is pd.NaT:
        raise InputError(f"{name}={shown(value)} is not a date")
    if ts.tzinfo is not None:
        if tz == "reject":
            raise InputError(f"{name}={shown(value)} must be a naive (time-zone free) date")
        if tz == "strip":
            ts = ts.tz_localize(None)
    if time == "normalize":
        ts = ts.normalize()
    elif time == "reject" and ts != ts.normalize():
        raise InputError(f"{name} must be a calendar date, got {shown(value)}")
    return ts
