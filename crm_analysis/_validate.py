"""Checks of scalar arguments shared by the analysis modules (counts, probabilities).

One place decides what a count such as a capacity, or a probability such as a
show rate, may be, so that every function taking one refuses the same bad
values with the same words: the message names the argument, the value and
what is allowed. ``True`` is not the count 1, ``2.5`` rooms is not 2 rooms,
``"100"`` is not a number, and NaN or infinity is never a count or a rate.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import math
import numbers
from typing import Any

__all__ = ["check_count", "check_probability"]


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
    ValueError
        Naming ``name``, the value and the allowed range.

    Examples
    --------
    >>> check_count(100.0, "capacity", minimum=1)
    100
    >>> check_count(float("nan"), "capacity", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: capacity must be a whole number >= 1, got nan
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
    ValueError
        Naming ``name``, the value and the allowed interval (a value above 1
        that looks like a percentage says so).

    Examples
    --------
    >>> check_probability(0.92, "show_rate")
    0.92
    >>> check_probability(92, "show_rate")
    Traceback (most recent call last):
    ...
    ValueError: show_rate must be a probability in (0, 1], got 92 (a percentage? write 0.92)
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
