"""Dynamic capacity control: the discrete-time dynamic programme with time-dependent arrivals.

The model of Lee & Hersh (1993) and Talluri & van Ryzin (2004, sec. 2.5):
time runs in ``T`` periods, small enough that at most one request arrives in
each; with ``t`` periods to go a request of fare class ``j`` arrives with
probability ``lambda_{t,j}`` (``sum_j lambda_{t,j} <= 1``; the rest is "no
request"). With ``x`` units left the value function is

``V_t(x) = V_{t-1}(x) + sum_j lambda_{t,j} * max(p_j - Delta V_{t-1}(x), 0)``,
``V_0(x) = 0``, ``Delta V_{t-1}(x) = V_{t-1}(x) - V_{t-1}(x - 1)``

(T&vR eq. 2.23): a class-``j`` request is accepted when ``p_j >= Delta
V_{t-1}(x)``, the *bid price* of the ``x``-th unit with ``t - 1`` periods to
go. The optimal policy is nested with time-dependent protection levels
``y_j(t) = max{x : Delta V_{t-1}(x) > p_{j+1}}`` (classes ``1..j`` are
protected ``y_j(t)`` units; T&vR Prop. 2.8).

When classes arrive strictly low-before-high (all class-``n`` periods
first, then class ``n - 1``, ...), class ``j``'s demand over its block of
periods is binomial and the model is the static model of
:mod:`~crm_analysis.yield_management.capacity`: the values and protection
levels equal :func:`~crm_analysis.yield_management.capacity.dp_protection_levels`
with binomial demand (tested).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crm_analysis._validate import check_count
from crm_analysis.yield_management.capacity import _check_fares

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DynamicDPResult", "dynamic_programme", "arrival_probabilities"]


@dataclass
class DynamicDPResult:
    """Optimal dynamic (time-dependent) capacity control of one resource.

    Attributes
    ----------
    fares : numpy.ndarray
        Fares ``p_1 > ... > p_n``.
    capacity : int
    arrival_probabilities : numpy.ndarray
        ``(T, n)``; row ``t - 1`` holds ``lambda_{t,j}`` (``t`` periods to go).
    value_function : numpy.ndarray
        ``(T + 1, C + 1)``; row ``t`` is ``V_t(x)``.
    expected_revenue : float
        ``V_T(C)``.
    periods_per_day : int
        Periods in one day (for reading ``t`` as days before; 1 when built directly).
    """

    fares: np.ndarray
    capacity: int
    arrival_probabilities: np.ndarray = field(repr=False)
    value_function: np.ndarray = field(repr=False)
    expected_revenue: float
    periods_per_day: int = 1

    @cached_property
    def bid_prices(self) -> np.ndarray:
        """``(T, C)`` array: ``bid_prices[t - 1, x - 1] = Delta V_{t-1}(x)``, the bid price with ``t`` periods to go."""
        return np.diff(self.value_function[:-1], axis=1)

    @cached_property
    def protection_levels(self) -> np.ndarray:
        """``(T, n - 1)`` integer array: ``y_j(t)`` in row ``t - 1``, column ``j - 1``."""
        bp = self.bid_prices  # (T, C), non-increasing in x
        f = self.fares
        out = np.zeros((bp.shape[0], f.size - 1), dtype=np.int64)
        for j in range(1, f.size):
            above = bp > f[j] * (1 + 1e-12) + 1e-12
            out[:, j - 1] = above.sum(axis=1)  # count of x with Delta V > p_{j+1} = max such x (monotone)
        return out

    def accept(self, t: int, x: int, fare_class: int) -> bool:
        """Whether a request of class ``fare_class`` (1-based) is accepted with ``t`` periods to go and ``x`` units left.

        Parameters
        ----------
        t : int
            Periods to go, ``1..T``.
        x : int
            Units left, ``0..C`` (none left: refused).
        fare_class : int
            Class ``1..n`` (1: the highest fare).

        Returns
        -------
        bool

        Raises
        ------
        ValueError
            On ``t``, ``x`` or ``fare_class`` outside those ranges (a 0 or a negative number would
            otherwise index the arrays from their end).
        """
        T = self.bid_prices.shape[0]
        t = check_count(t, "t (periods to go)", minimum=1)
        x = check_count(x, "x (units left)", minimum=0)
        j = check_count(fare_class, "fare_class", minimum=1)
        if t > T:
            raise InputError(f"t (periods to go) must be in 1..{T} (the programme's periods), got {t}")
        if x > self.capacity:
            raise InputError(f"x (units left) must be in 0..{self.capacity} (the capacity), got {x}")
        if j > self.fares.size:
            raise InputError(f"fare_class must be in 1..{self.fares.size} (1: the highest fare), got {j}")
        if x == 0:
            return False
        return bool(self.fares[j - 1] >= self.bid_prices[t - 1, x - 1])

    def protection_frame(self, *, days_before: Sequence[int] = (180, 90, 60, 30, 14, 7, 1)) -> pd.DataFrame:
        """Protection levels and the bid price of the last unit by days before arrival.

        Parameters
        ----------
        days_before : sequence of int
            Days before arrival, each in ``0..T / periods_per_day`` (0 reads the last period).

        Returns
        -------
        pandas.DataFrame
            Index ``days_before``; ``protect_1..j`` (``y_j``) and ``bid_price_last_unit``
            (``Delta V(C)``, at full capacity) and ``bid_price_one_left`` (``Delta V(1)``).

        Raises
        ------
        ValueError
            On a day beyond the programme's horizon (it was shown with the values of the horizon's first
            period, labelled with the day asked for).
        """
        k = self.periods_per_day
        T = self.bid_prices.shape[0]
        bad = [int(d) for d in days_before if int(d) < 0 or int(d) * k > T]
        if bad:
            raise InputError(f"days_before {bad} outside the programme's horizon of 0..{T // k} days "
                             f"({T} periods, {k} a day); ask for days within it")
        rows = {}
        y = self.protection_levels
        for d in days_before:
            t = min(max(int(d) * k, 1), T)
            row = {f"protect_1..{j}": int(y[t - 1, j - 1]) for j in range(1, self.fares.size)}
            row["bid_price_at_capacity"] = float(self.bid_prices[t - 1, -1]) if self.capacity else np.nan
            row["bid_price_one_left"] = float(self.bid_prices[t - 1, 0]) if self.capacity else np.nan
            rows[int(d)] = row
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("days_before")

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Protection levels ``y_j(t)`` against days before arrival."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4))
        else:
            fig = ax.figure
        y = self.protection_levels
        days = np.arange(1, y.shape[0] + 1) / self.periods_per_day
        for j in range(y.shape[1]):
            ax.step(days, y[:, j], where="post", label=f"classes 1..{j + 1} (fare >= {self.fares[j]:,.0f})")
        ax.invert_xaxis()
        ax.set_xlabel("days before arrival")
        ax.set_ylabel("rooms protected")
        ax.set_title("Dynamic programme: protection levels by time to arrival")
        ax.legend(fontsize="small")
        return fig


def dynamic_programme(
    fares: Sequence[float], arrival_probabilities: np.ndarray, capacity: int, *, periods_per_day: int = 1
) -> DynamicDPResult:
    """Solve the discrete-time dynamic programme of Lee & Hersh (1993) (T&vR 2004, sec. 2.5).

    Parameters
    ----------
    fares : sequence of float
        Strictly decreasing fares ``p_1 > ... > p_n``.
    arrival_probabilities : array-like, shape (T, n)
        Row ``t - 1``: probability of a request of each class in the period
        with ``t`` periods to go; entries ``>= 0``, row sums ``<= 1``.
    capacity : int
        Units ``C``.
    periods_per_day : int, default 1
        Periods per day (only for reading results by days before).

    Returns
    -------
    DynamicDPResult

    Raises
    ------
    ValueError
        On fares not strictly decreasing, a shape that does not match the
        fares, negative probabilities or a period with total probability > 1.

    Examples
    --------
    >>> r = dynamic_programme([100, 50], [[0.5, 0.0], [0.0, 0.9]], capacity=1)
    >>> r.expected_revenue   # last period: 0.5 * 100; first: the low fare only if it beats 50
    50.0
    """
    f = _check_fares(fares)
    C = check_count(capacity, "capacity", minimum=0)
    lam = np.asarray(arrival_probabilities, dtype=float)
    if lam.ndim != 2 or lam.shape[1] != f.size:
        raise InputError(f"arrival_probabilities must have shape (T, {f.size}) (one column per fare), got {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise InputError("arrival_probabilities must be finite and >= 0")
    tot = lam.sum(axis=1)
    if np.any(tot > 1 + 1e-9):
        t = int(np.argmax(tot)) + 1
        raise InputError(f"period with {t} periods to go has total arrival probability {tot.max():.3f} > 1; "
                         "use more periods per day (at most one request per period)")
    T = lam.shape[0]
    V = np.zeros((T + 1, C + 1))
    for t in range(1, T + 1):
        prev = V[t - 1]
        dv = np.empty(C + 1)
        dv[0] = np.inf  # nothing to sell with 0 units
        dv[1:] = np.diff(prev)
        gain = np.maximum(f[None, :] - dv[:, None], 0.0)  # (C+1, n)
        V[t] = prev + gain @ lam[t - 1]
    return DynamicDPResult(f, C, lam, V, float(V[T, C]), int(periods_per_day))


def arrival_probabilities(
    daily_rates: np.ndarray, *, max_probability: float = 0.2
) -> tuple[np.ndarray, int]:
    """Per-period arrival probabilities from expected requests per day before arrival.

    Each day is cut into ``k`` periods, ``k`` the smallest integer with
    ``max over days of sum_j rate / k <= max_probability``, and each period
    gets ``rate / k`` (the Poisson process approximated by at most one
    request per period; T&vR sec. 2.5.1).

    Parameters
    ----------
    daily_rates : array-like, shape (D, n)
        Row ``d - 1``: expected requests of each class on the day ``d`` days
        before arrival (``d = 1..D``).
    max_probability : float, default 0.2
        Largest total request probability in a period.

    Returns
    -------
    (numpy.ndarray, int)
        ``(D * k, n)`` probabilities (row ``t - 1``: ``t`` periods to go) and ``k``.
    """
    r = np.asarray(daily_rates, dtype=float)
    if r.ndim != 2 or np.any(~np.isfinite(r)) or np.any(r < 0):
        raise InputError("daily_rates must be a 2-D array of finite rates >= 0 (days x classes)")
    if not 0 < max_probability <= 1:
        raise InputError(f"max_probability must be in (0, 1], got {max_probability}")
    k = max(1, int(np.ceil(r.sum(axis=1).max(initial=0.0) / max_probability)))
    return np.repeat(r / k, k, axis=0), k
