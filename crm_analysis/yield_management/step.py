"""The yield step of the report chain: parameters, pipeline function, result.

:func:`run_yield` takes the demand forecasts (``forecasts.parquet``) and the
cleaned bookings and makes every decision of the yield report: fares from the
bookings, FCFS / EMSR-b / DP night by night and per season, the simulation,
the overbooking limits, the group request at the peak and the low stay, and
the best policy. ``40_yield.ipynb`` builds :class:`YieldParams` from its
parameters cell, calls it and shows the result.

Defaults that are decisions, stated here once:

- capacity: the default hotel's (:data:`crm_analysis.synthetic.DEFAULT_HOTEL`), for its own
  bookings only (:func:`crm_analysis.seasonality.check_capacity`);
- group rate: 80 % of the lowest individual fare;
- cost of walking a guest: twice the highest fare;
- group stays: the ``group_nights``-night stay with the highest (peak) and
  lowest (low) total expected demand, unless a date is given;
- average fare of the overbooking trade-off: the demand-weighted fare of the
  peak season;
- best policy: DP when its expected yearly revenue is at least EMSR-b's.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis._dates import parse_date
from crm_analysis._validate import check_seed
from crm_analysis.seasonality.unconstrain import check_capacity

from .compare import NightlyComparison, SeasonComparison, compare_policies_by_season, evaluate_nights
from .groups import GroupDecision, group_future_value
from .overbooking import OverbookingCurve, overbooking_curve, overbooking_limit_cost, overbooking_limit_service, show_rates
from .seasons import assign_seasons, fares_from_bookings, season_demand
from .simulation import simulate_policies

__all__ = ["YieldParams", "YieldResult", "run_yield"]

#: Share of the lowest individual fare offered to a group by default.
DEFAULT_GROUP_RATE_SHARE = 0.8
#: Cost of walking a guest by default, in multiples of the highest fare.
DEFAULT_WALK_COST_FARES = 2.0


def _arrival_ranges(nights: pd.DatetimeIndex, n: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The arrivals whose every one of ``n`` stay nights is among ``nights``, as (first, last) ranges of days.

    With a gap in the nights, an arrival just before the gap does not fit although it lies between the first
    and the last night (findings_13e I9): the ranges leave such arrivals out.
    """
    known = set(pd.DatetimeIndex(nights).normalize())
    day = pd.Timedelta(days=1)
    fit = [d for d in sorted(known) if all(d + k * day in known for k in range(n))]
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for d in fit:
        if ranges and d - ranges[-1][1] == day:
            ranges[-1] = (ranges[-1][0], d)
        else:
            ranges.append((d, d))
    return ranges


@dataclass(frozen=True, kw_only=True)
class YieldParams:
    """Parameters of the yield step (the parameters cell of ``40_yield.ipynb``).

    Parameters
    ----------
    as_of : str, default "2024-12-31"
        Observation end (ISO date).
    capacity : int, optional
        Rooms; ``None``: the built-in hotel's capacity, taken only for the
        built-in hotel's bookings (:func:`crm_analysis.seasonality.check_capacity`,
        which also refuses a capacity the bookings contradict).
    n_simulations : int, default 1000
        Simulated nights per season and policy.
    group_size : int, default 20
        Rooms requested by the tour group.
    group_rate : float, optional
        Group rate per room-night; ``None``: 80 % of the lowest individual fare.
    group_nights : int, default 3
        Nights of the group's stay.
    group_arrival_peak, group_arrival_low : str, optional
        ISO arrival dates; ``None``: the stay with the highest (lowest) expected demand.
    service_level : float, default 0.05
        Maximum probability of walking a guest.
    denied_cost : float, optional
        Cost of walking one guest; ``None``: twice the highest fare.
    material_uplift_pct : float, default 0.5
        Expected revenue uplift of the DP over first-come-first-served over
        the horizon, in per cent of FCFS revenue, below which the report says
        capacity control adds little (:attr:`YieldResult.control_adds_little`).
    seed : int, default 42
        Seed of the simulation.

    Raises
    ------
    ValueError
        A date that is not ISO, a count that is not a positive integer, a
        probability outside (0, 1), a negative rate or cost (naming the parameter).
    """

    as_of: str = "2024-12-31"
    capacity: int | None = None
    n_simulations: int = 1000
    group_size: int = 20
    group_rate: float | None = None
    group_nights: int = 3
    group_arrival_peak: str | None = None
    group_arrival_low: str | None = None
    service_level: float = 0.05
    denied_cost: float | None = None
    material_uplift_pct: float = 0.5
    seed: int = 42

    def __post_init__(self) -> None:
        parse_date(self.as_of, "as_of", tz="strip", time="keep")
        for name in ("group_arrival_peak", "group_arrival_low"):
            parse_date(getattr(self, name), name, allow_none=True, tz="strip", time="keep")
        for name in ("n_simulations", "group_size", "group_nights") + (("capacity",) if self.capacity is not None else ()):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InputError(f"{name} must be a positive integer, got {shown(v)}")
        if not (isinstance(self.service_level, (int, float)) and 0.0 < self.service_level < 1.0):
            raise InputError(f"service_level must be a probability in (0, 1), got {shown(self.service_level)}")
        for name in ("group_rate", "denied_cost"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                                  or v < 0):
                raise InputError(f"{name} must be None (the default rule) or a non-negative number, got {shown(v)}")
        v = self.material_uplift_pct
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise InputError(f"material_uplift_pct must be a non-negative number of per cent (0.5 means 0.5 % of "
                             f"the FCFS revenue), got {shown(v)}")
        check_seed(self.seed)

    def group_stay_problems(self, nights: pd.DatetimeIndex, *, source: str = "the forecasts") -> list[tuple[str, str]]:
        """Every given group arrival whose stay leaves the forecast nights, or a stay longer than them.

        Parameters
        ----------
        nights : pandas.DatetimeIndex
            The forecast nights (days).
        source : str
            Where the nights come from, for the message (``"the forecasts"``, or the seasonality step's
            ``as_of`` and ``horizon_days`` in the pre-flight).

        Returns
        -------
        list of (str, str)
            ``(field, message)``: ``group_nights``, ``group_arrival_peak`` or ``group_arrival_low``; each message
            names the field, its value, the forecast nights and the arrivals that fit (findings_13d H14).
        """
        nights = pd.DatetimeIndex(nights).normalize()
        n = int(self.group_nights)
        if len(nights) == 0:
            return []
        first, last = nights.min(), nights.max()
        span = f"the forecast nights {first:%Y-%m-%d}..{last:%Y-%m-%d} ({source})"
        if n > len(nights):
            return [("group_nights", f"group_nights = {n} is more than the {len(nights)} nights of {span}; "
                                     "ask for a shorter stay or forecast further ahead")]
        known = set(nights)
        ranges = _arrival_ranges(nights, n)
        if not ranges:  # gaps: no n consecutive nights are forecast, so no arrival (given or searched) fits
            return [("group_nights", f"group_nights = {n}: {span} hold no {n} consecutive nights (they have gaps); "
                                     "ask for a shorter stay or forecast the missing nights")]
        fits = " or ".join(f"from {a:%Y-%m-%d} to {b:%Y-%m-%d}" for a, b in ranges)
        out = []
        for name in ("group_arrival_peak", "group_arrival_low"):
            value = getattr(self, name)
            if value is None:
                continue
            a = parse_date(value, name, tz="strip", time="keep").normalize()
            missing = [d for d in pd.date_range(a, periods=n, freq="D") if d not in known]
            if missing:
                out.append((name,
                    f"{name} = {value}: the {n}-night stay (group_nights = {n}) must lie within {span}; "
                    f"{len(missing)} of its nights ({missing[0]:%Y-%m-%d}"
                    + (f"..{missing[-1]:%Y-%m-%d}" if len(missing) > 1 else "") + ") are not among them. "
                    f"Give an arrival {fits}, or None (the stay of the highest / lowest expected demand)"))
        return out

    def check_group_stays(self, nights: pd.DatetimeIndex, *, source: str = "the forecasts") -> None:
        """Refuse what :meth:`group_stay_problems` finds (every problem in one message).

        Raises
        ------
        crm_analysis.exceptions.InputError
            Naming the parameter(s), the value(s) and the forecast nights.
        """
        problems = self.group_stay_problems(nights, source=source)
        if problems:
            raise InputError("; and ".join(m for _, m in problems))

    @property
    def rooms(self) -> int:
        """``capacity``, else the default hotel's capacity."""
        if self.capacity is not None:
            return int(self.capacity)
        from crm_analysis.synthetic import DEFAULT_HOTEL

        return int(DEFAULT_HOTEL.capacity)

    @property
    def capacity_source(self) -> str:
        """Where the capacity comes from, in words."""
        return "the `capacity` parameter" if self.capacity is not None else "the default hotel configuration"


@dataclass
class YieldResult:
    """Everything the yield step computes (:func:`run_yield`); see the attributes' names in the notebook.

    ``notes`` lists, in words, what the step left out or could not compute: the bookings not known at
    ``as_of`` (counted), forecasts that start before it, a group future value the data cannot give.
    """

    params: YieldParams
    capacity: int
    fare_table: pd.DataFrame
    nightly: NightlyComparison
    seasons: pd.Series
    dropped_classes: list[str]
    unconstrained: bool
    season_comparison: SeasonComparison
    simulations: dict[str, Any]
    show_rates: pd.DataFrame
    show_rate: float
    avg_fare: float
    walk_cost: float
    overbooking_limit_service: int
    overbooking_limit_cost: int
    overbooking_curve: OverbookingCurve
    group_rate: float
    future_value: float
    future_value_note: str
    arrivals: dict[str, pd.Timestamp]
    decisions: dict[str, GroupDecision]
    decisions_with_future_value: dict[str, GroupDecision]
    notes: list[str] = field(default_factory=list)

    @property
    def nights(self) -> pd.DataFrame:
        """One row per forecast night (:attr:`NightlyComparison.nights`)."""
        return self.nightly.nights

    @property
    def year(self) -> pd.Series:
        """The whole-horizon summary row of the nightly comparison."""
        return self.nightly.summary(by="year").iloc[0]

    @property
    def best_policy(self) -> str:
        """``"DP"`` when its expected revenue over the horizon is at least EMSR-b's, else ``"EMSR-b"``."""
        return "DP" if self.year["DP"] >= self.year["EMSR-b"] else "EMSR-b"

    @property
    def control_adds_little(self) -> bool:
        """The DP's uplift over FCFS over the horizon is below ``params.material_uplift_pct`` per cent.

        The report then says capacity control adds little over first-come-first-served at this hotel
        (a missing uplift, NaN, counts as not little: the report does not claim it).
        """
        return bool(self.year["DP_uplift_pct"] < self.params.material_uplift_pct)

    @property
    def peak_season(self) -> str:
        """Name of the highest-demand season."""
        return str(self.seasons.cat.categories[-1])

    def simulation_table(self) -> pd.DataFrame:
        """Simulated revenue per season and policy, uplift over FCFS."""
        return pd.concat({s: r.summary(baseline="FCFS") for s, r in self.simulations.items()}, names=["season"])

    def group_table(self) -> pd.DataFrame:
        """The group request at each arrival: demand, revenue, displacement, net benefit, decision."""
        n = int(self.params.group_nights)
        return pd.DataFrame({
            f"{k} ({a:%a %Y-%m-%d})": {
                "expected demand per night": float(self.nights.loc[pd.date_range(a, periods=n), "demand_mean"].mean()),
                "group revenue": self.decisions[k].group_revenue,
                "displacement cost": self.decisions[k].displacement_cost,
                "net benefit": self.decisions[k].net_benefit, "break-even rate": self.decisions[k].break_even_rate,
                "decision": self.decisions[k].decision,
                "net benefit with future value": self.decisions_with_future_value[k].net_benefit,
                "decision with future value": self.decisions_with_future_value[k].decision}
            for k, a in self.arrivals.items()
        }).T.rename_axis("arrival").infer_objects()  # figures as numbers, decisions as text (not one object column)

    def headlines(self) -> dict[str, Any]:
        """Headline figures (keys declared in :data:`crm_analysis.contracts.HEADLINES` for ``yield``)."""
        year, best = self.year, self.best_policy
        return {
            "revenue_uplift_vs_fcfs": round(float(year[f"{best}_uplift_pct"]), 2),
            "dp_gap_vs_emsr_b": round(float(100 * (year["DP"] / year["EMSR-b"] - 1)), 3),
            "nights_over_capacity": int(year["nights_over_capacity"]),
            "overbooking_limit": int(self.overbooking_limit_service),
            "group_decision_peak": self.decisions["peak"].decision,
            "group_decision_low": self.decisions["low"].decision,
            "demand_forecast": "unconstrained" if self.unconstrained else "sales (constrained)",
            "group_break_even_rate_peak": round(self.decisions["peak"].break_even_rate, 2),
        }

    def headline_labels(self) -> dict[str, str]:
        """Labels of :meth:`headlines`, their fields filled in."""
        from crm_analysis.contracts import headline_labels

        p = self.params
        fields = {"policy": self.best_policy, "capacity": self.capacity, "service_level": f"{p.service_level:.0%}",
                  "group_size": p.group_size, "group_nights": p.group_nights, "group_rate": f"{self.group_rate:,.0f}"}
        labels = headline_labels("yield")
        return {
            k: labels[k].format(**fields, arrival=f"{self.arrivals['peak' if k.endswith('peak') else 'low']:%Y-%m-%d}")
            for k in self.headlines()
        }


def _known_at(bookings: pd.DataFrame, as_of: object) -> tuple[pd.DataFrame, str | None]:
    """The bookings known at ``as_of``: made by then and arriving by then (their outcome known), and a note.

    As the forecaster and the booking-horizon step read them (findings_13d H13): fares (stayed bookings),
    show rates and the group's repeat share are outcomes, so nothing arriving or booked after ``as_of`` is read.
    A day ``as_of`` stands for its whole day.
    """
    ts = parse_date(as_of, "as_of", tz="strip", time="keep")
    end = ts + pd.Timedelta(days=1) if ts == ts.normalize() else ts + pd.Timedelta(microseconds=1)
    late_arrival = np.zeros(len(bookings), dtype=bool)
    late_booking = np.zeros(len(bookings), dtype=bool)
    if "arrival_date" in bookings.columns:
        late_arrival = (pd.to_datetime(bookings["arrival_date"]) >= end).to_numpy(dtype=bool, na_value=False)
    if "booking_date" in bookings.columns:
        late_booking = (pd.to_datetime(bookings["booking_date"]) >= end).to_numpy(dtype=bool, na_value=False)
    late_booking = late_booking & ~late_arrival
    out = late_arrival | late_booking
    if not out.any():
        return bookings, None
    if out.all():
        raise InputError(f"as_of = {as_of}: none of the {len(bookings):,} bookings is known by then (all arrive or "
                         "were made after it); set as_of within the bookings' dates (YieldParams(as_of=...) or "
                         "the report's as_of)")
    return bookings.loc[~out], (
        f"{int(out.sum()):,} of the {len(bookings):,} bookings left out of the fares, show rates and group future "
        f"value, not known at as_of {as_of}: {int(late_arrival.sum()):,} arrive after it, "
        f"{int(late_booking.sum()):,} more were made after it")


def _group_future_value(bookings: pd.DataFrame) -> tuple[float, str, str | None]:
    """The group's expected future value from the hotel's bookings, the sentence the report shows, and a note."""
    if "customer_id" not in bookings.columns:
        # the commonest reason (the City Hotel), in words: the note is shown to readers as escaped text
        why = "the bookings carry no customer identifier, so repeat group bookings cannot be recognised"
        return 0.0, f"No future value credited: {why}.", f"group future value: none credited ({why})"
    try:
        fv = group_future_value(bookings)
    except InputError as exc:
        # the data cannot give one (no customer_id, no stayed group booking): said in the report and the notes;
        # the reason names columns of the data (customer_id): shown as code, not relabelled into a wrong literal
        return 0.0, f"No future value credited (`{exc}`).", f"group future value: none credited ({exc})"
    return float(fv.future_value), (
        f"Expected future value of the group: {fv.repeat_share:.1%} of {fv.bookings:,} past group bookings "
        f"were repeats x {fv.mean_booking_value:,.0f} per group booking = **{fv.future_value:,.0f}**."), None


def run_yield(forecasts: pd.DataFrame, bookings: pd.DataFrame, params: YieldParams | None = None) -> YieldResult:
    """Run the yield step on the demand forecasts and the bookings.

    Parameters
    ----------
    forecasts : DataFrame
        ``forecasts.parquet`` (contract :data:`crm_analysis.contracts.FORECASTS`).
    bookings : DataFrame
        Cleaned canonical bookings. Only those known at ``params.as_of`` are read for the fares, show rates
        and the group's future value: made and arriving by then (as the forecaster and the booking-horizon
        step read them); the rows left out are counted in :attr:`YieldResult.notes`.
    params : YieldParams, optional
        Default: the notebook's defaults.

    Returns
    -------
    YieldResult

    Raises
    ------
    ValueError
        The errors of the yield functions (no fare for the forecast classes, ...);
        ``capacity=None`` for bookings that are not the built-in hotel's, or a
        capacity the bookings contradict (:func:`crm_analysis.seasonality.check_capacity`).
    """
    p = params if params is not None else YieldParams()
    # None only for the built-in hotel's bookings, and no capacity the bookings contradict (findings_13c G8)
    capacity = check_capacity(bookings, p.capacity, as_of=p.as_of, owner="YieldParams")
    notes: list[str] = []
    # fares, show rates and the group's repeats from what is known at as_of only (findings_13d H13)
    history, cut_note = _known_at(bookings, p.as_of)
    if cut_note is not None:
        notes.append(cut_note)
    first_night = pd.Timestamp(forecasts["date"].min()) if len(forecasts) else None
    if first_night is not None and first_night <= parse_date(p.as_of, "as_of", tz="strip", time="keep"):
        notes.append(f"the forecasts start on {first_night:%Y-%m-%d}, not after as_of {p.as_of}: forecasts of "
                     "another as_of?")
    fare_table = fares_from_bookings(history)
    nightly = evaluate_nights(forecasts, fare_table["fare"], capacity)
    nights = nightly.nights
    p.check_group_stays(nights.index)  # a given group stay within the forecast nights, before the simulations
    seasons = assign_seasons(forecasts, method="tercile")
    dropped = sorted(set(fare_table.index) ^ set(forecasts["fare_class"].unique()))
    unconstrained = bool(forecasts["unconstrained"].all())

    comparison = compare_policies_by_season(fare_table["fare"], season_demand(forecasts, seasons), capacity)
    sims = {season: simulate_policies(f_, dem, capacity, n_simulations=p.n_simulations, seed=p.seed + i)
            for i, (season, (_, f_, dem)) in enumerate(comparison.inputs.items())}

    # overbooking: the peak season's demand-weighted fare against the cost of walking a guest
    _, fares, demand = comparison.inputs[str(seasons.cat.categories[-1])]
    rates = show_rates(history, by="fare_class" if "fare_class" in history.columns else "segment")
    overall = show_rates(history, by=None).loc["all"]
    show_rate = float(overall["show_rate_held"])
    peak_means = np.array([m for m, _ in demand])
    avg_fare = float(peak_means @ fares / peak_means.sum())
    walk_cost = float(p.denied_cost) if p.denied_cost is not None else DEFAULT_WALK_COST_FARES * float(fares[0])

    # the group request: future value from the bookings, the peak and the low stay
    g_rate = float(p.group_rate) if p.group_rate is not None else DEFAULT_GROUP_RATE_SHARE * float(nightly.fares[-1])
    future_value, fv_note, fv_problem = _group_future_value(history)
    if fv_problem is not None:
        notes.append(fv_problem)
    n = int(p.group_nights)
    stay_demand = nights["demand_mean"].rolling(n).sum().shift(-(n - 1)).dropna()
    arrivals = {
        "peak": pd.Timestamp(p.group_arrival_peak) if p.group_arrival_peak is not None else stay_demand.idxmax(),
        "low": pd.Timestamp(p.group_arrival_low) if p.group_arrival_low is not None else stay_demand.idxmin(),
    }
    decisions = {k: nightly.group_decision(a, p.group_size, g_rate, n) for k, a in arrivals.items()}
    decisions_fv = {k: nightly.group_decision(a, p.group_size, g_rate, n, future_value=future_value)
                    for k, a in arrivals.items()}
    return YieldResult(
        params=p, capacity=capacity, fare_table=fare_table, nightly=nightly, seasons=seasons, dropped_classes=dropped,
        unconstrained=unconstrained, season_comparison=comparison, simulations=sims, show_rates=pd.concat(
            [rates, overall.to_frame().T]),
        show_rate=show_rate, avg_fare=avg_fare, walk_cost=walk_cost,
        overbooking_limit_service=int(overbooking_limit_service(capacity, show_rate, p.service_level)),
        overbooking_limit_cost=int(overbooking_limit_cost(capacity, show_rate, walk_cost, avg_fare)),
        overbooking_curve=overbooking_curve(capacity, show_rate, avg_fare, walk_cost),
        group_rate=g_rate, future_value=future_value, future_value_note=fv_note, arrivals=arrivals,
        decisions=decisions, decisions_with_future_value=decisions_fv, notes=notes,
    )
