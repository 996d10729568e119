"""Small helpers shared by the seasonality modules (not public API)."""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError
from crm_analysis._validate import check_columns

from collections.abc import Iterable, Sequence

import pandas as pd

from crm_analysis._dates import parse_date

__all__: list[str] = []

_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a ``ValueError`` naming every column of ``columns`` missing in ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise InputTypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    check_columns(columns, df.columns, table=what)


def to_day(values: pd.Series | pd.Index | Sequence) -> pd.DatetimeIndex | pd.Series:
    """Convert to naive ``datetime64[ns]`` normalised to midnight."""
    out = pd.to_datetime(values)
    if isinstance(out, pd.Series):
        return out.dt.normalize().astype("datetime64[ns]")
    return pd.DatetimeIndex(out).normalize().astype("datetime64[ns]")


def to_timestamp(value: object, name: str) -> pd.Timestamp:
    """Parse a single date parameter, with a clear error."""
    return parse_date(value, name, tz="keep", time="normalize")


def weekday_number(day: int | str) -> int:
    """Weekday as 0 (Monday) .. 6 (Sunday) from an int or a (short or long) English name."""
    if isinstance(day, str):
        text = day.strip().lower()
        full = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        # a name or the start of one of at least three letters ("Sat", "Satur"); "Sundayy", "Monkey" are not
        hits = [i for i, name in enumerate(full) if len(text) >= 3 and name.startswith(text)]
        if len(hits) != 1:
            raise InputError(f"{day!r} is not a weekday name; use Monday, Tuesday, Wednesday, Thursday, Friday, "
                             "Saturday, Sunday (or their first three letters), or 0=Monday..6=Sunday")
        return hits[0]
    day = int(day)
    if not 0 <= day <= 6:
        raise InputError(f"weekday {day} out of range; use 0=Monday..6=Sunday")
    return day


def weekday_names() -> list[str]:
    """Short weekday names, Monday first."""
    return list(_WEEKDAY_NAMES)


def month_names() -> list[str]:
    """Short month names, January first."""
    return list(_MONTH_NAMES)
