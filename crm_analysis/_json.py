"""Strict JSON for every file the package writes (run records, headlines, artefacts, reports).

Python's :func:`json.dumps` writes ``nan`` and ``inf`` as the bare tokens
``NaN`` and ``Infinity``, which are not JSON (RFC 8259): browsers'
``JSON.parse``, ``jq`` and most other readers refuse the file. Every JSON
writer of the package goes through :func:`dumps`, which writes:

* ``nan`` as ``null`` (not available);
* ``inf`` / ``-inf`` as the strings ``"Infinity"`` / ``"-Infinity"`` (e.g. a
  parameter at an infinite limit), which Python's ``float()`` reads back;
* numpy / pandas scalars as plain numbers, timestamps as ISO text.

This is the encoding of ``clv_params.json``
(:func:`crm_analysis.clv.results.json_number`). :func:`loads` reads new and
older files (with the bare tokens) alike and returns the strict form, so a
reader never sees both encodings of one value.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["jsonable", "dumps", "loads"]

_INF_TEXT = {math.inf: "Infinity", -math.inf: "-Infinity"}


def jsonable(value: Any) -> Any:
    """``value`` as plain, strict JSON types (recursively through dicts, lists and tuples).

    Parameters
    ----------
    value : Any
        Dicts (keys become ``str``), lists, tuples, one-dimensional numpy
        arrays and pandas Index / Series (a list; a Series with labels other
        than 0..n-1 an object keyed by them), numbers, numpy / pandas
        scalars, timestamps, strings, ``None``.

    Returns
    -------
    Any
        The same structure with ``nan`` -> ``None``, ``inf`` -> ``"Infinity"``,
        ``-inf`` -> ``"-Infinity"``, numpy scalars as Python ones,
        ``pandas.Timestamp`` as ISO text and ``NaT`` as ``None``. Other objects are
        returned as they are (:func:`dumps` writes them with ``str``).

    Examples
    --------
    >>> jsonable({"a": float("nan"), "b": [float("inf"), 1.5]})
    {'a': None, 'b': ['Infinity', 1.5]}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Series) and not isinstance(value.index, pd.RangeIndex):
        return {str(k): jsonable(v) for k, v in value.items()}  # labelled values: an object keyed by label
    if isinstance(value, (np.ndarray, pd.Series, pd.Index)) and value.ndim == 1:
        return [jsonable(v) for v in value.tolist()]  # an array: a JSON list, not its repr text
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is pd.NaT:
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        try:
            item = value.item()
        except (ValueError, TypeError):
            item = value
        if item is not value:
            return jsonable(item)
    if isinstance(value, float):
        if value != value:  # NaN: not available
            return None
        if value in _INF_TEXT:  # an infinite limit: strict JSON, float() reads it back
            return _INF_TEXT[value]
    return value


def dumps(obj: Any, **kwargs: Any) -> str:
    """``obj`` as strict JSON text (see the module docstring).

    Parameters
    ----------
    obj : Any
        What to write; converted by :func:`jsonable` first.
    **kwargs
        Further options of :func:`json.dumps` (``indent``, ``sort_keys``, ...).
        ``allow_nan`` is always ``False``; ``default`` is ``str`` unless given.

    Returns
    -------
    str

    Examples
    --------
    >>> dumps({"x": float("nan"), "y": float("-inf")})
    '{"x": null, "y": "-Infinity"}'
    """
    kwargs.pop("allow_nan", None)
    kwargs.setdefault("default", str)
    return json.dumps(jsonable(obj), allow_nan=False, **kwargs)


def loads(text: str | bytes) -> Any:
    """Read JSON written by :func:`dumps` or by an older, non-strict writer (bare ``NaN`` / ``Infinity``).

    Parameters
    ----------
    text : str or bytes
        The file's text.

    Returns
    -------
    Any
        The strict form: an old file's ``NaN`` comes back as ``None`` and its
        ``Infinity`` as ``"Infinity"``, as a new file's do.

    Raises
    ------
    ValueError
        Text that is not JSON (:class:`json.JSONDecodeError`).

    Examples
    --------
    >>> loads('{"x": NaN, "y": Infinity, "z": null}')
    {'x': None, 'y': 'Infinity', 'z': None}
    """
    return jsonable(json.loads(text))
