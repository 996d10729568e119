"""Numbers written as text: one strict reading for the pandas and the DuckDB path.

A file that says its decimal mark is a comma (``decimal=","``) must not let a
value like ``1.234`` through as one point two three four: pandas' CSV reader
does, and with ``thousands="."`` it reads a stray ``12.5`` as 125. Where a
number format is declared, the numeric canonical columns (amount, quantity,
unit price, rate, nights, units) are read as text and parsed here, strictly:

* the decimal mark is the declared one (``"."`` by default) and appears at most once;
* a thousands separator, when declared, only groups three digits
  (``1.234.567,89``), and the other mark is refused;
* blanks around the value are ignored, an empty value is missing, and
  ``inf``/``-inf`` (any case, also ``Infinity``) are kept for the cleaning to
  count;
* anything else is an error naming the column and the values, with the fix.

:func:`parse_numbers` (pandas) and :func:`number_sql` (DuckDB) apply the same
regular expression, so a file gives the same numbers, or the same refusal, on
both paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis.data.errors import DataValidationError

__all__ = ["NumberFormat", "number_format", "parse_numbers", "number_sql", "number_pattern"]

_MAX_EXAMPLES = 5
_INF = r"[+-]?(inf|infinity)"


@dataclass(frozen=True)
class NumberFormat:
    """How numbers are written in a text file.

    Parameters
    ----------
    decimal : {".", ","}, default "."
        The decimal mark.
    thousands : str, optional
        The thousands separator (``","``, ``"."``, ``" "``, ``"'"``), or none.
    """

    decimal: str = "."
    thousands: str | None = None

    def __post_init__(self) -> None:
        if self.decimal not in (".", ","):
            raise DataValidationError(f"decimal must be '.' or ',', got {self.decimal!r}")
        if self.thousands is not None and (self.thousands == self.decimal or len(self.thousands) != 1
                                           or self.thousands.isdigit()):
            raise DataValidationError(
                f"thousands must be one character other than the decimal mark {self.decimal!r} and not a digit, "
                f"got {self.thousands!r}"
            )

    @property
    def is_default(self) -> bool:
        """Whether this is the plain format (``.`` decimal mark, no thousands separator)."""
        return self.decimal == "." and self.thousands is None

    def describe(self) -> str:
        """E.g. ``"decimal ',' and thousands '.'"``."""
        return f"decimal {self.decimal!r}" + (f" and thousands {self.thousands!r}" if self.thousands else "")


def number_format(read_options: Any) -> NumberFormat:
    """The number format declared in read options (pandas' ``decimal`` / ``thousands`` keys).

    Parameters
    ----------
    read_options : mapping or None
        Reader options; only ``decimal`` and ``thousands`` are looked at.

    Returns
    -------
    NumberFormat
    """
    opts = dict(read_options or {})
    return NumberFormat(decimal=opts.get("decimal", ".") or ".", thousands=opts.get("thousands"))


def number_pattern(fmt: NumberFormat) -> str:
    """The regular expression (Python ``re`` and RE2 alike) of a number in ``fmt``, blanks allowed around it."""
    d = re.escape(fmt.decimal)
    if fmt.thousands is None:
        integer = r"\d+"
    else:
        t = re.escape(fmt.thousands)
        integer = rf"(\d{{1,3}}({t}\d{{3}})+|\d+)"
    exponent = r"([eE][+-]?\d+)?" if fmt.decimal == "." else ""
    return rf"^\s*([+-]?({integer}({d}\d*)?|{d}\d+){exponent}|{_INF})\s*$"


def _canonical_text(values: pd.Series, fmt: NumberFormat) -> pd.Series:
    """Text in Python's float syntax: thousands removed, decimal mark '.'."""
    out = values.str.strip()
    if fmt.thousands is not None:
        out = out.str.replace(fmt.thousands, "", regex=False)
    if fmt.decimal != ".":
        out = out.str.replace(fmt.decimal, ".", regex=False)
    return out


def _hint(fmt: NumberFormat, bad: list[str]) -> str:
    other = "." if fmt.decimal == "," else ","
    if any(other in v for v in bad) and fmt.thousands != other:
        meaning = "1234" if other == "." else "1234"
        return (f" The values hold {other!r} but the declared decimal mark is {fmt.decimal!r}: if {other!r} groups "
                f"thousands (1{other}234 = {meaning}), add thousands: {other!r} to the read options; otherwise "
                "the file mixes decimal marks and must be corrected.")
    if fmt.thousands is not None and any(fmt.thousands in v for v in bad):
        return (f" A thousands separator {fmt.thousands!r} must group exactly three digits (1{fmt.thousands}234); "
                "values like these mean the separator is something else.")
    return ""


def parse_numbers(values: pd.Series, name: str, fmt: NumberFormat) -> pd.Series:
    """Parse a text column as ``float64`` in number format ``fmt``, strictly.

    Parameters
    ----------
    values : pandas.Series
        Raw text values (missing values stay missing; non-text values are
        formatted with ``str``).
    name : str
        Column name for messages.
    fmt : NumberFormat
        The declared format.

    Returns
    -------
    pandas.Series
        ``float64``, same index.

    Raises
    ------
    DataValidationError
        Naming the column, the number of values that are not numbers in
        ``fmt`` and up to five of them with their 0-based row positions.

    Examples
    --------
    >>> parse_numbers(pd.Series(["1.234,5", "7", " -0,25 "]), "amount", NumberFormat(",", ".")).tolist()
    [1234.5, 7.0, -0.25]
    """
    text = values.astype("string")
    present = text.notna() & (text.str.strip() != "")
    ok = text.str.fullmatch(number_pattern(fmt), flags=re.IGNORECASE).fillna(False).astype(bool)
    bad = (present & ~ok).to_numpy(dtype=bool, na_value=False)
    if bad.any():
        pos = np.flatnonzero(bad)
        examples = [str(text.iloc[int(p)]) for p in pos[:_MAX_EXAMPLES]]
        shown = "; ".join(f"row {int(p)}: {text.iloc[int(p)]!r}" for p in pos[:_MAX_EXAMPLES])
        raise DataValidationError(
            f"column {name!r}: {int(bad.sum()):,} value(s) are not numbers written with {fmt.describe()}; "
            f"examples (0-based row: raw value): {shown}.{_hint(fmt, examples)}"
        )
    out = pd.to_numeric(_canonical_text(text.where(present), fmt), errors="coerce")
    return pd.Series(out.to_numpy(dtype="float64", na_value=np.nan), index=values.index)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def number_sql(expr: str, name: str, fmt: NumberFormat) -> str:
    """SQL expression (DuckDB) reading a text expression as ``DOUBLE`` in ``fmt``: the twin of :func:`parse_numbers`.

    A value that is not a number in ``fmt`` raises a DuckDB error naming the
    column, the value and the format when the relation runs.

    Parameters
    ----------
    expr : str
        SQL expression of type ``VARCHAR``.
    name : str
        Column name for messages.
    fmt : NumberFormat
        The declared format.

    Returns
    -------
    str
    """
    text = f"trim(CAST({expr} AS VARCHAR))"
    canon = text
    if fmt.thousands is not None:
        canon = f"replace({canon}, {_lit(fmt.thousands)}, '')"
    if fmt.decimal != ".":
        canon = f"replace({canon}, {_lit(fmt.decimal)}, '.')"
    other = "." if fmt.decimal == "," else ","
    hint = (f"; if {other!r} groups thousands add thousands: {other!r}, else correct the file"
            if fmt.thousands != other else "")
    if fmt.is_default:
        hint = "; for decimal commas (12,50) add read option decimal: ','"
    msg = _lit(f"column {name!r}: value is not a number written with {fmt.describe()}{hint}: ")
    pattern = _lit("(?i)" + number_pattern(fmt))
    return (f"(CASE WHEN {expr} IS NULL OR {text} = '' THEN NULL "
            f"WHEN regexp_full_match({text}, {pattern}) THEN CAST({canon} AS DOUBLE) "
            f"ELSE error({msg} || {text}) END)")
