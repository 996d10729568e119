"""Value checks of the DuckDB path: every bad value of a column named in one message, as on the pandas path.

DuckDB reads lazily: a value that is not a number or not a date is found while
a query runs, by the package's ``error(...)`` call in the SQL of
:func:`crm_analysis.data.numbers.number_sql` /
:func:`crm_analysis.data.dates.timestamp_sql`, and that call sees one value.
The pandas path names how many rows are bad and several distinct values. To
give the same message, each SQL check carries a token (``[check 12]``) and is
registered here with the relation it reads and the rule that marks a bad
value. When :func:`crm_analysis.data.errors.duckdb_value_errors` catches the
DuckDB error, it asks :func:`diagnosis` for the full error: one query counts the
rows with a bad value and lists the :data:`~crm_analysis.data.errors.MAX_EXAMPLES`
smallest distinct ones, and the check's own message builder (the one the pandas
path uses) writes the message. This costs nothing unless a value is bad.
The module returns message texts; :mod:`crm_analysis.data.errors` (which
imports it) turns them into :class:`~crm_analysis.data.errors.DataValidationError`.

A registration lives as long as the relation the caller holds (the canonical
relation a loader returns); the two released last are kept a little longer, so
that ``transactions_relation(path).df()`` in one expression is diagnosed too.
"""

from __future__ import annotations

import collections
import itertools
import re
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ValueCheck", "new_token", "register", "diagnose", "diagnosis", "TOKEN_PATTERN"]

#: How a token appears in the text of a DuckDB error raised by a registered check.
TOKEN_PATTERN = re.compile(r"\s*\[check (\d+)\]")


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
_registry: dict[str, tuple[Any, tuple[ValueCheck, ...]]] = {}
#: the registrations released last (their relations kept alive a little longer)
_recent: collections.OrderedDict[str, tuple[Any, tuple[ValueCheck, ...]]] = collections.OrderedDict()
_KEEP_RELEASED = 2


def new_token() -> str:
    """A fresh token to put into the SQL error texts of one relation's checks (``"[check 12]"``)."""
    return f"[check {next(_counter)}]"


def _release(token: str) -> None:
    with _lock:
        entry = _registry.pop(token, None)
        if entry is None:
            return
        _recent[token] = entry
        while len(_recent) > _KEEP_RELEASED:
            _recent.popitem(last=False)


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
    token = f"[check {match.group(1)}]"
    with _lock:
        entry = _registry.get(token) or _recent.get(token)
    if entry is None:
        return None
    rel, checks = entry
    try:
        return diagnose(rel, checks, max_examples=max_examples)
    except Exception:  # noqa: BLE001 - a diagnosis must never hide the original error
        return None
