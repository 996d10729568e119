"""Side-by-side comparison of FCFS, EMSR-b and DP per season (notebook glue in the package)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_analysis.yield_management.capacity import booking_limits, dp_protection_levels, emsr_b, expected_revenue
from crm_analysis.yield_management.demand import demand_pmf
from crm_analysis.yield_management.seasons import allocation_inputs

__all__ = ["SeasonComparison", "compare_policies_by_season"]


@dataclass
class SeasonComparison:
    """Protection levels, booking limits and exact expected revenue per season.

    Attributes
    ----------
    controls : pandas.DataFrame
        Index ``(season, fare_class)``: ``fare``, ``demand_mean``, ``demand_std``,
        ``emsr_b_protection`` (unrounded ``y_j`` for the classes above the next
        class, on the row of class ``j``), ``dp_protection``, and the integer
        booking limits ``emsr_b_limit`` and ``dp_limit`` of each class.
    revenue : pandas.DataFrame
        Index ``season``: exact expected revenue per night of ``FCFS``,
        ``EMSR-b`` and ``DP``, ``n_dates``, and the uplifts over FCFS in %.
    inputs : dict
        Per season ``(classes, fares, demand specs)``, as given to the models.
    """

    controls: pd.DataFrame
    revenue: pd.DataFrame
    inputs: dict[str, tuple[list[str], np.ndarray, list[tuple[float, float]]]]


def _moments(spec: tuple[float, float], capacity: int) -> tuple[float, float]:
    """Mean and std of the discretised demand (what the DP sees, before truncation)."""
    upper = int(np.ceil(spec[0] + 10 * spec[1])) + 1
    p = demand_pmf(spec, max(upper, capacity))
    k = np.arange(p.size)
    m = float(p @ k)
    return m, float(np.sqrt(max(p @ k**2 - m * m, 0.0)))


def compare_policies_by_season(
    fares: pd.Series, season_demand: pd.DataFrame, capacity: int
) -> SeasonComparison:
    """EMSR-b and DP controls and exact expected revenues of FCFS/EMSR-b/DP per season.

    Parameters
    ----------
    fares : pandas.Series
        Fare by class (e.g. ``fares_from_bookings(...)["fare"]``).
    season_demand : pandas.DataFrame
        Index ``(season, fare_class)`` with ``mean``, ``std`` (and optionally
        ``n_dates``), from :func:`~crm_analysis.yield_management.seasons.season_demand`.
    capacity : int
        Rooms.

    Returns
    -------
    SeasonComparison

    Notes
    -----
    Demand of a class is the normal ``(mean, std)`` discretised as
    ``max(0, round(X))``; EMSR-b is given the mean and std of that discrete
    distribution, so all three policies are evaluated on one demand model.
    """
    rows, rev, inputs = [], [], {}
    for season in season_demand.index.get_level_values(0).unique():
        d = season_demand.loc[season]
        classes, f, specs = allocation_inputs(fares, d)
        inputs[str(season)] = (classes, f, specs)
        mom = np.array([_moments(s, capacity) for s in specs])
        y_b = emsr_b(f, mom[:, 0], mom[:, 1]) if f.size > 1 else np.array([])
        dp = dp_protection_levels(f, specs, capacity)
        lim_b = booking_limits(y_b, capacity)
        lim_dp = booking_limits(dp.protection_levels, capacity)
        for j, c in enumerate(classes):
            rows.append(
                {
                    "season": season,
                    "fare_class": c,
                    "fare": f[j],
                    "demand_mean": mom[j, 0],
                    "demand_std": mom[j, 1],
                    "emsr_b_protection": y_b[j] if j < y_b.size else np.nan,
                    "dp_protection": dp.protection_levels[j] if j < y_b.size else np.nan,
                    "emsr_b_limit": lim_b[j],
                    "dp_limit": lim_dp[j],
                }
            )
        r = {
            "season": season,
            "FCFS": expected_revenue(f, specs, capacity, np.zeros(f.size - 1)),
            "EMSR-b": expected_revenue(f, specs, capacity, y_b),
            "DP": dp.expected_revenue,
        }
        if "n_dates" in d.columns:
            r["n_dates"] = int(d["n_dates"].max())
        rev.append(r)
    revenue = pd.DataFrame(rev).set_index("season")
    for p in ("EMSR-b", "DP"):
        revenue[f"{p}_uplift_pct"] = 100 * (revenue[p] / revenue["FCFS"] - 1)
    return SeasonComparison(
        controls=pd.DataFrame(rows).set_index(["season", "fare_class"]), revenue=revenue, inputs=inputs
    )
