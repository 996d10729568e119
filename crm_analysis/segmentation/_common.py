"""Shared helpers of :mod:`crm_analysis.segmentation` (input checks, binning)."""

from __future__ import annotations

from crm_analysis.exceptions import InputError
from crm_analysis._validate import check_columns

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "SegmentationInputError",
    "customer_ids",
    "require_columns",
    "require_finite",
    "equal_size_bins",
]


class SegmentationInputError(InputError):
    """Input of a segmentation function is unusable; the message names the problem."""


def require_columns(table: pd.DataFrame, columns: Sequence[str], what: str = "table") -> None:
    """Raise :class:`SegmentationInputError` when ``table`` lacks any of ``columns``.

    Parameters
    ----------
    table : pandas.DataFrame
        The input.
    columns : sequence of str
        Required column names.
    what : str
        Name of the input used in the message.
    """
    if not isinstance(table, pd.DataFrame):
        raise SegmentationInputError(f"{what} must be a pandas DataFrame, got {type(table).__name__}")
    check_columns(columns, table.columns, table=what, error=SegmentationInputError)


def require_finite(values: pd.Series | np.ndarray, name: str) -> np.ndarray:
    """Return ``values`` as a float array; raise when any value is NaN or infinite.

    Parameters
    ----------
    values : Series or ndarray
        Numeric values.
    name : str
        Column name used in the message.

    Returns
    -------
    numpy.ndarray
        ``values`` as float64.
    """
    try:
        arr = np.asarray(pd.to_numeric(pd.Series(values), errors="raise"), dtype="float64")
    except (TypeError, ValueError) as exc:
        raise SegmentationInputError(f"column {name!r} is not numeric: {exc}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        pos = np.flatnonzero(bad)[:5].tolist()
        raise SegmentationInputError(
            f"column {name!r} has {int(bad.sum())} NaN/infinite value(s) (row positions {pos}...); "
            "impute or drop those customers before segmenting"
        )
    return arr


def customer_ids(table: pd.DataFrame, customer_col: str = "customer_id") -> pd.Series:
    """Customer ids of ``table`` as strings, from column ``customer_col`` or else the index.

    Raises
    ------
    SegmentationInputError
        When ids are missing or duplicated (a segmentation needs one row per customer).
    """
    if customer_col in table.columns:
        ids = table[customer_col]
    elif table.index.name == customer_col or customer_col is None:
        ids = table.index.to_series()
    else:
        raise SegmentationInputError(
            f"no customer id: column {customer_col!r} is absent and the index is named {table.index.name!r}"
        )
    ids = pd.Series(ids.to_numpy(), index=table.index, name="customer_id")
    if ids.isna().any():
        raise SegmentationInputError(f"{int(ids.isna().sum())} customer id(s) are missing")
    ids = ids.astype(str)
    dup = ids.duplicated(keep=False)
    if dup.any():
        examples = ids[dup].unique()[:5].tolist()
        raise SegmentationInputError(
            f"{int(ids.duplicated().sum())} duplicated customer id(s), e.g. {examples}: "
            "the input must have exactly one row per customer"
        )
    return ids


def equal_size_bins(values: np.ndarray, ids: pd.Series | np.ndarray, bins: int) -> np.ndarray:
    """Scores 1..``bins`` from ranks: equal-size bins with a deterministic tie-break.

    Values are ranked ascending, ties broken by customer id (string order) --
    the ``method="first"`` rank of a table sorted by id -- and rank position
    ``p`` (0-based) of ``n`` gets score ``floor(p * bins / n) + 1``. Every bin
    thus has ``n // bins`` or ``n // bins + 1`` members whatever the ties, and
    the result does not depend on the row order of the input. Equal values may
    therefore fall into different bins (e.g. the many customers with frequency 0).

    Parameters
    ----------
    values : ndarray
        Values to score (higher value, higher score).
    ids : Series or ndarray
        Customer ids (tie-break).
    bins : int
        Number of bins (>= 1).

    Returns
    -------
    numpy.ndarray of int64
        Scores in ``1..bins``.
    """
    values = np.asarray(values, dtype="float64")
    n = values.size
    if n == 0:
        return np.zeros(0, dtype="int64")
    ids_u = np.asarray(pd.Series(ids).astype(str).to_numpy(dtype=object), dtype=str)
    order = np.lexsort((ids_u, values))  # primary key: values, then id
    pos = np.empty(n, dtype="int64")
    pos[order] = np.arange(n)
    return (pos * bins) // n + 1
