"""Small helpers shared by the synthetic generators (not public API)."""

from __future__ import annotations

from crm_analysis.exceptions import InputError

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crm_analysis._dates import parse_date

__all__ = ["SeedLike", "as_rng", "as_day", "normalise_profile", "STRING"]

#: An integer seed, a ready ``numpy.random.Generator``, or ``None``.
SeedLike = int | np.random.Generator | None

#: Canonical string dtype (``docs/architecture.md``): pandas nullable string.
STRING = pd.StringDtype()


def as_rng(seed: SeedLike) -> np.random.Generator:
    """Return ``seed`` itself if it is a Generator, else ``default_rng(seed)``."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def as_day(value: str | pd.Timestamp, name: str) -> pd.Timestamp:
    """Parse ``value`` as a naive calendar day (midnight), naming ``name`` on error."""
    return parse_date(value, name, tz="reject", time="normalize")


def normalise_profile(profile: Sequence[float] | np.ndarray | None, length: int, name: str) -> np.ndarray:
    """Validate a seasonal profile and scale it to mean 1.

    ``None`` gives a flat profile (all ones).

    Raises
    ------
    ValueError
        When the profile has the wrong length, a negative or non-finite entry,
        or sums to zero.
    """
    if profile is None:
        return np.ones(length)
    arr = np.asarray(profile, dtype=float)
    if arr.shape != (length,):
        raise InputError(f"{name} must have {length} entries, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise InputError(f"{name} must be finite, non-negative and not all zero, got {arr.tolist()}")
    return arr / arr.mean()
