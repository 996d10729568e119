"""Numbers written as text: one strict reading for the pandas and the DuckDB path.

A file that says its decimal mark is a comma (``decimal=","``) must not let a
value like ``1.234`` through as one point two three four: pandas' CSV reader
does, and with ``thousands="."`` it reads a stray ``12.5`` as 125. Where a
number format is declared, the numeric canonical columns (amount, quantity,
unit price, rate, nights, units) are read as text and parsed here, strictly:

* the decimal mark is the declared one (``"."`` by default) and appears at most once;
* a thousands separator, when declared, only groups three digits
  (``1.234.567,89``), and the other mark is refused; a blank separator
  (``thousands=" "``) is any of the space, the no-break space U+00A0 and the
  narrow no-break space U+202F (French and Swiss exports write ``1\u202f234,50``),
  and an apostrophe (``"'"``) also the typographic one U+2019 (Swiss ``1’234.50``);
* blanks around the value are ignored, an empty value is missing, and
  ``inf``/``-inf`` (any case, also ``Infinity``) are kept for the cleaning to
  count;
* anything else is an error naming the column and the values, with the fix.

:func:`parse_numbers` (pandas) and :func:`number_sql` (DuckDB) apply the same
regular expression, so a file gives the same numbers, or the same refusal, on
both paths.
"""

from __future__ import annotations

from crm_analysis.exceptions import shown

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crm_analysis.data.errors import DataValidationError, bad_values_message, distinct_examples
from crm_analysis.data.value_checks import error_sql

if TYPE_CHECKING:
    from crm_analysis.data.value_checks import ValueCheck

__all__ = ["NumberFormat", "number_format", "parse_numbers", "number_sql", "number_check", "numbers_message",
           "number_pattern", "number_hint", "diagnoses", "THOUSANDS_ALIKE"]
_INF = r"[+-]?(inf|infinity)"

#: Characters read as the same thousands separator: a declared blank is any
#: blank of a number (space, no-break space, narrow no-break space), a
#: declared apostrophe also the typographic one.
THOUSANDS_ALIKE: dict[str, str] = {
    " ": " \u00a0\u202f", "\u00a0": " \u00a0\u202f", "\u202f": " \u00a0\u202f",
    "'": "'\u2019", "\u2019": "'\u2019",
}
#: Blanks allowed around a number (Python ``re`` and RE2 alike: RE2's ``\s`` is ASCII only).
_BLANKS = "[\\s\u00a0\u202f]"


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
            raise DataValidationError(f"decimal must be '.' or ',', got {shown(self.decimal)}")
        if self.thousands is not None and (self.thousands == self.decimal or len(self.thousands) != 1
                                           or self.thousands.isdigit()):
            raise DataValidationError(
                f"thousands must be one character other than the decimal mark {self.decimal!r} and not a digit, "
                f"got {shown(self.thousands)}"
            )

    @property
    def thousands_chars(self) -> str:
        """Every character read as the thousands separator ("" without one)."""
        if self.thousands is None:
            return ""
        return THOUSANDS_ALIKE.get(self.thousands, self.thousands)

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
        t = "[" + "".join("\\" + c if c in "\\]^-[" else c for c in fmt.thousands_chars) + "]"
        integer = rf"(\d{{1,3}}({t}\d{{3}})+|\d+)"
    exponent = r"([eE][+-]?\d+)?" if fmt.decimal == "." else ""
    return rf"^{_BLANKS}*([+-]?({integer}({d}\d*)?|{d}\d+){exponent}|{_INF}){_BLANKS}*$"


def _canonical_text(values: pd.Series, fmt: NumberFormat) -> pd.Series:
    """Text in Python's float syntax: thousands removed, decimal mark '.'."""
    out = values.str.strip()
    for c in fmt.thousands_chars:
        out = out.str.replace(c, "", regex=False)
    if fmt.decimal != ".":
        out = out.str.replace(fmt.decimal, ".", regex=False)
    return out


#: Currency symbols and ISO codes written next to amounts (a formatted spreadsheet column exported as text).
_CURRENCY = (r"[€$£¥₹¤]|(^|[^A-Za-z])(EUR|USD|GBP|CHF|JPY|CNY|SEK|NOK|DKK|PLN|CZK|HUF|CAD|AUD|INR|BRL)"
             r"([^A-Za-z]|$)")
_BLANK_GROUPS = r"^[+-]?\d{1,3}([ " + "\u00a0\u202f" + r"]\d{3})+([.,]\d+)?$"  # literal characters: RE2 has no \\u
_APOSTROPHE_GROUPS = r"^[+-]?\d{1,3}(['" + "\u2019" + r"]\d{3})+([.,]\d+)?$"


#: Text that usually marks a missing value in exports (n/a, NaN, null, none, #N/A, -, ?): the fix is ``na_values``.
_MISSING_MARKER = r"(?i)^(n/?a|nan|null|none|nil|missing|#n/?a|#value!|-+|\?)$"


def diagnoses(fmt: NumberFormat) -> list[tuple[str, str]]:
    """What a value that is not a number in ``fmt`` most likely holds, and the fix, in the order tried.

    The patterns (Python ``re`` and RE2 alike) are matched against the value
    without surrounding blanks, by :func:`number_hint` (pandas path) and in
    the SQL of :func:`number_sql` (DuckDB path), so both paths name the same
    cause.

    Parameters
    ----------
    fmt : NumberFormat
        The declared (or default) format.

    Returns
    -------
    list of (pattern, hint)
    """
    out = [(_MISSING_MARKER, "a missing-value marker: if it means 'no value', declare the markers the file uses, "
                             "e.g. read_options={'na_values': ['n/a', 'NaN']} (in a config: read_options: "
                             "{na_values: ['n/a', 'NaN']}); those rows then hold missing values, which cleaning "
                             "drops and counts"),
           (_CURRENCY, "a currency symbol or code: strip it from the column (export the amounts as plain "
                       "numbers, without the currency format)"),
           (r"%\s*$", "a per cent sign: export the column as plain numbers")]
    if fmt.decimal == ".":
        if fmt.thousands != ",":
            out.append((r"^[+-]?\d{1,3}(,\d{3})+\.\d*$",
                        "a comma grouping thousands (1,234.50): set the read option thousands: ','"))
            out.append((r"^[+-]?\d{1,3}(,\d{3})+$",
                        "a comma that is either a decimal comma (1,234 = 1.234: set decimal: ',') or groups "
                        "thousands (1,234 = 1234: set thousands: ','); look at the file and set the one that is "
                        "right"))
        out.append((r"^[+-]?\d{1,3}(\.\d{3})+,\d*$",
                    "a decimal comma with '.' grouping thousands (1.234,50): set the read options decimal: ',' "
                    "and thousands: '.'"))
        out.append((r"^[+-]?\d*,\d+$", "a decimal comma (12,50): set the read option decimal: ','"))
    else:
        if fmt.thousands != ".":
            out.append((r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$",
                        "a '.' that may group thousands: if '.' groups thousands (1.234 = 1234), add thousands: "
                        "'.' to the read options; otherwise the file mixes decimal marks and must be corrected"))
            out.append((r"^[+-]?\d*\.\d+$",
                        "a decimal point (12.50) although the declared decimal mark is ',': the file mixes "
                        "decimal marks and must be corrected (or, if every value uses a point, drop decimal: ',')"))
    comma = fmt.decimal == "."  # a grouped value with a decimal comma needs decimal: ',' too
    for chars, pattern, what, option in ((" ", _BLANK_GROUPS, "blanks grouping thousands (1 234)", "' '"),
                                         ("'", _APOSTROPHE_GROUPS, "an apostrophe grouping thousands (1'234)",
                                          "\"'\"")):
        if chars in fmt.thousands_chars:
            continue
        if comma:
            out.append((pattern.replace("([.,]\\d+)?$", ",\\d+$"),
                        f"{what} and a decimal comma: set the read options thousands: {option} and decimal: ','"))
        out.append((pattern, f"{what}: set the read option thousands: {option}"))
    if fmt.thousands is not None:
        t = fmt.thousands
        cls = "[" + "".join("\\" + c if c in "\\]^-[" else c for c in fmt.thousands_chars) + "]"
        out.append((cls, f"a thousands separator {shown(t)} that does not group exactly three digits (1{t}234): the "
                         "separator of this file is something else, or the value is damaged"))
    return out


_NO_NUMBER = "no number (text, or symbols the package does not know): correct the value, or map another column"


def number_hint(value: str, fmt: NumberFormat) -> str:
    """Why ``value`` is not a number in ``fmt`` and the fix (see :func:`diagnoses`); a generic hint otherwise."""
    text = value.strip()
    for pattern, hint in diagnoses(fmt):
        if re.search(pattern, text):
            return hint
    return _NO_NUMBER


def _hint(fmt: NumberFormat, bad: list[str]) -> str:
    hints: dict[str, list[str]] = {}
    for v in bad:
        hints.setdefault(number_hint(v, fmt), []).append(v)
    return "".join(f" Found in {', '.join(repr(v) for v in vs[:2])}: {h}." for h, vs in hints.items())


def numbers_message(name: str, fmt: NumberFormat, n_rows: int, examples: list[tuple[str, int | None]]) -> str:
    """The error text for ``n_rows`` values of column ``name`` that are not numbers in ``fmt`` (every engine).

    Parameters
    ----------
    name : str
        Column label.
    fmt : NumberFormat
        The declared (or default) format.
    n_rows : int
        Rows with such a value.
    examples : list of (str, int or None)
        Distinct values and their first row
        (:func:`crm_analysis.data.errors.distinct_examples`).

    Returns
    -------
    str
        :func:`crm_analysis.data.errors.bad_values_message` with what the
        values hold and the fix (:func:`number_hint`).
    """
    return bad_values_message(name, n_rows, f"are not numbers written with {fmt.describe()}", examples,
                              detail=_hint(fmt, [v for v, _ in examples]))


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
        ``fmt`` and up to five distinct ones with their first 0-based row
        (:func:`numbers_message`, the DuckDB path's message too).

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
        examples = distinct_examples(text.to_numpy(dtype=object)[pos], rows=pos)
        raise DataValidationError(numbers_message(name, fmt, int(bad.sum()), examples))
    out = pd.to_numeric(_canonical_text(text.where(present), fmt), errors="coerce")
    return pd.Series(out.to_numpy(dtype="float64", na_value=np.nan), index=values.index)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text_sql(expr: str) -> str:
    return f"regexp_replace(CAST({expr} AS VARCHAR), {_lit('^' + _BLANKS + '+|' + _BLANKS + '+$')}, '', 'g')"


def number_check(expr: str, name: str, fmt: NumberFormat) -> "ValueCheck":
    """The value check of :func:`number_sql` (:mod:`crm_analysis.data.value_checks`): bad rows, values, message.

    Parameters
    ----------
    expr, name, fmt
        As in :func:`number_sql`.

    Returns
    -------
    crm_analysis.data.value_checks.ValueCheck
        Its message is :func:`numbers_message`, as on the pandas path.
    """
    from crm_analysis.data.value_checks import ValueCheck

    text = _text_sql(expr)
    pattern = _lit("(?i)" + number_pattern(fmt))
    bad = f"({expr} IS NOT NULL AND {text} <> '' AND NOT regexp_full_match({text}, {pattern}))"
    return ValueCheck(bad, f"CAST({expr} AS VARCHAR)", lambda n, ex: numbers_message(name, fmt, n, ex))


def number_sql(expr: str, name: str, fmt: NumberFormat, *, token: str = "") -> str:
    """SQL expression (DuckDB) reading a text expression as ``DOUBLE`` in ``fmt``: the twin of :func:`parse_numbers`.

    A value that is not a number in ``fmt`` raises a DuckDB error naming the
    column, the value and the format when the relation runs; with a
    registered ``token`` (:mod:`crm_analysis.data.value_checks`,
    :func:`number_check`) :func:`crm_analysis.data.errors.duckdb_value_errors`
    turns it into the pandas path's message (every bad row counted).

    Parameters
    ----------
    expr : str
        SQL expression of type ``VARCHAR``.
    name : str
        Column name for messages.
    fmt : NumberFormat
        The declared format.
    token : str, optional
        The key of the registered check (:func:`crm_analysis.data.value_checks.error_sql`).

    Returns
    -------
    str
    """
    text = _text_sql(expr)
    canon = text
    if fmt.thousands is not None:  # the pattern matched: only separators are left to remove
        canon = f"regexp_replace({canon}, {_lit('[' + fmt.thousands_chars + ']')}, '', 'g')"
    if fmt.decimal != ".":
        canon = f"replace({canon}, {_lit(fmt.decimal)}, '.')"
    cases = " ".join(f"WHEN regexp_matches({text}, {_lit(p)}) THEN {_lit(h)}" for p, h in diagnoses(fmt))
    hint = f"(CASE {cases} ELSE {_lit(_NO_NUMBER)} END)"
    head = _lit(f"column {name!r}: value '")
    tail = _lit(f"' is not a number written with {fmt.describe()}; found ")
    pattern = _lit("(?i)" + number_pattern(fmt))
    return (f"(CASE WHEN {expr} IS NULL OR {text} = '' THEN NULL "
            f"WHEN regexp_full_match({text}, {pattern}) THEN CAST({canon} AS DOUBLE) "
            f"ELSE {error_sql(f'{head} || {text} || {tail} || {hint}', token)} END)")
