"""Group requests and multi-night stays: displacement cost and the network LP.

A tour group asking early for ``g`` rooms at a low rate displaces later
individual demand. With the optimal value function of the static model
(:func:`~crm_analysis.yield_management.capacity.dp_protection_levels`) the
expected revenue lost on one night is the *displacement cost*
``V_n(C) - V_n(C - g)`` (Talluri & van Ryzin 2004, sec. 2.2.2 and 10.4.2 on
group bookings): the hotel still manages the remaining ``C - g`` rooms
optimally. Accept the group when its revenue (plus any expected future value
of the customer, e.g. from the CLV models) covers the displacement summed
over the nights of the stay.

:func:`multi_night_lp` is the deterministic linear programme over several
nights (Talluri & van Ryzin 2004, sec. 3.3.1): its capacity duals are the
nights' *bid prices*, and a product is worth selling iff its fare covers the
sum of the bid prices of the nights it uses.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from crm_analysis._validate import check_count
from crm_analysis.yield_management.capacity import dp_protection_levels
from crm_analysis.yield_management.demand import DemandSpec

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "GroupDecision",
    "evaluate_group_request",
    "GroupFutureValue",
    "group_future_value",
    "multi_night_lp",
    "MultiNightLPResult",
]


@dataclass
class GroupDecision:
    """Outcome of :func:`evaluate_group_request`, with every figure used.

    Attributes
    ----------
    group_size, group_rate, nights, capacity
        The request and the hotel.
    group_revenue : float
        ``group_size * group_rate * nights``.
    future_value : float
        Expected future value of the group's customers credited to the decision.
    displacement_per_night : numpy.ndarray
        ``V_n(C) - V_n(C - g)`` per night (expected individual revenue lost).
    expected_revenue_without_group : numpy.ndarray
        ``V_n(C)`` per night.
    displacement_cost : float
        Sum of the nightly displacement costs.
    net_benefit : float
        ``group_revenue + future_value - displacement_cost``.
    accept : bool
        ``net_benefit >= 0``.
    break_even_rate : float
        The group rate per room-night at which ``net_benefit == 0``:
        ``(displacement_cost - future_value) / (group_size * nights)``
        (negative when the future value alone covers the displacement).
    """

    group_size: int
    group_rate: float
    nights: int
    capacity: int
    group_revenue: float
    future_value: float
    displacement_per_night: np.ndarray
    expected_revenue_without_group: np.ndarray
    displacement_cost: float
    net_benefit: float
    accept: bool
    break_even_rate: float

    @property
    def decision(self) -> str:
        """``"accept"`` or ``"reject"``."""
        return "accept" if self.accept else "reject"

    def to_frame(self) -> pd.DataFrame:
        """Per-night table: expected revenue without the group, displacement, group revenue."""
        return pd.DataFrame(
            {
                "expected_revenue_without_group": self.expected_revenue_without_group,
                "displacement_cost": self.displacement_per_night,
                "group_revenue": np.full(self.nights, self.group_size * self.group_rate),
            },
            index=pd.RangeIndex(1, self.nights + 1, name="night"),
        )

    def explain(self, *, money: Callable[[float], str] | None = None) -> str:
        """The decision in plain words.

        Parameters
        ----------
        money : callable, optional
            Writes an amount with its currency (a report passes
            ``lambda x: crm_analysis.presentation.format_money(x, units)``);
            default: the bare number (2 decimals for rates, whole units for totals).
        """
        rate = money or (lambda x: f"{x:,.2f}")
        total = money or (lambda x: f"{x:,.0f}")
        per_night = ", ".join(total(d) for d in self.displacement_per_night)
        lines = [
            f"A group asks for {self.group_size} of {self.capacity} rooms for {self.nights} night(s) "
            f"at {rate(self.group_rate)} per room-night: {total(self.group_revenue)} in total.",
            f"Taking those rooms out of sale costs the expected revenue of the individual guests they "
            f"displace: {per_night} per night, {total(self.displacement_cost)} in total "
            "(optimal revenue with all rooms minus optimal revenue with the group's rooms removed).",
        ]
        if self.future_value:
            lines.append(f"The group's expected future value of {total(self.future_value)} is credited to it.")
        verdict = "exceeds" if self.net_benefit > 0 else ("equals" if self.net_benefit == 0 else "falls short of")
        lines.append(
            f"The group's value {verdict} the displacement cost by {total(abs(self.net_benefit))}: "
            f"{self.decision.upper()}. The break-even group rate is {rate(self.break_even_rate)} per room-night."
        )
        return "\n".join(lines)


def evaluate_group_request(
    group_size: int,
    group_rate: float,
    nights: int,
    capacity: int,
    fares: Sequence[float],
    demand: Sequence[DemandSpec] | Sequence[Sequence[DemandSpec]],
    *,
    per_night: bool = False,
    future_value: float = 0.0,
) -> GroupDecision:
    """Accept or reject an early group request by its displacement cost.

    For each night ``t`` of the stay the static-model DP gives ``V^t_n(x)``;
    the group displaces ``V^t_n(C) - V^t_n(C - g)``. The group is accepted when
    ``g * rate * nights + future_value >= sum_t [V^t_n(C) - V^t_n(C - g)]``.

    Parameters
    ----------
    group_size : int
        Rooms requested ``g`` (``1..capacity``).
    group_rate : float
        Rate per room-night offered to the group (``>= 0``).
    nights : int
        Length of stay (``>= 1``).
    capacity : int
        Rooms of the hotel ``C`` (free on every night of the stay).
    fares : sequence of float
        Strictly decreasing fares of the individual classes.
    demand : demand specs
        One spec per class (the same every night) or, with ``per_night=True``,
        a sequence of ``nights`` such lists.
    per_night : bool, default False
        Whether ``demand`` is given per night.
    future_value : float, default 0
        Expected future value of the group (e.g. CLV of its members) to credit.

    Returns
    -------
    GroupDecision

    Raises
    ------
    ValueError
        On a group larger than the capacity or inconsistent inputs.
    """
    capacity = check_count(capacity, "capacity", minimum=1)
    group_size = check_count(group_size, "group_size", minimum=1)
    if group_size > capacity:
        raise InputError(f"group_size must be an integer in 1..capacity ({capacity}), got {shown(group_size)}")
    nights = check_count(nights, "nights", minimum=1)
    if not np.isfinite(group_rate) or group_rate < 0:
        raise InputError(f"group_rate must be finite and >= 0, got {shown(group_rate)}")
    if not np.isfinite(future_value):
        raise InputError(f"future_value must be finite, got {shown(future_value)}")
    g, T, C = int(group_size), int(nights), int(capacity)
    if per_night:
        if len(demand) != T:
            raise InputError(f"per_night=True needs {T} demand lists, got {len(demand)}")
        nightly = list(demand)
    else:
        nightly = [demand] * T
    cache: dict[int, tuple[float, float]] = {}
    disp = np.empty(T)
    v_full = np.empty(T)
    for t, dem in enumerate(nightly):
        key = id(dem)
        if key not in cache:
            V = dp_protection_levels(fares, dem, C).value_function[-1]
            cache[key] = (V[C], V[C] - V[C - g])
        v_full[t], disp[t] = cache[key]
    revenue = g * float(group_rate) * T
    total = float(disp.sum())
    net = revenue + float(future_value) - total
    return GroupDecision(
        group_size=g,
        group_rate=float(group_rate),
        nights=T,
        capacity=C,
        group_revenue=revenue,
        future_value=float(future_value),
        displacement_per_night=disp,
        expected_revenue_without_group=v_full,
        displacement_cost=total,
        net_benefit=net,
        accept=bool(net >= 0),
        break_even_rate=(total - float(future_value)) / (g * T),
    )


@dataclass
class GroupFutureValue:
    """Expected future value of a group booking from the hotel's own repeat history.

    Attributes
    ----------
    segment : str
        Segment whose bookings are the groups.
    bookings : int
        Stayed bookings of the segment.
    repeat_share : float
        Share of them made by a customer id that had booked before (any
        segment, any status): the estimated probability that a group comes
        back.
    mean_booking_value : float
        Mean revenue of a stayed group booking, ``units * nights * rate``.
    future_value : float
        ``repeat_share * mean_booking_value``: one expected repeat booking,
        undiscounted, revenue (not margin).
    """

    segment: str
    bookings: int
    repeat_share: float
    mean_booking_value: float
    future_value: float


def group_future_value(bookings: pd.DataFrame, *, segment: str = "Groups") -> GroupFutureValue:
    """Expected future value of a group: repeat probability x value of a group booking.

    A stated, simple assumption rather than a CLV model: a group that books
    comes back at most once more, with the probability that the hotel's past
    group bookings were repeats, and is then worth an average group booking.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings with ``customer_id``, ``segment``, ``booking_date``,
        ``status``, ``nights``, ``rate`` (optional ``units``).
    segment : str, default "Groups"
        Segment of the group bookings.

    Returns
    -------
    GroupFutureValue

    Raises
    ------
    ValueError
        When columns are missing or the segment has no stayed bookings.
    """
    missing = {"customer_id", "segment", "booking_date", "status", "nights", "rate"} - set(bookings.columns)
    if missing:
        raise InputError(f"bookings lack columns {sorted(missing)}")
    b = bookings.sort_values(["booking_date"], kind="stable")
    known = b["customer_id"].notna()
    repeat = b["customer_id"].duplicated() & known
    g = (b["segment"] == segment) & (b["status"] == "stayed") & known
    if not g.any():
        raise InputError(f"no stayed bookings with a customer id in segment {segment!r}")
    units = b.loc[g, "units"].astype(float) if "units" in b.columns else 1.0
    value = float((units * b.loc[g, "nights"].astype(float) * b.loc[g, "rate"].astype(float)).mean())
    share = float(repeat[g].mean())
    return GroupFutureValue(segment, int(g.sum()), share, value, share * value)


# ---------------------------------------------------------------------- network LP
@dataclass
class MultiNightLPResult:
    """Solution of :func:`multi_night_lp`.

    Attributes
    ----------
    allocation : pandas.DataFrame
        One row per product: ``arrival_night``, ``length_of_stay``,
        ``fare_class``, ``fare``, ``demand_mean``, ``allocation`` (rooms),
        ``bid_price_sum`` (sum of the bid prices of the nights used) and
        ``reduced_revenue = fare - bid_price_sum``.
    bid_prices : pandas.Series
        Dual value of each night's capacity constraint (>= 0), indexed by night.
    revenue : float
        Optimal objective ``sum fare * allocation``.
    capacity : numpy.ndarray
        Capacity per night.
    """

    allocation: pd.DataFrame
    bid_prices: pd.Series
    revenue: float
    capacity: np.ndarray

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Rooms allocated per night (stacked by fare class) with the bid prices."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4))
        else:
            fig = ax.figure
        N = len(self.capacity)
        a = self.allocation
        use = {}
        for _, r in a.iterrows():
            for t in range(int(r["arrival_night"]), int(r["arrival_night"] + r["length_of_stay"])):
                use.setdefault(str(r["fare_class"]), np.zeros(N))[t] += r["allocation"]
        bottom = np.zeros(N)
        for cls, v in use.items():
            ax.bar(np.arange(N), v, bottom=bottom, label=f"class {cls}")
            bottom += v
        ax.step(np.arange(N), self.capacity, where="mid", color="k", lw=1, label="capacity")
        ax.set_xlabel("night")
        ax.set_ylabel("rooms allocated")
        ax2 = ax.twinx()
        ax2.plot(np.arange(N), self.bid_prices.to_numpy(), "o--", color="C3", label="bid price")
        ax2.set_ylabel("bid price")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize="small")
        ax.set_title("Deterministic LP: allocation and night bid prices")
        return fig


def multi_night_lp(
    capacity_per_night: Sequence[float],
    products: pd.DataFrame | Sequence[tuple[int, int, str, float]],
    demand_means: Sequence[float],
) -> MultiNightLPResult:
    """Deterministic LP over stay nights, with night bid prices from its duals.

    ``max sum_i f_i x_i`` s.t. ``sum_{i uses night t} x_i <= c_t`` for every
    night ``t`` and ``0 <= x_i <= E[D_i]``, solved with HiGHS
    (``scipy.optimize.linprog(method="highs")``). The bid price of night
    ``t`` is the dual of its capacity row, ``pi_t = -res.ineqlin.marginals[t]``
    (linprog minimises ``-f x``, so its marginals are ``<= 0``). By
    complementary slackness ``x_i = E[D_i]`` when ``f_i > sum_t pi_t`` and
    ``x_i = 0`` when ``f_i < sum_t pi_t`` (over the nights product ``i`` uses).

    Parameters
    ----------
    capacity_per_night : sequence of float
        Rooms available on nights ``0..N-1``.
    products : DataFrame or sequence of tuples
        One product per row ``(arrival_night, length_of_stay, fare_class, fare)``;
        a DataFrame needs those column names. ``fare`` is the revenue of the
        whole stay.
    demand_means : sequence of float
        Mean demand of each product (``>= 0``).

    Returns
    -------
    MultiNightLPResult

    Raises
    ------
    ValueError
        On a stay outside the horizon, negative values or a failed solve.
    """
    cap = np.asarray(capacity_per_night, dtype=float)
    if cap.ndim != 1 or cap.size == 0 or np.any(cap < 0) or not np.all(np.isfinite(cap)):
        raise InputError("capacity_per_night must be a non-empty 1-D sequence of finite values >= 0")
    cols = ["arrival_night", "length_of_stay", "fare_class", "fare"]
    if isinstance(products, pd.DataFrame):
        missing = set(cols) - set(products.columns)
        if missing:
            raise InputError(f"products lack columns {sorted(missing)}")
        prod = products[cols].reset_index(drop=True).copy()
    else:
        prod = pd.DataFrame(list(products), columns=cols)
    d = np.asarray(demand_means, dtype=float)
    if d.shape != (len(prod),):
        raise InputError(f"need one demand mean per product: {len(prod)} products, {d.size} means")
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise InputError("demand means must be finite and >= 0")
    N = cap.size
    arr = prod["arrival_night"].to_numpy(dtype=int)
    los = prod["length_of_stay"].to_numpy(dtype=int)
    fare = prod["fare"].to_numpy(dtype=float)
    bad = (arr < 0) | (los < 1) | (arr + los > N)
    if bad.any():
        raise InputError(f"products {np.nonzero(bad)[0].tolist()} have stays outside nights 0..{N - 1}")
    if np.any(fare < 0):
        raise InputError("fares must be >= 0")
    A = np.zeros((N, len(prod)))
    for i, (a, l) in enumerate(zip(arr, los)):
        A[a : a + l, i] = 1.0
    res = linprog(-fare, A_ub=A, b_ub=cap, bounds=list(zip(np.zeros_like(d), d)), method="highs")
    if res.status != 0:
        raise InputError(f"LP solve failed: {res.message}")
    pi = -np.asarray(res.ineqlin.marginals)
    pi = np.where(np.abs(pi) < 1e-12, 0.0, pi)
    out = prod.copy()
    out["demand_mean"] = d
    out["allocation"] = res.x
    out["bid_price_sum"] = A.T @ pi
    out["reduced_revenue"] = fare - out["bid_price_sum"]
    return MultiNightLPResult(
        allocation=out,
        bid_prices=pd.Series(pi, index=pd.RangeIndex(N, name="night"), name="bid_price"),
        revenue=float(-res.fun),
        capacity=cap,
    )
