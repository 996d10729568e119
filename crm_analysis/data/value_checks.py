"""Value checks of the DuckDB path: every bad value of a column named in one message, as on the pandas path.

DuckDB reads lazily: a value that is not a number or not a date is found while
a query runs, by the package's ``error(...)`` call in the SQL of
:func:`crm_analysis.data.numbers.number_sql` /
:func:`crm_analysis.data.dates.timestamp_sql`, and that call sees one value.
The pandas path names how many rows are bad and several distinct values. To
give the same message, each SQL check carries a token (:func:`new_token`) and is
registered here with the relation it reads and the rule that marks a bad
value. When :func:`crm_analysis.data.errors.duckdb_value_errors` catches the
DuckDB error, it asks :func:`diagnosis` for the full error: one query counts the
rows with a bad value and lists the :data:`~crm_analysis.data.errors.MAX_EXAMPLES`
smallest distinct ones, and the check's own message builder (the one the pandas
path uses) writes the message. This costs nothing unless a value is bad.
The module returns message texts; :mod:`crm_analysis.data.errors` (which
imports it) turns them into :class:`~crm_analysis.data.errors.DataValidationError`.

What a user sees when a lazy relation is materialised outside
:func:`~crm_analysis.data.errors.duckdb_value_errors` (``transactions_relation(df).df()``)
is DuckDB's own exception with the text the SQL check wrote: the column, the
first bad value met and the fix, followed by :data:`POINTER` (how to have every
bad row counted). The token that keys the registration is written in
zero-width characters (:func:`new_token`), so the text shows nothing internal;
:func:`strip` removes the pointer and the token where the package reports the
one-value text itself.

A registration lives as long as the relation the caller holds (the canonical
relation a loader returns). Nothing is kept beyond that, except inside an open
:func:`holding` block (every ``duckdb_value_errors`` block is one): a
registration whose relation is released there is kept until the block ends,
so that ``transactions_relation(path).df()`` in one expression (the relation
released while DuckDB's error propagates) is diagnosed too.
"""

from __future__ import annotations

import contextvars
import itertools
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["ValueCheck", "new_token", "error_sql", "register", "holding", "diagnose", "diagnosis", "strip",
           "POINTER", "TOKEN_PATTERN"]

#: Appended to the one-value text of every registered check's SQL error: what a user who materialises a lazy
#: relation outside :func:`crm_analysis.data.errors.duckdb_value_errors` reads after the fix.
POINTER = (". Only the first bad value met is named here: materialise the relation inside "
           "`with crm_analysis.data.duckdb_value_errors():` to have every bad row of the column counted.")

# The token: its number in binary, in zero-width characters between two invisible separators (U+2063), so that
# the error text a user reads shows nothing internal (it was a visible "[check 12]").
_MARK, _ZERO, _ONE = "\u2063", "\u200b", "\u200c"

#: How a token appears in the text of a DuckDB error raised by a registered check (group 1: its binary digits).
TOKEN_PATTERN = re.compile(f"{_MARK}([{_ZERO}{_ONE}]+){_MARK}")
_SUFFIX = re.compile(f"(?:{re.escape(POINTER)})?{TOKEN_PATTERN.pattern}")


@dataclass(frozen=True)
class ValueCheck:
    """One value rule of a column in SQL.

    Attributes
    ----------
    bad : str
        SQL predicate over the checked relation, true for a bad value.
    raw : str
        SQL expression of the value as shown (text).
    message : callable
        ``message(n_rows, examples) -> str``: the error text for ``n_rows`` bad
        rows and the distinct smallest values ``[(value, None), ...]``, built
        as the pandas path builds it
        (:func:`crm_analysis.data.errors.bad_values_message`).
    """

    bad: str
    raw: str
    message: Callable[[int, list[tuple[str, int | None]]], str]


_counter = itertools.count(1)
_lock = threading.Lock()
_Entry = tuple[Any, tuple[ValueCheck, ...]]
_registry: dict[str, _Entry] = {}
#: the registrations released inside the innermost open holding() block of this thread / task (None: no block)
_held: contextvars.ContextVar[dict[str, _Entry] | None] = contextvars.ContextVar("crm_value_checks_held", default=None)


def new_token() -> str:
    """A fresh token to put into the SQL error texts of one relation's checks (invisible: zero-width characters).

    Returns
    -------
    str
        A number in binary written with U+200B / U+200C between two U+2063;
        :data:`TOKEN_PATTERN` finds it in an error text.
    """
    bits = format(next(_counter), "b").replace("0", _ZERO).replace("1", _ONE)
    return f"{_MARK}{bits}{_MARK}"


def error_sql(message: str, token: str) -> str:
    """SQL raising the one-value error ``message`` of a registered check: ``error(message || pointer || token)``.

    Parameters
    ----------
    message : str
        SQL expression of type ``VARCHAR``: the column, the value and the fix.
    token : str
        From :func:`new_token`; empty for an unregistered check (no pointer
        then: nothing would count the bad rows).

    Returns
    -------
    str
    """
    if not token:
        return f"error({message})"
    suffix = (POINTER + token).replace("'", "''")
    return f"error({message} || '{suffix}')"


def strip(text: str) -> str:
    """``text`` without the :data:`POINTER` and the token of a registered check's error (unchanged otherwise)."""
    return _SUFFIX.sub("", text)


def _release(token: str) -> None:
    with _lock:
        entry = _registry.pop(token, None)
    held = _held.get()
    if entry is not None and held is not None:
        held[token] = entry


@contextmanager
def holding() -> Iterator[None]:
    """Keep the registrations released inside the block until it ends (none is kept once no block is open).

    :func:`crm_analysis.data.errors.duckdb_value_errors` runs inside one, so
    that a relation released while its error propagates
    (``transactions_relation(path).df()`` in one expression) is still
    diagnosed. Blocks nest; each keeps what is released inside it.
    """
    reset = _held.set({})
    try:
        yield
    finally:
        _held.reset(reset)


def register(token: str, checked: Any, checks: Sequence[ValueCheck], owner: Any) -> None:
    """Register the checks whose SQL errors carry ``token``.

    Parameters
    ----------
    token : str
        From :func:`new_token`.
    checked : duckdb.DuckDBPyRelation
        The relation the checks' SQL reads (the source with its helper columns).
    checks : sequence of ValueCheck
        In the order the pandas path checks the columns.
    owner : duckdb.DuckDBPyRelation
        The relation handed to the caller; the registration ends with it.
    """
    if not checks:
        return
    with _lock:
        _registry[token] = (checked, tuple(checks))
    weakref.finalize(owner, _release, token)


def diagnose(rel: Any, checks: Sequence[ValueCheck], *, max_examples: int) -> str | None:
    """The error message of the first check with bad values in ``rel`` (all of them counted), or None.

    Parameters
    ----------
    rel : duckdb.DuckDBPyRelation
        The relation the checks read.
    checks : sequence of ValueCheck
    max_examples : int
        How many distinct bad values the message shows at most
        (:data:`crm_analysis.data.errors.MAX_EXAMPLES`).

    Returns
    -------
    str or None
        The message (the caller raises it as a ``DataValidationError``), or None
        when no check finds a bad value.
    """
    for check in checks:
        n = rel.query("v", f"SELECT count(*) FROM v WHERE {check.bad}").fetchall()[0][0]
        if not n:
            continue
        rows = rel.query("v", f"SELECT DISTINCT CAST({check.raw} AS VARCHAR) AS x FROM v WHERE {check.bad} "
                              f"ORDER BY x LIMIT {int(max_examples)}").fetchall()
        return check.message(int(n), [(str(r[0]), None) for r in rows])
    return None


def diagnosis(text: str, *, max_examples: int) -> str | None:
    """The full error message for a DuckDB error text that carries a registered token (None when unknown).

    Parameters
    ----------
    text : str
        The DuckDB error's message.
    max_examples : int
        How many distinct bad values the message shows at most.

    Returns
    -------
    str or None
        None when the text has no token, the registration has ended, or the
        diagnosing query fails (the caller then keeps DuckDB's one-value text).
    """
    match = TOKEN_PATTERN.search(text)
    if match is None:
        return None
    token = match.group(0)
    with _lock:
        entry = _registry.get(token)
    if entry is None:
        entry = (_held.get() or {}).get(token)
    if entry is None:
        return None
    rel, checks = entry
    try:
        return diagnose(rel, checks, max_examples=max_examples)
    except Exception:  # noqa: BLE001 - a diagnosis must never hide the original error
        return None
