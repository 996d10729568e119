"""Monte-Carlo comparison of capacity-control policies on common random numbers.

One booking horizon of a single resource (one night of a hotel) is simulated
``n_simulations`` times. Demand of each class is drawn once per simulation and
every policy faces the *same* draws (and, for interleaved arrivals, the same
arrival order), so differences between policies are measured with little noise.

Arrival patterns
----------------
``"static"``
    the static model of :mod:`~crm_analysis.yield_management.capacity`: all of
    class ``n`` (lowest fare) books first, then class ``n - 1``, ..., class 1
    last. The DP policy is optimal here.
``"random"``
    the individual requests of all classes arrive in a uniformly random order.
    The policies are applied unchanged (the DP levels are then a heuristic).

A nested policy with protection levels ``y`` accepts a class-``j`` request
while more than ``y_{j-1}`` rooms are left (``y_0 = 0``).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from crm_analysis._validate import check_count
from crm_analysis.yield_management.capacity import _check_fares, _round_levels, dp_protection_levels, emsr_b
from crm_analysis.yield_management.demand import DemandSpec, demand_pmf, sample_demand

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["simulate_policies", "SimulationResult", "default_policies"]


@dataclass
class SimulationResult:
    """Per-simulation outcomes of each policy and their summary.

    Attributes
    ----------
    revenue : pandas.DataFrame
        ``(n_simulations, n_policies)`` revenue per simulation.
    sold : numpy.ndarray
        ``(n_policies, n_simulations, n_classes)`` rooms sold per class.
    spilled : numpy.ndarray
        ``(n_policies, n_simulations)`` requests rejected because the resource
        was sold out.
    denied : numpy.ndarray
        ``(n_policies, n_simulations)`` requests rejected by the control while
        rooms were still free (the class was closed to protect them).
    demand : numpy.ndarray
        ``(n_simulations, n_classes)`` demand draws (shared by all policies).
    fares : numpy.ndarray
    capacity : int
    protection_levels : dict
        The integer protection levels of each policy.
    arrival : str
    """

    revenue: pd.DataFrame
    sold: np.ndarray
    spilled: np.ndarray
    denied: np.ndarray
    demand: np.ndarray
    fares: np.ndarray
    capacity: int
    protection_levels: dict[str, np.ndarray]
    arrival: str

    def summary(self, *, baseline: str | None = "FCFS") -> pd.DataFrame:
        """Metrics per policy.

        Columns: ``mean_revenue``, ``ci_low``/``ci_high`` (95% normal CI of the
        mean), ``load_factor`` (mean rooms sold / capacity), ``yield`` (mean
        revenue / (capacity * top fare)), ``spill`` (mean requests rejected
        when sold out), ``denied`` (mean requests rejected by the control),
        and, with a ``baseline`` policy, ``uplift`` (mean paired difference)
        with its 95% CI (``uplift_ci_low``/``uplift_ci_high``, common random
        numbers).
        """
        R = self.revenue
        n = len(R)
        mean = R.mean()
        se = R.std(ddof=1) / np.sqrt(n)
        sold_total = self.sold.sum(axis=2)
        out = pd.DataFrame(
            {
                "mean_revenue": mean,
                "ci_low": mean - 1.96 * se,
                "ci_high": mean + 1.96 * se,
                "load_factor": sold_total.mean(axis=1) / self.capacity,
                "yield": mean / (self.capacity * self.fares[0]),
                "spill": self.spilled.mean(axis=1),
                "denied": self.denied.mean(axis=1),
            },
            index=R.columns,
        )
        out.index.name = "policy"
        if baseline is not None and baseline in R.columns:
            diff = R.sub(R[baseline], axis=0)
            dse = diff.std(ddof=1) / np.sqrt(n)
            out["uplift"] = diff.mean()
            out["uplift_ci_low"] = diff.mean() - 1.96 * dse
            out["uplift_ci_high"] = diff.mean() + 1.96 * dse
        return out

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Mean revenue per policy with 95% confidence intervals."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 3.5))
        else:
            fig = ax.figure
        s = self.summary(baseline=None)
        x = np.arange(len(s))
        ax.bar(x, s["mean_revenue"], color=[f"C{i}" for i in x])
        ax.errorbar(x, s["mean_revenue"], yerr=[s["mean_revenue"] - s["ci_low"], s["ci_high"] - s["mean_revenue"]],
                    fmt="none", color="k", capsize=4)
        ax.set_xticks(x, s.index)
        lo = float(s["ci_low"].min())
        hi = float(s["ci_high"].max())
        ax.set_ylim(lo - 0.5 * (hi - lo + 1), hi + 0.3 * (hi - lo + 1))
        ax.set_xlabel("policy")
        ax.set_ylabel("mean revenue per night")
        ax.set_title(f"Simulated revenue ({len(self.revenue)} runs, {self.arrival} arrivals, 95% CI)")
        return fig


def default_policies(
    fares: Sequence[float], demand: Sequence[DemandSpec], capacity: int
) -> dict[str, np.ndarray]:
    """FCFS, EMSR-b and DP protection levels for the given demand.

    EMSR-b needs means and standard deviations: they are taken from the
    discretised demand distributions (``demand_pmf`` on a wide support).
    """
    f = _check_fares(fares)
    upper = max(check_count(capacity, "capacity", minimum=0), 1) * 4 + 50
    pmfs = [demand_pmf(d, upper) for d in demand]
    k = np.arange(upper + 1)
    means = np.array([p @ k for p in pmfs])
    stds = np.sqrt(np.maximum(np.array([p @ k**2 for p in pmfs]) - means**2, 0.0))
    return {
        "FCFS": np.zeros(f.size - 1),
        "EMSR-b": emsr_b(f, means, stds),
        "DP": dp_protection_levels(f, demand, capacity).protection_levels.astype(float),
    }


def _run_static(D: np.ndarray, f: np.ndarray, C: int, y: np.ndarray):
    S, n = D.shape
    rem = np.full(S, C, dtype=np.int64)
    sold = np.zeros((S, n), dtype=np.int64)
    spilled = np.zeros(S, dtype=np.int64)
    denied = np.zeros(S, dtype=np.int64)
    for j in range(n - 1, -1, -1):  # lowest fare first
        open_units = np.maximum(0, rem - y[j])
        acc = np.minimum(D[:, j], open_units)
        rem -= acc
        rej = D[:, j] - acc
        spilled += np.where(rem == 0, rej, 0)
        denied += np.where(rem > 0, rej, 0)
        sold[:, j] = acc
    return sold, spilled, denied


def _arrival_order(D: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(S, K)`` array of class indices in random order per simulation, -1 padded."""
    S, n = D.shape
    tot = D.sum(axis=1)
    K = int(tot.max()) if S else 0
    sim = np.repeat(np.repeat(np.arange(S), n), D.ravel())
    cls = np.repeat(np.tile(np.arange(n), S), D.ravel())
    key = rng.random(sim.size)
    order = np.lexsort((key, sim))
    sim, cls = sim[order], cls[order]
    start = np.concatenate([[0], np.cumsum(tot)[:-1]])
    pos = np.arange(sim.size) - start[sim]
    out = np.full((S, K), -1, dtype=np.int64)
    out[sim, pos] = cls
    return out


def _run_random(order: np.ndarray, f: np.ndarray, C: int, y: np.ndarray):
    S, K = order.shape
    n = f.size
    rem = np.full(S, C, dtype=np.int64)
    sold = np.zeros((S, n), dtype=np.int64)
    spilled = np.zeros(S, dtype=np.int64)
    denied = np.zeros(S, dtype=np.int64)
    rows = np.arange(S)
    for k in range(K):  # loop over arrival positions, vectorised over simulations
        c = order[:, k]
        active = c >= 0
        cc = np.where(active, c, 0)
        acc = active & (rem > y[cc])
        rej = active & ~acc
        spilled += rej & (rem == 0)
        denied += rej & (rem > 0)
        rem -= acc
        np.add.at(sold, (rows[acc], cc[acc]), 1)
    return sold, spilled, denied


def simulate_policies(
    fares: Sequence[float],
    demand: Sequence[DemandSpec],
    capacity: int,
    *,
    n_simulations: int = 2000,
    seed: int = 42,
    policies: Mapping[str, Sequence[float]] | None = None,
    arrival: Literal["static", "random"] = "static",
    rounding: Literal["nearest", "up", "down"] = "nearest",
) -> SimulationResult:
    """Simulate nested booking policies on common demand draws.

    Parameters
    ----------
    fares : sequence of float
        Strictly decreasing fares ``p_1 > ... > p_n``.
    demand : sequence of demand specs
        One per class (Poisson mean, ``(mean, std)`` normal rounded to integers
        and censored at 0, or a frozen scipy.stats discrete distribution).
    capacity : int
        Rooms ``C``.
    n_simulations : int, default 2000
        Number of simulated horizons.
    seed : int, default 42
        Seed of ``numpy.random.default_rng``.
    policies : mapping of name to protection levels, optional
        ``y_1..y_{n-1}`` per policy; default :func:`default_policies`
        (FCFS, EMSR-b, DP).
    arrival : {"static", "random"}
        Arrival pattern (see the module docstring).
    rounding : {"nearest", "up", "down"}
        Rounding of non-integer protection levels (as in ``booking_limits``).

    Returns
    -------
    SimulationResult
    """
    f = _check_fares(fares)
    C = check_count(capacity, "capacity", minimum=0)
    if len(demand) != f.size:
        raise InputError(f"need one demand spec per class: {f.size} fares, {len(demand)} demands")
    if int(n_simulations) < 2:
        raise InputError(f"n_simulations must be >= 2, got {n_simulations}")
    if arrival not in ("static", "random"):
        raise InputError(f"arrival must be 'static' or 'random', got {shown(arrival)}")
    if policies is None:
        policies = default_policies(f, demand, C)
    rng = np.random.default_rng(seed)
    S = int(n_simulations)
    D = np.column_stack([sample_demand(d, S, rng) for d in demand])
    order = _arrival_order(D, rng) if arrival == "random" else None
    names = list(policies)
    levels: dict[str, np.ndarray] = {}
    sold_all, spill_all, den_all, rev = [], [], [], {}
    for name in names:
        y = np.asarray(policies[name], dtype=float)
        if y.shape != (f.size - 1,):
            raise InputError(f"policy {name!r}: need {f.size - 1} protection levels, got {y.size}")
        yi = _round_levels(y, C, rounding)
        levels[name] = yi
        y_ext = np.concatenate([[0], yi])  # class j (0-based) keeps y_ext[j] for the classes above
        if arrival == "static":
            sold, spilled, denied = _run_static(D, f, C, y_ext)
        else:
            sold, spilled, denied = _run_random(order, f, C, y_ext)
        sold_all.append(sold)
        spill_all.append(spilled)
        den_all.append(denied)
        rev[name] = sold @ f
    return SimulationResult(
        revenue=pd.DataFrame(rev),
        sold=np.stack(sold_all),
        spilled=np.stack(spill_all),
        denied=np.stack(den_all),
        demand=D,
        fares=f,
        capacity=C,
        protection_levels=levels,
        arrival=arrival,
    )
