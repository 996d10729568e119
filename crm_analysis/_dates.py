"""One parser for date parameters (observation windows, ``as_of``, ranges).

Every public function that takes a date-like parameter parses it here, so a bad
value gives the same clear error everywhere. What a caller accepts differs and
is said explicitly at each call: whether ``None`` is allowed, what happens to a
time zone, and whether a time of day is kept, dropped or refused.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import pandas as pd

__all__ = ["parse_date"]


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
        A string, ``datetime``, ``date`` or ``Timestamp``.
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
        ``"<name>=<value> is not a date"`` for unparseable values and NaT, and
        a message naming the rule for the refusals above.
    """
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} is required")
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a date") from exc
    if ts is pd.NaT:
        raise ValueError(f"{name}={value!r} is not a date")
    if ts.tzinfo is not None:
        if tz == "reject":
            raise ValueError(f"{name}={value!r} must be a naive (time-zone free) date")
        if tz == "strip":
            ts = ts.tz_localize(None)
    if time == "normalize":
        ts = ts.normalize()
    elif time == "reject" and ts != ts.normalize():
        raise ValueError(f"{name} must be a calendar date, got {value!r}")
    return ts
