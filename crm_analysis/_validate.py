"""Checks shared by the analysis modules: scalar arguments (counts, probabilities) and required columns.

One place decides what a count such as a capacity, or a probability such as a
show rate, may be, so that every function taking one refuses the same bad
values with the same words: the message names the argument, the value and
what is allowed. ``True`` is not the count 1, ``2.5`` rooms is not 2 rooms,
``"100"`` is not a number, and NaN or infinity is never a count or a rate.

Likewise one message for a table that lacks required columns
(:func:`check_columns`, issue #13): it names the missing columns, the table,
the columns it has and the fix; each module keeps its own exception type.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["check_columns", "check_count", "check_probability"]

#: The fix :func:`check_columns` names when the caller gives none.
_DEFAULT_COLUMNS_FIX = "Rename those columns, or name yours with the function's column parameters (the *_col ones)"


def check_count(value: Any, name: str, *, minimum: int = 0) -> int:
    """A whole number ``>= minimum`` (rooms, bookings, nights), as ``int``.

    Parameters
    ----------
    value : object
        An ``int`` (also numpy integers) or a float with an integral value
        (``100.0``); booleans, strings, NaN and infinities are refused.
    name : str
        The argument's name, for the message.
    minimum : int, default 0
        Smallest value allowed.

    Returns
    -------
    int

    Raises
    ------
    crm_analysis.exceptions.InputError
        A ``ValueError``, naming ``name``, the value and the allowed range.

    Examples
    --------
    >>> check_count(100.0, "capacity", minimum=1)
    100
    >>> check_count(float("nan"), "capacity", minimum=1)
    Traceback (most recent call last):
    ...
    crm_analysis.exceptions.InputError: capacity must be a whole number >= 1, got nan
    """
    what = f"{name} must be a whole number >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what}, got {type(value).__name__} {value!r}")
    if not isinstance(value, numbers.Integral):
        f = float(value)
        if not math.isfinite(f) or not f.is_integer():
            raise InputError(f"{what}, got {value!r}")
    out = int(value)
    if out < minimum:
        raise InputError(f"{what}, got {value!r}")
    return out


def check_probability(value: Any, name: str, *, zero: bool = False, one: bool = True) -> float:
    """A probability as ``float``, in ``[0, 1]`` with the ends allowed as said.

    Parameters
    ----------
    value : object
        A real number; booleans, strings and NaN are refused.
    name : str
        The argument's name, for the message.
    zero, one : bool
        Whether 0 and 1 are allowed (default: ``(0, 1]``).

    Returns
    -------
    float

    Raises
    ------
    crm_analysis.exceptions.InputError
        A ``ValueError``, naming ``name``, the value and the allowed interval
        (a value above 1 that looks like a percentage says so).

    Examples
    --------
    >>> check_probability(0.92, "show_rate")
    0.92
    >>> check_probability(92, "show_rate")
    Traceback (most recent call last):
    ...
    crm_analysis.exceptions.InputError: show_rate must be a probability in (0, 1], got 92 (a percentage? write 0.92)
    """
    interval = ("[" if zero else "(") + "0, 1" + ("]" if one else ")")
    what = f"{name} must be a probability in {interval}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what}, got {type(value).__name__} {value!r}")
    f = float(value)
    ok = math.isfinite(f) and (0 <= f if zero else 0 < f) and (f <= 1 if one else f < 1)
    if not ok:
        hint = f" (a percentage? write {f / 100:g})" if math.isfinite(f) and 1 < f <= 100 else ""
        raise InputError(f"{what}, got {value!r}{hint}")
    return f


def check_columns(
    required: Iterable[str] | Mapping[str, str],
    available: Iterable[Any],
    *,
    table: str,
    fix: str | None = None,
    error: type[Exception] = InputError,
) -> None:
    """Raise ``error`` when a table lacks required columns, naming them, the table and the fix.

    Parameters
    ----------
    required : iterable of str, or mapping of str to str
        The column names the table must have, in the order to name them; or
        a mapping from the parameter that chose a column to the column
        (``{"customer_col": "customer_id"}``), and the message names both.
    available : iterable
        The table's columns (``DataFrame.columns``, a DuckDB relation's or a
        Spark DataFrame's ``columns``); a name is there when it equals one.
    table : str
        What the table is called in the message (``"transactions"``,
        ``"the campaign table"``).
    fix : str, optional
        What the user should do, a sentence; default: rename the columns or
        name them with the function's ``*_col`` parameters.
    error : type of Exception, default InputError
        The exception raised: the caller's own input error type (a
        ``ValueError`` subclass of :mod:`crm_analysis.exceptions`).

    Raises
    ------
    ValueError
        ``error``, when any required column is not in ``available``:
        ``"missing column(s) ['amount'] in transactions; its columns are
        ['customer_id', 'timestamp']. <fix>"``.

    Examples
    --------
    >>> check_columns(["customer_id", "amount"], ["customer_id", "timestamp"], table="transactions",
    ...               fix="Load them with crm_analysis.data.load_transactions")
    Traceback (most recent call last):
    ...
    crm_analysis.exceptions.InputError: missing column(s) ['amount'] in transactions; its columns are ['customer_id', 'timestamp']. Load them with crm_analysis.data.load_transactions
    """
    have = list(available)
    if isinstance(required, Mapping):
        missing = [f"{column!r} ({parameter})" for parameter, column in required.items() if column not in have]
        named = ", ".join(missing)
    else:
        missing = [c for c in required if c not in have]
        named = str(missing)
    if missing:
        raise error(f"missing column(s) {named} in {table}; its columns are {list(map(str, have))}. "
                    f"{_DEFAULT_COLUMNS_FIX if fix is None else fix}")

