"""Expected shows over the booking horizon and overbooking limits from the distribution of shows.

Distribution of shows
---------------------
``d`` days before a night the hotel holds bookings ``i = 1..n`` (``u_i``
rooms each). Booking ``i`` is finally a stay with probability
``p_i(d) = (1 - c_i(d)) * (1 - s)``: ``c_i(d)`` the probability that a
booking *still held* ``d`` days out cancels later (:class:`HeldCancellation`:
the per-booking probability of the :class:`~crm_analysis.yield_management.cancellation.CancellationModel`,
recalibrated on the days out) and ``s`` the no-show rate of the bookings held
at arrival. The rooms that show from the bookings on hand are a sum of
independent Bernoulli variables (times ``u_i``): a Poisson-binomial
distribution (:func:`poisson_binomial_pmf`, exact convolution; Hong 2013,
"On computing the distribution function for the Poisson binomial
distribution", *Comput. Stat. Data Anal.* 59, gives the same recursion).

Net pick-up
-----------
Rooms booked after ``d`` days out that finally stay
(:func:`net_pickup_by_days_out`: the mean over the training nights, i.e.
the classical pick-up of the *stays*, net of the pick-up's own
cancellations and no-shows). Pick-up requests are taken as Poisson, each a
stay with the share ``q_new(d)`` of the pick-up that stays; a thinned Poisson
is Poisson, so the uncontrolled shows are
``S = PoissonBinomial(p(d), u) + Poisson(net pick-up)`` (:func:`shows_pmf`).

Limits by days out
------------------
The limit is on the rooms held. Accepting ``k`` more rooms, each showing
with ``q_new(d)``, gives ``S_k = PoissonBinomial(p(d), u) + Binomial(k, q_new(d))``:

* service level: the largest ``k >= 0`` with ``P(S_k > C) <= max_denied_prob``;
* costs (newsvendor; Talluri & van Ryzin 2004, sec. 4.2.1): accept one more
  room while ``empty_room_cost * P(S_k < C) > walk_cost * P(S_k >= C)``,
  i.e. ``k* = min{k >= 0 : P(S_k >= C) >= empty / (empty + walk)}``.

The limit is ``rooms on hand + k``. Where the bookings on hand already
break the rule at ``k = 0`` (more held than the rooms can take), the limit is
the binomial limit of :mod:`~crm_analysis.yield_management.overbooking` at the
on-hand mean show probability ``E[S_0] / rooms on hand``, at most the rooms on
hand: "accept nothing more" would let a hotel that holds fewer of these
bookings (a replayed policy) fill up to this hotel's holding. The pick-up distribution does not move
it: the ``k+1``-th room matters only when the pick-up reaches it, and then
the marginal value has the sign above (the pick-up sets how likely the limit
binds, shown as ``p_over_capacity``: ``P(S > C)`` with no further control).
With no booking on hand the limits are the binomial ones of
:func:`~crm_analysis.yield_management.overbooking_limit_service` and
:func:`~crm_analysis.yield_management.overbooking_limit_cost` (tested).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sklearn.base import BaseEstimator

from crm_analysis._validate import NotFittedAttributes, check_probability
from crm_analysis.data.booking_records import check_booking_records
from crm_analysis.yield_management.overbooking import overbooking_limit_cost, overbooking_limit_service

__all__ = [
    "poisson_binomial_pmf",
    "shows_pmf",
    "limits_from_shows",
    "HeldCancellation",
    "bookings_on_hand",
    "net_pickup_by_days_out",
    "ShowForecast",
    "show_forecast",
]


def poisson_binomial_pmf(probabilities: Sequence[float] | np.ndarray,
                         units: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Distribution of ``sum_i u_i * X_i`` with independent ``X_i ~ Bernoulli(p_i)``.

    Parameters
    ----------
    probabilities : array of shape (n,)
        ``p_i`` in ``[0, 1]``.
    units : array of int, shape (n,), optional
        ``u_i >= 1`` (rooms of booking ``i``); default 1 each.

    Returns
    -------
    numpy.ndarray
        ``pmf[s] = P(sum = s)``, ``s = 0..sum(u)``.

    Raises
    ------
    ValueError
        On a probability outside ``[0, 1]`` (or NaN) or a unit below 1, naming the first one.
    """
    p = np.asarray(probabilities, dtype=float).ravel()
    u = np.ones(p.size, dtype=np.int64) if units is None else np.asarray(units).astype(np.int64).ravel()
    if u.size != p.size:
        raise InputError(f"units has {u.size} entries for {p.size} probabilities")
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"probabilities must be in [0, 1]; entry {i} is {float(p[i])!r}")
    if (u < 1).any():
        i = int(np.flatnonzero(u < 1)[0])
        raise InputError(f"units must be >= 1; entry {i} is {int(u[i])!r}")
    return _pb(p, u)


def _pb(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Convolution recursion ``next[s] = (1 - p) cur[s] + p cur[s - u]``."""
    cur = np.zeros(int(u.sum()) + 1)
    cur[0] = 1.0
    top = 0
    for pi, ui in zip(p.tolist(), u.tolist()):
        prev = cur[: top + 1].copy()
        cur[: top + 1] *= 1.0 - pi
        cur[ui: top + ui + 1] += pi * prev
        top += ui
    return cur


def _poisson_pmf(mean: float) -> np.ndarray:
    if not (np.isfinite(mean) and mean >= 0):
        raise InputError(f"the expected net pick-up must be finite and >= 0, got {shown(mean)}")
    if mean == 0:
        return np.ones(1)
    hi = int(stats.poisson.isf(1e-12, mean)) + 1
    pmf = stats.poisson.pmf(np.arange(hi + 1), mean)
    pmf[-1] += max(0.0, 1.0 - pmf.sum())  # tail mass (< 1e-12) on the last point: sums to 1
    return pmf


def shows_pmf(probabilities: Sequence[float] | np.ndarray, units: Sequence[int] | np.ndarray | None = None,
              *,
              net_pickup: float = 0.0) -> np.ndarray:
    """Distribution of the rooms that show: Poisson-binomial of the bookings on hand plus Poisson net pick-up.

    Parameters
    ----------
    probabilities, units
        Show probability and rooms of each booking on hand (:func:`poisson_binomial_pmf`).
    net_pickup : float, default 0
        Expected rooms booked later that stay (Poisson mean; its upper tail
        beyond probability ``1e-12`` is put on the last point).

    Returns
    -------
    numpy.ndarray
        ``pmf[s] = P(S = s)``.
    """
    p = np.asarray(probabilities, dtype=float).ravel()
    u = np.ones(p.size, dtype=np.int64) if units is None else np.asarray(units).astype(np.int64).ravel()
    pb = poisson_binomial_pmf(p, u)
    return np.convolve(pb, _poisson_pmf(float(net_pickup)))


def _with_binomial(base: np.ndarray, k: int, q: float) -> np.ndarray:
    """``base`` convolved with the Binomial(k, q) pmf (log-gamma form, no scipy.stats overhead)."""
    if k == 0:
        return base
    if q >= 1.0:
        return np.concatenate([np.zeros(k), base])
    from scipy.special import gammaln

    j = np.arange(k + 1)
    with np.errstate(divide="ignore"):
        lp = gammaln(k + 1) - gammaln(j + 1) - gammaln(k - j + 1) + j * np.log(q) + (k - j) * np.log1p(-q)
    return np.convolve(base, np.exp(lp))


def limits_from_shows(
    on_hand_pmf: np.ndarray,
    capacity: int,
    new_show_rate: float,
    *,
    max_denied_prob: float | None = None,
    walk_cost: float | None = None,
    empty_room_cost: float | None = None,
) -> dict[str, int]:
    """Rooms more to accept ``d`` days out for a service level and for costs (module docstring).

    Parameters
    ----------
    on_hand_pmf : numpy.ndarray
        Distribution of the rooms that show from the bookings on hand (:func:`poisson_binomial_pmf`).
    capacity : int
        Rooms ``C``.
    new_show_rate : float
        ``q_new``: probability that a room accepted from now on stays, in ``(0, 1]``.
    max_denied_prob : float, optional
        Service level ``P(S_k > C) <= max_denied_prob``.
    walk_cost, empty_room_cost : float, optional
        Cost of a walked room and of an empty room (both ``> 0``) for the cost rule.

    Returns
    -------
    dict
        ``extra_service`` / ``extra_cost``: rooms more to accept (``>= 0``; 0
        also when the bookings on hand already break the level, flagged by
        ``over_service = 1`` / ``over_cost = 1``).

    Raises
    ------
    ValueError
        On a capacity below 1, a show rate outside ``(0, 1]``, a level outside
        ``[0, 1)`` or costs that are not positive, naming the argument and the value.
    """
    C = int(capacity)
    if C < 1:
        raise InputError(f"capacity must be a positive number of rooms, got {shown(capacity)}")
    q = float(new_show_rate)
    if not 0 < q <= 1:
        raise InputError(f"new_show_rate must be in (0, 1], got {shown(new_show_rate)}")
    base = np.asarray(on_hand_pmf, dtype=float)
    want_s = max_denied_prob is not None
    want_c = walk_cost is not None or empty_room_cost is not None
    if want_s:
        eps = check_probability(max_denied_prob, "max_denied_prob", zero=True, one=False)
    if want_c:
        w, r = float(walk_cost if walk_cost is not None else np.nan), float(empty_room_cost if empty_room_cost is not None else np.nan)
        if not (np.isfinite(w) and w > 0 and np.isfinite(r) and r > 0):
            raise InputError(f"walk_cost and empty_room_cost must both be finite and > 0, got {shown(walk_cost)}, {empty_room_cost!r}")

    # both predicates are true up to some k and false after (P(S_k > C), P(S_k >= C) increase with k):
    # step k up one Bernoulli(q) at a time from a start below both answers
    def ok_s(pm: np.ndarray) -> bool:  # service level still met with these k rooms
        return float(pm[C + 1:].sum()) <= eps

    def ok_c(pm: np.ndarray) -> bool:  # one more room still lowers the expected cost
        return r * float(pm[:C].sum()) > w * float(pm[C:].sum())

    s_idx = np.arange(base.size)
    mean, var = float(s_idx @ base), float(((s_idx - s_idx @ base) ** 2) @ base)
    k = max(0, int(np.floor((C - mean - 4.0 * np.sqrt(var + C + 1.0) - 2.0) / q)))  # falls back to 0 if too high
    pm = _with_binomial(base, k, q)
    if (want_s and not ok_s(pm)) or (want_c and not ok_c(pm)):
        k, pm = 0, base
    res_s = res_c = None
    while True:
        if want_s and res_s is None and not ok_s(pm):
            res_s = k - 1
        if want_c and res_c is None and not ok_c(pm):
            res_c = k - 1
        if (not want_s or res_s is not None) and (not want_c or res_c is not None):
            break
        if k > 1_000_000:  # pragma: no cover - only with a show rate near 0
            raise InputError(f"the limit does not bind within a million rooms (new_show_rate={shown(q)})")
        nxt = np.zeros(pm.size + 1)
        nxt[:-1] = pm * (1.0 - q)
        nxt[1:] += pm * q
        pm, k = nxt, k + 1
    out: dict[str, int] = {}
    if want_s:
        out["extra_service"] = max(res_s, 0)
        out["over_service"] = int(res_s < 0)
    if want_c:
        out["extra_cost"] = res_c + 1
        out["over_cost"] = int(res_c < 0)
    return out


class HeldCancellation(NotFittedAttributes, BaseEstimator):
    """Probability that a booking still held ``d`` days before arrival cancels later.

    A logistic recalibration of a booking-time cancellation probability
    ``c_i`` (e.g. :meth:`CancellationModel.predict_proba
    <crm_analysis.yield_management.cancellation.CancellationModel.predict_proba>`)
    on the days out and the lead time ``L_i``: with ``D = log(1 + d)``, ``M = log(1 + L_i)``,
    ``logit c_i(d) = a + b logit c_i + g D + h D logit c_i + k M + m D M``,
    fitted on the training bookings held at each of ``days_out`` days before
    arrival (target: cancelled after that day). A booking held close to
    arrival has survived most of its cancellation risk; the recalibration
    learns how much.

    Parameters
    ----------
    days_out : sequence of int
        Days before arrival at which the training rows are taken.

    A scikit-learn ``BaseEstimator`` (``get_params`` / ``clone``); its learned
    attributes raise :class:`~crm_analysis.exceptions.NotFittedError` before
    :meth:`fit` (fourth newcomer findings H5, H10).

    Attributes
    ----------
    coef_ : numpy.ndarray, shape (6,)
        ``(a, b, g, h, k, m)``.
    n_rows_ : int
        Training rows (booking x days out held).
    constant_ : float or None
        Where every held training row has the same outcome (a hotel without
        cancellations: none cancels later), that share (0 or 1), predicted for
        every booking; ``None`` otherwise.
    """

    _fit_alternatives = "fit(bookings, cancel_probability)"

    def __init__(self, *, days_out: Sequence[int] = (0, 1, 3, 7, 14, 30, 60, 90, 120, 180, 270, 365)) -> None:
        self.days_out = days_out

    @staticmethod
    def _X(c: np.ndarray, d: np.ndarray, lead: np.ndarray) -> np.ndarray:
        lc = np.log(np.clip(c, 1e-6, 1 - 1e-6) / (1 - np.clip(c, 1e-6, 1 - 1e-6)))
        ld = np.log1p(np.asarray(d, dtype=float))
        ll = np.log1p(np.asarray(lead, dtype=float))
        return np.column_stack([lc, ld, lc * ld, ll, ld * ll])

    def fit(self, bookings: pd.DataFrame, cancel_probability: np.ndarray) -> "HeldCancellation":
        """Fit on bookings with known outcome and their booking-time cancellation probabilities.

        Raises
        ------
        ValueError
            When ``cancel_probability`` does not have one entry per booking or
            the held rows do not hold both outcomes.
        """
        from sklearn.linear_model import LogisticRegression

        c = np.asarray(cancel_probability, dtype=float)
        if c.shape != (len(bookings),):
            raise InputError(f"cancel_probability has shape {c.shape}; need one entry per booking ({len(bookings)})")
        lead = (bookings["arrival_date"] - bookings["booking_date"]).dt.days.to_numpy()
        canc = (bookings["status"].astype("object") == "cancelled").to_numpy()
        cd = bookings["cancellation_date"] if "cancellation_date" in bookings.columns else pd.Series(pd.NaT, index=bookings.index)
        cdays = (bookings["arrival_date"] - cd).dt.days.to_numpy()  # days before arrival it was cancelled
        cdays = np.where(np.isnan(cdays), -1.0, cdays)  # undated: at arrival (held until then)
        Xs, ys = [], []
        for d in self.days_out:
            held = (lead >= d) & (~canc | (cdays < d))
            Xs.append(self._X(c[held], np.full(int(held.sum()), d), lead[held]))
            ys.append(canc[held])
        X, y = np.vstack(Xs), np.concatenate(ys)
        if y.size == 0:
            raise InputError(f"no training booking is held at any of days_out {tuple(self.days_out)}: nothing to "
                             "recalibrate on")
        if np.unique(y).size < 2:  # one outcome: its share is the exact estimate (a logistic fit would diverge)
            self.coef_, self.constant_, self.n_rows_ = None, float(y[0]), int(y.size)
            return self
        self.constant_ = None
        from threadpoolctl import threadpool_limits

        mu, sd = X.mean(axis=0), X.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        with threadpool_limits(1):
            lr = LogisticRegression(C=1e6, max_iter=1000).fit((X - mu) / sd, y)
        beta = lr.coef_.ravel() / sd  # back to the unscaled features
        self.coef_ = np.concatenate([lr.intercept_ - [beta @ mu], beta])
        self.n_rows_ = int(y.size)
        return self

    def predict(self, cancel_probability: np.ndarray, days_before: np.ndarray | int,
                lead_time: np.ndarray | int) -> np.ndarray:
        """``c_i(d)`` for booking-time probabilities ``c_i``, days before arrival ``d`` and lead times (days)."""
        if self.constant_ is not None:  # NotFittedError before fit (NotFittedAttributes)
            return np.full(np.shape(cancel_probability), self.constant_)
        c = np.asarray(cancel_probability, dtype=float)
        d = np.broadcast_to(np.asarray(days_before, dtype=float), c.shape)
        lead = np.broadcast_to(np.asarray(lead_time, dtype=float), c.shape)
        z = self.coef_[0] + self._X(c, d, lead) @ self.coef_[1:]
        return 1.0 / (1.0 + np.exp(-z))


def bookings_on_hand(bookings: pd.DataFrame, nights: pd.DatetimeIndex, days_before: int) -> pd.DataFrame:
    """The bookings held ``days_before`` days before each night (booked by then, not cancelled by then).

    Returns
    -------
    pandas.DataFrame
        ``night``, ``row`` (position in ``bookings``), ``units``,
        ``days_to_arrival`` (days before the booking's arrival at that date;
        negative for a guest already in house, whom :func:`show_forecast` counts as shown).
        A cancelled booking without a cancellation date is held until arrival
        (as in :func:`~crm_analysis.seasonality.on_the_books`).
    """
    from crm_analysis.seasonality.series import stay_nights

    check_booking_records(bookings, what="bookings_on_hand")
    sn = stay_nights(bookings)
    row = sn["row"].to_numpy()
    night = sn["date"].to_numpy("datetime64[D]")
    keep = np.isin(night, nights.to_numpy("datetime64[D]"))
    row, night = row[keep], night[keep]
    when = night - np.timedelta64(int(days_before), "D")
    booked = bookings["booking_date"].to_numpy("datetime64[D]")[row] <= when
    canc = (bookings["status"].astype("object") == "cancelled").to_numpy()[row]
    cd = (bookings["cancellation_date"].to_numpy("datetime64[D]")[row] if "cancellation_date" in bookings.columns
          else np.full(row.size, np.datetime64("NaT"), dtype="datetime64[D]"))
    gone = canc & ~np.isnat(cd) & (cd <= when)
    m = booked & ~gone
    arr = bookings["arrival_date"].to_numpy("datetime64[D]")[row[m]]
    units = (bookings["units"].to_numpy()[row[m]] if "units" in bookings.columns else np.ones(int(m.sum())))
    return pd.DataFrame({"night": pd.to_datetime(night[m]), "row": row[m], "units": units.astype(np.int64),
                         "days_to_arrival": (arr - when[m]).astype(np.int64)})


def net_pickup_by_days_out(bookings: pd.DataFrame, nights: pd.DatetimeIndex, days_out: Sequence[int]) -> pd.DataFrame:
    """Mean rooms per night booked after ``d`` days out (gross, and the part that stays).

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings with final outcomes.
    nights : pandas.DatetimeIndex
        Nights averaged over (training nights: their outcome is known).
    days_out : sequence of int

    Returns
    -------
    pandas.DataFrame
        Index ``days_before``: ``gross_pickup`` (rooms per night booked later
        than ``d`` days before it, incl. those that cancel), ``net_pickup``
        (of those, the rooms that stay) and ``new_show_rate``
        (``net / gross``; the no-show-only show rate where there is no pick-up).
    """
    from crm_analysis.seasonality.series import stay_nights

    sn = stay_nights(bookings)
    row = sn["row"].to_numpy()
    night = sn["date"].to_numpy("datetime64[D]")
    keep = np.isin(night, nights.to_numpy("datetime64[D]"))
    row, night = row[keep], night[keep]
    lead = (night - bookings["booking_date"].to_numpy("datetime64[D]")[row]).astype(np.int64)
    status = bookings["status"].astype("object").to_numpy()[row]
    stay = status == "stayed"
    u = sn["room_nights"].to_numpy(float)[keep]
    n = max(len(nights), 1)
    held0 = status != "cancelled"
    show0 = float(u[stay].sum() / u[held0].sum()) if u[held0].sum() > 0 else 1.0
    rows = []
    for d in days_out:
        later = lead < d
        g, s = float(u[later].sum()) / n, float(u[later & stay].sum()) / n
        rows.append({"days_before": int(d), "gross_pickup": g, "net_pickup": s,
                     "new_show_rate": s / g if g > 0 else show0})
    return pd.DataFrame(rows).set_index("days_before")


@dataclass
class ShowForecast:
    """Outcome of :func:`show_forecast`.

    Attributes
    ----------
    nightly : pandas.DataFrame
        One row per (night, days_before): ``rooms_on_hand``,
        ``expected_shows_on_hand``, ``expected_net_pickup``,
        ``expected_shows``, ``p_over_capacity`` (``P(S > C)`` with no further
        control), ``limit_service``, ``limit_cost`` (rooms held allowed),
        ``actual_shows`` (rooms that stayed, where known).
    by_days_out : pandas.DataFrame
        Index ``days_before``: means over the nights of the above, and
        ``shows_mae`` / ``shows_bias`` (expected minus actual shows).
    pickup : pandas.DataFrame
        :func:`net_pickup_by_days_out`.
    no_show_rate : float
    notes : list of str
    """

    nightly: pd.DataFrame
    by_days_out: pd.DataFrame
    pickup: pd.DataFrame
    no_show_rate: float
    notes: list[str] = field(default_factory=list)


def show_forecast(
    bookings: pd.DataFrame,
    cancel_probability: np.ndarray,
    *,
    nights: pd.DatetimeIndex,
    train_nights: pd.DatetimeIndex,
    capacity: int,
    days_out: Sequence[int] = (0, 1, 3, 7, 14, 30, 60, 90),
    max_denied_prob: float = 0.05,
    walk_cost: float | None = None,
    empty_room_cost: float | None = None,
) -> ShowForecast:
    """Expected shows of the bookings on hand plus net pick-up, and limits, for each night and days out.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``status``, ``cancellation_date``) of the training
        and the forecast nights.
    cancel_probability : numpy.ndarray, shape (len(bookings),)
        Booking-time cancellation probability of every booking
        (:meth:`CancellationModel.predict_proba`). The recalibration is fitted
        on the training bookings' probabilities; from a model fitted on those
        same bookings they are in-sample (sharper than on new bookings), so
        the recalibrated probabilities of new bookings can be too extreme
        (not corrected here; the test nights' MAE and bias of the expected
        shows measure the result).
    nights : pandas.DatetimeIndex
        Nights forecast (their on-hand bookings at each ``d`` are read; their
        final outcome only for ``actual_shows``).
    train_nights : pandas.DatetimeIndex
        Nights with known outcome for the recalibration, the no-show rate and the pick-up.
    capacity : int
    days_out : sequence of int
    max_denied_prob : float, default 0.05
    walk_cost, empty_room_cost : float, optional
        For ``limit_cost`` (both, else the column is NaN).

    Returns
    -------
    ShowForecast

    Raises
    ------
    ValueError
        On a probability array of the wrong length, no training night, or bad limits' arguments.
    """
    c = np.asarray(cancel_probability, dtype=float)
    if c.shape != (len(bookings),):
        raise InputError(f"cancel_probability has shape {c.shape}; need one entry per booking ({len(bookings)})")
    if len(train_nights) == 0:
        raise InputError("train_nights is empty: the recalibration, no-show rate and pick-up need nights with known outcome")
    b = bookings.reset_index(drop=True)
    tn = train_nights.to_numpy("datetime64[D]")
    in_train = b["arrival_date"].to_numpy("datetime64[D]") <= tn.max()
    held_cal = HeldCancellation(days_out=tuple(days_out)).fit(b.loc[in_train], c[in_train])
    st = b.loc[in_train, "status"].astype("object")
    n_kept = int((st != "cancelled").sum())
    no_show = float((st == "no_show").sum() / n_kept) if n_kept else 0.0
    pick = net_pickup_by_days_out(b, train_nights, days_out)
    lead_all = (b["arrival_date"] - b["booking_date"]).dt.days.to_numpy()
    final = bookings_on_hand(b[b["status"].astype("object") == "stayed"].reset_index(drop=True), nights, 0)
    actual = final.groupby("night")["units"].sum().reindex(nights, fill_value=0)
    rows = []
    n_over = 0
    for d in days_out:
        oh = bookings_on_hand(b, nights, d)
        r_ = oh["row"].to_numpy()
        dta = oh["days_to_arrival"].to_numpy()
        ps = (1.0 - held_cal.predict(c[r_], np.maximum(dta, 0), lead_all[r_])) * (1.0 - no_show)
        ps[dta < 0] = 1.0  # arrived before the decision day: in house (shown)
        oh["p"] = ps
        g = dict(tuple(oh.groupby("night")))
        q_new = float(pick.loc[d, "new_show_rate"])
        mu = float(pick.loc[d, "net_pickup"])
        pois = _poisson_pmf(mu)
        for t in nights:
            x = g.get(t)
            p_ = x["p"].to_numpy() if x is not None else np.zeros(0)
            u_ = x["units"].to_numpy() if x is not None else np.zeros(0, dtype=np.int64)
            base = poisson_binomial_pmf(p_, u_)
            full = np.convolve(base, pois)
            lim = limits_from_shows(base, capacity, max(q_new, 1e-9), max_denied_prob=max_denied_prob,
                                    walk_cost=walk_cost, empty_room_cost=empty_room_cost)
            held = int(u_.sum())
            e_on_hand = float((p_ * u_).sum())
            l_s = held + lim["extra_service"]
            l_c = held + lim["extra_cost"] if "extra_cost" in lim else np.nan
            if (lim["over_service"] or lim.get("over_cost")) and held > 0 and e_on_hand > 0:
                # the bookings on hand already break the rule: "accept nothing more" (limit = held) would let a
                # hotel holding fewer of them (the replay's policies) fill up to this hotel's holding; the limit
                # is the rooms held that meet the rule at the on-hand mean show probability (never above held)
                pbar = min(1.0, e_on_hand / held)
                if lim["over_service"]:
                    l_s = min(held, overbooking_limit_service(capacity, pbar, max_denied_prob))
                    n_over += 1
                if lim.get("over_cost"):
                    l_c = min(held, overbooking_limit_cost(capacity, pbar, walk_cost, empty_room_cost))
            rows.append({"night": t, "days_before": int(d), "rooms_on_hand": held,
                         "expected_shows_on_hand": e_on_hand, "expected_net_pickup": mu,
                         "expected_shows": e_on_hand + mu,
                         "p_over_capacity": float(full[int(capacity) + 1:].sum()),
                         "limit_service": l_s,
                         "limit_cost": l_c,
                         "actual_shows": int(actual.loc[t])})
    nightly = pd.DataFrame(rows)
    err = nightly["expected_shows"] - nightly["actual_shows"]
    by = nightly.assign(err=err, abs_err=err.abs()).groupby("days_before").agg(
        rooms_on_hand=("rooms_on_hand", "mean"), expected_shows_on_hand=("expected_shows_on_hand", "mean"),
        expected_net_pickup=("expected_net_pickup", "mean"), expected_shows=("expected_shows", "mean"),
        actual_shows=("actual_shows", "mean"), shows_mae=("abs_err", "mean"), shows_bias=("err", "mean"),
        p_over_capacity=("p_over_capacity", "mean"), limit_service=("limit_service", "mean"),
        limit_cost=("limit_cost", "mean"))
    notes = [f"no-show rate of bookings held at arrival (training): {no_show:.3f}",
             f"held-booking cancellation recalibrated on {held_cal.n_rows_:,} booking x days-out rows"]
    if held_cal.constant_ is not None:
        notes.append(f"{'every' if held_cal.constant_ else 'no'} training booking held at those days out cancelled "
                     f"later: the held-booking cancellation probability is {held_cal.constant_:.0f} for every booking")
    if n_over:
        notes.append(f"on {n_over:,} of {len(nightly):,} night x days-out rows the bookings on hand already break the "
                     "service level: their limit is the binomial one at the on-hand mean show probability "
                     "(below the rooms on hand)")
    return ShowForecast(nightly, by, pick, no_show, notes)
