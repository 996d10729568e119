"""Booking curves and pick-up forecasts over the booking horizon.

Booking curves
--------------
:func:`booking_curves` counts, for every stay night and segment, the rooms
(room-nights of that night) and the arrivals on the books ``d`` days before
the night, net of the cancellations known on that day. It is
:func:`crm_analysis.seasonality.on_the_books` (the one definition of "on the
books" in the package: made by day ``t - d`` and not cancelled by it) read
twice, once per measure.

Pick-up forecasts
-----------------
With ``OTB(t, h)`` the rooms on the books for night ``t`` at ``h`` days
before it and ``F(t) = OTB(t, 0)`` its final count, a forecast made at the
end of day ``o`` (the origin) for night ``t = o + h`` uses ``OTB(o + h, h)``
and the pick-up of past nights (Weatherford & Kimes 2003, "A comparison of
forecasting methods for hotel revenue management", *IJF* 19:401-415; Wickham
1995; Talluri & van Ryzin 2004, sec. 9.3.3):

* classical additive: ``OTB(t, h) + mean(F(s) - OTB(s, h))`` over the
  ``window`` complete nights ``s <= o``;
* classical multiplicative: ``OTB(t, h) * sum F(s) / sum OTB(s, h)`` (ratio of
  sums, so nights with nothing on the books do not divide by zero);
* advanced additive: ``OTB(t, h) + sum_{k=1..h} mean(OTB(s, k-1) - OTB(s, k))``
  where the step from ``k`` to ``k - 1`` days out is averaged over the
  ``window`` latest nights ``s <= o + k - 1`` for which it is already known at
  the origin (nights not yet complete contribute their known steps);
* advanced multiplicative: the product of the step ratios
  ``sum OTB(s, k-1) / sum OTB(s, k)`` over the same windows.

Only numbers known at the end of day ``o`` enter (tests check it by
truncating the bookings at the origin). The classical additive forecast is
:func:`crm_analysis.seasonality.pickup_forecast` (the forecaster's pickup
candidate); it is called here, not re-implemented.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crm_analysis.seasonality.pickup import OnTheBooks, _on_the_books, pickup_forecast
from crm_analysis.data.booking_records import check_booking_records

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "BookingCurves",
    "booking_curves",
    "PICKUP_METHODS",
    "pickup_forecasts",
    "PickupBacktest",
    "pickup_backtest",
]

#: Pick-up methods of :func:`pickup_forecasts`.
PICKUP_METHODS: tuple[str, ...] = (
    "classical_additive",
    "classical_multiplicative",
    "advanced_additive",
    "advanced_multiplicative",
)


@dataclass
class BookingCurves:
    """Rooms and arrivals on the books by night, days before it and segment.

    Attributes
    ----------
    rooms : OnTheBooks
        Room-nights on the books per stay night (``measure="room_nights"``).
    arrivals : OnTheBooks
        Bookings on the books per arrival date (``measure="arrivals"``).
    by : str or None
        Series column.
    """

    rooms: OnTheBooks
    arrivals: OnTheBooks
    by: str | None

    def frame(self, *, days_before: Sequence[int] = (0, 1, 3, 7, 14, 30, 60, 90, 120, 180)) -> pd.DataFrame:
        """Long table: ``night``, ``series``, ``days_before``, ``rooms``, ``arrivals``.

        Parameters
        ----------
        days_before : sequence of int
            Days before the night kept (each ``<= max_lead``).

        Returns
        -------
        pandas.DataFrame
        """
        d = [int(x) for x in days_before if int(x) <= int(self.rooms.leads[-1])]
        nights, series = self.rooms.nights, self.rooms.series
        idx = pd.MultiIndex.from_product([nights, series, d], names=["night", "series", "days_before"])
        r = self.rooms.values[:, d, :].transpose(0, 2, 1).ravel()
        a = self.arrivals.values[:, d, :].transpose(0, 2, 1).ravel()
        return pd.DataFrame({"rooms": r, "arrivals": a}, index=idx).reset_index()

    def mean_curve(self, *, end: object | None = None) -> pd.DataFrame:
        """Mean share of the final rooms on the books, by days before and series.

        Parameters
        ----------
        end : date-like, optional
            Last night used (e.g. the last complete night at the origin).

        Returns
        -------
        pandas.DataFrame
            Index ``days_before`` (0..max_lead), one column per series and
            ``all``: ``sum_t OTB(t, d) / sum_t OTB(t, 0)``.
        """
        v = self.rooms.values
        nights = self.rooms.nights
        m = np.ones(len(nights), dtype=bool) if end is None else np.asarray(nights <= pd.Timestamp(end))
        v = v[m]
        tot = v.sum(axis=0)  # (leads, series)
        fin = tot[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(fin > 0, tot / fin, np.nan)
            alls = tot.sum(axis=1) / tot[0].sum() if tot[0].sum() > 0 else np.full(tot.shape[0], np.nan)
        out = pd.DataFrame(share, index=pd.Index(self.rooms.leads, name="days_before"), columns=self.rooms.series)
        out["all"] = alls
        return out

    def plot(self, ax: "Axes | None" = None, *, end: object | None = None) -> "Figure":
        """Booking curves: share of the final rooms on the books against days before the night."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(8, 4))
        else:
            fig = ax.figure
        curve = self.mean_curve(end=end)
        for c in curve.columns:
            ax.plot(curve.index, curve[c], lw=2.5 if c == "all" else 1.2, label=str(c))
        ax.invert_xaxis()
        ax.set_xlabel("days before the night")
        ax.set_ylabel("share of the final rooms on the books")
        ax.set_title("Booking curves (net of cancellations known each day)")
        ax.legend(fontsize="small")
        return fig


def booking_curves(
    bookings: pd.DataFrame, *, start: object, end: object, max_lead: int = 365, by: str | None = "segment"
) -> BookingCurves:
    """Rooms and arrivals on the books ``0..max_lead`` days before each night, by series.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``booking_date``, ``arrival_date``, ``nights``,
        ``status``, optional ``units``, ``cancellation_date``). A cancelled
        booking stays on the books until its ``cancellation_date`` (undated
        cancellations until arrival, counted in the notes).
    start, end : date-like
        First and last night.
    max_lead : int, default 365
        Largest number of days before the night kept (bookings made earlier
        are counted from ``max_lead``).
    by : str or None, default "segment"
        Series column (``None``: one series ``all``).

    Returns
    -------
    BookingCurves

    Raises
    ------
    ValueError
        On booking records that cannot be placed on the horizon (no booking
        or arrival date, booked after arrival, a status other than stayed /
        cancelled / no_show, a cancellation date on a booking that is not
        cancelled, before its booking or after its arrival, nights or units
        below 1), naming the column, the count, an example and the fix.
    """
    check_booking_records(bookings, what="booking_curves")
    # checked above under this function's name: the unchecked on_the_books, so each record is checked once
    rooms = _on_the_books(bookings, start=start, end=end, max_lead=max_lead, measure="room_nights", by=by)
    arrivals = _on_the_books(bookings, start=start, end=end, max_lead=max_lead, measure="arrivals", by=by)
    return BookingCurves(rooms, arrivals, by)


# ------------------------------------------------------------------ pick-up forecasts
def _window_sum(cs: np.ndarray, last: np.ndarray, window: int) -> np.ndarray:
    """Sum of rows ``last - window + 1 .. last`` (clipped at 0) from a cumulative sum with a leading 0 row."""
    hi = last + 1
    lo = np.maximum(hi - window, 0)
    return cs[hi, np.arange(last.size)] - cs[lo, np.arange(last.size)], hi - lo


def pickup_forecasts(
    otb: np.ndarray,
    origin: int,
    horizon: int,
    *,
    method: str = "advanced_additive",
    window: int = 91,
) -> np.ndarray:
    """Pick-up forecast of the final count of the ``horizon`` nights after ``origin``.

    Parameters
    ----------
    otb : numpy.ndarray
        On the books, shape ``(nights, leads)``: ``otb[t, h]`` for night ``t``
        at ``h`` days before it (one series of :attr:`OnTheBooks.values`);
        ``otb[t, 0]`` is the final count. Only entries known at the end of
        day ``origin`` are read (``t - h <= origin``).
    origin : int
        Position of the forecast origin (the last complete night).
    horizon : int
        Nights ``origin + 1 .. origin + horizon`` are forecast; needs
        ``leads > horizon`` and ``nights > origin + horizon``.
    method : str, default "advanced_additive"
        One of :data:`PICKUP_METHODS` (see the module docstring).
    window : int, default 91
        Nights averaged for each pick-up (13 weeks). Near the start of the
        array fewer nights are known; the pick-up is then the mean over those
        (at least one night before the origin; :func:`pickup_backtest` leaves
        out, and counts, origins with fewer than ``window`` earlier nights).

    Returns
    -------
    numpy.ndarray
        Shape ``(horizon,)``, forecasts of ``otb[origin + h, 0]``, ``h = 1..horizon``.

    Raises
    ------
    ValueError
        On an unknown method, a window < 1 or an array that does not cover the horizon.
    """
    if method not in PICKUP_METHODS:
        raise InputError(f"method must be one of {PICKUP_METHODS}, got {shown(method)}")
    window, origin, horizon = int(window), int(origin), int(horizon)
    if window < 1:
        raise InputError(f"window must be >= 1 night, got {window}")
    if horizon < 1 or otb.shape[1] <= horizon or otb.shape[0] <= origin + horizon or origin < 0:
        raise InputError(f"on-the-books array {otb.shape} does not cover {horizon} nights/leads after position {origin}")
    otb = np.asarray(otb, dtype=float)
    h = np.arange(1, horizon + 1)
    now = otb[origin + h, h]
    if method == "classical_additive":
        if window % 7 == 0:
            return pickup_forecast(otb, otb[: origin + 1, 0], origin, horizon, weeks=window // 7)
        lo = max(0, origin - window + 1)
        return now + np.mean(otb[lo : origin + 1, 0, None] - otb[lo : origin + 1][:, h], axis=0)
    if method == "classical_multiplicative":
        lo = max(0, origin - window + 1)
        fin = otb[lo : origin + 1, 0].sum()
        base = otb[lo : origin + 1][:, h].sum(axis=0)
        ratio = np.where(base > 0, fin / np.where(base > 0, base, 1.0), 1.0)
        return now * ratio
    # advanced: step k -> k-1 (k = 1..horizon) averaged over nights s <= origin + k - 1
    k = h
    last = origin + k - 1  # latest night whose step k -> k-1 is known at the origin
    step_cols = otb[:, k - 1]  # (nights, horizon) OTB(s, k-1)
    prev_cols = otb[:, k]  # OTB(s, k)
    pad = np.zeros((1, horizon))
    if method == "advanced_additive":
        cs = np.vstack([pad, np.cumsum(step_cols - prev_cols, axis=0)])
        tot, n = _window_sum(cs, last, window)
        inc = tot / n
        return now + np.cumsum(inc)
    cs_a = np.vstack([pad, np.cumsum(step_cols, axis=0)])
    cs_b = np.vstack([pad, np.cumsum(prev_cols, axis=0)])
    a, _ = _window_sum(cs_a, last, window)
    b, _ = _window_sum(cs_b, last, window)
    ratio = np.where(b > 0, a / np.where(b > 0, b, 1.0), 1.0)
    return now * np.cumprod(ratio)


@dataclass
class PickupBacktest:
    """Errors of pick-up forecasts by days before the night (see :func:`pickup_backtest`).

    Attributes
    ----------
    predictions : pandas.DataFrame
        ``origin``, ``night``, ``days_before``, ``method``, ``forecast``, ``actual``.
    errors : pandas.DataFrame
        One row per (method, days_before): ``mae``, ``rmse``, ``bias``,
        ``wape`` (sum of absolute errors / sum of actuals), ``nights``.
    notes : list of str
    """

    predictions: pd.DataFrame
    errors: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def table(self, *, metric: str = "mae") -> pd.DataFrame:
        """``metric`` by method (rows) and days before (columns)."""
        return self.errors.pivot(index="method", columns="days_before", values=metric)

    def on_nights_of(self, method: str) -> "PickupBacktest":
        """The backtest of every method on the (origin, night) pairs at which ``method`` was scored.

        A baseline scored at a few origins (e.g. the time-series forecaster,
        refitted at each) and the pick-up methods scored at every origin are
        compared on the same nights only here.

        Parameters
        ----------
        method : str
            A method of :attr:`predictions`.

        Returns
        -------
        PickupBacktest
            Predictions and errors restricted to those pairs (same columns).

        Raises
        ------
        ValueError
            On a method that is not in the backtest.
        """
        p = self.predictions
        if method not in set(p["method"]):
            raise InputError(f"method {method!r} is not in the backtest; it has {sorted(set(p['method']))}")
        keys = p.loc[p["method"] == method, ["origin", "night"]].drop_duplicates()
        sub = p.merge(keys, on=["origin", "night"], how="inner")
        return PickupBacktest(sub, _errors(sub), [f"restricted to the {len(keys)} (origin, night) pairs of {method}"])

    def plot(self, *, metric: str = "mae", ax: "Axes | None" = None) -> "Figure":
        """Forecast error against days before the night, one line per method."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4))
        else:
            fig = ax.figure
        t = self.table(metric=metric)
        for m in t.index:
            ax.plot(t.columns, t.loc[m], marker="o", label=m)
        ax.invert_xaxis()
        ax.set_xlabel("days before the night")
        ax.set_ylabel(f"{metric.upper()} of the final rooms")
        ax.set_title("Pick-up forecast error by days before the night")
        ax.legend(fontsize="small")
        return fig


def _errors(pred: pd.DataFrame) -> pd.DataFrame:
    e = pred["forecast"] - pred["actual"]
    g = pred.assign(err=e, abs=e.abs(), sq=e**2).groupby(["method", "days_before"], sort=False)
    out = pd.DataFrame({
        "mae": g["abs"].mean(),
        "rmse": np.sqrt(g["sq"].mean()),
        "bias": g["err"].mean(),
        "wape": g["abs"].sum() / g["actual"].sum(),
        "nights": g["abs"].size(),
    })
    return out.reset_index()


def pickup_backtest(
    curves: OnTheBooks,
    *,
    origins: Sequence[object],
    days_before: Sequence[int] = (60, 30, 14, 7, 1),
    methods: Sequence[str] = PICKUP_METHODS,
    window: int = 91,
    baseline: pd.DataFrame | None = None,
) -> PickupBacktest:
    """Backtest pick-up forecasts: at each origin, forecast the night ``d`` days later, for each ``d``.

    Parameters
    ----------
    curves : OnTheBooks
        Rooms on the books (summed over its series) from
        :func:`booking_curves` / :func:`~crm_analysis.seasonality.on_the_books`;
        its ``max_lead`` must be at least ``max(days_before)``.
    origins : sequence of date-like
        Forecast origins (end of day). Each needs ``window`` earlier nights in
        ``curves`` and its night ``origin + d`` in ``curves``; origins that do
        not are left out and counted in ``notes``.
    days_before : sequence of int, default (60, 30, 14, 7, 1)
        Leads scored.
    methods : sequence of str
        Pick-up methods (:data:`PICKUP_METHODS`).
    window : int, default 91
    baseline : pandas.DataFrame, optional
        Another forecast to score alongside (e.g. the time-series forecaster):
        ``origin``, ``night``, ``forecast`` (and optionally ``method``,
        default ``"time_series"``); rows whose ``night - origin`` is one of
        ``days_before`` are scored.

    Returns
    -------
    PickupBacktest

    Raises
    ------
    ValueError
        When the leads of ``curves`` are too short, no origin can be scored, or
        ``baseline`` lacks a column.
    """
    d = np.array(sorted({int(x) for x in days_before}), dtype=int)
    if d.min() < 1:
        raise InputError(f"days_before must be >= 1, got {d.tolist()}")
    if curves.leads[-1] < d.max():
        raise InputError(f"the booking curves reach {int(curves.leads[-1])} days before the night, "
                         f"the backtest needs {int(d.max())} (build them with a larger max_lead)")
    otb = curves.total()
    nights = curves.nights
    notes: list[str] = []
    rows = []
    skipped = 0
    H = int(d.max())
    for o in origins:
        o = pd.Timestamp(o)
        if o not in nights:
            skipped += 1
            continue
        i = int(nights.get_loc(o))
        if i + 1 < window or i + H >= len(nights):
            skipped += 1
            continue
        for m in methods:
            f = pickup_forecasts(otb, i, H, method=m, window=window)
            rows.append(pd.DataFrame({"origin": o, "night": nights[i + d], "days_before": d, "method": m,
                                      "forecast": f[d - 1], "actual": otb[i + d, 0]}))
    if skipped:
        notes.append(f"{skipped} origin(s) left out: fewer than {window} earlier nights or night + "
                     f"{H} days beyond the data")
    if not rows:
        raise InputError("no origin could be scored: each needs `window` earlier nights and "
                         f"{H} later nights in the booking curves")
    pred = pd.concat(rows, ignore_index=True)
    if baseline is not None:
        check_columns(["origin", "night", "forecast"], baseline.columns, table="baseline",
                      fix="It needs origin, night and forecast (and optionally method)")
        bl = baseline.copy()
        bl["origin"] = pd.to_datetime(bl["origin"])
        bl["night"] = pd.to_datetime(bl["night"])
        bl["days_before"] = (bl["night"] - bl["origin"]).dt.days
        bl = bl[bl["days_before"].isin(d)]
        if "method" not in bl.columns:
            bl["method"] = "time_series"
        final = pd.Series(otb[:, 0], index=nights)
        bl = bl[bl["night"].isin(nights)]
        bl["actual"] = final.reindex(bl["night"]).to_numpy()
        pred = pd.concat([pred, bl[["origin", "night", "days_before", "method", "forecast", "actual"]]],
                         ignore_index=True)
        for m in sorted(set(bl["method"])):
            n_bl = int((bl["method"] == m).sum())
            n_pu = int((pred["method"] == methods[0]).sum()) if len(methods) else 0
            if n_bl != n_pu:
                notes.append(f"{m} is scored on {n_bl} (origin, night) pairs, the pick-up methods on {n_pu}; "
                             "compare them on the same pairs (PickupBacktest.on_nights_of)")
    return PickupBacktest(pred, _errors(pred), notes)
