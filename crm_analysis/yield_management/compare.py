"""Side-by-side comparison of FCFS, EMSR-b and DP per season or per night (notebook glue in the package).

:func:`compare_policies_by_season` evaluates one "random night" per season
(the season's demand mixed over its nights). Averaging flattens exactly the
nights where capacity binds, so :func:`evaluate_nights` instead makes the
decision for every forecast night from that night's own class means and
standard deviations (EMSR-b and DP protection levels, exact expected revenue
of FCFS, EMSR-b and DP), and aggregates afterwards; its
:meth:`NightlyComparison.group_decision` prices a group on its actual nights.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crm_analysis._dates import parse_date
from crm_analysis._validate import check_count
from crm_analysis.yield_management.capacity import booking_limits, dp_protection_levels, emsr_b, expected_revenue
from crm_analysis.yield_management.demand import demand_pmf
from crm_analysis.yield_management.groups import GroupDecision, evaluate_group_request
from crm_analysis.yield_management.seasons import _check_forecasts, allocation_inputs

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["SeasonComparison", "compare_policies_by_season", "NightlyComparison", "evaluate_nights"]


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
    capacity = check_count(capacity, "capacity", minimum=1)
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


@dataclass
class NightlyComparison:
    """FCFS, EMSR-b and DP decided and valued night by night.

    Attributes
    ----------
    nights : pandas.DataFrame
        Index ``date``: ``demand_mean`` (expected total demand of the night,
        all classes), ``demand_std`` (std of the total, classes independent),
        ``load`` (``demand_mean / capacity``), ``over_capacity`` (expected
        demand above the rooms), exact expected revenue ``FCFS``, ``EMSR-b``,
        ``DP``, the uplifts ``EMSR-b_uplift`` / ``DP_uplift`` over FCFS (money)
        and ``..._uplift_pct``, ``bid_price`` (``V(C) - V(C - 1)``: value of
        the last room), and ``dp_protection_<class>`` /
        ``emsr_b_protection_<class>`` (rooms protected for that class and all
        higher ones).
    classes : list of str
        Fare classes, highest fare first.
    fares : numpy.ndarray
        Their fares.
    capacity : int
    specs : dict
        Per night the ``(mean, std)`` demand spec of each class.
    """

    nights: pd.DataFrame
    classes: list[str]
    fares: np.ndarray
    capacity: int
    specs: dict[pd.Timestamp, list[tuple[float, float]]] = field(repr=False, default_factory=dict)

    def summary(self, *, by: pd.Series | str = "month") -> pd.DataFrame:
        """Expected revenue and uplift aggregated over groups of nights.

        Parameters
        ----------
        by : {"month", "year"} or pandas.Series
            ``"month"`` (calendar month of the night), ``"year"`` (all nights
            as one row ``"all"``) or a Series of labels indexed by date (e.g.
            seasons).

        Returns
        -------
        pandas.DataFrame
            Per group: ``nights``, ``nights_over_capacity``, ``mean_load``,
            summed expected revenue ``FCFS``, ``EMSR-b``, ``DP``, uplifts in
            money and %, and the uplift of each policy on the
            over-capacity nights only (``DP_uplift_over_capacity``).
        """
        n = self.nights
        if isinstance(by, str):
            if by == "month":
                key = pd.Series(n.index.to_period("M").astype(str), index=n.index, name="month")
            elif by == "year":
                key = pd.Series("all", index=n.index, name="period")
            else:
                raise InputError(f"by must be 'month', 'year' or a Series, got {shown(by)}")
        else:
            key = by.reindex(n.index)
            if key.isna().any():
                raise InputError(f"by has no label for {int(key.isna().sum())} nights")
        g = n.groupby(key, observed=True, sort=True)
        out = pd.DataFrame({
            "nights": g.size(),
            "nights_over_capacity": g["over_capacity"].sum(),
            "mean_load": g["load"].mean(),
            "FCFS": g["FCFS"].sum(),
            "EMSR-b": g["EMSR-b"].sum(),
            "DP": g["DP"].sum(),
        })
        for p in ("EMSR-b", "DP"):
            out[f"{p}_uplift"] = out[p] - out["FCFS"]
            out[f"{p}_uplift_pct"] = 100 * (out[p] / out["FCFS"] - 1)
            oc = n.loc[n["over_capacity"]]
            out[f"{p}_uplift_over_capacity"] = (oc[f"{p}_uplift"]).groupby(key.loc[oc.index], observed=True).sum()
        return out.fillna({"EMSR-b_uplift_over_capacity": 0.0, "DP_uplift_over_capacity": 0.0})

    def group_decision(
        self, arrival: object, group_size: int, group_rate: float, nights: int, *, future_value: float = 0.0
    ) -> GroupDecision:
        """Accept or reject a group arriving on ``arrival`` for ``nights`` nights.

        The displacement cost of each night is ``V(C) - V(C - g)`` from the DP
        value function of *that* night's demand
        (:func:`~crm_analysis.yield_management.groups.evaluate_group_request`
        with ``per_night=True``).

        Parameters
        ----------
        arrival : date-like
            First night of the stay; all its nights must be evaluated nights.
        group_size, group_rate, nights, future_value
            As in :func:`~crm_analysis.yield_management.groups.evaluate_group_request`.

        Returns
        -------
        GroupDecision
        """
        first = parse_date(arrival, "arrival", tz="reject", time="reject")
        dates = pd.date_range(first, periods=int(nights), freq="D")
        missing = [d.date().isoformat() for d in dates if d not in self.specs]
        if missing:
            raise InputError(f"group stay includes nights without a forecast: {', '.join(missing)}")
        return evaluate_group_request(
            group_size, group_rate, nights, self.capacity, self.fares, [self.specs[d] for d in dates],
            per_night=True, future_value=future_value,
        )

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Expected demand per night vs capacity, and the DP uplift per night.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(10, 3.6))
        else:
            fig = ax.figure
        n = self.nights
        ax.plot(n.index, n["demand_mean"], color="C0", lw=0.9, label="expected demand (all classes)")
        ax.axhline(self.capacity, color="black", ls="--", lw=0.8, label=f"capacity ({self.capacity})")
        ax.set_xlabel("night")
        ax.set_ylabel("room-nights")
        ax2 = ax.twinx()
        ax2.bar(n.index, n["DP_uplift"], color="C3", alpha=0.5, width=1.0, label="DP uplift over FCFS")
        ax2.set_ylabel("expected revenue uplift per night")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize="small", loc="upper left")
        ax.set_title("Expected demand per night and what capacity control adds (DP vs FCFS)")
        fig.tight_layout()
        return fig


def evaluate_nights(
    forecasts: pd.DataFrame, fares: pd.Series, capacity: int, *, progress: bool = False
) -> NightlyComparison:
    """EMSR-b and DP controls and exact expected revenue of FCFS/EMSR-b/DP for every forecast night.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        ``date``, ``fare_class``, ``mean``, ``std`` (the ``forecasts``
        artefact): each night's demand per class is the normal
        ``(mean, std)``, discretised as ``max(0, round(X))``.
    fares : pandas.Series
        Fare by class; only classes in both inputs are used, highest fare first.
    capacity : int
        Rooms.
    progress : bool, default False
        Progress bar over nights.

    Returns
    -------
    NightlyComparison

    Notes
    -----
    Same static model as :func:`compare_policies_by_season` (lowest fare books
    first, classes independent), solved once per night. DP is optimal in
    this model, so its uplift over FCFS is never negative; on nights whose
    demand cannot reach the rooms every policy sells to everyone and the
    uplift is 0.
    """
    from tqdm import tqdm

    _check_forecasts(forecasts)
    C = check_count(capacity, "capacity", minimum=1)
    rows, specs_by_night = [], {}
    classes_ref: list[str] | None = None
    f_ref = np.array([])
    for date, d in tqdm(forecasts.groupby("date", sort=True), desc="nights", disable=not progress, leave=False):
        d = d.assign(fare_class=d["fare_class"].astype(str)).set_index("fare_class")
        classes, f, specs = allocation_inputs(fares, d)
        if classes_ref is None:
            classes_ref, f_ref = classes, f
        elif classes != classes_ref:
            raise InputError(f"night {pd.Timestamp(date).date()} has classes {classes}, others {classes_ref}")
        mom = np.array([_moments(s, C) for s in specs])
        y_b = emsr_b(f, mom[:, 0], mom[:, 1]) if f.size > 1 else np.array([])
        dp = dp_protection_levels(f, specs, C)
        V = dp.value_function[-1]
        ts = pd.Timestamp(date)
        specs_by_night[ts] = specs
        row = {
            "date": ts,
            "demand_mean": float(mom[:, 0].sum()),
            "demand_std": float(np.sqrt((mom[:, 1] ** 2).sum())),
            "FCFS": expected_revenue(f, specs, C, np.zeros(f.size - 1)) if f.size > 1 else dp.expected_revenue,
            "EMSR-b": expected_revenue(f, specs, C, y_b) if f.size > 1 else dp.expected_revenue,
            "DP": dp.expected_revenue,
            "bid_price": float(V[C] - V[C - 1]),
        }
        for j, c in enumerate(classes[:-1]):
            row[f"dp_protection_{c}"] = int(dp.protection_levels[j])
            row[f"emsr_b_protection_{c}"] = float(y_b[j])
        rows.append(row)
    if not rows:
        raise InputError("forecasts has no nights")
    nights = pd.DataFrame(rows).set_index("date")
    nights["load"] = nights["demand_mean"] / C
    nights["over_capacity"] = nights["demand_mean"] > C
    for p in ("EMSR-b", "DP"):
        nights[f"{p}_uplift"] = nights[p] - nights["FCFS"]
        nights[f"{p}_uplift_pct"] = 100 * (nights[p] / nights["FCFS"].where(nights["FCFS"] > 0) - 1)
    return NightlyComparison(nights=nights, classes=list(classes_ref), fares=f_ref, capacity=C, specs=specs_by_night)
