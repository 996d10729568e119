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

from crm_analysis.exceptions import InputError, NotFittedError, shown

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "renamed_keywords",
    "NotFittedAttributes",
    "check_columns",
    "check_count",
    "check_counts",
    "check_flag",
    "check_name",
    "check_number",
    "check_probability",
    "check_seed",
    "renamed_keyword",
    "renamed_keys",
    "renamed_names",
]

#: The fix :func:`check_columns` names when the caller gives none.
_DEFAULT_COLUMNS_FIX = "Rename those columns, or name yours with the function's column parameters (the *_col ones)"


class NotFittedAttributes:
    """Mixin of the package's estimators: a fitted attribute read before ``fit`` raises :class:`NotFittedError`.

    A public attribute whose name ends in ``_`` (scikit-learn's convention for
    learned attributes: ``result_``, ``params_``, ``labels_``) that does not
    exist raises :class:`~crm_analysis.exceptions.NotFittedError` ("... is not
    fitted yet: call fit() first") while the estimator has no learned
    attribute at all (scikit-learn's ``check_is_fitted`` rule), instead of a
    bare ``AttributeError``. ``NotFittedError`` is an ``AttributeError``, so
    ``hasattr``, ``getattr(obj, name, default)`` and ``except AttributeError``
    behave as before. Other missing names raise the usual ``AttributeError``.
    Only consulted when normal lookup fails (``__getattr__``), so it costs
    nothing on fitted attributes.
    """

    #: What else makes the estimator usable, for the message (e.g. "or from_params / from_dict").
    _fit_alternatives: str = ""

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_") and not name.startswith("_"):
            learned = any(k.endswith("_") and not k.startswith("_") for k in vars(self))
            if not learned:
                cls = type(self).__name__
                alt = f" ({self._fit_alternatives})" if self._fit_alternatives else ""
                raise NotFittedError(f"{cls}.{name} is not available: {cls} is not fitted yet: call fit() first{alt}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)


def check_count(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None, fix: str | None = None) -> int:
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
    maximum : int, optional
        Largest value allowed (none by default).
    fix : str, optional
        What the value means or how to set it, appended to the message
        (``"the hotel's number of rooms"``).

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
    what = f"{name} must be a whole number >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    tail = f" ({fix})" if fix else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what}, got {type(value).__name__} {shown(value)}{tail}")
    if not isinstance(value, numbers.Integral):
        f = float(value)
        if not math.isfinite(f) or not f.is_integer():
            raise InputError(f"{what}, got {shown(value)}{tail}")
    out = int(value)
    if out < minimum or (maximum is not None and out > maximum):
        raise InputError(f"{what}, got {shown(value)}{tail}")
    return out


def check_seed(value: Any, name: str = "seed") -> int:
    """A seed of ``numpy.random.default_rng``: a whole number >= 0, as ``int``.

    Raises
    ------
    crm_analysis.exceptions.InputError
        Naming ``name`` and the value (``-1``, ``1.5``, ``"42"``, ``True`` are refused).
    """
    return check_count(value, name, minimum=0, fix="any whole number >= 0, e.g. 42; one seed drives all randomness")


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    fix: str | None = None,
    what: str | None = None,
) -> float:
    """A finite real number in an interval, as ``float``.

    Parameters
    ----------
    value : object
        A real number (also numpy numbers); booleans, strings, NaN and
        infinities are refused.
    name : str
        The argument's name, for the message.
    minimum, maximum : float, optional
        Bounds of the interval (none by default).
    low_open, high_open : bool, default False
        Whether the bound itself is excluded.
    fix : str, optional
        What the value means or how to set it, appended to the message.
    what : str, optional
        The rule in words, in place of ``"a number > 0"`` (``"a cost > 0 per
        walked room"``).

    Returns
    -------
    float

    Raises
    ------
    crm_analysis.exceptions.InputError
        Naming ``name``, the value and the interval.

    Examples
    --------
    >>> check_number(-1, "horizon", minimum=0, low_open=True)
    Traceback (most recent call last):
    ...
    crm_analysis.exceptions.InputError: horizon must be a number > 0, got -1
    """
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if low_open else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if high_open else '<='} {maximum:g}")
    what = f"{name} must be " + (what or "a " + ("number " + " and ".join(parts) if parts else "finite number"))
    tail = f" ({fix})" if fix else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what}, got {type(value).__name__} {shown(value)}{tail}")
    f = float(value)
    ok = math.isfinite(f)
    if ok and minimum is not None:
        ok = f > minimum if low_open else f >= minimum
    if ok and maximum is not None:
        ok = f < maximum if high_open else f <= maximum
    if not ok:
        raise InputError(f"{what}, got {shown(value)}{tail}")
    return f


def check_flag(value: Any, name: str) -> bool:
    """``True`` or ``False`` (also numpy booleans); ``1``, ``"yes"`` or ``"bogus"`` are refused.

    Raises
    ------
    crm_analysis.exceptions.InputError
        Naming ``name`` and the value.
    """
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be true or false, got {type(value).__name__} {shown(value)}")
    return bool(value)


def check_name(value: Any, name: str, *, allow_none: bool = False, what: str = "a column name") -> str | None:
    """A non-empty text such as a column name (``None`` too with ``allow_none``).

    Whether the column exists depends on the data: the step checks that where
    it reads them (:func:`check_columns`).

    Raises
    ------
    crm_analysis.exceptions.InputError
        Naming ``name`` and the value.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value.strip():
        none = " or None" if allow_none else ""
        raise InputError(f"{name} must be {what} (text){none}, got {type(value).__name__} {shown(value)}")
    return value


def check_counts(
    values: Any, name: str, *, minimum: int = 0, maximum: int | None = None, nonempty: bool = True,
    fix: str | None = None,
) -> tuple[int, ...]:
    """A list of whole numbers, each as :func:`check_count` takes it, as a tuple of ``int``.

    Parameters
    ----------
    values : sequence
        A list or tuple (a single number or a text is refused).
    name : str
        The argument's name; an entry is named ``name[i]``.
    minimum, maximum : int
        Range of each entry.
    nonempty : bool, default True
        Whether an empty list is refused.
    fix : str, optional
        What the values mean, appended to the message.

    Raises
    ------
    crm_analysis.exceptions.InputError
        Naming ``name`` (or ``name[i]``) and the value.
    """
    import numpy as np

    tail = f" ({fix})" if fix else ""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (list, tuple, np.ndarray)):
        raise InputError(f"{name} must be a list of whole numbers, got {type(values).__name__} {shown(values)}{tail}")
    out = tuple(check_count(v, f"{name}[{i}]", minimum=minimum, maximum=maximum, fix=fix) for i, v in enumerate(values))
    if nonempty and not out:
        raise InputError(f"{name} must hold at least one whole number, got an empty list{tail}")
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
        raise InputError(f"{what}, got {type(value).__name__} {shown(value)}")
    f = float(value)
    ok = math.isfinite(f) and (0 <= f if zero else 0 < f) and (f <= 1 if one else f < 1)
    if not ok:
        hint = f" (a percentage? write {f / 100:g})" if math.isfinite(f) and 1 < f <= 100 else ""
        raise InputError(f"{what}, got {shown(value)}{hint}")
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
    # a flat pandas Index answers membership from its hash table; listing it costs ~30 us per call
    # for pandas 3's Arrow-backed string columns (the models check each of their columns this way)
    have = available if getattr(available, "nlevels", 0) == 1 and hasattr(available, "get_loc") else list(available)
    if isinstance(required, Mapping):
        missing = [f"{column!r} ({parameter})" for parameter, column in required.items() if column not in have]
        named = ", ".join(missing)
    else:
        missing = [c for c in required if c not in have]
        named = str(missing)
    if missing:
        names = list(map(str, have))
        if len(names) > _MAX_LISTED_COLUMNS:  # a list of 400 numbered columns helps nobody (findings_12d claim 5)
            names = names[:_MAX_LISTED_COLUMNS] + [f"... {len(names) - _MAX_LISTED_COLUMNS} more"]
        wanted = list(required.values()) if isinstance(required, Mapping) else list(required)
        if _numbered(have):
            fix = (f"Its columns are numbers 0..{len(have) - 1}, not names: a list or array (e.g. [x, t, T]) was read as "
                   f"rows of a table. Pass a DataFrame or a dict of named columns "
                   f"{{{', '.join(f'{c!r}: ...' for c in wanted)}}}")
        raise error(f"missing column(s) {named} in {table}; its columns are {names}. "
                    f"{_DEFAULT_COLUMNS_FIX if fix is None else fix}")


#: columns named in a missing-column message at most (then "... N more")
_MAX_LISTED_COLUMNS = 10


def _numbered(columns: Any) -> bool:
    """Whether ``columns`` are the positions ``0..n-1`` (a table built from a list or array, not from named columns)."""
    cols = list(columns)
    return bool(cols) and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in cols) and (
        cols == list(range(len(cols))))


def renamed_keyword(new_value: Any, old_value: Any, *, new: str, old: str, owner: str, default: Any = None) -> Any:
    """The value of a renamed keyword argument, taking the deprecated old name with a ``FutureWarning``.

    ``old_value`` is ``None`` when the old keyword was not given. An estimator
    stores both arguments unchanged in ``__init__`` (so scikit-learn's
    ``get_params`` / ``clone`` keep working) and calls this where it uses
    the value.

    Parameters
    ----------
    new_value, old_value : object
        The values passed under the new and the old name.
    new, old : str
        The two names (``"seed"``, ``"random_state"``).
    owner : str
        The function or class, for the messages (``"BehaviouralClustering"``).
    default : object, optional
        The new keyword's default: a ``new_value`` other than it and other
        than ``old_value`` means both were given with different values.

    Returns
    -------
    object
        ``old_value`` when given, else ``new_value``.

    Raises
    ------
    crm_analysis.exceptions.InputError
        When both names are given with different values.

    Warns
    -----
    FutureWarning
        When the old name is given.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     renamed_keyword(42, 7, new="seed", old="random_state", owner="f", default=42)
    7
    >>> str(w[0].message)
    'f(random_state=...) is deprecated: use seed'
    """
    if old_value is None:
        return new_value
    if not _same(new_value, default) and not _same(new_value, old_value):
        raise InputError(f"{owner}: {new}={shown(new_value)} and the deprecated {old}={shown(old_value)} disagree; "
                         f"give {new} only")
    import warnings

    warnings.warn(f"{owner}({old}=...) is deprecated: use {new}", FutureWarning, stacklevel=3)
    return old_value


def renamed_keywords(renamed: Mapping[str, str]) -> Any:
    """Decorator: a function or method takes renamed keyword arguments under their old names, with a FutureWarning.

    The signature shows the new names only; an old keyword given is passed on
    under the new name (any value, ``None`` included). Both names given with
    different values raise :class:`~crm_analysis.exceptions.InputError`.

    Parameters
    ----------
    renamed : mapping
        ``{old name: new name}``, e.g. ``{"id_col": "customer_col"}``.

    Examples
    --------
    >>> import warnings
    >>> @renamed_keywords({"id_col": "customer_col"})
    ... def f(*, customer_col="customer_id"):
    ...     return customer_col
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(id_col="cust")
    'cust'
    >>> str(w[0].message)
    'f(id_col=...) is deprecated: use customer_col'
    """
    import functools
    import warnings

    def decorate(fn: Any) -> Any:
        owner = fn.__qualname__

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renamed.items():
                if old in kwargs:
                    value = kwargs.pop(old)
                    warnings.warn(f"{owner}({old}=...) is deprecated: use {new}", FutureWarning, stacklevel=2)
                    if new in kwargs and not _same(kwargs[new], value):
                        raise InputError(f"{owner}: {new}={shown(kwargs[new])} and the deprecated {old}={shown(value)} "
                                         f"disagree; give {new} only")
                    kwargs[new] = value
            return fn(*args, **kwargs)

        return wrapper

    return decorate


def renamed_keys(spec: Mapping[str, Any], renamed: Mapping[str, str], *, owner: str,
                 stacklevel: int = 2) -> dict[str, Any]:
    """A configuration mapping with renamed keys taken under their old names, with a ``FutureWarning``.

    The dict-key counterpart of :func:`renamed_keywords` (a campaign spec's ``id_col`` is ``customer_col``, as
    the column role is called everywhere else): the old key's value is passed on under the new key.

    Parameters
    ----------
    spec : mapping
        The configuration (e.g. ``IdicParams.campaign``).
    renamed : mapping
        ``{old key: new key}``.
    owner : str
        Where the keys are set, for the messages (``"campaign"``).
    stacklevel : int, default 2
        Of the warning (2: the caller of the function that calls this one).

    Returns
    -------
    dict
        A copy of ``spec`` with every old key replaced by its new key (order otherwise kept).

    Raises
    ------
    crm_analysis.exceptions.InputError
        When both keys are given with different values (after the warning: the old key was used either way).

    Warns
    -----
    FutureWarning
        For each old key given.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     renamed_keys({"id_col": "cid"}, {"id_col": "customer_col"}, owner="campaign")
    {'customer_col': 'cid'}
    >>> str(w[0].message)
    "campaign: the key 'id_col' is deprecated: use 'customer_col'"
    """
    import warnings

    out = dict(spec)
    for old, new in renamed.items():
        if old in out:
            value = out.pop(old)
            warnings.warn(f"{owner}: the key {old!r} is deprecated: use {new!r}", FutureWarning,
                          stacklevel=stacklevel + 1)
            if new in out and not _same(out[new], value):
                raise InputError(f"{owner}: {new}={shown(out[new])} and the deprecated {old}={shown(value)} disagree; "
                                 f"give {new} only")
            out[new] = value
    return out


def renamed_names(module: str, renamed: Mapping[str, str], namespace: Mapping[str, Any], *,
                  why: str = "") -> Any:
    """A module ``__getattr__`` that serves renamed public names under their old names with a ``FutureWarning``.

    Parameters
    ----------
    module : str
        The module's dotted name, for the messages.
    renamed : mapping
        ``{old name: new name}``.
    namespace : mapping
        The module's ``globals()`` (where the new names live).
    why : str, optional
        Why the name changed, appended to the warning.

    Returns
    -------
    callable
        ``__getattr__(name)``: the object of the new name (warning) for an
        old name; ``AttributeError`` for any other missing name.

    Examples
    --------
    In the module: ``__getattr__ = renamed_names(__name__, {"old": "new"}, globals())``.
    """
    import warnings

    def __getattr__(name: str) -> Any:
        if name in renamed:
            new = renamed[name]
            warnings.warn(f"{module}.{name} is renamed {new}{': ' + why if why else ''}; the old name will be removed",
                          FutureWarning, stacklevel=2)
            return namespace[new]
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):  # e.g. arrays
        return False
