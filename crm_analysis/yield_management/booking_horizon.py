"""The booking-horizon step of the report: parameters, pipeline function, artefact schemas.

:func:`run_booking_horizon` takes cleaned canonical bookings and
:class:`HorizonParams` and returns a :class:`HorizonResult`: booking curves,
the pick-up backtest by days before, the cancellation models' test quality,
show rates and overbooking limits by days out, the dynamic programme's
protection levels, the policy replay and the horizon view of a group request.
The notebook ``notebooks/45_booking_horizon.ipynb`` calls it and only shows and
writes what it returns; a stand-alone run calls it the same way.

Time split (one for every part): nights up to ``cutoff - 1`` are the
*training* nights (their outcome is known at the cutoff: fares, pick-up
history, show rates, demand per class, arrival rates of the DP); the
cancellation models train on bookings *made* before ``cutoff``. Nights from
``cutoff`` to ``as_of`` are the *test* nights: the pick-up backtest origins,
the cancellation test set (bookings made from ``cutoff``, arriving by
``as_of``) and the replay. Nothing arriving after ``as_of`` is read.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, OperationError, shown

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis._dates import parse_date
from crm_analysis._validate import (
    check_columns,
    check_count,
    check_counts,
    check_number,
    check_probability,
    check_seed,
)
from crm_analysis.contracts import (
    BOOKING_CURVES,
    EXPECTED_SHOWS,
    HORIZON_TABLES,
    OVERBOOKING_HORIZON,
    PICKUP_ERRORS,
    POLICY_REPLAY,
    SYNTHETIC_REPLAY,
    headline_labels,
)
from crm_analysis.data.schema import Schema
from crm_analysis.data.booking_records import check_booking_records
from crm_analysis.yield_management.cancellation import (
    CancellationEvaluation,
    CancellationModel,
    cancellation_target,
    evaluate_cancellation_model,
    split_bookings,
)
from crm_analysis.yield_management.dynamic import DynamicDPResult, arrival_probabilities, dynamic_programme
from crm_analysis.yield_management.horizon import (
    PICKUP_METHODS,
    BookingCurves,
    PickupBacktest,
    booking_curves,
    pickup_backtest,
)
from crm_analysis.yield_management.replay import (
    ReplayPolicy,
    ReplayResult,
    overbooking_limits_by_days_out,
    replay_policies,
    show_rates_by_days_out,
)
from crm_analysis.yield_management.seasons import fares_from_bookings
from crm_analysis.yield_management.shows import ShowForecast, show_forecast

__all__ = [
    "HorizonParams",
    "HorizonResult",
    "run_booking_horizon",
    "BOOKING_CURVES_SCHEMA",
    "PICKUP_ERRORS_SCHEMA",
    "OVERBOOKING_HORIZON_SCHEMA",
    "POLICY_REPLAY_SCHEMA",
    "EXPECTED_SHOWS_SCHEMA",
    "SYNTHETIC_REPLAY_SCHEMA",
    "HORIZON_ARTIFACTS",
    "HORIZON_HEADLINES",
]

#: Artefacts of the step (file name -> schema); all under ``<run_dir>/artifacts/``. The hand-over
#: contracts are declared in :mod:`crm_analysis.contracts` (``booking_curves`` ... ``synthetic_replay``).
HORIZON_ARTIFACTS: dict[str, Schema] = {c.file: c.schema for c in HORIZON_TABLES}
BOOKING_CURVES_SCHEMA, PICKUP_ERRORS_SCHEMA, OVERBOOKING_HORIZON_SCHEMA = (
    BOOKING_CURVES.schema, PICKUP_ERRORS.schema, OVERBOOKING_HORIZON.schema)
POLICY_REPLAY_SCHEMA, EXPECTED_SHOWS_SCHEMA, SYNTHETIC_REPLAY_SCHEMA = (
    POLICY_REPLAY.schema, EXPECTED_SHOWS.schema, SYNTHETIC_REPLAY.schema)
#: Headline figures of the step (key -> label), declared in :data:`crm_analysis.contracts.HEADLINES`.
HORIZON_HEADLINES: dict[str, str] = headline_labels("booking_horizon")

_DAYS_OUT = (0, 1, 3, 7, 14, 30, 60, 90, 120, 180, 270, 365)


@dataclass(frozen=True, kw_only=True)
class HorizonParams:
    """Parameters of :func:`run_booking_horizon` (the notebook's parameters).

    Parameters
    ----------
    as_of : str, default "2024-12-31"
        Last night used (ISO date).
    capacity : int, optional
        Rooms; default (``None``) the capacity of the default synthetic hotel
        (:data:`crm_analysis.synthetic.DEFAULT_HOTEL`), taken only for that
        hotel's bookings (:func:`crm_analysis.seasonality.check_capacity`,
        which also refuses a capacity the bookings contradict).
    cutoff : str, optional
        First test night / first booking date of the cancellation test set;
        default ``as_of - test_days``.
    test_days : int, default 182
    max_lead : int, default 365
        Days before the night the curves reach.
    window : int, default 91
        Nights averaged by the pick-up methods.
    pickup_days : tuple of int, default (60, 30, 14, 7, 1)
    service_level : float, default 0.05
        Largest probability of walking a guest on a night.
    walk_cost : float, optional
        Cost per walked room; default twice the highest fare.
    dp_days : int, default 180
        Days before the night covered by the dynamic programme (requests
        earlier than that see the bid prices of ``dp_days``).
    group_size, group_nights, group_days_before : int
        The group request of the horizon view (20 rooms, 3 nights, 90 days out).
    group_rate : float, optional
        Group rate per room-night; default 80 % of the lowest fare.
    cancel_max_iter : int, default 60
        Boosting iterations of the cancellation model.
    ts_baseline_origins : int, default 0
        Origins (14 days apart, the latest possible) at which the time-series
        forecaster (:class:`~crm_analysis.seasonality.DemandForecaster`, ETS /
        Theta / seasonal naive on the total room-nights, no pick-up candidate)
        is refitted and scored beside the pick-up methods; 0: no baseline
        (each origin is a full refit: seconds).
    shows_days_out : tuple of int, default (0, 1, 3, 7, 14, 30, 60, 90)
        Days before the night at which the expected shows of the bookings on
        hand and their limits are computed (:func:`~crm_analysis.yield_management.shows.show_forecast`).
    synthetic_replications : int, default 2
        Request streams of the synthetic hotel (:func:`crm_analysis.synthetic.request_stream`,
        the default hotel at ``capacity`` rooms, seeds ``seed + 1000 + r``)
        replayed through the same controls with common random numbers; 0: none, else at least 2.
    seed : int, default 42

    Raises
    ------
    InputError
        Every field is checked (``crm_analysis._validate``), naming it, the value and the fix: dates
        that are not ISO, ``cutoff`` not before ``as_of``, counts out of range (``test_days``,
        ``max_lead``, ``window`` >= 7, ``dp_days`` and ``group_days_before`` within ``max_lead``,
        ``group_size``, ``group_nights``, ``cancel_max_iter`` >= 1, ``ts_baseline_origins`` >= 0,
        ``synthetic_replications`` 0 or >= 2), day lists outside ``0..max_lead``, ``service_level``
        outside [0, 1), a rate or cost <= 0, a negative ``seed``.
    """

    as_of: str = "2024-12-31"
    capacity: int | None = None
    cutoff: str | None = None
    test_days: int = 182
    max_lead: int = 365
    window: int = 91
    pickup_days: tuple[int, ...] = (60, 30, 14, 7, 1)
    service_level: float = 0.05
    walk_cost: float | None = None
    dp_days: int = 180
    group_size: int = 20
    group_nights: int = 3
    group_days_before: int = 90
    group_rate: float | None = None
    cancel_max_iter: int = 60
    ts_baseline_origins: int = 0
    shows_days_out: tuple[int, ...] = (0, 1, 3, 7, 14, 30, 60, 90)
    synthetic_replications: int = 2
    seed: int = 42

    def __post_init__(self) -> None:
        # every field, with the checks the step's functions apply (crm_analysis._validate)
        as_of = parse_date(self.as_of, "as_of", time="normalize")
        cut = parse_date(self.cutoff, "cutoff", allow_none=True, time="normalize")
        if cut is not None and cut >= as_of:
            raise InputError(f"cutoff {cut:%Y-%m-%d} must be before as_of {as_of:%Y-%m-%d}: the test nights run from "
                             "the cutoff to as_of; set an earlier cutoff, or None (as_of - test_days)")
        if self.capacity is not None:
            check_count(self.capacity, "capacity", minimum=1, fix="the hotel's number of rooms")
        check_count(self.test_days, "test_days", minimum=1)
        max_lead = check_count(self.max_lead, "max_lead", minimum=1)
        check_count(self.window, "window", minimum=7, fix="nights averaged by the pick-up methods")
        # a list from a notebook's parameters cell; each a day before the night, within the curves
        within = f"days before the night, within max_lead = {max_lead}: the booking curves reach that far"
        pickup = check_counts(self.pickup_days, "pickup_days", minimum=1, maximum=max_lead, fix=within)
        shows = check_counts(self.shows_days_out, "shows_days_out", minimum=0, maximum=max_lead, fix=within)
        object.__setattr__(self, "pickup_days", pickup)
        object.__setattr__(self, "shows_days_out", shows)
        check_probability(self.service_level, "service_level", zero=True, one=False)
        for name, what in (("walk_cost", "a cost > 0 per walked room (or None: twice the highest fare)"),
                           ("group_rate", "a rate > 0 per room-night (or None: 80 % of the lowest fare)")):
            if getattr(self, name) is not None:
                check_number(getattr(self, name), name, minimum=0, low_open=True, what=what)
        check_count(self.dp_days, "dp_days", minimum=1, maximum=max_lead,
                    fix="days before the night covered by the dynamic programme, up to max_lead")
        check_count(self.group_size, "group_size", minimum=1)
        check_count(self.group_nights, "group_nights", minimum=1)
        check_count(self.group_days_before, "group_days_before", minimum=0, maximum=max_lead,
                    fix=f"days before arrival the group asks, within max_lead = {max_lead}")
        check_count(self.cancel_max_iter, "cancel_max_iter", minimum=1, fix="boosting iterations")
        check_count(self.ts_baseline_origins, "ts_baseline_origins", minimum=0, fix="0: no time-series baseline")
        check_seed(self.seed)
        n = check_count(self.synthetic_replications, "synthetic_replications", minimum=0)
        if n == 1:
            raise InputError(f"synthetic_replications must be 0 (none) or >= 2 (an interval needs two), "
                             f"got {shown(self.synthetic_replications)}")
        if max(shows) < 1:
            raise InputError(f"shows_days_out must hold a day >= 1, got {shown(self.shows_days_out)}: the held-booking "
                             "cancellation is recalibrated on the bookings held at those days out, and a booking "
                             "held on its arrival day cannot cancel any more (e.g. (0, 7))")

    @property
    def as_of_ts(self) -> pd.Timestamp:
        """``as_of`` as a timestamp."""
        return pd.Timestamp(self.as_of).normalize()

    @property
    def cutoff_ts(self) -> pd.Timestamp:
        """The cutoff as a timestamp."""
        if self.cutoff is not None:
            return pd.Timestamp(self.cutoff).normalize()
        return self.as_of_ts - pd.Timedelta(days=int(self.test_days))


@dataclass
class HorizonResult:
    """Everything :func:`run_booking_horizon` computes.

    Attributes
    ----------
    params : HorizonParams
        The parameters, with ``capacity`` resolved.
    curves : BookingCurves
        Rooms and arrivals on the books by night, days before and segment.
    pickup : PickupBacktest
        Pick-up (and baseline) errors by days before on the test nights.
    cancellation : CancellationEvaluation
        AUC (NaN where not defined), Brier score and calibration of the models on the test bookings.
    show_rates : pandas.DataFrame
        :func:`~crm_analysis.yield_management.replay.show_rates_by_days_out` on the training nights.
    limits : pandas.DataFrame
        Booking limits by days out (service level and cost rule).
    fares : pandas.Series
        Fare per class (strictly decreasing, as the dynamic programme uses them).
    dp : dict
        Arrival month (0-11; 12: rates pooled over all training nights) -> :class:`DynamicDPResult`.
    dp_table : pandas.DataFrame
        Protection levels and bid prices by days before, for the month with most test nights.
    replay : ReplayResult
        The policies replayed on the test nights.
    group : pandas.DataFrame
        The group request by arrival month: expected shows on hand, rooms left, displacement,
        expected group revenue (rooms x rate x nights x the show rate then) and the decision.
    counts : dict
        Bookings read and left out, by reason.
    notes : list of str
        What was assumed, filled or left out.
    shows : ShowForecast or None
        Expected shows of the bookings on hand and the limits per night.
    synthetic : pandas.DataFrame or None
        The synthetic hotel's replay (``synthetic_replications > 0``).
    """

    params: HorizonParams
    curves: BookingCurves
    pickup: PickupBacktest
    cancellation: CancellationEvaluation
    show_rates: pd.DataFrame
    limits: pd.DataFrame
    fares: pd.Series
    dp: dict[int, DynamicDPResult]
    dp_table: pd.DataFrame
    replay: ReplayResult
    group: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    shows: ShowForecast | None = None
    synthetic: pd.DataFrame | None = None

    def headlines(self) -> dict[str, Any]:
        """Headline figures keyed as :data:`HORIZON_HEADLINES`."""
        t = self.pickup.errors
        # the pick-up methods only: a baseline (e.g. "time_series (DemandForecaster)") is scored at a few origins
        pu = t[(t["days_before"] == 7) & t["method"].isin(PICKUP_METHODS)]
        best7 = pu["mae"].min() if len(pu) else np.nan
        s = self.replay.summary
        base = s.loc["FCFS", "net_revpar"] if "FCFS" in s.index else np.nan
        return {
            "cancel_rate": float(self.cancellation.table["cancel_rate"].iloc[0]),
            "cancel_auc": float(self.cancellation.table.loc["gradient boosting", "auc"]),
            "pickup_mae_7": float(best7),
            "limit_service_90": int(self.limits.loc[min(90, self.limits.index.max()), "limit_service"]),
            "limit_service_0": int(self.limits.loc[0, "limit_service"]),
            "replay_uplift_pct": float(100 * (s["net_revpar"].max() / base - 1)) if base else np.nan,
            "shows_mae_7": (float(self.shows.by_days_out.loc[7, "shows_mae"])
                            if self.shows is not None and 7 in self.shows.by_days_out.index else np.nan),
            "dp_vs_fcfs_pct": (float(100 * (s.loc["DP bid price", "net_revpar"] / base - 1))
                               if base and "DP bid price" in s.index else np.nan),
        }

    def artifacts(self) -> dict[str, pd.DataFrame]:
        """The artefact tables (:data:`HORIZON_ARTIFACTS`), columns as declared."""
        curves = self.curves.frame(days_before=[d for d in _DAYS_OUT if d <= self.params.max_lead])
        curves["series"] = curves["series"].astype("string")
        curves["days_before"] = curves["days_before"].astype("int64")
        pe = self.pickup.errors.assign(method=lambda d: d["method"].astype("string"),
                                       days_before=lambda d: d["days_before"].astype("int64"),
                                       nights=lambda d: d["nights"].astype("int64"))
        ob = self.limits.reset_index()
        ob["days_before"] = ob["days_before"].astype("int64")
        rp = self.replay.summary.reset_index()
        rp["policy"] = rp["policy"].astype("string")
        sh = (self.shows.by_days_out.reset_index().astype(float).astype({"days_before": "int64"})
              if self.shows is not None else pd.DataFrame({c.name: pd.Series(dtype=c.pandas_dtype)
                                                           for c in EXPECTED_SHOWS_SCHEMA}))
        if self.synthetic is not None:
            sy = self.synthetic.reset_index().astype({"streams": "int64"})
            sy["policy"] = sy["policy"].astype("string")
        else:
            sy = pd.DataFrame({c.name: pd.Series(dtype=c.pandas_dtype) for c in SYNTHETIC_REPLAY_SCHEMA})
        out = {"booking_curves.parquet": curves, "pickup_errors.parquet": pe,
               "overbooking_horizon.parquet": ob, "policy_replay.parquet": rp,
               "expected_shows.parquet": sh, "synthetic_replay.parquet": sy}
        for name, df in out.items():
            schema = HORIZON_ARTIFACTS[name]
            check_columns(schema.required, df.columns, table=name, error=OperationError,
                          fix="An internal error: the step's table does not meet its contract")
        return out


def _class_rates(bookings: pd.DataFrame, classes: list[str], nights: pd.DatetimeIndex, days: int,
                 group_of_night: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean rooms requested per class, by days before the night and group of nights: (groups, days, classes).

    Requests are counted by stay night (each night of a stay is a request for that night's room) and
    weighted by the share of them that finally stay (the DP plans the rooms that will be used; the
    replay counts its rooms left net of the cancellations to come, ``dp_show_rate``). Requests made more
    than ``days`` before the night are not in the rates (they were lumped into day ``days``, which made
    the programme expect them again after they had booked: bid prices far too high before the horizon);
    such requests see the bid prices of the whole horizon at the rooms left.
    """
    b = bookings[bookings["fare_class"].astype("object").isin(classes)]
    day0 = nights[0]
    k = b["fare_class"].astype("object").map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
    arr = (b["arrival_date"] - day0).dt.days.to_numpy(np.int64)
    lead = (b["arrival_date"] - b["booking_date"]).dt.days.to_numpy(np.int64)
    n = b["nights"].to_numpy(np.int64)
    u = (b["units"] if "units" in b.columns else pd.Series(1, index=b.index)).to_numpy(float)
    stay = (b["status"].astype("object") == "stayed").to_numpy(float)
    acc = np.zeros((n_groups, days, len(classes)))
    cnt = np.bincount(group_of_night, minlength=n_groups).astype(float)
    for s in range(int(n.max(initial=1))):
        m = n > s
        t = arr[m] + s
        d = lead[m] + s
        ok = (t >= 0) & (t < len(nights)) & (d >= 1) & (d <= days)
        d = d[ok]
        np.add.at(acc, (group_of_night[t[ok]], d - 1, k[m][ok]), (u[m] * stay[m])[ok])
    return acc / np.maximum(cnt, 1)[:, None, None]


class _NoCancellation:
    """The cancellation probability of a hotel whose training bookings never cancel: 0 for every booking."""

    def predict_proba(self, bookings: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(bookings))


def run_booking_horizon(bookings: pd.DataFrame, params: HorizonParams) -> HorizonResult:
    """Booking curves, pick-up, cancellations, overbooking by days out, dynamic control and replay.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Cleaned canonical bookings (``bookings.parquet`` of the data-quality
        step); ``fare_class`` defaults to ``segment``.
    params : HorizonParams

    Returns
    -------
    HorizonResult

    Raises
    ------
    ValueError
        When the data do not cover a training and a test period (naming the
        dates), or on bad parameters; ``capacity=None`` for bookings that are
        not the built-in hotel's, or a capacity the bookings contradict
        (:func:`crm_analysis.seasonality.check_capacity`).
    """
    import dataclasses

    from crm_analysis.seasonality.unconstrain import check_capacity

    p = params
    notes: list[str] = []
    check_columns(["segment"], bookings.columns, table="the bookings of run_booking_horizon",
                  fix="Load them with crm_analysis.data.load_bookings (canonical booking columns)")
    # day-use bookings (0 nights, kept by a BookingCleaningPolicy(zero_nights="keep")) hold no room-night:
    # left out of the horizon and counted; every other record that cannot be placed is an error
    day_use = (pd.to_numeric(bookings["nights"], errors="coerce") == 0).to_numpy() if "nights" in bookings.columns else None
    b = bookings.loc[~day_use] if day_use is not None and day_use.any() else bookings
    check_booking_records(b, what="run_booking_horizon", rate=True)
    # None (the built-in hotel's rooms) only for the built-in hotel's bookings, and no capacity the bookings
    # contradict (findings_13c G8)
    p = dataclasses.replace(p, capacity=check_capacity(b, p.capacity, as_of=p.as_of, owner="HorizonParams"))
    b = b.copy()
    if "fare_class" not in b.columns:
        b["fare_class"] = b["segment"]
    as_of, cut = p.as_of_ts, p.cutoff_ts
    late = b["arrival_date"] > as_of
    counts = {"bookings": len(bookings)}
    if day_use is not None and day_use.any():
        counts["left out: zero nights (day use)"] = int(day_use.sum())
    counts["left out: arrival after as_of"] = int(late.sum())
    b = b.loc[~late]
    first_night = b["arrival_date"].min()
    if pd.isna(first_night):
        raise InputError(f"no booking arrives by as_of {as_of:%Y-%m-%d}: the {len(bookings):,} bookings arrive from "
                         f"{bookings['arrival_date'].min():%Y-%m-%d} to {bookings['arrival_date'].max():%Y-%m-%d}; "
                         "set as_of within the data")
    if cut - first_night < pd.Timedelta(days=p.window + 28) or cut > as_of - pd.Timedelta(days=max(p.pickup_days)):
        raise InputError(
            f"the bookings arrive from {first_night:%Y-%m-%d} to {as_of:%Y-%m-%d} (as_of): the cutoff {cut:%Y-%m-%d} "
            f"needs at least {p.window + 28} training nights before it and {max(p.pickup_days)} test nights after it; "
            "set `cutoff` (or `test_days`) accordingly")
    start = first_night
    train_end = cut - pd.Timedelta(days=1)
    # 1. booking curves
    curves = booking_curves(b, start=start, end=as_of, max_lead=p.max_lead, by="segment")
    notes += curves.rooms.notes
    # 2. pick-up backtest: one origin per day; the night origin + d must be a test night up to as_of
    origins = pd.date_range(cut - pd.Timedelta(days=1), as_of - pd.Timedelta(days=max(p.pickup_days)), freq="D")
    baseline = _ts_baseline(b, p, cut, as_of) if p.ts_baseline_origins > 0 else None
    pickup = pickup_backtest(curves.rooms, origins=origins, days_before=p.pickup_days, window=p.window,
                             baseline=baseline)
    notes += [n for n in pickup.notes if "compare them on the same pairs" in n]
    # 3. cancellation models
    split = split_bookings(b, cut)
    y_train = cancellation_target(split.train)
    if y_train.min() == 1:
        raise InputError(f"all {y_train.size:,} bookings made before the cutoff {cut:%Y-%m-%d} were cancelled: no "
                         "booking stays, so there is no show rate, booking limit or replay revenue to compute; check "
                         "the status column (crm_analysis.data.normalise_status) or move the cutoff")
    if y_train.max() == 0:  # a hotel without cancellations: the probability is 0 for every booking (exact)
        notes.append(f"no cancellation among the {y_train.size:,} bookings made before the cutoff: every booking's "
                     "cancellation probability is 0 (no model fitted, AUC not defined)")
        const = _NoCancellation()
        models = {"logistic regression": const, "gradient boosting": const}
    else:
        models = {
            "logistic regression": CancellationModel(model="logistic", seed=p.seed).fit(split.train),
            "gradient boosting": CancellationModel(model="gradient_boosting", max_iter=p.cancel_max_iter,
                                                   seed=p.seed).fit(split.train),
        }
    cancel = evaluate_cancellation_model(models, split.test, one_class="nan")
    b = b.reset_index(drop=True)
    cancel_p = models["gradient boosting"].predict_proba(b)  # features known at booking only
    counts |= {"cancellation train bookings": split.counts["train"], "cancellation test bookings": split.counts["test"]}
    # 4. show rates and limits by days out (training nights)
    fares_tab = fares_from_bookings(b[b["arrival_date"] <= train_end], by="fare_class")
    fares_tab = fares_tab[fares_tab["fare"] > 0]
    fares = fares_tab["fare"]
    walk_cost = float(p.walk_cost) if p.walk_cost is not None else 2.0 * float(fares.max())
    q = show_rates_by_days_out(b, start=start + pd.Timedelta(days=min(p.max_lead, 30)), end=train_end, max_lead=p.max_lead)
    limits = overbooking_limits_by_days_out(q["show_rate"], p.capacity, max_denied_prob=p.service_level,
                                            walk_cost=walk_cost, empty_room_cost=float(fares.mean()))
    limits["limit_service"] = limits["limit_service"].astype("int64")
    limits["limit_cost"] = limits["limit_cost"].astype("int64")
    # 4b. expected shows of the bookings on hand (per-booking probabilities) + net pick-up; limits per night
    test_nights = pd.date_range(cut, as_of, freq="D")
    shows = show_forecast(b, cancel_p, nights=test_nights,
                          train_nights=pd.date_range(start + pd.Timedelta(days=min(p.max_lead, 30)), train_end),
                          capacity=p.capacity, days_out=sorted(set(p.shows_days_out)),
                          max_denied_prob=p.service_level, walk_cost=walk_cost, empty_room_cost=float(fares.mean()))
    notes += shows.notes
    sl = shows.nightly.pivot(index="night", columns="days_before", values="limit_service")
    sl = sl.reindex(index=test_nights, columns=range(int(sl.columns.max()) + 1)).ffill(axis=1)
    night_limits = sl.to_numpy(np.int64)
    # 5. dynamic programme per arrival month of the night (rates from the training nights)
    classes = list(fares.index)
    # strictly decreasing fares: classes with equal fares are nudged apart by a cent (counted)
    f = fares.to_numpy(float).copy()
    for i in range(1, f.size):
        if f[i] >= f[i - 1]:
            f[i] = f[i - 1] - 0.01
    nights_all = pd.date_range(start, as_of, freq="D")
    month = nights_all.month.to_numpy() - 1
    train_mask = nights_all <= train_end
    grp = np.where(train_mask, month, 12)  # test nights are not averaged in
    rates = _class_rates(b, classes, nights_all, p.dp_days, grp, 13)[:12]
    cap_dp = int(p.capacity)  # with overbooking the replay caps the rooms left at C (bid prices of x <= C)
    dp: dict[int, DynamicDPResult] = {}
    for g in range(12):
        if not (month[train_mask] == g).any():
            continue
        lam, kper = arrival_probabilities(rates[g], max_probability=0.5)
        dp[g] = dynamic_programme(f, lam, cap_dp, periods_per_day=kper)
    if not dp:
        raise InputError("no training night to estimate the arrival rates of the dynamic programme")
    # a test month without training nights (less than a year of history) gets the programme of the rates
    # pooled over all training nights (was: the busiest month's, which over-protects in a slack month)
    pooled = _class_rates(b, classes, nights_all, p.dp_days, np.where(train_mask, 0, 1), 2)[0]
    lam, kper = arrival_probabilities(pooled, max_probability=0.5)
    fallback = 12
    dp[fallback] = dynamic_programme(f, lam, cap_dp, periods_per_day=kper)
    missing = sorted({int(m) for m in test_nights.month if (m - 1) not in dp})
    if missing:
        notes.append(f"test month(s) {missing} without training nights: the DP uses the arrival rates pooled over "
                     "all training nights")
    dp_group = np.array([m - 1 if (m - 1) in dp else fallback for m in test_nights.month])
    busiest = int(pd.Series(dp_group).mode().iloc[0]) if len(dp_group) else fallback
    dp_table = dp[busiest].protection_frame(days_before=[d for d in (180, 120, 90, 60, 30, 14, 7, 1) if d <= p.dp_days])
    # EMSR-b demand per class: final rooms per night by arrival month over the training nights
    otb_cls = pd.DataFrame(curves_by_class(b, start, train_end), copy=False)
    mon = otb_cls.index.month
    class_demand = {}
    for c in classes:
        col = otb_cls[c] if c in otb_cls.columns else pd.Series(0.0, index=otb_cls.index)
        mu = col.groupby(mon).mean().reindex(range(1, 13)).fillna(col.mean())
        sd = col.groupby(mon).std().reindex(range(1, 13)).fillna(col.std()).fillna(0.0)
        class_demand[c] = (mu.loc[test_nights.month].to_numpy(), sd.loc[test_nights.month].to_numpy())
    # 6. replay on the test nights (warm-up: requests for earlier nights still in house are replayed too)
    req = b[b["arrival_date"] >= cut - pd.Timedelta(days=30)]
    req = req[req["fare_class"].astype("object").isin(classes)]
    left_out = int((b["arrival_date"] >= cut - pd.Timedelta(days=30)).sum() - len(req))
    if left_out:
        notes.append(f"{left_out} request(s) of classes without a positive fare (e.g. complimentary) left out of the replay")
    fares_adj = dict(zip(classes, f))
    no_show_rule = np.full(len(limits), int(limits.loc[0, "limit_service"]))
    pols = [ReplayPolicy("fcfs"), ReplayPolicy("fcfs", True), ReplayPolicy("emsr_b"), ReplayPolicy("emsr_b", True),
            ReplayPolicy("dp"), ReplayPolicy("dp", True)]
    q_dp = limits["show_rate"].to_numpy()  # net rooms left for the DP (its rates are of requests that stay)
    ctrl = dict(capacity=p.capacity, start=cut, end=as_of, limits=limits["limit_service"].to_numpy(),
                class_fares=fares_adj, class_demand=class_demand, dp=dp, dp_group=dp_group, walk_cost=walk_cost,
                dp_show_rate=q_dp)
    replay = replay_policies(req, pols, **ctrl)
    rule = replay_policies(req, [ReplayPolicy("fcfs", True, name="FCFS + no-show-only limit")], capacity=p.capacity,
                           start=cut, end=as_of, limits=no_show_rule, walk_cost=walk_cost)
    on_hand = replay_policies(req, [ReplayPolicy("fcfs", True, name="FCFS + limits from bookings on hand")],
                              capacity=p.capacity, start=cut, end=as_of, limits=night_limits, walk_cost=walk_cost)
    replay.summary = pd.concat([replay.summary.iloc[:2], rule.summary, on_hand.summary, replay.summary.iloc[2:]])
    replay.nightly = pd.concat([replay.nightly, rule.nightly, on_hand.nightly], ignore_index=True)
    replay.outcomes = pd.concat([replay.outcomes, rule.outcomes, on_hand.outcomes], ignore_index=True)
    # 6b. the synthetic hotel's request streams through the same controls (common random numbers)
    synthetic = None
    if p.synthetic_replications:
        synthetic = _synthetic_replay(p, cut, as_of, classes, pols, ctrl, notes)
    # 8. group request d days out: displacement from the DP bid prices at the expected shows on hand
    group = _group_view(p, dp, q, curves, train_end, fares, walk_cost)
    return HorizonResult(p, curves, pickup, cancel, q, limits, pd.Series(fares_adj, name="fare"), dp, dp_table,
                         replay, group, counts, notes, shows, synthetic)


def _synthetic_replay(p: HorizonParams, cut: pd.Timestamp, as_of: pd.Timestamp, classes: list[str],
                      pols: list[ReplayPolicy], ctrl: dict[str, Any], notes: list[str]) -> pd.DataFrame:
    """Replay request streams of the default synthetic hotel at ``capacity`` rooms (seeds ``seed + 1000 + r``)."""
    from crm_analysis.synthetic import DEFAULT_HOTEL, request_stream
    from crm_analysis.yield_management.replay import replay_replications

    cfg = DEFAULT_HOTEL.with_capacity(int(p.capacity))
    streams, dropped = [], 0
    for r in range(int(p.synthetic_replications)):
        s = request_stream(cfg, start=cut - pd.Timedelta(days=30), end=as_of, seed=int(p.seed) + 1000 + r)
        if "fare_class" not in s.columns:
            s["fare_class"] = s["segment"]
        keep = s["fare_class"].astype("object").isin(classes)
        dropped += int((~keep).sum())
        streams.append(s.loc[keep])
    if dropped:
        notes.append(f"synthetic replay: {dropped:,} request(s) of segments without a fare in the data left out")
    out = replay_replications(streams, pols, **ctrl)
    notes.append(f"synthetic replay: {len(streams)} request streams of the default hotel at {p.capacity} rooms "
                 "(common random numbers: every policy sees the same streams)")
    return out


def _ts_baseline(b: pd.DataFrame, p: HorizonParams, cut: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """Rolling-origin forecasts of the total room-nights by the time-series forecaster (no pick-up)."""
    from crm_analysis.seasonality.forecaster import DemandForecaster, backtest

    H = int(max(p.pickup_days))
    last = as_of - pd.Timedelta(days=H)
    cuts = [c for c in pd.date_range(end=last, periods=int(p.ts_baseline_origins), freq="14D") if c >= cut - pd.Timedelta(days=1)]
    if not cuts:
        return pd.DataFrame(columns=["origin", "night", "forecast"])
    est = DemandForecaster(models=("ets", "theta", "seasonal_naive"), by=None, reconcile=None, horizon=H,
                           cv_windows=2, seed=p.seed)
    bt = backtest(est, b, cutoffs=cuts, horizon=H, as_of=as_of)
    pr = bt.predictions.groupby(["cutoff", "date"], as_index=False)["mean"].sum()
    return pd.DataFrame({"origin": pr["cutoff"], "night": pr["date"], "forecast": pr["mean"],
                         "method": "time_series (DemandForecaster)"})


def curves_by_class(bookings: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Final rooms per stay night and fare class (on the books on the night), nights ``start..end``.

    For :func:`run_booking_horizon`'s records, checked there (the unchecked ``on_the_books``).
    """
    from crm_analysis.seasonality.pickup import _on_the_books

    o = _on_the_books(bookings, start=start, end=end, max_lead=0, by="fare_class")
    return pd.DataFrame(o.values[:, 0, :], index=o.nights, columns=o.series)


def _group_view(p: HorizonParams, dp: dict[int, DynamicDPResult], q: pd.DataFrame, curves: BookingCurves,
                train_end: pd.Timestamp, fares: pd.Series, walk_cost: float) -> pd.DataFrame:
    """Displacement of a group booked ``group_days_before`` days out, per arrival month (horizon view).

    Rooms left = capacity - expected shows of the rooms on the books then (mean over the month's
    training nights times the show rate then); displacement = sum of the DP bid prices of the group's
    rooms at that level, per night, at the group's days out (which already prices the expected later
    pick-up net of cancellations). Group revenue = rooms x rate x nights x the show rate then.
    """
    otb = curves.rooms.total()
    # HorizonParams refuses a negative or too distant day; checked again here, as an index -1 would read
    # the books at max_lead days out (findings_13c G7)
    d = check_count(p.group_days_before, "group_days_before", minimum=0, maximum=min(otb.shape[1], len(q)) - 1)
    rate = float(p.group_rate) if p.group_rate is not None else 0.8 * float(fares.min())
    nights = curves.rooms.nights
    m = nights <= train_end
    mon = nights[m].month
    on_hand = pd.Series(otb[m, d], index=mon).groupby(level=0).mean()
    qd = float(q["show_rate"].iloc[d])
    rows = []
    for g, res in sorted((g, r) for g, r in dp.items() if g < 12):  # 12: the pooled fallback
        shows = float(on_hand.get(g + 1, 0.0)) * qd
        left = int(max(0, min(res.capacity, round(p.capacity - shows))))
        t = min(max(d, 1) * res.periods_per_day, res.bid_prices.shape[0])
        g_rooms = min(p.group_size, left)
        disp = float(res.bid_prices[t - 1, left - g_rooms:left].sum()) * p.group_nights if g_rooms else np.inf
        revenue = p.group_size * rate * p.group_nights * qd
        rows.append({"month": g + 1, "expected_shows_on_hand": shows, "rooms_left": left,
                     "displacement": disp, "group_revenue": revenue,
                     "decision": "accept" if g_rooms == p.group_size and revenue >= disp else "reject"})
    return pd.DataFrame(rows).set_index("month")
