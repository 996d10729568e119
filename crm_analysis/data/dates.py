"""One date policy for every column of every source (pandas and DuckDB).

Date columns are where a file is most easily misread without anyone
noticing: ``03/01/2024`` is 3 January in Europe and 1 March in the US, and a
parser that guesses value by value reads one column in two orders. This
module reads every date column by one policy, the same on the pandas path
(:func:`parse_datetime_column`, used by the loaders) and on the DuckDB path
(:func:`timestamp_sql`, used by the lazy relations and by
:func:`crm_analysis.rfm.rfm_summary` on files):

1. **Typed values** (``datetime64``, a DuckDB ``TIMESTAMP``/``DATE``) are used as
   they are; numbers are refused (``20240103`` or an Excel serial is not a date
   until a format says so).
2. **ISO 8601** text (``2024-01-03``, ``2024-01-03T10:00:00+01:00``, also
   ``2024/01/03`` and the compact ``20240103``) is read as written: year,
   month, day.
3. **Day and month** written with ``/``, ``.``, ``-`` or a blank and a year
   last (``03/01/2024``, ``3.1.24``): the order is inferred from the **whole
   column**. A first field above 12 anywhere means day first, a second field
   above 12 means month first; both in one column is an error (the column
   mixes conventions); neither is an error too (every value is a valid date
   both ways), unless the caller says which: ``dayfirst=True/False`` or a
   ``date_format`` such as ``"%d/%m/%Y"``. One column is never read in two
   orders.
4. **Time zones.** A value with a UTC offset (``+0100``, ``Z``) or a
   time-zone-aware dtype is converted to the declared ``timezone`` (an IANA
   name such as ``"Europe/London"``) and stored as naive local time; without
   a declared zone it is converted to UTC, and the conversion is reported
   (:class:`IntakeChange`). Values with and without offsets in one column are
   refused. Naive values are taken to be local time in the declared zone.
5. Anything else (month names, invalid dates such as ``31/02/2024``) is an
   error naming the column, giving examples with their row positions and the
   fix (``date_format``).

Parameters (``as_of``, ``observation_end``, ...) are parsed by
:func:`crm_analysis._dates.parse_date`: ISO or a timestamp object only.
"""

from __future__ import annotations

from crm_analysis.exceptions import shown

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis.data.errors import MAX_EXAMPLES, DataValidationError, bad_values_message, distinct_examples
from crm_analysis.data.value_checks import error_sql

__all__ = [
    "IntakeChange",
    "numeric_dates_message",
    "DateShapes",
    "parse_datetime_column",
    "timestamp_sql",
    "TimestampSQL",
    "check_timezone",
    "check_date_orders",
    "date_format_for",
    "check_date_format_keys",
    "invalid_dates_message",
    "date_format_message",
    "DATE_PATTERN",
]

#: One regular expression (Python ``re`` and DuckDB's RE2 alike) for the
#: numeric date forms: three fields separated by ``/ . -`` or a blank, an
#: optional time (``T``, blanks or a comma before it; seconds, fractions and
#: AM/PM optional) and an optional UTC offset (``Z``, ``UTC``, ``GMT``,
#: ``+01``, ``+0100``, ``+01:00``). Groups: f1, f2, f3, hour, minute, second,
#: fraction, am/pm, offset.
DATE_PATTERN = (
    r"^\s*(\d{1,4})[/.\- ](\d{1,2})[/.\- ](\d{1,4})"
    r"(?:(?:T|\s+|,\s*)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp][Mm])?)?"
    r"\s*(Z|[Uu][Tt][Cc]|[Gg][Mm][Tt]|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
#: ISO 8601 basic calendar date, ``YYYYMMDD``.
COMPACT_PATTERN = r"^\s*(\d{4})(\d{2})(\d{2})\s*$"
_GROUPS = ["f1", "f2", "f3", "hh", "mi", "ss", "frac", "ampm", "off"]
_DATE_RE = re.compile(DATE_PATTERN)
_COMPACT_RE = re.compile(COMPACT_PATTERN)
_MAX_EXAMPLES = 5
_HOW_TO_SAY = (
    "say which in the data spec: dayfirst: true (03/01/2024 = 3 January 2024) or dayfirst: false "
    "(= 1 March 2024), or give the format, e.g. date_format: '%d/%m/%Y' "
    "(API: dayfirst=... or date_format=...)"
)


@dataclass(frozen=True)
class IntakeChange:
    """A change made to the values of a column while reading it.

    Attributes
    ----------
    column : str
        Canonical column name.
    reason : str
        Machine name, e.g. ``"converted_to_utc"``, ``"converted_to_timezone"``,
        ``"whitespace_stripped"``.
    rows : int
        Number of values changed.
    description : str
        Plain-words explanation (what was done and how to change it).
    """

    column: str
    reason: str
    rows: int
    description: str


@dataclass
class DateShapes:
    """What a text date column contains (computed the same way in pandas and SQL).

    Attributes
    ----------
    n_values : int
        Non-missing values.
    n_dm : int
        Values with day and month first (``dd/mm/yyyy`` or ``mm/dd/yyyy``).
    first_over_12, second_over_12 : list of str
        Example values (with their row when known) whose first / second field
        is above 12.
    n_offset, n_naive : int
        Values with / without a UTC offset.
    offset_example, naive_example : str or None
        One value of each.
    unparsed : list of str
        Examples of values in no supported form.
    n_unparsed : int
        How many values are in no supported form.
    """

    n_values: int = 0
    n_dm: int = 0
    first_over_12: list[str] | None = None
    second_over_12: list[str] | None = None
    n_offset: int = 0
    n_naive: int = 0
    offset_example: str | None = None
    naive_example: str | None = None
    unparsed: list[str] | None = None
    n_unparsed: int = 0


def check_timezone(timezone: str | None, *, name: str = "timezone") -> str | None:
    """Validate an IANA time-zone name.

    Parameters
    ----------
    timezone : str or None
        E.g. ``"Europe/London"``; ``None`` means none declared.
    name : str
        Parameter name for the message.

    Returns
    -------
    str or None
        The name, unchanged.

    Raises
    ------
    DataValidationError
        When the name is not a known IANA zone (e.g. ``"CET+1"`` or
        ``"London"``).
    """
    if timezone is None:
        return None
    if not isinstance(timezone, str) or not timezone.strip():
        raise DataValidationError(f"{name}={timezone!r} is not a time-zone name; use an IANA name such as 'Europe/London'")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DataValidationError(
            f"{name}={timezone!r} is not an IANA time-zone name; use e.g. 'Europe/London', 'America/New_York' or 'UTC'"
        ) from None
    return timezone


def date_format_for(date_format: str | Mapping[str, str] | None, *names: str) -> str | None:
    """The format that applies to a column, from a single format or a per-column mapping.

    Parameters
    ----------
    date_format : str, mapping or None
        One ``strftime`` format for every date column, or a mapping from the
        canonical or the source column name to its format.
    *names : str
        Names under which the column may appear in the mapping (canonical
        first, then the source name).

    Returns
    -------
    str or None
    """
    if date_format is None or isinstance(date_format, str):
        return date_format
    if not isinstance(date_format, Mapping):
        raise DataValidationError(
            f"date_format must be a format string such as '%d/%m/%Y' or a mapping column -> format, got {shown(date_format)}"
        )
    for n in names:
        if n in date_format:
            return date_format[n]
    return None


def check_date_format_keys(
    date_format: str | Mapping[str, str] | None,
    date_columns: Mapping[str, str],
    *,
    canonical: Sequence[str] = (),
) -> None:
    """Refuse a per-column ``date_format`` mapping whose keys name no date column.

    A key that is not a date column (a typo, ``"Date"`` for ``"Datum"``, a
    column that is not a date) would leave its column to the inferred order
    without a word.

    Parameters
    ----------
    date_format : str, mapping or None
        The option as given; only a mapping is checked.
    date_columns : mapping
        Canonical date column -> source column, for the date columns the
        source provides.
    canonical : sequence of str, optional
        Canonical date columns of the schema that may be named even when the
        source lacks them (e.g. ``cancellation_date``).

    Raises
    ------
    DataValidationError
        Naming the unknown key(s) and the date columns it may name (canonical
        and source names).
    """
    if not isinstance(date_format, Mapping):
        return
    known = set(date_columns) | set(date_columns.values()) | set(canonical)
    unknown = [k for k in date_format if k not in known]
    if not unknown:
        return
    listed = ", ".join(c if s == c else f"{c} (source column {s!r})" for c, s in date_columns.items()) or "none"
    raise DataValidationError(
        f"date_format has key(s) {unknown} that are not date columns of the data; its keys are the canonical "
        f"or the source names of the date columns: {listed}"
        + (f"; canonical date columns: {list(canonical)}" if canonical else "")
        + ". Correct the key, or give one format for every date column (date_format: '%d/%m/%Y')"
    )


# ----------------------------------------------------------------- decisions
def _decide_dayfirst(name: str, shapes: DateShapes, dayfirst: bool | None) -> bool:
    """The day/month order of a column's ``dd/mm`` values, or a clear error."""
    first, second = shapes.first_over_12 or [], shapes.second_over_12 or []
    if first and second:
        raise DataValidationError(
            f"column {name!r} mixes day-first dates (e.g. {first[0]}) and month-first dates "
            f"(e.g. {second[0]}): no single order reads every value; correct the file or give "
            "date_format for the order that is right"
        )
    if first:
        if dayfirst is False:
            raise DataValidationError(
                f"column {name!r}: dayfirst is false but {len(first)}+ value(s) have a first field above 12 "
                f"and can only be day-first (e.g. {', '.join(first[:3])}); drop dayfirst or set it to true"
            )
        return True
    if second:
        if dayfirst is True:
            raise DataValidationError(
                f"column {name!r}: dayfirst is true but value(s) have a second field above 12 and can only be "
                f"month-first (e.g. {', '.join(second[:3])}); drop dayfirst or set it to false"
            )
        return False
    if dayfirst is None:
        examples = ", ".join((shapes.unparsed or [])[:0]) or ""
        raise DataValidationError(
            f"column {name!r}: the {shapes.n_dm:,} date(s) written day/month/year or month/day/year are valid "
            f"in both orders (no day above 12), so the order cannot be inferred{examples}; " + _HOW_TO_SAY
        )
    return bool(dayfirst)


def _check_offsets(name: str, shapes: DateShapes) -> None:
    if shapes.n_offset and shapes.n_naive:
        raise DataValidationError(
            f"column {name!r} mixes {shapes.n_offset:,} value(s) with a UTC offset (e.g. {shapes.offset_example}) "
            f"and {shapes.n_naive:,} without (e.g. {shapes.naive_example}): the ones without cannot be placed "
            "in time; write every value with its offset, or none"
        )


_SERIAL = re.compile(r"^\s*\d{5}(\.\d+)?\s*$")


def _serial_hint(values: Sequence[Any]) -> str:
    """A hint when the values look like Excel serial day numbers (45296 = 2024-01-05)."""
    texts = [str(v).split(": ", 1)[-1].strip("'\"") for v in values]
    nums = [t for t in texts if _SERIAL.match(t)]
    if texts and len(nums) == len(texts) and all(20000 <= float(t) <= 80000 for t in nums):
        return (" These look like Excel serial day numbers (45296 = 2024-01-05): format the column as dates "
                "in Excel before saving, or convert them with pd.to_datetime(x, unit='D', origin='1899-12-30').")
    return ""


def _unparsed_error(name: str, n: int, examples: Sequence[str]) -> DataValidationError:
    return DataValidationError(
        f"column {name!r}: {n:,} value(s) are not dates in a recognised form (ISO 2024-01-31, "
        f"31/01/2024, 01/31/2024, 31.01.2024, with an optional time and UTC offset); examples: "
        f"{'; '.join(examples)}. Give the format with date_format, e.g. date_format: '%d %b %Y' "
        "for '31 Jan 2024'." + _serial_hint(examples)
    )


_FORMS = "recognised forms are ISO 2024-01-31, 31/01/2024, 01/31/2024, 31.01.2024, with an optional time and UTC offset"


def numeric_dates_message(name: str, dtype: Any) -> str:
    """The refusal of a numeric time column, the same on every engine (pandas, DuckDB, Spark).

    Parameters
    ----------
    name : str
        Column label for the message.
    dtype : object
        The column's type as the engine names it (shown in the message).

    Returns
    -------
    str
        Without a final full stop (the pandas path adds a hint after it).
    """
    return (f"column {name!r} is numeric ({dtype}), not a date: numeric dates are ambiguous "
            "(20240103? an Excel serial number?); give date_format, e.g. date_format: '%Y%m%d', "
            "or convert the column first")


def invalid_dates_message(name: str, n_rows: int, examples: list[tuple[str, int | None]], *,
                          dayfirst: bool | None = None) -> str:
    """The error text for ``n_rows`` values of ``name`` that are not valid dates (pandas and DuckDB paths).

    Parameters
    ----------
    name : str
        Column label.
    n_rows : int
        Rows with such a value.
    examples : list of (str, int or None)
        Distinct values and their first row (:func:`crm_analysis.data.errors.distinct_examples`).
    dayfirst : bool, optional
        The order ``dd/mm`` values were read in, when the column has such values.

    Returns
    -------
    str
    """
    order = "" if dayfirst is None else (" (dd/mm read day first)" if dayfirst else " (dd/mm read month first)")
    return bad_values_message(
        name, n_rows, f"are not valid dates{order}; {_FORMS}", examples,
        fix="Correct them, or give the format with date_format (e.g. date_format: '%d %b %Y' for '31 Jan 2024')."
            + _serial_hint([v for v, _ in examples]),
    )


def date_format_message(name: str, date_format: str, n_rows: int, examples: list[tuple[str, int | None]]) -> str:
    """The error text for ``n_rows`` values of ``name`` that do not match ``date_format`` (pandas and DuckDB paths).

    Parameters
    ----------
    name : str
        Column label.
    date_format : str
        The declared format.
    n_rows : int
        Rows with such a value.
    examples : list of (str, int or None)
        Distinct values and their first row.

    Returns
    -------
    str
    """
    return bad_values_message(
        name, n_rows, f"do not match date_format {date_format!r}", examples,
        fix="Correct them, or give the format the column is written in (date_format: ...; or leave it out and "
            "the order of dd/mm dates is inferred from the whole column).",
    )


def _ex(raw: Any, row: int | None) -> str:
    return f"{raw!r}" if row is None else f"row {row}: {raw!r}"


def _record_order(info: dict[str, Any] | None, shapes: DateShapes, dayfirst: bool | None, order: bool) -> None:
    if info is None or not shapes.n_dm or dayfirst is not None:
        return
    evidence = (shapes.first_over_12 if order else shapes.second_over_12) or []
    if evidence:  # read off the values (an ambiguous column without dayfirst raised already)
        info["inferred_dayfirst"] = order
        info["example"] = evidence[0]


def check_date_orders(orders: Mapping[str, tuple[bool, str]]) -> None:
    """Refuse a source whose date columns were read in different day/month orders.

    Each column's order is inferred from its own values; two columns of one
    file written in opposite conventions (a booking date ``25/01/2024`` and an
    arrival date ``02/13/2024``) are almost always an export error, and
    reading each its own way would pair dates from two conventions.

    Parameters
    ----------
    orders : mapping
        Column label -> (inferred dayfirst, example value).

    Raises
    ------
    DataValidationError
        Naming the columns, their orders and examples, and the fix.
    """
    firsts = {k: v for k, v in orders.items() if v[0]}
    seconds = {k: v for k, v in orders.items() if not v[0]}
    if firsts and seconds:
        (a, (_, ex_a)), (b, (_, ex_b)) = next(iter(firsts.items())), next(iter(seconds.items()))
        raise DataValidationError(
            f"date columns of one source are written in different orders: {a!r} is day-first (e.g. {ex_a}), "
            f"{b!r} month-first (e.g. {ex_b}); correct the export, or, if the file really mixes conventions, "
            "give date_format per column (date_format: {column: format, ...})"
        )


# ------------------------------------------------------------------- pandas
def _convert_zone(utc_naive: pd.Series, timezone: str | None) -> pd.Series:
    """Naive UTC times -> naive local times of ``timezone`` (UTC when None)."""
    if timezone is None:
        return utc_naive
    return utc_naive.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)


def _zone_change(name: str, n: int, timezone: str | None, what: str) -> IntakeChange:
    if timezone is None:
        return IntakeChange(
            name, "converted_to_utc", n,
            f"{n:,} {what} converted to UTC (no time zone declared: set timezone: <IANA name> in the data "
            "spec, e.g. Europe/London, to count days in local time)",
        )
    return IntakeChange(name, "converted_to_timezone", n, f"{n:,} {what} converted to {timezone} local time")


def _aware_series(s: pd.Series, name: str, timezone: str | None) -> tuple[pd.Series, list[IntakeChange]]:
    zone = str(s.dtype.tz)  # type: ignore[union-attr]
    out = s.dt.tz_convert(timezone or "UTC").dt.tz_localize(None).astype("datetime64[ns]")
    n = int(s.notna().sum())
    changes = [_zone_change(name, n, timezone, f"time-zone-aware value(s) ({zone})")] if n else []
    return out, changes


def _object_timestamps(s: pd.Series, name: str, timezone: str | None) -> tuple[pd.Series, list[IntakeChange]] | None:
    """An object column holding datetime objects (possibly tz-aware); None if it holds text."""
    present = s[s.notna()]
    if present.empty or not all(isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "tzinfo")
                                for v in present.iloc[:1000]):
        return None
    if not all(hasattr(v, "year") or isinstance(v, np.datetime64) for v in present):
        return None
    aware = np.array([getattr(v, "tzinfo", None) is not None for v in present])
    if aware.any() and not aware.all():
        shapes = DateShapes(n_offset=int(aware.sum()), n_naive=int((~aware).sum()),
                            offset_example=repr(present[aware].iloc[0]), naive_example=repr(present[~aware].iloc[0]))
        _check_offsets(name, shapes)
    if aware.any():
        utc = pd.to_datetime(s, utc=True)
        return _aware_series(utc, name, timezone)
    return pd.to_datetime(s).astype("datetime64[ns]"), []


def _fields(uniq: pd.Series) -> pd.DataFrame:
    """Regex fields of the unique text values (NaN where a group is absent)."""
    ext = uniq.str.extract(DATE_PATTERN)
    ext.columns = _GROUPS
    compact = uniq.str.extract(COMPACT_PATTERN)
    hit = compact[0].notna() & ext["f1"].isna()
    ext.loc[hit, ["f1", "f2", "f3"]] = compact.loc[hit].to_numpy()
    return ext


def _shapes_pandas(uniq: pd.Series, ext: pd.DataFrame, first_row: np.ndarray, counts: np.ndarray) -> DateShapes:
    matched = ext["f1"].notna().to_numpy(dtype=bool)
    year_first = matched & (_len(ext["f1"]) == 4)
    dm = matched & ~year_first
    f1, f2 = _num(ext["f1"]), _num(ext["f2"])
    has_off = ext["off"].notna().to_numpy(dtype=bool) & matched

    def ex(mask: np.ndarray, k: int = _MAX_EXAMPLES) -> list[str]:
        # the smallest distinct values (code-point order), as the DuckDB and Spark engines choose them
        idx = np.flatnonzero(mask)
        idx = idx[np.argsort(uniq.to_numpy(dtype=object)[idx].astype(str), kind="stable")][:k]
        return [_ex(uniq.iloc[i], int(first_row[i])) for i in idx]

    off_ex, naive_ex = ex(has_off, 1), ex(matched & ~has_off, 1)
    return DateShapes(
        n_values=int(counts.sum()),
        n_dm=int(counts[dm].sum()),
        first_over_12=ex(dm & (f1 > 12)),
        second_over_12=ex(dm & (f2 > 12)),
        n_offset=int(counts[has_off].sum()),
        n_naive=int(counts[matched & ~has_off].sum()),
        offset_example=off_ex[0] if off_ex else None,
        naive_example=naive_ex[0] if naive_ex else None,
        unparsed=ex(~matched),
        n_unparsed=int(counts[~matched].sum()),
    )


def _offset_minutes(off: pd.Series) -> np.ndarray:
    """Offsets ``Z``/``UTC``/``+01``/``+0100``/``+01:00`` -> minutes east of UTC (0 where absent)."""
    text = off.fillna("").str.replace(":", "", regex=False)
    zero = text.str.upper().isin(["Z", "UTC", "GMT", ""])
    sign = np.where(text.str.startswith("-"), -1, 1)
    digits = text.str.slice(1)
    hours = pd.to_numeric(digits.str.slice(0, 2), errors="coerce").fillna(0).to_numpy()
    mins = pd.to_numeric(digits.str.slice(2, 4).replace("", "0"), errors="coerce").fillna(0).to_numpy()
    return np.where(zero.to_numpy(), 0, sign * (hours * 60 + mins)).astype("int64")


def _num(col: pd.Series) -> np.ndarray:
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _len(col: pd.Series) -> np.ndarray:
    return col.str.len().to_numpy(dtype="float64", na_value=np.nan)


def _assemble(ext: pd.DataFrame, dayfirst: bool) -> pd.Series:
    """Naive timestamps (local clock time, offsets not applied) from the regex fields; NaT where invalid."""
    f1, f2, f3 = (_num(ext[c]) for c in ("f1", "f2", "f3"))
    year_first = _len(ext["f1"]) == 4
    len3 = _len(ext["f3"])
    y3 = np.where(len3 == 2, np.where(f3 < 69, 2000 + f3, 1900 + f3), np.where(len3 == 4, f3, np.nan))
    year = np.where(year_first, f1, y3)
    month = np.where(year_first, f2, f2 if dayfirst else f1)
    day = np.where(year_first, f3, f1 if dayfirst else f2)
    hh = np.nan_to_num(_num(ext["hh"]))
    ampm = ext["ampm"].str.upper().to_numpy(dtype=object, na_value=None)
    is_ampm = np.array([a is not None for a in ampm], dtype=bool)
    bad_h = is_ampm & ((hh < 1) | (hh > 12))
    hh = np.where(is_ampm & (ampm == "AM") & (hh == 12), 0, hh)
    hh = np.where(is_ampm & (ampm == "PM") & (hh < 12), hh + 12, hh)
    mi = np.nan_to_num(_num(ext["mi"]))
    ss = np.nan_to_num(_num(ext["ss"]))
    frac = ext["frac"].fillna("").str.ljust(6, "0").str.slice(0, 6)  # microseconds, as DuckDB
    micro = np.nan_to_num(_num(frac))
    with np.errstate(invalid="ignore"):
        valid = (hh < 24) & (mi < 60) & (ss < 60) & ~bad_h & (year >= 1678) & (year <= 2261)
    nan = np.nan
    frame = pd.DataFrame({"year": np.where(valid, year, nan), "month": np.where(valid, month, nan),
                          "day": np.where(valid, day, nan)}, dtype="float64")
    days = pd.to_datetime(frame, errors="coerce")
    out = days + pd.to_timedelta(hh * 3600 + mi * 60 + ss, unit="s") + pd.to_timedelta(micro, unit="us")
    return out.astype("datetime64[ns]")


def parse_datetime_column(
    values: pd.Series,
    name: str,
    *,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    timezone: str | None = None,
    info: dict[str, Any] | None = None,
) -> tuple[pd.Series, list[IntakeChange]]:
    """Read one date column by the package's date policy (see the module docstring).

    Parameters
    ----------
    values : pandas.Series
        Raw values: text, ``datetime64`` (naive or aware), or datetime objects.
    name : str
        Column name used in messages (canonical name, with the source name
        when it differs).
    dayfirst : bool, optional
        Order of ``dd/mm`` vs ``mm/dd`` values when the column alone cannot
        tell (no day above 12). When the column can tell, a contradicting
        value is an error.
    date_format : str, optional
        Explicit ``strftime`` format (``"%d/%m/%Y %H:%M"``); every non-missing
        value must match it. ``%z`` reads offsets (converted as below).
    timezone : str, optional
        IANA zone of the data: offsets and aware values are converted to it;
        naive values are taken as local times of it. Default: UTC for offsets
        and aware values (reported as a change).
    info : dict, optional
        Receives ``"inferred_dayfirst"`` (the order read off the column's own
        values, when it had ``dd/mm`` values and no ``dayfirst`` was given)
        and ``"example"`` (a value showing it), for
        :func:`check_date_orders`.

    Returns
    -------
    series : pandas.Series
        ``datetime64[ns]``, naive, same index; missing values stay ``NaT``.
    changes : list of IntakeChange
        The conversions made (time zones), for the data-quality report.

    Raises
    ------
    DataValidationError
        Numeric values; a column whose day/month order cannot be inferred
        (and no ``dayfirst``/``date_format``); a column mixing orders, or
        values with and without offsets; invalid dates (``31/02/2024``);
        values in no supported form; an unknown time zone. The message
        names the column, shows examples with their row positions, and says
        what to add.

    Examples
    --------
    >>> s, _ = parse_datetime_column(pd.Series(["03/01/2024", "13/01/2024"]), "timestamp")
    >>> s.dt.strftime("%Y-%m-%d").tolist()
    ['2024-01-03', '2024-01-13']
    """
    check_timezone(timezone)
    s = values
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return _aware_series(s, name, timezone)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return s.astype("datetime64[ns]"), []
    if pd.api.types.is_bool_dtype(s.dtype) or (
        pd.api.types.is_numeric_dtype(s.dtype) and s.notna().any()
    ):
        sample = s.dropna().iloc[:20].tolist()
        raise DataValidationError(numeric_dates_message(name, s.dtype) + "." + _serial_hint(sample))
    present = s.notna().to_numpy()
    if not present.any():
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), []
    if s.dtype == object:
        obj = _object_timestamps(s, name, timezone)
        if obj is not None:
            return obj
    text = s.astype("string")
    codes, uniq_values = pd.factorize(text, use_na_sentinel=True)
    uniq = pd.Series(uniq_values, dtype="string").reset_index(drop=True)
    first_row = np.full(len(uniq), -1, dtype="int64")
    pos = np.flatnonzero(codes >= 0)
    first_row[codes[pos[::-1]]] = pos[::-1]
    counts = np.bincount(codes[codes >= 0], minlength=len(uniq))
    if date_format is not None:
        parsed_u, n_off = _parse_with_format(uniq, name, date_format, first_row, timezone, counts)
        changes = [_zone_change(name, int(counts[n_off].sum()), timezone, "value(s) with a UTC offset")] if n_off.any() else []
    else:
        ext = _fields(uniq)
        shapes = _shapes_pandas(uniq, ext, first_row, counts)
        _check_offsets(name, shapes)
        order = _decide_dayfirst(name, shapes, dayfirst) if shapes.n_dm else True
        _record_order(info, shapes, dayfirst, order)
        local = _assemble(ext, order)
        invalid = local.isna().to_numpy()
        if invalid.any():
            idx = np.flatnonzero(invalid)
            examples = distinct_examples(uniq.to_numpy(dtype=object)[idx], rows=first_row[idx])
            raise DataValidationError(invalid_dates_message(name, int(counts[invalid].sum()), examples,
                                                            dayfirst=order if shapes.n_dm else None))
        if shapes.n_offset:
            utc = local - pd.to_timedelta(_offset_minutes(ext["off"]), unit="min")
            parsed_u = _convert_zone(utc, timezone)
            changes = [_zone_change(name, shapes.n_offset, timezone, "value(s) with a UTC offset")]
        else:
            parsed_u, changes = local, []
    out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = codes >= 0
    out[ok] = parsed_u.to_numpy(dtype="datetime64[ns]")[codes[ok]]
    return pd.Series(out, index=s.index, dtype="datetime64[ns]"), changes


def _parse_with_format(
    uniq: pd.Series, name: str, date_format: str, first_row: np.ndarray, timezone: str | None, counts: np.ndarray
) -> tuple[pd.Series, np.ndarray]:
    """Parse unique values with an explicit format; returns (naive times, mask of values with offsets)."""
    has_z = "%z" in date_format or "%Z" in date_format
    try:
        parsed = pd.to_datetime(uniq, format=date_format, errors="coerce", utc=has_z)
    except ValueError as exc:
        raise DataValidationError(f"column {name!r}: date_format {date_format!r} is not a usable format: {exc}") from None
    bad = parsed.isna().to_numpy()
    if bad.any():
        idx = np.flatnonzero(bad)
        examples = distinct_examples(uniq.to_numpy(dtype=object)[idx], rows=first_row[idx])
        raise DataValidationError(date_format_message(name, date_format, int(counts[bad].sum()), examples))
    if has_z:
        local = parsed.dt.tz_convert(timezone or "UTC").dt.tz_localize(None)
        return local.astype("datetime64[ns]"), np.ones(len(uniq), dtype=bool)
    return parsed.astype("datetime64[ns]"), np.zeros(len(uniq), dtype=bool)


# --------------------------------------------------------------------- DuckDB
def _q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _shapes_sql(rel: Any, column: str) -> DateShapes:
    """One scan of a text column computing :class:`DateShapes` (examples without rows)."""
    c = f"CAST({_q(column)} AS VARCHAR)"
    pat = _lit(DATE_PATTERN)
    compact = _lit(COMPACT_PATTERN)
    names = "[" + ", ".join(_lit(g) for g in _GROUPS) + "]"
    sql = f"""
    WITH v AS (
        SELECT {c} AS raw, regexp_extract({c}, {pat}, {names}) AS g, regexp_matches({c}, {pat}) AS hit,
               regexp_matches({c}, {compact}) AS cmp
        FROM rel WHERE {_q(column)} IS NOT NULL
    ), w AS (
        SELECT raw, hit, cmp, g.off <> '' AS has_off,
               hit AND length(g.f1) < 4 AS dm,
               TRY_CAST(g.f1 AS INTEGER) AS a, TRY_CAST(g.f2 AS INTEGER) AS b
        FROM v
    )
    SELECT count(*) AS n_values,
           count(*) FILTER (WHERE dm) AS n_dm,
           list_sort(list(DISTINCT raw) FILTER (WHERE dm AND a > 12))[1:{_MAX_EXAMPLES}] AS first_over_12,
           list_sort(list(DISTINCT raw) FILTER (WHERE dm AND b > 12))[1:{_MAX_EXAMPLES}] AS second_over_12,
           count(*) FILTER (WHERE hit AND has_off) AS n_offset,
           count(*) FILTER (WHERE (hit AND NOT has_off) OR cmp) AS n_naive,
           min(raw) FILTER (WHERE hit AND has_off) AS offset_example,
           min(raw) FILTER (WHERE (hit AND NOT has_off) OR cmp) AS naive_example,
           list_sort(list(DISTINCT raw) FILTER (WHERE NOT hit AND NOT cmp))[1:{_MAX_EXAMPLES}] AS unparsed,
           count(*) FILTER (WHERE NOT hit AND NOT cmp) AS n_unparsed
    FROM w
    """
    row = rel.query("rel", sql).fetchall()[0]
    keys = ["n_values", "n_dm", "first_over_12", "second_over_12", "n_offset", "n_naive",
            "offset_example", "naive_example", "unparsed", "n_unparsed"]
    d = dict(zip(keys, row))
    for k in ("first_over_12", "second_over_12", "unparsed"):
        d[k] = [repr(v) for v in sorted(d[k] or [])]
    for k in ("offset_example", "naive_example"):
        d[k] = None if d[k] is None else repr(d[k])
    return DateShapes(**d)


def _zone_sql(utc_expr: str, timezone: str | None) -> str:
    if timezone is None:
        return utc_expr
    return f"(({utc_expr}) AT TIME ZONE 'UTC') AT TIME ZONE {_lit(timezone)}"


@dataclass(frozen=True)
class TimestampSQL:
    """How a relation's date column becomes a ``TIMESTAMP``: helper columns, then the expression.

    Attributes
    ----------
    pre : dict
        Helper column name -> SQL expression over the source columns, to add
        in a first projection (``SELECT *, <pre>``), so that each regular
        expression runs once per row.
    expr : str
        SQL expression of type ``TIMESTAMP`` over the source and helper columns.
    inferred_dayfirst, example : optional
        The day/month order read off the column's values and a value showing
        it (None when not inferred), for :func:`check_date_orders`.
    converted_to_utc : bool
        Whether values with UTC offsets are converted to UTC because no time
        zone was declared (the caller says so, as the pandas path does).
    check : crm_analysis.data.value_checks.ValueCheck or None
        The value check of ``expr`` (over the source and helper columns), for
        :func:`crm_analysis.data.value_checks.register`: a bad value found while
        a query runs is then reported as the pandas path reports it (every bad
        row counted). None for typed columns.
    """

    pre: dict[str, str]
    expr: str
    inferred_dayfirst: bool | None = None
    example: str | None = None
    converted_to_utc: bool = False
    check: Any = None


def timestamp_sql(
    rel: Any,
    column: str,
    name: str,
    *,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    timezone: str | None = None,
    token: str = "",
) -> TimestampSQL:
    """SQL reading a date column of a DuckDB relation by the package's policy.

    The DuckDB twin of :func:`parse_datetime_column`: the same decisions and
    the same errors (one scan of the column computes what the pandas path
    sees), so a file read lazily gives the same timestamps as the same file
    read into pandas (to the microsecond, DuckDB's resolution).

    Parameters
    ----------
    rel : duckdb.DuckDBPyRelation
        The source relation (a text column is scanned once to infer the order).
    column : str
        Source column name.
    name : str
        Name used in messages.
    dayfirst, date_format, timezone
        As in :func:`parse_datetime_column`.
    token : str, optional
        The key under which the caller registers ``check``, in the SQL error
        (:func:`crm_analysis.data.value_checks.error_sql`).

    Returns
    -------
    TimestampSQL
        Helper columns, the final expression and its value check. A value
        that is not a valid date raises a DuckDB error naming the column and
        the value when the relation runs (the pandas path raises up front);
        with the check registered under ``token``,
        :func:`crm_analysis.data.errors.duckdb_value_errors` turns it into
        the pandas path's message. Values in no date form at all are found
        by the scan and reported here, up front, with that message.

    Raises
    ------
    DataValidationError
        As :func:`parse_datetime_column`, for everything the scan decides.
    """
    check_timezone(timezone)
    types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
    type_name = types[column]
    e = _q(column)
    numeric = ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT",
               "UTINYINT", "DOUBLE", "FLOAT", "BOOLEAN")
    if type_name in numeric or type_name.startswith("DECIMAL"):
        raise DataValidationError(numeric_dates_message(name, type_name))
    if type_name.startswith("TIMESTAMP WITH TIME ZONE"):
        return TimestampSQL({}, f"CAST(timezone({_lit(timezone or 'UTC')}, {e}) AS TIMESTAMP)",
                            converted_to_utc=timezone is None)
    if type_name.startswith("TIMESTAMP") or type_name == "DATE":
        return TimestampSQL({}, f"CAST({e} AS TIMESTAMP)")
    if type_name != "VARCHAR":
        raise DataValidationError(f"column {name!r} has type {type_name}, not a date or text")
    text = f"CAST({e} AS VARCHAR)"
    head = _lit(f"column {name!r}: value '")
    msg = _lit("' is not a valid date (recognised forms: ISO 2024-01-31, 31/01/2024, 01/31/2024, 31.01.2024, with an "
               "optional time and UTC offset; correct the value, or give the format with date_format, e.g. '%d %b %Y')")
    from crm_analysis.data.value_checks import ValueCheck, diagnose

    if date_format is not None:
        fmt = _lit(date_format)
        parsed = f"try_strptime({text}, {fmt})"
        if "%z" in date_format or "%Z" in date_format:
            parsed = f"timezone({_lit(timezone or 'UTC')}, {parsed})"
        fmt_msg = _lit(f"' does not match date_format {date_format!r} (correct it, or give the format the column is "
                       f"written in; or leave date_format out and the order of dd/mm dates is inferred from the "
                       f"whole column)")
        check = ValueCheck(f"({e} IS NOT NULL AND CAST({parsed} AS TIMESTAMP) IS NULL)", text,
                           lambda n, ex: date_format_message(name, date_format, n, ex))
        return TimestampSQL({}, f"CASE WHEN {e} IS NULL THEN NULL ELSE coalesce(CAST({parsed} AS TIMESTAMP), "
                                f"{error_sql(f'{head} || {text} || {fmt_msg}', token)}) END", check=check)
    shapes = _shapes_sql(rel, column)
    _check_offsets(name, shapes)
    order = _decide_dayfirst(name, shapes, dayfirst) if shapes.n_dm else True
    info: dict[str, Any] = {}
    _record_order(info, shapes, dayfirst, order)
    gname = _q(f"__date_fields_{column}")
    pat, cmp = _lit(DATE_PATTERN), _lit(COMPACT_PATTERN)
    fields = ", ".join(_lit(x) for x in _GROUPS)
    pre = {
        f"__date_fields_{column}": (
            f"CASE WHEN regexp_matches({text}, {cmp}) THEN "
            f"struct_pack(f1 := {text}[1:4], f2 := {text}[5:6], f3 := {text}[7:8], hh := '', mi := '', ss := '', "
            f"frac := '', ampm := '', off := '') "
            f"ELSE regexp_extract({text}, {pat}, [{fields}]) END"
        )
    }
    gg = gname
    f1, f2, f3 = (f"{gg}.{x}" for x in ("f1", "f2", "f3"))
    f1, f2, f3 = (f"trim({x})" for x in (f1, f2, f3))
    yf = f"(length({f1}) = 4)"
    i3 = f"TRY_CAST({f3} AS INTEGER)"
    y3 = (f"(CASE length({f3}) WHEN 2 THEN (CASE WHEN {i3} < 69 THEN 2000 ELSE 1900 END) + {i3} "
          f"WHEN 4 THEN {i3} ELSE NULL END)")
    year = f"(CASE WHEN {yf} THEN TRY_CAST({f1} AS INTEGER) ELSE {y3} END)"
    mon = f"TRY_CAST((CASE WHEN {yf} THEN {f2} ELSE {f2 if order else f1} END) AS INTEGER)"
    day = f"TRY_CAST((CASE WHEN {yf} THEN {f3} ELSE {f1 if order else f2} END) AS INTEGER)"
    hh = f"coalesce(TRY_CAST(nullif({gg}.hh, '') AS INTEGER), 0)"
    ap = f"upper({gg}.ampm)"
    hour = (f"(CASE WHEN {ap} = '' THEN {hh} WHEN {hh} < 1 OR {hh} > 12 THEN 99 "
            f"WHEN {ap} = 'AM' THEN {hh} % 12 ELSE {hh} % 12 + 12 END)")
    mi = f"coalesce(TRY_CAST(nullif({gg}.mi, '') AS INTEGER), 0)"
    ss = f"coalesce(TRY_CAST(nullif({gg}.ss, '') AS INTEGER), 0)"
    micro = f"coalesce(TRY_CAST(nullif(rpad({gg}.frac, 6, '0')[1:6], '000000') AS BIGINT), 0)"
    valid = f"({hour} < 24 AND {mi} < 60 AND {ss} < 60 AND {year} BETWEEN 1678 AND 2261)"
    local = (f"(CASE WHEN {valid} THEN try(make_timestamp({year}, {mon}, {day}, {hour}, {mi}, CAST({ss} AS DOUBLE)))"
             f" + to_microseconds({micro}) END)")
    off = f"replace({gg}.off, ':', '')"
    off_min = (f"(CASE WHEN upper({gg}.off) IN ('', 'Z', 'UTC', 'GMT') THEN 0 ELSE "
               f"(CASE WHEN {off}[1:1] = '-' THEN -1 ELSE 1 END) * (CAST({off}[2:3] AS INTEGER) * 60 "
               f"+ coalesce(TRY_CAST(nullif({off}[4:5], '') AS INTEGER), 0)) END)")
    value = local if not shapes.n_offset else _zone_sql(f"{local} - to_minutes(CAST({off_min} AS BIGINT))", timezone)
    expr = (f"CASE WHEN {e} IS NULL THEN NULL ELSE coalesce(CAST({value} AS TIMESTAMP), "
            f"{error_sql(f'{head} || {text} || {msg}', token)}) END")
    n_dm = shapes.n_dm
    check = ValueCheck(f"({e} IS NOT NULL AND CAST({value} AS TIMESTAMP) IS NULL)", text,
                       lambda n, ex: invalid_dates_message(name, n, ex, dayfirst=order if n_dm else None))
    if shapes.n_unparsed:  # values in no date form: found by the scan, reported now as the pandas path does
        with_fields = rel.project(", ".join(["*"] + [f"{v} AS {_q(k)}" for k, v in pre.items()]))
        full = diagnose(with_fields, [check], max_examples=MAX_EXAMPLES)
        raise DataValidationError(full) if full is not None else _unparsed_error(name, shapes.n_unparsed,
                                                                                 shapes.unparsed or [])
    return TimestampSQL(pre, expr, info.get("inferred_dayfirst"), info.get("example"),
                        converted_to_utc=bool(shapes.n_offset) and timezone is None, check=check)
