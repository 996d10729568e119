"""Reservations on the books and the pickup forecast of hotel demand.

A hotel knows, at the forecast origin, the reservations already made for the
coming nights. The *pickup* method forecasts a night's final demand as what
is on the books for it now plus the demand that nights usually still pick up
from the same number of days before them: the "advanced pickup" method of
hotel revenue management (Wickham 1995; Weatherford & Kimes 2003, "A
comparison of forecasting methods for hotel revenue management",
*International Journal of Forecasting* 19(3):401-415, where the additive
advanced pickup was among the most accurate methods on Choice and Marriott
hotel data). The time-series models of :mod:`~crm_analysis.seasonality.forecaster`
only see the history of final demand; the pickup candidate adds what the
reservations say about the coming nights.

On the books
------------
:func:`on_the_books` gives, for every night ``t`` and lead ``h`` (days before
the night), the room-nights (or arrivals) of the bookings made by day
``t - h`` and not cancelled by then: ``booking_date <= t - h`` and (for
``status == "cancelled"``) ``cancellation_date > t - h``. A cancelled booking
without a cancellation date cannot be dated; it is counted as on the books
until its arrival (what the hotel saw unless told otherwise; counted in the
notes), never as gone before it was known to be. The count at lead ``h``
therefore uses nothing known after day ``t - h``.

Pickup forecast
---------------
:func:`pickup_forecast`: for a night ``o + h`` after the origin ``o``,
``OTB(o + h, h) + mean(final(t') - OTB(t', h))`` over the ``weeks * 7``
nights ``t' <= o`` (complete nights whose final demand is known at ``o``);
the additive advanced pickup. Two refinements are options: the nights of
the window weighted by their age (``halflife``: the weight halves every
``halflife`` weeks; the simple, weighted and exponential pickup are
compared by Weatherford & Kimes 2003) and the pickup of the same weekday
(``weekday_weight``: the weekday-specific mean pickup at that lead, shrunk
toward the mean pickup of all the window's nights; 1 is the
weekday-specific pickup, 0 the plain one). A forecast of sales can be capped at what a night can sell (``cap``:
the hotel's capacity, or the most sold on a night).
"""

from __future__ import annotations

from crm_analysis.data.booking_records import check_booking_records
from crm_analysis.exceptions import InputError, shown

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._common import to_timestamp
from .series import _group_column, stay_nights

__all__ = ["OnTheBooks", "on_the_books", "pickup_forecast"]


@dataclass
class OnTheBooks:
    """Reservations on the books by night, lead and series (see :func:`on_the_books`).

    Attributes
    ----------
    nights : pandas.DatetimeIndex
        Nights (stay dates, or arrival dates for ``measure="arrivals"``).
    leads : numpy.ndarray
        Leads ``0..max_lead`` in days.
    series : list of str
        Series (values of ``by``; ``["all"]`` without ``by``).
    values : numpy.ndarray
        Shape ``(len(nights), len(leads), len(series))``: on the books for
        night ``i``, ``leads[j]`` days before it, series ``k``.
    measure : str
    notes : list of str
    """

    nights: pd.DatetimeIndex
    leads: np.ndarray
    series: list[str]
    values: np.ndarray
    measure: str
    notes: list[str] = field(default_factory=list)

    def frame(self, lead: int) -> pd.DataFrame:
        """On the books ``lead`` days before each night: one column per series.

        Parameters
        ----------
        lead : int
            Days before the night, ``0..max_lead``.

        Returns
        -------
        pandas.DataFrame
            Index ``nights``, one column per series.
        """
        return pd.DataFrame(self.values[:, int(lead), :], index=self.nights, columns=self.series)

    def total(self) -> np.ndarray:
        """Sum over the series, shape ``(nights, leads)``."""
        return self.values.sum(axis=2)


def on_the_books(
    bookings: pd.DataFrame,
    *,
    start: object,
    end: object,
    max_lead: int,
    measure: str = "room_nights",
    by: str | None = None,
    include_cancelled: bool = False,
) -> OnTheBooks:
    """Room-nights (or arrivals) on the books for each night, ``0..max_lead`` days before it.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``booking_date``, ``arrival_date``, ``nights``,
        ``rate``, ``status``; optional ``units``, ``cancellation_date`` and the
        ``by`` column).
    start, end : date-like
        First and last night.
    max_lead : int
        Largest lead (days before the night) kept.
    measure : {"room_nights", "arrivals"}, default "room_nights"
        Units on every stay date, or bookings by arrival date (as
        :func:`~crm_analysis.seasonality.series.booking_series`).
    by : str, optional
        Series column (e.g. ``"fare_class"``; defaults to the segment where
        absent, as in ``booking_series``).
    include_cancelled : bool, default False
        Count cancelled bookings as demand (then a cancellation never takes a
        booking off the books).

    Returns
    -------
    OnTheBooks
        At lead 0 of a past night the count equals the final
        ``booking_series`` value of that night (the bookings made by the night
        and not cancelled by it).

    Raises
    ------
    ValueError
        On an unknown measure, a negative ``max_lead`` or ``end`` before
        ``start``; on booking records that cannot be placed on the horizon
        (:func:`crm_analysis.data.booking_records.check_booking_records`,
        naming ``on_the_books``; day-use, zero-night, bookings are allowed and
        hold no room-night).
    """
    # records that cannot be placed on the horizon (no or late booking date, cancellations dated outside the
    # booking's life, unknown statuses) are refused, not counted wrongly
    check_booking_records(bookings, what="on_the_books", stays=False)
    return _on_the_books(bookings, start=start, end=end, max_lead=max_lead, measure=measure, by=by,
                         include_cancelled=include_cancelled)


def _on_the_books(
    bookings: pd.DataFrame,
    *,
    start: object,
    end: object,
    max_lead: int,
    measure: str = "room_nights",
    by: str | None = None,
    include_cancelled: bool = False,
) -> OnTheBooks:
    """:func:`on_the_books` of booking records the caller has already checked.

    For the entry points that check the records themselves with
    :func:`~crm_analysis.data.booking_records.check_booking_records` under
    their own name (``booking_curves``, ``show_rates_by_days_out``,
    ``run_booking_horizon``), so that each record is checked once. Records
    that were not checked may be counted wrongly: call :func:`on_the_books`.
    """
    if measure not in ("room_nights", "arrivals"):
        raise InputError(f"measure must be 'room_nights' or 'arrivals', got {shown(measure)}")
    if int(max_lead) < 0:
        raise InputError(f"max_lead must be >= 0, got {shown(max_lead)}")
    t0, t1 = to_timestamp(start, "start"), to_timestamp(end, "end")
    if t1 < t0:
        raise InputError(f"end ({t1.date()}) is before start ({t0.date()})")
    J = int(max_lead)
    nights = pd.date_range(t0, t1, freq="D")
    notes: list[str] = []
    # day-use (zero-night) bookings hold no room-night and are left out below
    b = bookings
    ok = b["booking_date"].notna().to_numpy() & b["arrival_date"].notna().to_numpy()
    if measure == "room_nights":
        ok &= (pd.to_numeric(b["nights"]).fillna(0) > 0).to_numpy()
    b = b.loc[ok]
    excl: dict[str, int] = {}
    group = _group_column(b, by, excl, notes)
    codes, series = (np.zeros(len(b), dtype=np.int64), ["all"]) if group is None else pd.factorize(group, sort=True)
    series = [str(s) for s in series]
    day0 = np.datetime64(t0.date(), "D")
    if measure == "room_nights":
        sn = stay_nights(b)
        row = sn["row"].to_numpy()
        night = (sn["date"].to_numpy("datetime64[D]") - day0).astype(np.int64)
        val = sn["room_nights"].to_numpy(float)
    else:
        row = np.arange(len(b))
        night = (b["arrival_date"].to_numpy("datetime64[D]") - day0).astype(np.int64)
        val = np.ones(len(b))
    booked = (b["booking_date"].to_numpy("datetime64[D]") - day0).astype(np.int64)[row]
    cancelled = (b["status"].astype("object") == "cancelled").to_numpy()[row] & (not include_cancelled)
    if "cancellation_date" in b.columns:
        cd = b["cancellation_date"].to_numpy("datetime64[D]")[row]
    else:
        cd = np.full(row.size, np.datetime64("NaT"), dtype="datetime64[D]")
    undated = cancelled & np.isnat(cd)
    if undated.any():
        n_b = int(np.unique(row[undated]).size)
        notes.append(f"{n_b} cancelled booking(s) without a cancellation date counted as on the books until arrival")
    gone = cancelled & ~undated
    keep = (night >= 0) & (night < len(nights))
    M = np.zeros((len(nights), J + 2, len(series)))
    jb = np.clip(night - booked, -1, J)  # lead at which the booking appears (-1: booked after the night)
    m = keep & (jb >= 0)
    np.add.at(M, (night[m], jb[m], codes[row][m]), val[m])
    cdi = np.where(gone, (cd - day0).astype(np.int64) if gone.any() else 0, 0)
    jc = np.clip(night - cdi, -1, J)  # lead from which it is off the books again
    m = keep & gone & (jb >= 0) & (jc >= 0)
    np.add.at(M, (night[m], np.minimum(jc[m], jb[m]), codes[row][m]), -val[m])
    # on the books at lead h: appeared at a lead >= h and not yet gone at lead h (gone at lead jc >= h)
    values = np.cumsum(M[:, ::-1, :], axis=1)[:, ::-1, :][:, : J + 1, :]
    return OnTheBooks(nights=nights, leads=np.arange(J + 1), series=series, values=values, measure=measure, notes=notes)


def pickup_forecast(
    otb: np.ndarray,
    final: np.ndarray,
    origin: int,
    horizon: int,
    *,
    weeks: int = 13,
    cap: float | None = None,
    halflife: float | None = None,
    weekday_weight: float = 0.0,
) -> np.ndarray:
    """Additive advanced pickup forecast of the ``horizon`` nights after ``origin``.

    Parameters
    ----------
    otb : numpy.ndarray
        On the books, shape ``(nights, leads)`` with ``leads > horizon`` (one
        series of :attr:`OnTheBooks.values`).
    final : numpy.ndarray
        Final demand of the nights ``0..origin`` (known at the origin), shape
        ``(origin + 1,)`` or longer (later values are not read).
    origin : int
        Position of the forecast origin (the last night whose final demand is known).
    horizon : int
        Nights forecast: ``origin + 1 .. origin + horizon``.
    weeks : int, default 13
        The pickup is averaged over the last ``7 * weeks`` complete nights
        (fewer when the arrays start later).
    cap : float, optional
        The most a night can sell (rooms): the forecast is ``min(..., cap)``.
        The additive pickup adds the window's mean pickup to every night
        whatever is on the books, so a night already well booked in a busy
        season is forecast beyond what the hotel can sell: on the City Hotel
        12-38 of the 56 nights of a backtest above the most room-nights ever
        sold on a night (issue #18, benchmarks/README.md). A forecast of
        sales (not of unconstrained demand) is capped there.
    halflife : float, optional
        Weeks: a night ``a`` days before the origin weighs ``0.5 ** (a / (7 *
        halflife))`` in the mean pickup (exponentially weighted pickup,
        Weatherford & Kimes 2003); ``None`` (default) weighs the window's
        nights equally.
    weekday_weight : float, default 0.0
        In ``[0, 1]``: the pickup of a night is ``(1 - weekday_weight) *``
        the (weighted) mean pickup of all the window's nights ``+
        weekday_weight *`` that of the window's nights of the same weekday,
        at the same lead. Where the weekday has no night with a known final
        demand the mean of all nights is used.

    Returns
    -------
    numpy.ndarray
        Shape ``(horizon,)``: ``otb[origin + h, h] + mean(final[t] - otb[t, h])``
        over ``t`` in the window (nights whose ``final`` is NaN are skipped;
        weighted and weekday-specific as set), at most ``cap``.

    Raises
    ------
    ValueError
        When the leads or nights of ``otb`` do not cover the horizon, ``cap``
        is not a non-negative number, ``halflife`` is not a positive number or
        ``weekday_weight`` is not in ``[0, 1]``.
    """
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, (int, float, np.number))
                            or not np.isfinite(cap) or cap < 0):
        raise InputError(f"cap must be a non-negative number (the most a night can sell), got {shown(cap)}")
    if halflife is not None and (isinstance(halflife, bool) or not isinstance(halflife, (int, float, np.number))
                                 or not np.isfinite(halflife) or halflife <= 0):
        raise InputError(f"halflife must be a positive number of weeks or None (equal weights), got {shown(halflife)}")
    if (isinstance(weekday_weight, bool) or not isinstance(weekday_weight, (int, float, np.number))
            or not 0 <= weekday_weight <= 1):
        raise InputError(f"weekday_weight must be a number in [0, 1] (0: one pickup for every weekday, 1: the "
                         f"weekday's own), got {shown(weekday_weight)}")
    h = np.arange(1, int(horizon) + 1)
    if otb.shape[1] <= h[-1] or otb.shape[0] <= origin + h[-1]:
        raise InputError(f"on-the-books array {otb.shape} does not cover {horizon} nights/leads after position {origin}")
    lo = max(0, origin - 7 * int(weeks) + 1)
    window = np.arange(lo, origin + 1)
    diff = final[window, None] - otb[window][:, h]  # (window nights, horizon)
    known = np.isfinite(diff)
    # log weights, shifted per lead so that the youngest night used weighs 1: 0.5 ** (age / (7 halflife)) underflows
    # to 0 for every night older than a few hundred half-lives (a short half-life whose origin night is unknown
    # gave 0 / 0 = NaN); the weighted mean depends only on the weights' ratios
    log_w = (np.zeros(len(window)) if halflife is None
             else -np.log(2.0) * (origin - window) / (7.0 * float(halflife)))

    def weighted_mean(use: np.ndarray) -> np.ndarray:
        lw = np.where(use, log_w[:, None], -np.inf)
        top = lw.max(axis=0)
        wk = np.where(use, np.exp(lw - np.where(np.isfinite(top), top, 0.0)), 0.0)
        return (np.where(use, diff, 0.0) * wk).sum(axis=0) / wk.sum(axis=0)

    with np.errstate(invalid="ignore", divide="ignore"):
        pick = weighted_mean(known)
        if weekday_weight:
            same = (window[:, None] % 7) == ((origin + h)[None, :] % 7)  # (window nights, horizon)
            day = weighted_mean(known & same)
            pick = np.where(np.isfinite(day), (1 - weekday_weight) * pick + weekday_weight * day, pick)
    fc = otb[origin + h, h] + pick
    return fc if cap is None else np.minimum(fc, float(cap))
