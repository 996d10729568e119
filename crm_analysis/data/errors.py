"""Exceptions of :mod:`crm_analysis.data`."""

from __future__ import annotations

from crm_analysis.data.value_checks import diagnosis, holding, strip
from crm_analysis.exceptions import CRMAnalysisWarning, InputError

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb

__all__ = ["DataValidationError", "DataWarning", "SourceFileError", "converts_duckdb_errors", "duckdb_value_errors",
           "MAX_EXAMPLES", "bad_values_message", "distinct_examples", "raise_on_infinite", "refuse_infinite",
           "infinite_counts_sql"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Distinct bad values a value error shows (the smallest in code-point order, the same on every engine).
MAX_EXAMPLES = 5


def distinct_examples(values: Sequence[Any], *, rows: Sequence[int] | None = None,
                      k: int = MAX_EXAMPLES) -> list[tuple[str, int | None]]:
    """The ``k`` smallest distinct values (as text, code-point order) and the first row of each.

    The selection every engine makes for :func:`bad_values_message`: DuckDB
    sorts text byte-wise (UTF-8), which is Python's code-point order, so the
    pandas path and SQL's ``SELECT DISTINCT ... ORDER BY ... LIMIT k`` show
    the same values.

    Parameters
    ----------
    values : sequence
        The bad values, one per row, in row order.
    rows : sequence of int, optional
        Their 0-based row positions (default: none known).
    k : int
        How many to keep.

    Returns
    -------
    list of (str, int or None)
    """
    first: dict[str, int | None] = {}
    for i, v in enumerate(values):
        text = str(v)
        if text not in first:
            first[text] = None if rows is None else int(rows[i])
    return [(v, first[v]) for v in sorted(first)[:k]]


def bad_values_message(
    column: str,
    n_rows: int,
    problem: str,
    examples: Sequence[tuple[str, int | None]],
    *,
    detail: str = "",
    fix: str = "",
) -> str:
    """The one message of a value error, on every engine (pandas, DuckDB, Spark).

    ``column 'amount': 3 value(s) are not numbers written with decimal '.'; examples (0-based row: value):
    row 0: '12,5'; row 7: 'n/a'. <detail> <fix>`` -- the column (canonical name with the source column in
    brackets), how many rows, what is wrong, up to :data:`MAX_EXAMPLES` distinct values
    (:func:`distinct_examples`) with their first row where the engine knows it (pandas does; DuckDB and
    Spark scan in parallel and do not), then what the values hold and the fix.

    Parameters
    ----------
    column : str
        Column label.
    n_rows : int
        Rows with a bad value.
    problem : str
        What is wrong, after "value(s)", e.g. ``"are not valid dates"``.
    examples : sequence of (str, int or None)
        Distinct values and their first 0-based row (None where unknown).
    detail, fix : str
        Sentences added after the examples (a diagnosis of the values; the fix).

    Returns
    -------
    str
    """
    with_rows = bool(examples) and all(r is not None for _, r in examples)
    shown = "; ".join(f"row {r}: {v!r}" if with_rows else repr(v) for v, r in examples)
    head = "examples (0-based row: value)" if with_rows else "examples"
    text = f"column {column!r}: {n_rows:,} value(s) {problem}" + (f"; {head}: {shown}." if examples else ".")
    for part in (detail, fix):
        part = part.strip()
        if part:
            text += " " + part
    return text


#: The fix of an infinite value, by canonical column (the cleaning rule that drops and counts them).
_INFINITE_FIX = {
    "amount": "An amount must be a finite number: fix or drop those rows first (crm_analysis.data.clean_transactions "
              "drops them and counts them as 'nonfinite_amount').",
    "rate": "A rate must be a finite number: fix or drop those rows first (crm_analysis.data.clean_bookings "
            "drops them and counts them as 'nonfinite_rate').",
}


def raise_on_infinite(column: str, n: int, examples: Sequence[tuple[Any, int | None]], *,
                      kind: str = "amount") -> None:
    """Raise the one error for ``n`` rows with an infinite value in ``column`` (every reader that sums money).

    The package's one rule for infinite money values: a function that
    aggregates amounts (RFM summaries on every engine, cohorts, repeat
    purchases, ``scale.daily_demand``, the demand series) refuses them with
    this message; the loaders (``load_transactions``, ``transactions_relation``,
    ``load_bookings``) hand them on to the cleaning, which drops and counts
    them (``nonfinite_amount`` / ``nonfinite_rate``).

    Parameters
    ----------
    column : str
        Column label (canonical name, with the source column in brackets where it differs).
    n : int
        Rows with an infinite value (> 0).
    examples : sequence of (value, int or None)
        The distinct infinite values (``inf``, ``-inf``) with their first 0-based row where the
        engine knows it.
    kind : {"amount", "rate"}, default "amount"
        Which canonical column the values are, for the fix (the cleaning rule that drops them).

    Raises
    ------
    DataValidationError
        Always: :func:`bad_values_message` with "are infinite" and the fix.
    """
    shown = [(str(float(v)), r) for v, r in examples]
    raise DataValidationError(bad_values_message(column, n, "are infinite", sorted(shown),
                                                 fix=_INFINITE_FIX[kind]))


def refuse_infinite(values: Any, column: str, *, kind: str = "amount") -> None:
    """Raise :func:`raise_on_infinite`'s error when ``values`` (one per row, in row order) hold an infinity.

    Parameters
    ----------
    values : array-like of float
        The column's values (missing values allowed; they are not infinite).
    column : str
        Column label for the message.
    kind : {"amount", "rate"}, default "amount"
        Which canonical column, for the fix.

    Raises
    ------
    DataValidationError
        When any value is ``inf`` or ``-inf`` (count, distinct values with their first rows, fix).
    """
    import numpy as np

    arr = np.asarray(values, dtype=np.float64)
    inf = np.isinf(arr)
    if inf.any():
        pos = np.flatnonzero(inf)
        raise_on_infinite(column, int(inf.sum()), distinct_examples(arr[pos], rows=pos), kind=kind)


def infinite_counts_sql(expr: str, *, names: tuple[str, str] | None = None) -> str:
    """Two SQL aggregates over ``expr`` for :func:`raise_on_infinite`: the count and the distinct infinite values.

    For a query that already scans the rows (no extra scan): ``COUNT(*) FILTER (WHERE isinf(x))`` and
    ``list(DISTINCT x) FILTER (WHERE isinf(x))``, ``x`` cast to ``DOUBLE``.

    Parameters
    ----------
    expr : str
        A quoted SQL column or expression.
    names : (str, str), optional
        Aliases of the two aggregates (plain identifiers).

    Returns
    -------
    str
        ``"<count>, <list>"``, to put in a ``SELECT`` list.
    """
    x = f"CAST({expr} AS DOUBLE)"
    n, values = (f" AS {a}" for a in names) if names else ("", "")
    return f"COUNT(*) FILTER (WHERE isinf({x})){n}, list(DISTINCT {x}) FILTER (WHERE isinf({x})){values}"


class DataValidationError(InputError):
    """Input data do not satisfy a canonical schema.

    The message names the problem: the missing column(s), the offending values
    with their row positions, or the disallowed categories.
    """


class DataWarning(CRMAnalysisWarning):
    """Input data were read in a way the caller should know about.

    E.g. time-zone-aware timestamps counted in UTC days because no time zone
    was declared. The message says what was done and how to choose otherwise.
    """


class SourceFileError(DataValidationError):
    """A data file cannot be read as it is: wrong encoding, empty, no data rows, wrong separator.

    The message names the file, what was found (e.g. the undecodable byte, its
    offset and line) and the fix (e.g. ``encoding="cp1252"`` or
    ``read_options={"sep": ";"}``).
    """


#: DuckDB errors raised by a value of the data: a failed cast (``ConversionException``), the package's own
#: ``error(...)`` checks in SQL (``InvalidInputException``) and dates or numbers out of range.
_VALUE_ERRORS = (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException)
_PREFIX = re.compile(r"^(Invalid Input|Conversion|Out of Range) Error: ")


@contextmanager
def duckdb_value_errors(what: str | None = None) -> Iterator[None]:
    """Turn DuckDB's errors about the data's values into :class:`DataValidationError`.

    DuckDB reads lazily: a bad value (``'€12.50'`` in an amount, ``31/02/2024``
    in a date, a value that does not match ``date_format``) is found when the
    query runs, and DuckDB raises its own ``duckdb.InvalidInputException`` or
    ``duckdb.ConversionException``. Every package function that runs a query on
    user data does so inside this context, so that the DuckDB path raises the
    same type as the pandas path. Use it around the materialisation of a lazy
    relation returned by :func:`crm_analysis.data.transactions_relation`::

        with duckdb_value_errors():
            tx = transactions_relation("orders.csv").df()

    Parameters
    ----------
    what : str, optional
        What was being read (e.g. the file), added to the message when DuckDB's
        own message names no column.

    Raises
    ------
    DataValidationError
        Chained to the original exception (``raise ... from exc``). For a
        value found by one of the package's own checks (a number, a date, a
        booking status; :mod:`crm_analysis.data.value_checks`) the message of
        the pandas path: the column, how many rows are bad, up to
        :data:`MAX_EXAMPLES` distinct values and the fix
        (:func:`bad_values_message`), not only the value DuckDB met first.
        Otherwise DuckDB's message (its "Invalid Input Error: " prefix dropped).

    Notes
    -----
    Materialised outside this context, a lazy relation raises DuckDB's own
    exception; for a value found by one of the package's checks its text
    names the column, the first bad value met and the fix, and points here
    for every bad row counted (:data:`crm_analysis.data.value_checks.POINTER`).
    """
    with holding():  # a relation released while its error propagates is still diagnosed (value_checks)
        try:
            yield
        except _VALUE_ERRORS as exc:
            full = diagnosis(str(exc), max_examples=MAX_EXAMPLES)  # every bad value counted, as on the pandas path
            text = full if full is not None else strip(_PREFIX.sub("", str(exc)))
            if what and "column" not in text:
                text = f"{what}: {text}"
            raise DataValidationError(text) from exc


def converts_duckdb_errors(func: _F) -> _F:
    """Decorator: run ``func`` inside :func:`duckdb_value_errors`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with duckdb_value_errors():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
