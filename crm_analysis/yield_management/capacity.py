"""Single-resource capacity allocation: Littlewood, EMSR-a/b and the exact DP.

Notation follows Talluri & van Ryzin (2004), *The Theory and Practice of
Revenue Management*, ch. 2: classes ``j = 1..n`` with fares
``p_1 > p_2 > ... > p_n`` (class 1 is the highest fare); in the *static model*
demand of the classes arrives in sequence, lowest fare first (class ``n``,
then ``n - 1``, ..., class 1 last), independent across classes. A *nested
policy* is given by protection levels ``y_1 <= y_2 <= ... <= y_{n-1}``:
``y_j`` units are protected for classes ``1..j``, i.e. class ``j + 1`` may
sell only while more than ``y_j`` units remain. Booking limits are
``b_1 = C`` and ``b_{j+1} = C - y_j``.

In this package arrays are 0-based: ``protection_levels[k]`` is ``y_{k+1}``,
``fares[0]`` is ``p_1``.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from crm_analysis._validate import check_count
from crm_analysis.yield_management.demand import DemandSpec, demand_pmfs

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "littlewood",
    "emsr_a",
    "emsr_b",
    "booking_limits",
    "dp_protection_levels",
    "DPResult",
    "expected_revenue",
    "policy_value_function",
]


# --------------------------------------------------------------------------- checks
def _check_fares(fares: Sequence[float]) -> np.ndarray:
    f = np.asarray(fares, dtype=float)
    if f.ndim != 1 or f.size < 1:
        raise InputError("fares must be a non-empty 1-D sequence")
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise InputError(f"fares must be finite and >= 0, got {f.tolist()}")
    if np.any(np.diff(f) >= 0):
        raise InputError(
            f"fares must be strictly decreasing (class 1 = highest fare), got {f.tolist()}; "
            "sort the classes by fare and merge classes with equal fares"
        )
    return f


def _check_normal(fares: np.ndarray, means: Sequence[float], stds: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    mu = np.asarray(means, dtype=float)
    sd = np.asarray(stds, dtype=float)
    if mu.shape != fares.shape or sd.shape != fares.shape:
        raise InputError(
            f"fares, means and stds must have the same length, got {fares.size}, {mu.size}, {sd.size}"
        )
    if np.any(~np.isfinite(mu)) or np.any(mu < 0):
        raise InputError(f"demand means must be finite and >= 0, got {mu.tolist()}")
    if np.any(~np.isfinite(sd)) or np.any(sd < 0):
        raise InputError(f"demand stds must be finite and >= 0, got {sd.tolist()}")
    return mu, sd


def _check_capacity(capacity: int) -> int:
    return check_count(capacity, "capacity", minimum=0)


# ------------------------------------------------------------------------ Littlewood
def littlewood(
    high_fare: float,
    low_fare: float,
    mean: float,
    std: float | None = None,
    *,
    distribution: Literal["normal", "poisson"] = "normal",
) -> float:
    """Littlewood's two-class protection level for the high fare.

    Protect a unit for the high class as long as ``p_h * P(D_h >= y) > p_l``
    (Littlewood 1972; Talluri & van Ryzin 2004, eq. 2.2-2.3).

    * ``"normal"``: continuous demand ``D_h ~ N(mean, std**2)``, the level is
      ``y = mean + std * Phi^{-1}(1 - p_l / p_h)`` (unrounded), truncated at 0
      (a negative protection level means "protect nothing").
    * ``"poisson"``: integer demand ``D_h ~ Poisson(mean)``, the level is the
      **smallest integer** ``y >= 0`` with ``P(D_h > y) <= p_l / p_h``. This
      is ``max{y : P(D_h >= y) > p_l / p_h}`` (with ``y = 0`` if none): the
      ``y``-th unit is protected only when it is *strictly* better to hold it;
      at an exact tie the unit is released.

    Parameters
    ----------
    high_fare, low_fare : float
        Fares with ``high_fare > low_fare >= 0``.
    mean : float
        Mean high-fare demand (``>= 0``).
    std : float, optional
        Standard deviation of high-fare demand (required for ``"normal"``).
    distribution : {"normal", "poisson"}
        Demand distribution of the high class.

    Returns
    -------
    float
        The protection level (an integer value for ``"poisson"``).

    Examples
    --------
    >>> round(littlewood(100, 60, mean=50, std=10), 3)   # 50 + 10 * Phi^-1(0.4)
    47.467
    """
    if not high_fare > low_fare >= 0:
        raise InputError(f"need high_fare > low_fare >= 0, got {high_fare}, {low_fare}")
    if not np.isfinite(mean) or mean < 0:
        raise InputError(f"mean must be finite and >= 0, got {mean}")
    ratio = low_fare / high_fare
    if distribution == "normal":
        if std is None or not np.isfinite(std) or std < 0:
            raise InputError(f"normal demand needs std >= 0, got {std}")
        if std == 0:
            return float(mean)
        return float(max(0.0, mean + std * stats.norm.ppf(1.0 - ratio)))
    if distribution == "poisson":
        # smallest y with sf(y) = P(D > y) <= ratio
        y = int(stats.poisson.ppf(1.0 - ratio, mean)) if ratio < 1 else 0
        y = max(y - 2, 0)
        while stats.poisson.sf(y, mean) > ratio:
            y += 1
        while y > 0 and stats.poisson.sf(y - 1, mean) <= ratio:
            y -= 1
        return float(y)
    raise InputError(f"distribution must be 'normal' or 'poisson', got {shown(distribution)}")


# ----------------------------------------------------------------------------- EMSR
def emsr_a(
    fares: Sequence[float], means: Sequence[float], stds: Sequence[float], *, monotone: bool = True
) -> np.ndarray:
    """EMSR-a nested protection levels (Belobaba 1987), normal demand.

    ``y_j = sum_{k=1..j} y_k^{j+1}`` where ``y_k^{j+1}`` is Littlewood's level
    of class ``k`` against class ``j + 1``:
    ``mu_k + sigma_k Phi^{-1}(1 - p_{j+1}/p_k)``, each truncated at 0
    (Talluri & van Ryzin 2004, sec. 2.2.3.1).

    Parameters
    ----------
    fares : sequence of float
        Strictly decreasing fares ``p_1 > ... > p_n``.
    means, stds : sequence of float
        Mean and standard deviation of each class's demand (``>= 0``).
    monotone : bool, default True
        Return the running maximum, so ``y_1 <= y_2 <= ...`` as a nested
        policy needs. Raw EMSR values can decrease when adjacent fares are
        nearly equal; ``False`` returns them unchanged.

    Returns
    -------
    numpy.ndarray
        ``n - 1`` unrounded protection levels ``y_1..y_{n-1}``.

    Raises
    ------
    ValueError
        On fares not strictly decreasing, lengths that differ, or negative values.
    """
    f = _check_fares(fares)
    mu, sd = _check_normal(f, means, stds)
    n = f.size
    y = np.empty(n - 1)
    for j in range(1, n):  # protect classes 0..j-1 against class j (0-based)
        y[j - 1] = sum(littlewood(f[k], f[j], mu[k], sd[k]) for k in range(j))
    return np.maximum.accumulate(y) if monotone and y.size else y


def emsr_b(
    fares: Sequence[float], means: Sequence[float], stds: Sequence[float], *, monotone: bool = True
) -> np.ndarray:
    """EMSR-b nested protection levels (Belobaba 1989), normal demand.

    Classes ``1..j`` are aggregated into one class with demand
    ``S_j = D_1 + ... + D_j`` (mean ``sum mu_k``, std ``sqrt(sum sigma_k^2)``,
    independent classes) and weighted-average fare
    ``pbar_j = sum p_k mu_k / sum mu_k``; then ``y_j`` is Littlewood's level of
    that class against ``p_{j+1}``: ``E S_j + sd(S_j) Phi^{-1}(1 - p_{j+1}/pbar_j)``,
    truncated at 0 (Talluri & van Ryzin 2004, sec. 2.2.3.2, eq. 2.13).

    Parameters
    ----------
    fares : sequence of float
        Strictly decreasing fares ``p_1 > ... > p_n``.
    means, stds : sequence of float
        Mean and standard deviation of each class's demand (``>= 0``).
    monotone : bool, default True
        Return the running maximum (see :func:`emsr_a`).

    Returns
    -------
    numpy.ndarray
        ``n - 1`` unrounded protection levels ``y_1..y_{n-1}``.

    Raises
    ------
    ValueError
        On fares not strictly decreasing, lengths that differ, or negative values.
    """
    f = _check_fares(fares)
    mu, sd = _check_normal(f, means, stds)
    n = f.size
    y = np.empty(n - 1)
    for j in range(1, n):
        m = mu[:j].sum()
        s = float(np.sqrt((sd[:j] ** 2).sum()))
        # weighted-average fare; with zero mean demand the weights are equal
        pbar = float((f[:j] * (mu[:j] / m)).sum()) if m > 0 else float(f[:j].mean())
        if pbar <= f[j]:  # aggregate fare not above the next fare: nothing worth protecting
            y[j - 1] = 0.0
            continue
        y[j - 1] = littlewood(pbar, f[j], m, s)
    return np.maximum.accumulate(y) if monotone and y.size else y


# -------------------------------------------------------------------- booking limits
def _round_levels(protection_levels: Sequence[float], capacity: int, rounding: str) -> np.ndarray:
    y = np.asarray(protection_levels, dtype=float)
    if y.ndim != 1:
        raise InputError("protection_levels must be 1-D")
    if np.any(~np.isfinite(y)) or np.any(y < 0):
        raise InputError(f"protection levels must be finite and >= 0, got {y.tolist()}")
    if rounding == "nearest":
        r = np.floor(y + 0.5)
    elif rounding == "up":
        r = np.ceil(y)
    elif rounding == "down":
        r = np.floor(y)
    else:
        raise InputError(f"rounding must be 'nearest', 'up' or 'down', got {shown(rounding)}")
    return np.minimum(r, capacity).astype(np.int64)


def booking_limits(
    protection_levels: Sequence[float],
    capacity: int,
    *,
    rounding: Literal["nearest", "up", "down"] = "nearest",
) -> np.ndarray:
    """Integer nested booking limits from (unrounded) protection levels.

    Each protection level is first rounded to an integer (``"nearest"``:
    halves up; ``"up"``: ceiling, i.e. protect a little more; ``"down"``:
    floor) and capped at ``capacity``; then ``b_1 = C`` and
    ``b_{j+1} = C - round(y_j)``. Class ``j`` may sell while its bookings
    plus the bookings of all *lower* classes are below ``b_j`` (nesting).

    Parameters
    ----------
    protection_levels : sequence of float
        ``y_1..y_{n-1}`` (non-negative, e.g. from :func:`emsr_b`).
    capacity : int
        Capacity ``C``.
    rounding : {"nearest", "up", "down"}
        How protection levels become integers.

    Returns
    -------
    numpy.ndarray of int64
        ``n`` booking limits ``b_1 = C >= b_2 >= ... >= b_n >= 0`` (non-increasing
        when the protection levels are non-decreasing).

    Examples
    --------
    >>> booking_limits([16.7, 50.9, 83.1], 100).tolist()
    [100, 83, 49, 17]
    """
    capacity = _check_capacity(capacity)
    y = _round_levels(protection_levels, capacity, rounding)
    return np.concatenate([[capacity], capacity - y]).astype(np.int64)


# ---------------------------------------------------------------------- exact DP
@dataclass
class DPResult:
    """Optimal nested policy of the static single-resource model.

    Attributes
    ----------
    fares : numpy.ndarray
        Fares ``p_1 > ... > p_n``.
    capacity : int
        Capacity ``C``.
    protection_levels : numpy.ndarray of int
        Optimal ``y_1..y_{n-1}`` (``y_j`` capped at ``C``).
    value_function : numpy.ndarray
        ``(n + 1, C + 1)`` array; row ``j`` is ``V_j(x)``, ``x = 0..C``, the
        optimal expected revenue from classes ``j, j-1, ..., 1`` (class ``j``
        arriving next) with ``x`` units left; row 0 is ``V_0 = 0``.
    expected_revenue : float
        ``V_n(C)``, the optimal expected revenue.
    demand_pmf : numpy.ndarray
        ``(n, C + 1)`` demand probabilities used (tail lumped at ``C``).
    """

    fares: np.ndarray
    capacity: int
    protection_levels: np.ndarray
    value_function: np.ndarray
    expected_revenue: float
    demand_pmf: np.ndarray = field(repr=False)

    @property
    def marginal_values(self) -> np.ndarray:
        """``(n + 1, C)`` array ``Delta V_j(x) = V_j(x) - V_j(x - 1)``, ``x = 1..C``."""
        return np.diff(self.value_function, axis=1)

    @property
    def bid_prices(self) -> np.ndarray:
        """Bid prices ``V_n(x) - V_n(x - 1)``, ``x = 1..C``, before any class has arrived.

        ``bid_prices[x - 1]`` is the expected revenue lost by giving away one
        unit when ``x`` are left (the opportunity cost of the ``x``-th unit).
        """
        return self.marginal_values[-1]

    def booking_limits(self) -> np.ndarray:
        """Integer booking limits ``b_1 = C, b_{j+1} = C - y_j``."""
        return booking_limits(self.protection_levels, self.capacity)

    def to_frame(self) -> pd.DataFrame:
        """Per-class table: fare, protection level for the classes above, booking limit."""
        n = self.fares.size
        return pd.DataFrame(
            {
                "fare_class": np.arange(1, n + 1),
                "fare": self.fares,
                "protection_level": np.append(self.protection_levels, np.nan),
                "booking_limit": self.booking_limits(),
            }
        ).set_index("fare_class")

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Marginal values ``Delta V_j(x)`` against remaining capacity, with the fares.

        The protection level ``y_j`` is where ``Delta V_j`` crosses ``p_{j+1}``.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4))
        else:
            fig = ax.figure
        x = np.arange(1, self.capacity + 1)
        mv = self.marginal_values
        n = self.fares.size
        for j in range(1, n + 1):
            ax.step(x, mv[j], where="mid", label=f"$\\Delta V_{j}(x)$ (classes 1..{j} to come)")
        for j in range(1, n):
            ax.axhline(self.fares[j], ls=":", lw=0.8, color="grey")
            ax.axvline(self.protection_levels[j - 1], ls="--", lw=0.6, color="grey")
        ax.set_xlabel("remaining capacity x")
        ax.set_ylabel("marginal value of the x-th unit")
        ax.set_title("Dynamic programme: marginal values and protection levels")
        ax.legend(fontsize="small")
        return fig


def _as_pmfs(demand: Sequence[DemandSpec] | np.ndarray, n: int, capacity: int) -> np.ndarray:
    if isinstance(demand, np.ndarray) and demand.ndim == 2:
        if demand.shape != (n, capacity + 1):
            raise InputError(f"a demand pmf array must have shape ({n}, {capacity + 1}), got {demand.shape}")
        return demand
    if len(demand) != n:
        raise InputError(f"need one demand spec per fare class: {n} fares, {len(demand)} demands")
    return demand_pmfs(demand, capacity)


def dp_protection_levels(
    fares: Sequence[float], demand: Sequence[DemandSpec], capacity: int
) -> DPResult:
    """Exact optimal nested protection levels of the static model by dynamic programming.

    Classes arrive lowest fare first; with ``V_0 = 0`` the Bellman recursion
    (Talluri & van Ryzin 2004, sec. 2.2.2, eq. 2.4; Brumelle & McGill 1993,
    Robinson 1995) is

    ``V_j(x) = E[ max_{0 <= u <= min(D_j, x)} { p_j u + V_{j-1}(x - u) } ]``

    computed here by brute-force maximisation over ``u`` (no concavity is
    assumed), and the optimal protection levels are
    ``y_j = max{x in 0..C : p_{j+1} < V_j(x) - V_j(x - 1)}`` (eq. 2.8), with
    ``y_j = 0`` when no unit is worth protecting and ``y_j = C`` when all are.

    Parameters
    ----------
    fares : sequence of float
        Strictly decreasing fares ``p_1 > ... > p_n``.
    demand : sequence of demand specs
        One per class: a Poisson mean, a ``(mean, std)`` normal (discretised
        by :func:`~crm_analysis.yield_management.demand.discretize_normal`), a
        frozen scipy.stats discrete distribution, or a pmf array. Demand of
        ``C`` or more is lumped at ``C`` (exact, since sales cannot exceed ``C``).
    capacity : int
        Capacity ``C``.

    Returns
    -------
    DPResult
        Protection levels, value functions, bid prices and ``V_n(C)``.

    Examples
    --------
    >>> res = dp_protection_levels([100, 60], [(20, 5), 40], capacity=50)
    >>> int(res.protection_levels[0])
    19
    """
    f = _check_fares(fares)
    capacity = _check_capacity(capacity)
    n = f.size
    pmf = _as_pmfs(demand, n, capacity)
    C = capacity
    V = np.zeros((n + 1, C + 1))
    x = np.arange(C + 1)
    u = np.arange(C + 1)
    valid = u[None, :] <= x[:, None]  # (x, u)
    xu = np.clip(x[:, None] - u[None, :], 0, None)
    for j in range(1, n + 1):
        # W[x, u] = p_j u + V_{j-1}(x - u); M[x, k] = max_{u <= min(k, x)} W[x, u]
        W = np.where(valid, f[j - 1] * u[None, :] + V[j - 1][xu], -np.inf)
        M = np.maximum.accumulate(W, axis=1)
        # demand d: best u <= min(d, x) -> column min(d, x)
        cols = np.minimum(u[None, :], x[:, None])  # (x, d)
        V[j] = (np.take_along_axis(M, cols, axis=1) * pmf[j - 1][None, :]).sum(axis=1)
    dV = np.diff(V, axis=1)  # dV[j, x-1] = V_j(x) - V_j(x-1)
    y = np.zeros(n - 1, dtype=np.int64)
    for j in range(1, n):
        above = np.nonzero(dV[j] > f[j] * (1 + 1e-12) + 1e-12)[0]
        y[j - 1] = above.max() + 1 if above.size else 0
    return DPResult(
        fares=f,
        capacity=C,
        protection_levels=y,
        value_function=V,
        expected_revenue=float(V[n, C]),
        demand_pmf=pmf,
    )


# ------------------------------------------------------------- policy evaluation
def policy_value_function(
    fares: Sequence[float],
    demand: Sequence[DemandSpec] | np.ndarray,
    capacity: int,
    protection_levels: Sequence[float],
    *,
    rounding: Literal["nearest", "up", "down"] = "nearest",
) -> np.ndarray:
    """Value functions ``V^pi_j(x)`` of a given nested policy in the static model.

    ``V^pi_j(x) = E[p_j u + V^pi_{j-1}(x - u)]`` with
    ``u = min(D_j, max(0, x - y_{j-1}))`` and ``y_0 = 0``: class ``j`` sells
    until only the protection level of the classes above it is left.

    Parameters
    ----------
    fares, demand, capacity
        As in :func:`dp_protection_levels`.
    protection_levels : sequence of float
        ``y_1..y_{n-1}``; rounded to integers as in :func:`booking_limits`.
    rounding : {"nearest", "up", "down"}
        Rounding of non-integer protection levels.

    Returns
    -------
    numpy.ndarray
        ``(n + 1, C + 1)``; row ``j`` is ``V^pi_j(x)``.
    """
    f = _check_fares(fares)
    capacity = _check_capacity(capacity)
    n = f.size
    if len(protection_levels) != n - 1:
        raise InputError(f"need {n - 1} protection levels for {n} fares, got {len(protection_levels)}")
    y = np.concatenate([[0], _round_levels(protection_levels, capacity, rounding)])
    pmf = _as_pmfs(demand, n, capacity)
    C = capacity
    x = np.arange(C + 1)
    d = np.arange(C + 1)
    V = np.zeros((n + 1, C + 1))
    for j in range(1, n + 1):
        open_units = np.maximum(0, x - y[j - 1])  # units class j may take
        sold = np.minimum(d[None, :], open_units[:, None])  # (x, d)
        V[j] = ((f[j - 1] * sold + V[j - 1][x[:, None] - sold]) * pmf[j - 1][None, :]).sum(axis=1)
    return V


def expected_revenue(
    fares: Sequence[float],
    demand: Sequence[DemandSpec] | np.ndarray,
    capacity: int,
    protection_levels: Sequence[float],
    *,
    rounding: Literal["nearest", "up", "down"] = "nearest",
) -> float:
    """Exact expected revenue of any nested policy in the static model.

    Evaluates the recursion of :func:`policy_value_function` over the classes,
    lowest fare first, and returns ``V^pi_n(C)``. First-come-first-served is
    ``protection_levels = [0] * (n - 1)``.

    Parameters
    ----------
    fares : sequence of float
        Strictly decreasing fares.
    demand : sequence of demand specs
        One per class (see :func:`dp_protection_levels`).
    capacity : int
        Capacity ``C``.
    protection_levels : sequence of float
        ``y_1..y_{n-1}`` (non-negative; rounded as in :func:`booking_limits`).
    rounding : {"nearest", "up", "down"}
        Rounding of non-integer protection levels.

    Returns
    -------
    float

    Examples
    --------
    >>> expected_revenue([100, 60], [2, 5], capacity=0, protection_levels=[0])
    0.0
    """
    V = policy_value_function(fares, demand, capacity, protection_levels, rounding=rounding)
    return float(V[-1, -1])
