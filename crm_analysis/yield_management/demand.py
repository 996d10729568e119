"""Demand distributions of fare classes: discretisation, truncation and sampling.

Every allocation routine of :mod:`crm_analysis.yield_management` takes the
demand of each fare class as one *demand spec*, any of

``float`` / ``int``
    the mean of a Poisson distribution;
``(mean, std)`` tuple
    a normal distribution, discretised by :func:`discretize_normal`
    (``D = max(0, round(X))`` with ``X ~ N(mean, std**2)``);
a frozen :mod:`scipy.stats` *discrete* distribution
    e.g. ``scipy.stats.nbinom(5, 0.2)``; its support must be non-negative;
a 1-D array of probabilities
    the probability mass function on ``0, 1, 2, ...`` (must sum to 1).

The exact routines (dynamic programme, expected revenue of a policy) need the
distribution only on ``0..capacity``: sales can never exceed the capacity, so
the mass of ``D >= capacity`` is lumped at ``capacity`` without any error
(:func:`demand_pmf`). The simulation draws from the untruncated distribution
(:func:`sample_demand`), so spill is counted in full.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from crm_analysis._validate import check_count

__all__ = ["discretize_normal", "demand_pmf", "demand_pmfs", "sample_demand", "demand_mean"]

DemandSpec = Any


def discretize_normal(mean: float, std: float, *, upper: int | None = None) -> np.ndarray:
    """Discretise a normal demand distribution onto the integers ``0..upper``.

    The discrete demand is ``D = max(0, round(X))`` with ``X ~ N(mean, std**2)``:
    ``P(D = k) = Phi((k + 0.5 - mean)/std) - Phi((k - 0.5 - mean)/std)`` for
    ``0 < k < upper``; the mass below 0.5 goes to ``k = 0`` (demand cannot be
    negative) and, when ``upper`` is given, the mass above ``upper - 0.5`` is
    lumped at ``upper``.

    Parameters
    ----------
    mean, std : float
        Mean and standard deviation of the normal distribution; ``std >= 0``
        (``std == 0`` puts all mass on ``max(0, round(mean))``).
    upper : int, optional
        Largest value kept (tail lumped there). Default: ``ceil(mean + 10 std) + 1``,
        beyond which the neglected mass is below 1e-23.

    Returns
    -------
    numpy.ndarray
        Probabilities of ``0..upper``; they sum to 1.

    Raises
    ------
    ValueError
        On a negative or non-finite ``std``/``mean`` or a negative ``upper``.
    """
    mean = float(mean)
    std = float(std)
    if not np.isfinite(mean) or not np.isfinite(std):
        raise InputError(f"normal demand needs finite mean and std, got ({mean}, {std})")
    if std < 0:
        raise InputError(f"normal demand std must be >= 0, got {std}")
    if upper is None:
        upper = int(np.ceil(max(mean, 0.0) + 10.0 * std)) + 1
    upper = check_count(upper, "upper", minimum=0)
    if std == 0:
        pmf = np.zeros(upper + 1)
        pmf[min(max(int(np.floor(mean + 0.5)), 0), upper)] = 1.0
        return pmf
    edges = (np.arange(upper) + 0.5 - mean) / std  # boundaries between k and k+1
    cdf = stats.norm.cdf(edges)
    pmf = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
    return np.clip(pmf, 0.0, None)


def _lump(pmf: np.ndarray, capacity: int) -> np.ndarray:
    """Truncate a pmf on ``0..K`` to ``0..capacity`` with the tail lumped at ``capacity``."""
    out = np.zeros(capacity + 1)
    k = min(len(pmf), capacity + 1)
    out[:k] = pmf[:k]
    out[capacity] += pmf[capacity + 1 :].sum()
    return out


def demand_pmf(spec: DemandSpec, capacity: int) -> np.ndarray:
    """Probabilities of demand ``0..capacity`` with ``P(D >= capacity)`` at ``capacity``.

    Parameters
    ----------
    spec : float, (mean, std), frozen scipy.stats discrete distribution or array
        A demand spec (see the module docstring).
    capacity : int
        Largest demand value kept.

    Returns
    -------
    numpy.ndarray
        Length ``capacity + 1``, sums to 1.

    Raises
    ------
    ValueError
        On a spec that is not understood or not a valid distribution.
    """
    capacity = check_count(capacity, "capacity", minimum=0)
    if hasattr(spec, "dist"):
        if not isinstance(spec.dist, stats.rv_discrete):
            raise InputError("a scipy.stats demand distribution must be discrete (use (mean, std) for a normal)")
        lo, _ = spec.support()
        if lo < 0:
            raise InputError(f"demand distribution has negative support (from {lo})")
        k = np.arange(capacity)
        pmf = np.append(spec.pmf(k), spec.sf(capacity - 1) if capacity > 0 else 1.0)
        return pmf
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise InputError(f"a normal demand spec is (mean, std), got {shown(spec)}")
        mean, std = spec
        if mean < 0:
            raise InputError(f"demand mean must be >= 0, got {mean}")
        return discretize_normal(mean, std, upper=capacity)
    if np.isscalar(spec):
        mean = float(spec)
        if not np.isfinite(mean) or mean < 0:
            raise InputError(f"a Poisson demand mean must be finite and >= 0, got {shown(spec)}")
        return demand_pmf(stats.poisson(mean), capacity)
    arr = np.asarray(spec, dtype=float)
    if arr.ndim == 1 and arr.size > 0:
        if np.any(arr < 0) or not np.isclose(arr.sum(), 1.0, atol=1e-9):
            raise InputError("a demand pmf must be non-negative and sum to 1")
        return _lump(arr, capacity)
    raise InputError(f"demand spec not understood: {spec!r}")


def demand_pmfs(demand: Sequence[DemandSpec], capacity: int) -> np.ndarray:
    """Stack :func:`demand_pmf` of several classes into an ``(n, capacity + 1)`` array."""
    return np.vstack([demand_pmf(d, capacity) for d in demand])


def demand_mean(spec: DemandSpec) -> float:
    """Mean of a demand spec (of the discretised distribution for ``(mean, std)``)."""
    if hasattr(spec, "dist") and hasattr(spec, "mean"):
        return float(spec.mean())
    if isinstance(spec, tuple):
        pmf = discretize_normal(*spec)
        return float(np.arange(len(pmf)) @ pmf)
    if np.isscalar(spec):
        return float(spec)
    arr = np.asarray(spec, dtype=float)
    return float(np.arange(len(arr)) @ arr)


def sample_demand(spec: DemandSpec, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``size`` integer demands from a demand spec.

    The draws follow the same distribution as :func:`demand_pmf` before
    truncation: Poisson draws for a mean, ``max(0, round(X))`` for a normal
    ``(mean, std)``, ``rvs`` for a scipy distribution, inverse-cdf draws for
    an explicit pmf.

    Parameters
    ----------
    spec : demand spec
        See the module docstring.
    size : int
        Number of draws.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of int64
    """
    if hasattr(spec, "dist") and hasattr(spec, "rvs"):
        return np.asarray(spec.rvs(size=size, random_state=rng), dtype=np.int64)
    if isinstance(spec, tuple):
        mean, std = spec
        if std < 0 or mean < 0:
            raise InputError(f"normal demand needs mean >= 0 and std >= 0, got {shown(spec)}")
        x = rng.normal(mean, std, size=size)
        return np.maximum(0, np.floor(x + 0.5)).astype(np.int64)
    if np.isscalar(spec):
        if float(spec) < 0:
            raise InputError(f"a Poisson demand mean must be >= 0, got {shown(spec)}")
        return rng.poisson(float(spec), size=size).astype(np.int64)
    arr = np.asarray(spec, dtype=float)
    cdf = np.cumsum(arr)
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(arr) - 1).astype(np.int64)
