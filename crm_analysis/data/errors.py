"""Exceptions of :mod:`crm_analysis.data`."""

from __future__ import annotations

from crm_analysis.exceptions import CRMAnalysisWarning, InputError

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb

__all__ = ["DataValidationError", "DataWarning", "SourceFileError", "converts_duckdb_errors", "duckdb_value_errors"]

_F = TypeVar("_F", bound=Callable[..., Any])


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
        With DuckDB's message (its "Invalid Input Error: " prefix dropped), chained
        to the original exception (``raise ... from exc``).
    """
    try:
        yield
    except _VALUE_ERRORS as exc:
        text = _PREFIX.sub("", str(exc))
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
