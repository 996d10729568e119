"""Demand forecasts by rolling-origin cross-validation of several standard models.

:class:`DemandForecaster` is the package's forecaster (scikit-learn style:
settings in ``__init__``, ``fit(history, as_of=...)`` returns the estimator
with the learned :class:`ForecastResult` in ``result_``). For every series
(each fare class and the total) it

1. fits several candidate models on the history known at the forecast origin;
2. scores each candidate by **rolling-origin cross-validation** on that
   history: from ``cv_windows`` origins before ``as_of`` (``cv_step`` days
   apart, the last ``cv_horizon`` days before ``as_of`` being the latest
   window), the model is refitted on the data known at the origin and its
   forecast of the next ``cv_horizon`` days is compared with what happened
   (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd
   ed., "FPP3", sec. 5.10). Nothing after an origin is used to forecast from
   it, and nothing after ``as_of`` is used at all;
3. selects the best candidate (``selection="cv"``, lowest cross-validated
   MAE) or combines the ``combine_top`` best (default 2) with weights
   inversely proportional to their cross-validated mean squared error
   (``selection="combine"``, Bates & Granger 1969; combinations are what won
   the M4 competition, Makridakis et al. 2020). The squared errors are
   averaged within each origin and the origins' MSEs combined by their
   geometric mean, so that every window counts alike in relative terms and
   one volatile window does not decide the ranking alone (on the 26
   backtests of ``benchmarks/bench_forecast.py`` the pooled MSE ranked the
   plain weekly ETS / ARIMA of the City Hotel's calm windows last after
   volatile winter windows; issue #18, round fc18d). Each calendar-stage model
   enters twice once the history holds ``yearly_min_days``: with and without
   the yearly Fourier terms (``"arima"`` and ``"arima+yearly"``), so the
   cross-validation also decides whether last year's shape helps; when an
   origin's history is too short for the yearly terms, the variant was
   fitted there without them, so its cross-validation did not score the
   forecast that uses them, and within the cross-validated horizon it is
   left out of the combination.
   With the ``"pickup"`` candidate (bookings only) the weights are set **by
   horizon**: at horizon ``h`` from the cross-validation errors at horizons
   ``h +- 7`` (the reservations on the books say much about tomorrow and
   little about the eighth week); beyond ``cv_horizon`` the pickup candidate
   has neither a forecast nor a cross-validated accuracy and the other
   candidates are weighted from all horizons;
   **beyond the cross-validated horizon**, once the history holds the yearly
   terms, only the candidates whose forecast reverts to the history's mean
   level are combined: the ``arima`` and ``arima+yearly`` fits with ``d = 0``
   (weekday means plus the calendar part; the others, ETS, Theta, MSTL, the
   seasonal naive and ARIMA with ``d = 1``, carry the level of the last weeks
   through the rest of the horizon). The 56-day cross-validation cannot see
   how a carried level does months ahead: on the built-in hotel (two years
   of history, 2025 forecast from 2024-12-31) the carrying candidates'
   year-ahead mean was -27 % to +26 % off the generator's expected demand,
   the reverting ones within 4.2 % (benchmarks/README.md, issue #18). When
   no candidate reverts (``d = 1`` everywhere), the rule above applies;
4. reconciles the fare-class forecasts with the total (``reconcile``):
   ``"top_down"`` (default: the total's own forecast is kept and split over
   the classes in proportion to their forecasts, "forecast proportions",
   Athanasopoulos, Ahmed & Hyndman 2009; on the benchmark backtests of
   ``benchmarks/bench_forecast.py`` the total forecast directly was more
   accurate than MinT's on 6 of 7 hotel backtests), ``"bottom_up"`` (the
   total is the sum of the class forecasts) or ``"mint"`` (minimum-trace
   reconciliation, Wickramasuriya, Athanasopoulos & Hyndman 2019, with the
   cross-validation errors' covariance shrunk towards its diagonal as in
   their "MinT(Shrink)"). Every method gives class forecasts that add up
   exactly to the reconciled total;
5. makes **empirical prediction intervals by horizon** from the
   cross-validation errors of the final (combined, reconciled) forecast:
   ``std`` at horizon ``h`` is their root mean square over the origins and
   the 15 neighbouring horizons, and the interval is ``mean +- t * std`` with
   ``t`` the ``(1 + level) / 2`` quantile of Student's t with as many degrees
   of freedom as origins. The errors of one origin share its level error
   (they are strongly autocorrelated along the window), so the sample holds
   about one independent draw per origin, and a new error over a root mean
   square of ``W`` zero-mean normal draws is t-distributed with ``W``
   degrees of freedom. Quantiles of the pooled errors, tried first, covered
   only 70-85 % at the 90 % level on six 56-day backtests (City Hotel and the
   built-in hotel); the t intervals covered 86-96 % (mean 91 %). Beyond ``cv_horizon``
   the spread of the longest cross-validated horizon is kept (said in the
   notes).

Candidate models (the engines are ``statsmodels`` and ``numpy``)
-----------------------------------------------------------------
Calendar stage (shared by ``ets``, ``arima``, ``theta`` and
``seasonal_naive``): an ordinary least-squares regression of the series on a
constant, a linear trend (so that growth over the history does not pass for
a yearly shape; the trend itself is not removed or extrapolated), weekday
indicators, the yearly Fourier terms
``sin/cos(2 pi k t / 365.25)``, ``k = 1..fourier_terms`` (when the history
holds at least ``yearly_min_days`` days) and the holiday regressors of the
:class:`~crm_analysis.seasonality.calendar.HolidayCalendar` (``holiday``,
``holiday_eve``). Its yearly and holiday part is removed from the history,
the candidate forecasts the rest, and the part is added back over the
forecast dates ("forecasting with decomposition", FPP3 sec. 5.7; dynamic
harmonic regression, FPP3 sec. 10.5).

``"ets"``
    Exponential smoothing with weekly seasonality, additive or (for positive
    series) multiplicative, whichever has the lower AICc: ETS(A,N,A) or the
    point forecasts of ETS(A/M,N,M) (``statsmodels`` ``ExponentialSmoothing``,
    smoothing parameters by least squares, initial states by the heuristic of
    Hyndman et al. 2008, sec. 2.6).
``"ets_damped"``
    Series without bookings only (left out, with a note, when the ``pickup``
    candidate is in): exponential smoothing with an additive damped trend
    (Gardner & McKenzie 1985) and weekly seasonality, ETS(A,Ad,A) or the
    point forecasts of ETS(A,Ad,M) by AICc, fitted as ``ets``. It carries a
    recent growth forward, flattening out, where the other candidates carry
    the last level (ETS, Theta, seasonal naive) or revert to the history's
    weekday means (ARIMA with ``d = 0``). On the six Online Retail backtests
    of ``benchmarks/bench_forecast.py`` it took the autumn-2011 backtests
    ending 2011-11-15 / 12-09 from MASE 1.332 / 1.251 to 1.184 / 1.241, the
    other four unchanged (issue #18, round fc18e). With bookings the
    reservations on the books carry the coming level (the pickup
    candidate): on the 20 hotel backtests the damped trend as a further
    candidate changed the MASE by -3.7 % to +1.4 % (4 better, 5 worse, no
    backtest won or lost) at 1.2-1.8 times the CPU time per backtest.
``"arima"``
    Regression on weekday indicators with ARIMA(p,d,0) errors: ``d`` (0 or 1)
    by the KPSS test at 5 % as in the Hyndman & Khandakar (2008) algorithm,
    the AR order (up to 21 days) by AIC (``statsmodels`` ``kpss`` and
    ``ar_select_order``). With ``d = 0`` the forecast reverts towards the
    weekday means, with ``d = 1`` it stays near the last level.
``"theta"``
    The Theta method (Assimakopoulos & Nikolopoulos 2000; ``statsmodels``
    ``ThetaModel``, additive weekly deseasonalisation): SES with drift.
``"mstl"``
    MSTL with weekly and yearly periods on the series itself (no calendar
    stage), seasonals repeated, adjusted series by SES. Only when every
    cross-validation origin has more than two years of history (MSTL needs
    two full cycles); otherwise left out with a note.
``"seasonal_naive"``
    The same weekday one week earlier (FPP3 sec. 5.2).
``"pickup"``
    Bookings only: the reservations on the books at the origin for each
    coming night plus the mean pickup (final demand minus what was on the
    books the same number of days before) of the last ``7 * pickup_weeks``
    complete nights, the additive "advanced pickup" method of hotel revenue
    management (Weatherford & Kimes 2003; :mod:`~crm_analysis.seasonality.pickup`),
    the nights weighted by age (half-life ``pickup_halflife`` weeks) and the
    pickup of the night's own weekday weighted ``pickup_weekday`` against
    that of all nights.
    Up to ``cv_horizon`` days ahead. The time-series candidates see only the
    history of final demand; this one uses what the hotel already knows about
    the coming nights (bookings made by the origin and not cancelled by it,
    never anything later). With ``unconstrain`` the pickup is measured
    against the unconstrained history of the nights that were not full (a
    full night's unconstrained demand holds the requests refused that night;
    its pickup, added to quiet coming nights, made them too high: +3.8 %
    against the built-in hotel's true demand over 12 backtests, +1.4 % with
    the open nights only), all nights when fewer than 7 of the window were open. On the benchmark backtests of
    ``benchmarks/bench_forecast.py`` it took the built-in hotel's 56-day
    MASE from 0.63-0.94 to 0.37-0.48. A forecast of the hotel's room-night
    **sales** (the total, without ``unconstrain``) is capped at what a night
    can sell: the larger of ``capacity`` and the most room-nights sold on a
    night of the history known at the origin (counted in the notes). The
    additive pickup adds the window's mean pickup whatever is on the books,
    so in a busy season it put 12-38 of the 56 nights of a City Hotel
    backtest above anything the hotel ever sold; capped, the City Hotel's
    56-day MASE went from 0.45-0.56 to 0.32-0.36 on 2017-03-31 to 2017-07-15
    and the built-in hotel's mean bias from +1.5 / +2.4 / +3.6 % to -0.6 /
    +2.4 / +1.6 % (seeds 42 / 7 / 3; issue #18, benchmarks/README.md).

Closed days
-----------
Days the calendar declares closed carry no demand: in the history they are
linearly interpolated for the models (and left out of every error), in the
forecast they are 0 (``mean``, ``std``, ``lower`` and ``upper``).

Forecasts are demand, so ``mean``, ``lower`` and ``upper`` are clipped at 0;
clipped values are counted in the notes and the total is recomputed as the
sum of the (clipped) class forecasts, so the classes always add up. A
forecast of the hotel's room-night **sales** (bookings, without
``unconstrain``) is never above what a night can sell (the pickup
candidate's cap, :meth:`DemandForecaster._sales_cap`): on a night whose
reconciled total exceeds it every class is scaled down to it, in the
forecast and in the cross-validation predictions behind the intervals
(counted in the notes). The classes' own pickup forecasts have no cap, so
with ``reconcile="bottom_up"``, ``"mint"`` or ``None`` the total had gone up
to 157 room-nights in a 120-room hotel (issue #18, round fc18c).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError, shown

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from crm_analysis._validate import NotFittedAttributes, check_count

from crm_analysis.contracts import FORECASTS

from ._common import to_timestamp
from .calendar import HolidayCalendar
from .pickup import OnTheBooks, on_the_books, pickup_forecast
from .series import DemandSeries, booking_series
from .unconstrain import (UnconstrainedHistory, _capacity_count, check_capacity, night_closures, stay_length_shares,
                          unconstrain_history)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "FORECAST_COLUMNS",
    "MODELS",
    "DemandForecaster",
    "ForecastResult",
    "Backtest",
    "backtest",
    "forecast_errors",
]

#: Columns of the ``forecasts.parquet`` artefact: its contract (:data:`crm_analysis.contracts.FORECASTS`).
FORECAST_COLUMNS: tuple[str, ...] = FORECASTS.names
#: Candidate models of :class:`DemandForecaster`.
MODELS: tuple[str, ...] = ("ets", "arima", "theta", "mstl", "seasonal_naive", "pickup", "ets_damped")
TOTAL = "total"
_MIN_ORIGIN_DAYS = 28  # fewest days of history at the earliest cross-validation origin
_POOL = 7  # horizons pooled on each side for the interval quantiles
_CAL_MODELS = ("ets", "arima", "theta", "seasonal_naive", "ets_damped")


# ============================================================== engines
def _fourier(t: np.ndarray, k: int) -> np.ndarray:
    w = 2 * np.pi * np.outer(t, np.arange(1, k + 1)) / 365.25
    return np.hstack([np.sin(w), np.cos(w)])


@dataclass
class _CalendarFit:
    """Yearly Fourier + holiday part of a series (see the module docstring)."""

    coef: np.ndarray
    k: int
    reg_cols: list[str]
    t0: pd.Timestamp

    def part(self, dates: pd.DatetimeIndex, regs: pd.DataFrame | None) -> np.ndarray:
        t = ((dates - self.t0) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        blocks = []
        if self.k:
            blocks.append(_fourier(t, self.k))
        if self.reg_cols:
            blocks.append(regs.reindex(dates)[self.reg_cols].to_numpy(dtype=float))
        if not blocks:
            return np.zeros(len(dates))
        return np.hstack(blocks) @ self.coef


def _fit_calendar(
    y: np.ndarray, dates: pd.DatetimeIndex, regs: pd.DataFrame | None, k: int, weights: np.ndarray
) -> _CalendarFit:
    t0 = pd.Timestamp("2000-01-01")
    t = ((dates - t0) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    wd = np.eye(7)[dates.day_of_week.to_numpy()][:, 1:]
    blocks, cols = [], []
    if k:
        blocks.append(_fourier(t, k))
    if regs is not None and regs.shape[1]:
        r = regs.reindex(dates)
        cols = [c for c in r.columns if r[c].to_numpy()[weights > 0].any()]
        if cols:
            blocks.append(r[cols].to_numpy(dtype=float))
    if not blocks:
        return _CalendarFit(np.zeros(0), 0, [], t0)
    Xc = np.hstack(blocks)
    # a linear trend in the regression (not in the removed part) keeps growth out of the yearly shape
    trend = (t - t.mean()) / max(float(np.ptp(t)), 1.0)
    X = np.hstack([np.ones((len(y), 1)), trend[:, None], wd, Xc])
    sw = np.sqrt(weights)
    beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    return _CalendarFit(beta[8:], k, cols, t0)


def _ses(z: np.ndarray) -> float:
    """Level of simple exponential smoothing at the end of ``z`` (statsmodels, alpha by least squares)."""
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    res = SimpleExpSmoothing(z, initialization_method="estimated").fit()
    return float(res.forecast(1)[0])


def _weekly_repeat(seasonal: np.ndarray, h: int, p: int = 7) -> np.ndarray:
    last = seasonal[-p:]
    return last[np.arange(h) % p]


def _engine_seasonal_naive(z: np.ndarray, h: int) -> tuple[np.ndarray, str]:
    return _weekly_repeat(z, h), "seasonal naive(7)"


def _engine_ets(z: np.ndarray, h: int) -> tuple[np.ndarray, str]:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    best = None
    for seasonal in ("add", "mul") if np.min(z) > 0 else ("add",):
        res = ExponentialSmoothing(z, seasonal=seasonal, seasonal_periods=7, initialization_method="heuristic").fit(
            use_brute=False)
        if best is None or (np.isfinite(res.aicc) and res.aicc < best[0].aicc):
            best = (res, seasonal)
    res, seasonal = best
    return np.asarray(res.forecast(h), dtype=float), f"ETS(A,N,{'A' if seasonal == 'add' else 'M'})[7]"


def _engine_ets_damped(z: np.ndarray, h: int) -> tuple[np.ndarray, str]:
    """ETS with an additive damped trend and weekly seasonality, additive or (positive series) multiplicative.

    Parameters
    ----------
    z : ndarray, shape (n,)
        The series less its calendar part (daily, ``n >= 14``).
    h : int
        Days to forecast.

    Returns
    -------
    mean : ndarray, shape (h,)
        Point forecasts of ETS(A,Ad,A)[7] or ETS(A,Ad,M)[7], whichever has
        the lower AICc (``statsmodels`` ``ExponentialSmoothing``, smoothing
        and damping parameters by least squares, initial states by the
        heuristic of Hyndman et al. 2008, sec. 2.6; the damped trend of
        Gardner & McKenzie 1985: the ``k``-step trend is
        ``b (phi + ... + phi^k)``, so the forecast flattens out).
    label : str
        The model chosen.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    best = None
    for seasonal in ("add", "mul") if np.min(z) > 0 else ("add",):
        res = ExponentialSmoothing(z, trend="add", damped_trend=True, seasonal=seasonal, seasonal_periods=7,
                                   initialization_method="heuristic").fit(use_brute=False)
        if best is None or (np.isfinite(res.aicc) and res.aicc < best[0].aicc):
            best = (res, seasonal)
    res, seasonal = best
    return np.asarray(res.forecast(h), dtype=float), f"ETS(A,Ad,{'A' if seasonal == 'add' else 'M'})[7]"


def _engine_theta(z: np.ndarray, h: int) -> tuple[np.ndarray, str]:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    res = ThetaModel(z, period=7, deseasonalize=True, method="additive", use_test=False).fit()
    return np.asarray(res.forecast(h), dtype=float), "Theta(7)"


def _ar_order_aic(x: np.ndarray, maxlag: int) -> int:
    """The AR order 0..``maxlag`` (no constant) with the lowest AIC on the common sample ``x[maxlag:]``.

    The same choice as ``statsmodels.tsa.ar_model.ar_select_order(x, maxlag,
    ic="aic", trend="n")`` (AIC = ``nobs (log(2 pi sigma2) + 1) + 2 (p + 1)``
    with the maximum-likelihood ``sigma2``; ties to the smaller order), by
    least squares in numpy instead of a statsmodels model per order, which
    made order selection most of the time of the ARIMA candidate
    (tests/seasonality/test_forecaster_engines.py compares the two).

    Parameters
    ----------
    x : ndarray, shape (n,)
        The (differenced, de-meaned) series.
    maxlag : int
        Largest order tried.

    Returns
    -------
    int
        The order ``p``; the model uses lags ``1..p``.
    """
    x = np.asarray(x, dtype=float)
    if maxlag < 1 or len(x) <= maxlag + 1:
        return 0
    y = x[maxlag:]
    lagged = np.column_stack([x[maxlag - j: len(x) - j] for j in range(1, maxlag + 1)])
    nobs = len(y)
    best_p, best_aic = 0, np.inf
    for p in range(maxlag + 1):
        if p == 0:
            ssr = float(y @ y)
        else:
            coef, *_ = np.linalg.lstsq(lagged[:, :p], y, rcond=None)
            resid = y - lagged[:, :p] @ coef
            ssr = float(resid @ resid)
        sigma2 = ssr / nobs
        if sigma2 <= 0:  # a perfect fit: nothing better can follow
            return p
        aic = nobs * (np.log(2 * np.pi * sigma2) + 1) + 2 * (p + 1)
        if aic < best_aic:
            best_p, best_aic = p, aic
    return best_p


def _engine_arima(z: np.ndarray, h: int, weekday0: int) -> tuple[np.ndarray, str]:
    from statsmodels.tsa.ar_model import AutoReg
    from statsmodels.tsa.stattools import kpss

    n = len(z)
    wd = (weekday0 + np.arange(n + h)) % 7
    D = np.eye(7)[wd]
    beta, *_ = np.linalg.lstsq(D[:n], z, rcond=None)
    r = z - D[:n] @ beta
    # order of differencing by the KPSS test at 5 % (as in Hyndman & Khandakar 2008), then AR order by AIC
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-values beyond the table's range are reported at its edge
        p_kpss = kpss(r, regression="c", nlags="auto")[1]
    d = int(p_kpss < 0.05)
    x = np.diff(r) if d else r
    lags = list(range(1, _ar_order_aic(x, min(21, len(x) // 4)) + 1))
    if lags:
        res = AutoReg(x, lags=lags, trend="n").fit()
        x_fc = np.asarray(res.predict(start=len(x), end=len(x) + h - 1), dtype=float)
        p = max(lags)
    else:
        x_fc, p = np.zeros(h), 0
    r_fc = r[-1] + np.cumsum(x_fc) if d else x_fc
    return D[n:] @ beta + r_fc, f"ARIMA({p},{d},0) errors on weekday means"


def _engine_mstl(y: np.ndarray, h: int) -> tuple[np.ndarray, str]:
    from statsmodels.tsa.seasonal import MSTL

    res = MSTL(y, periods=(7, 365), stl_kwargs={"robust": True}).fit()
    seas = np.asarray(res.seasonal, dtype=float)
    fc = _weekly_repeat(seas[:, 0], h, 7) + _weekly_repeat(seas[:, 1], h, 365)
    return fc + _ses(y - seas.sum(axis=1)), "MSTL(7,365)+ETS(A,N,N)"


def _reverts(label: str) -> bool:
    """Whether a candidate's forecast (by its label) reverts to the history's mean level: ARIMA errors with d = 0."""
    return label.startswith("ARIMA(") and label.split(")", 1)[0].split(",")[1:2] == ["0"]


def _run_engine(name: str, y: np.ndarray, z: np.ndarray, h: int, weekday0: int) -> tuple[np.ndarray, str]:
    if name == "seasonal_naive":
        return _engine_seasonal_naive(z, h)
    if name == "ets":
        return _engine_ets(z, h)
    if name == "ets_damped":
        return _engine_ets_damped(z, h)
    if name == "theta":
        return _engine_theta(z, h)
    if name == "arima":
        return _engine_arima(z, h, weekday0)
    if name == "mstl":
        return _engine_mstl(y, h)
    raise InputError(f"unknown model {name!r}")  # pragma: no cover - validated in __init__


def _origin_mse(e: np.ndarray, origin: np.ndarray) -> float:
    """Geometric mean over the cross-validation origins of each origin's mean squared error.

    Parameters
    ----------
    e : ndarray, shape (n,)
        Cross-validation errors (forecast minus actual) of one candidate.
    origin : ndarray, shape (n,)
        The origin of each error.

    Returns
    -------
    float
        ``exp(mean_o log(MSE_o))`` over the origins with at least one error
        (an origin's MSE floored at ``1e-12``); ``inf`` without errors.

    Notes
    -----
    The ratio of two candidates' scores is the geometric mean of their
    per-origin MSE ratios, so each window counts alike in relative terms: a
    volatile window, where every candidate's MSE is several times the
    others', no longer decides the ranking on its own (the geometric-mean
    relative error measures, Davydenko & Fildes 2013, IJF 29:510-522;
    Hyndman & Koehler 2006). The pooled MSE ranked the plain weekly ETS /
    ARIMA of the City Hotel's calm test windows last after volatile winter
    windows (issue #18, benchmarks/README.md, round fc18d).
    """
    if not len(e):
        return np.inf
    _, idx = np.unique(np.asarray(origin), return_inverse=True)
    per = np.bincount(idx, weights=np.asarray(e, dtype=float) ** 2) / np.bincount(idx)
    return float(np.exp(np.mean(np.log(np.maximum(per, 1e-12)))))


# ============================================================== history sources
@dataclass
class _Known:
    """Daily history known at an origin: one column per series (classes, no total)."""

    values: pd.DataFrame
    closed: np.ndarray  # bool over values.index
    unconstrained: UnconstrainedHistory | None = None
    notes: list[str] = field(default_factory=list)
    sales: pd.DataFrame | None = None  # bookings: the (constrained) sales behind ``values``
    closed_nights: pd.Series | None = None  # bookings: nights full at some time (for unconstraining)


class _Source:
    """Bookings or a daily series, and what of it was known at a given origin."""

    def __init__(self, history: Any, fc: "DemandForecaster", as_of: pd.Timestamp | None, *,
                 capacity_checked: bool = False) -> None:
        self.fc = fc
        self.notes: list[str] = []
        cal = fc.calendar_
        if isinstance(history, pd.DataFrame) and {"booking_date", "arrival_date"} <= set(history.columns):
            self.kind = "bookings"
            self.bookings = history
            if as_of is None:
                raise InputError("fit(bookings): as_of (the forecast origin) is required")
            made = pd.to_datetime(history["booking_date"])
            if len(made) and not (made.dt.normalize() <= as_of).any():
                first = made.min()
                raise InputError(
                    f"no booking was made by as_of={as_of:%Y-%m-%d}: the first booking_date is "
                    + (f"{first:%Y-%m-%d}" if pd.notna(first) else "missing")
                    + "; a forecast needs bookings known at as_of (choose a later as_of)"
                )
            if not capacity_checked and (fc.unconstrain or fc.capacity is not None):  # the rooms of the unconstraining and
                # of the sales cap, checked against the bookings as the steps do (once: not again where the caller did)
                check_capacity(history, fc.capacity, as_of=as_of, owner=type(fc).__name__)
            self.truncatable = bool(
                (history["booking_date"] <= history["arrival_date"]).all()
                and ("cancellation_date" not in history.columns
                     or not (history["cancellation_date"] > history["arrival_date"]).any())
            )
            self._full: dict[pd.Timestamp, _Known] = {}
            self.closed_hist: pd.DatetimeIndex = pd.DatetimeIndex([])
            self._otb: OnTheBooks | None = None
            return
        self.kind = "series"
        self.measure = "demand"  # what a plain series counts; a DemandSeries says it (revenue, orders, ...)
        if isinstance(history, DemandSeries):
            self.measure = str(history.measure)
            if history.freq != "D":
                raise InputError("DemandForecaster needs a daily series (freq='D'), got a weekly one")
            vals = history.values
            closed = pd.DatetimeIndex(history.closed_days)
        elif isinstance(history, (pd.Series, pd.DataFrame)):
            vals = history
            closed = pd.DatetimeIndex([])
        else:
            raise InputTypeError(
                "history must be canonical bookings (a DataFrame with booking_date and arrival_date), "
                f"a DemandSeries or a daily pandas Series/DataFrame; got {type(history).__name__}"
            )
        if isinstance(vals, pd.Series):
            vals = vals.to_frame(str(vals.name) if vals.name is not None else "all")
        if not isinstance(vals.index, pd.DatetimeIndex):
            raise InputError("history must be indexed by date (a DatetimeIndex)")
        vals = vals.sort_index().astype(float)
        full = pd.date_range(vals.index.min(), vals.index.max(), freq="D")
        if len(full) != len(vals) or vals.index.has_duplicates:
            raise InputError(
                f"history must be daily without gaps or duplicates: {len(vals)} rows for {len(full)} calendar days "
                "(build it with transaction_series / booking_series)"
            )
        if not np.isfinite(vals.to_numpy()).all():
            raise InputError("history has missing or infinite values; closed days must be declared, not NaN")
        vals.columns = pd.Index([str(c) for c in vals.columns], name="fare_class")
        vals.index = pd.DatetimeIndex(vals.index, name="date").astype("datetime64[ns]")
        if cal is not None:
            closed = closed.union(vals.index[cal.closed_mask(vals.index)])
        self.values = vals
        self.closed_hist = closed

    def known(self, origin: pd.Timestamp) -> _Known:
        """History known at ``origin`` (stay dates / days up to it)."""
        fc = self.fc
        if self.kind == "series":
            v = self.values.loc[self.values.index <= origin]
            closed = v.index.isin(self.closed_hist)
            v = v.copy()
            if closed.any():
                v.loc[closed] = np.nan
                v = v.interpolate(method="linear", limit_direction="both")
            return _Known(v, closed)
        if self.truncatable and self._full:
            base_origin = max(self._full)
            if origin <= base_origin:
                base = self._full[base_origin]
                v = base.sales.loc[base.sales.index <= origin]
                unc = None
                notes: list[str] = []
                if fc.unconstrain:
                    res = unconstrain_history(v, base.closed_nights.reindex(v.index, fill_value=False),
                                              stay_lengths=self._stay_lengths(origin))
                    unc, v = res, res.values
                return _Known(v, np.zeros(len(v), dtype=bool), unc, notes)
        return self._build(origin)

    def on_books(self, start: pd.Timestamp, end: pd.Timestamp, max_lead: int) -> OnTheBooks:
        """Reservations on the books for the nights ``start..end`` at leads ``0..max_lead`` (cached)."""
        o = self._otb
        if o is None or o.nights[0] > start or o.nights[-1] < end or o.leads[-1] < max_lead:
            fc = self.fc
            o = on_the_books(self.bookings, start=start, end=end, max_lead=max_lead, measure=fc.measure, by=fc.by,
                             include_cancelled=fc.include_cancelled)
            self._otb = o
        return o

    def _stay_lengths(self, origin: pd.Timestamp) -> pd.DataFrame:
        """Room-night shares by stay length per class from the stays known and arrived by ``origin``.

        Every class of the history known at ``origin`` has such a stay (its room-nights up to ``origin``).
        """
        fc = self.fc
        return stay_length_shares(self.bookings, by=fc.by, as_of=origin, include_cancelled=fc.include_cancelled)

    def _build(self, origin: pd.Timestamp) -> _Known:
        fc = self.fc
        hist = booking_series(
            self.bookings, measure=fc.measure, by=fc.by, end=origin, start=fc.start, booked_by=origin,
            include_cancelled=fc.include_cancelled,
        )
        vals = hist.values
        if isinstance(vals, pd.Series):
            vals = vals.to_frame("all")
        vals.columns = pd.Index([str(c) for c in vals.columns], name="fare_class")
        notes = list(hist.notes)
        unc = None
        closed_nights = pd.Series(False, index=vals.index)
        if fc.unconstrain:
            cl = night_closures(self.bookings, int(fc.capacity), as_of=origin, tolerance=int(fc.closed_tolerance))
            closed_nights = cl.closed.reindex(vals.index, fill_value=False)
            unc = unconstrain_history(vals, closed_nights, stay_lengths=self._stay_lengths(origin))
            notes.extend(unc.notes)
        k = _Known(unc.values if unc is not None else vals, np.zeros(len(vals), dtype=bool), unc, notes, vals,
                   closed_nights)
        self._full[origin] = k
        return k


# ============================================================== results
def _shrunk_cov(E: np.ndarray) -> np.ndarray:
    """Covariance of the error columns shrunk towards the diagonal (Schaefer & Strimmer 2005)."""
    E = E - E.mean(axis=0)
    n = E.shape[0]
    S = E.T @ E / n
    sd = np.sqrt(np.maximum(np.diag(S), 1e-12))
    Z = E / sd
    R = Z.T @ Z / n
    W = np.einsum("ti,tj->tij", Z, Z)
    var_r = n / (n - 1) ** 3 * ((W - R) ** 2).sum(axis=0) if n > 1 else np.zeros_like(R)
    off = ~np.eye(len(R), dtype=bool)
    denom = (R[off] ** 2).sum()
    lam = float(np.clip(var_r[off].sum() / denom, 0, 1)) if denom > 0 else 1.0
    out = S * (1 - lam)
    out[np.diag_indices_from(out)] = np.diag(S)
    return out


def forecast_errors(predictions: pd.DataFrame, *, level: float | None = None) -> pd.DataFrame:
    """MAE, RMSE, MAPE, sMAPE, bias and interval coverage of forecasts vs actuals.

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``date``, ``fare_class``, ``actual``, ``mean``; ``lower``/``upper``
        for coverage. Rows of closed days should be left out beforehand.
    level : float, optional
        Nominal level (only stored in the ``nominal`` column).

    Returns
    -------
    pandas.DataFrame
        Index: fare classes, ``"all classes"`` (class-days pooled) and
        ``"total"`` (sum over classes per date; no coverage, intervals do not
        add). Columns ``mae``, ``rmse``, ``mape`` (%, over actual > 0),
        ``smape`` (%), ``bias_pct`` (100 * sum(forecast - actual) /
        sum(actual)), ``coverage``, ``n``, ``n_zero_actual`` (and
        ``nominal`` with ``level``).
    """

    def errs(a: np.ndarray, f: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None) -> dict[str, float]:
        e = f - a
        pos = a > 0
        denom = np.abs(a) + np.abs(f)
        sm = np.where(denom > 0, 2 * np.abs(e) / np.where(denom > 0, denom, 1), 0.0)
        tot = float(np.sum(a))
        return {
            "mae": float(np.mean(np.abs(e))),
            "rmse": float(np.sqrt(np.mean(e**2))),
            "mape": float(100 * np.mean(np.abs(e[pos]) / a[pos])) if pos.any() else np.nan,
            "smape": float(100 * np.mean(sm)),
            "bias_pct": float(100 * np.sum(e) / tot) if tot > 0 else np.nan,
            "coverage": float(np.mean((a >= lo) & (a <= hi))) if lo is not None else np.nan,
            "n": int(len(a)),
            "n_zero_actual": int((~pos).sum()),
        }

    rows = {}
    for name, g in predictions.groupby("fare_class", sort=True):
        rows[str(name)] = errs(g["actual"].to_numpy(), g["mean"].to_numpy(), g["lower"].to_numpy(), g["upper"].to_numpy())
    p = predictions
    rows["all classes"] = errs(p["actual"].to_numpy(), p["mean"].to_numpy(), p["lower"].to_numpy(), p["upper"].to_numpy())
    keys = ["cutoff", "date"] if "cutoff" in p.columns else ["date"]
    tot = p.groupby(keys)[["actual", "mean"]].sum()
    rows["total"] = errs(tot["actual"].to_numpy(), tot["mean"].to_numpy(), None, None)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "fare_class"
    if level is not None:
        out["nominal"] = level
        out.loc["total", "nominal"] = np.nan
    return out


def _mase_scale(y: np.ndarray, open_: np.ndarray | None = None) -> float:
    """In-sample MAE of the seasonal naive (lag 7) forecast: the MASE denominator (Hyndman & Koehler 2006)."""
    d = np.abs(y[7:] - y[:-7])
    if open_ is not None:
        d = d[open_[7:] & open_[:-7]]
    s = float(np.mean(d)) if d.size else np.nan
    return s if s > 0 else np.nan


@dataclass
class Backtest:
    """Rolling-origin backtest of a :class:`DemandForecaster` (see :func:`backtest`).

    Attributes
    ----------
    predictions : pandas.DataFrame
        ``cutoff``, ``date``, ``fare_class``, ``actual``, ``mean``, ``lower``,
        ``upper`` (closed days left out).
    errors : pandas.DataFrame
        :func:`forecast_errors` pooled over all cutoffs, plus ``mase`` of the
        total (mean over cutoffs).
    by_cutoff : pandas.DataFrame
        One row per cutoff, errors of the **total**: ``mae``, ``rmse``,
        ``mape`` (%), ``mase``, ``bias_pct``, ``coverage`` (of the class
        intervals), ``models`` (the choice per series at that cutoff).
    cutoffs : list of pandas.Timestamp
    horizon : int
    level : float
    """

    predictions: pd.DataFrame
    errors: pd.DataFrame
    by_cutoff: pd.DataFrame
    cutoffs: list[pd.Timestamp]
    horizon: int
    level: float

    @property
    def cutoff(self) -> pd.Timestamp:
        """The last cutoff."""
        return max(self.cutoffs)

    @property
    def mape(self) -> float:
        """MAPE (%) of the total over classes, pooled over cutoffs."""
        return float(self.errors.loc["total", "mape"])

    @property
    def mase(self) -> float:
        """Mean MASE of the total over cutoffs."""
        return float(self.by_cutoff["mase"].mean())

    @property
    def bias_pct(self) -> float:
        """Mean bias (%) of the total over cutoffs."""
        return float(self.by_cutoff["bias_pct"].mean())

    def plot(self) -> "Figure":
        """Actual vs forecast of the total over classes, one line per cutoff.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(10, 3.2))
        for i, (c, g) in enumerate(self.predictions.groupby("cutoff", sort=True)):
            tot = g.groupby("date")[["actual", "mean"]].sum()
            ax.plot(tot.index, tot["actual"], color="black", lw=1, label="actual" if i == 0 else None)
            ax.plot(tot.index, tot["mean"], color="C1", lw=1.2, label="forecast" if i == 0 else None)
            ax.axvline(c, color="grey", ls="--", lw=0.6)
        ax.set_title(f"Backtest from {len(self.cutoffs)} origin(s), {self.horizon} days each: total "
                     f"(MAPE {self.mape:.1f} %, bias {self.bias_pct:+.1f} %)")
        ax.set_xlabel("date")
        ax.set_ylabel("demand per day")
        ax.legend()
        fig.tight_layout()
        return fig


@dataclass
class ForecastResult:
    """What :meth:`DemandForecaster.fit` learned.

    Attributes
    ----------
    forecast : pandas.DataFrame
        The ``forecasts.parquet`` contract (:data:`FORECAST_COLUMNS`): one row
        per date after ``as_of`` and fare class; ``mean`` (expected demand),
        ``std`` (root mean square of the cross-validation errors at that
        horizon), ``lower``/``upper`` (``level`` interval, ``mean +- t *
        std``, clipped at 0),
        ``model`` (the model or combination used), ``unconstrained`` (``True``
        when the history was unconstrained before fitting, i.e. ``mean`` is
        demand, not sales).
    total : pandas.DataFrame
        ``date``, ``mean``, ``std``, ``lower``, ``upper`` of the total over
        classes; ``mean`` is exactly the sum of the class means.
    cv_errors : pandas.DataFrame
        Index (``series``, ``model``): cross-validation ``mae``, ``rmse``,
        ``mase``, ``bias_pct``, ``n`` (days scored), ``weight`` (in the
        final forecast) for every candidate, plus a row ``"final"`` per
        series (the combined, reconciled forecast).
    chosen : pandas.Series
        Model (or combination) used, by series.
    cv_predictions : pandas.DataFrame
        ``origin``, ``date``, ``series``, ``model``, ``mean``, ``actual``:
        every cross-validation forecast (``model="final"``: the combined,
        reconciled one).
    history : pandas.DataFrame
        Daily history used, one column per fare class (unconstrained when
        ``unconstrained``; closed days interpolated).
    as_of : pandas.Timestamp
    horizon : int
    level : float
    measure : str
    by : str or None
    origins : list of pandas.Timestamp
        Cross-validation origins.
    reconcile : str or None
    backtest : Backtest or None
        Out-of-sample backtest of the whole procedure (selection included)
        on the ``backtest_days`` before ``as_of``.
    unconstrained : UnconstrainedHistory or None
    calendar : HolidayCalendar or None
    notes : list of str
    """

    forecast: pd.DataFrame
    total: pd.DataFrame
    cv_errors: pd.DataFrame
    chosen: pd.Series
    cv_predictions: pd.DataFrame
    history: pd.DataFrame
    as_of: pd.Timestamp
    horizon: int
    level: float
    measure: str
    by: str | None
    origins: list[pd.Timestamp]
    reconcile: str | None
    backtest: Backtest | None = None
    unconstrained: UnconstrainedHistory | None = None
    calendar: HolidayCalendar | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intervals(self) -> pd.DataFrame:
        """``date``, ``fare_class``, ``lower``, ``upper``, ``std`` of the forecast."""
        return self.forecast[["date", "fare_class", "lower", "upper", "std"]]

    @property
    def table(self) -> pd.DataFrame:
        """Alias of :attr:`forecast` (the name used by the former ``fit_forecast``)."""
        return self.forecast

    def model_choice(self) -> pd.DataFrame:
        """Per series: the model used and the cross-validated MASE of each candidate and of the final forecast."""
        tab = self.cv_errors["mase"].unstack("model")
        order = list(dict.fromkeys(self.cv_errors.index.get_level_values("model")))
        tab = tab[[m for m in order if m != "final"] + ["final"]]
        tab.columns.name = None
        tab.insert(0, "chosen", self.chosen.reindex(tab.index))
        return tab

    def plot(self, *, classes: Sequence[str] | None = None, history_days: int = 180, total: bool = True) -> "Figure":
        """History, forecast and prediction interval, one panel per class (and the total).

        Parameters
        ----------
        classes : sequence of str, optional
            Classes to show (default: all).
        history_days : int, default 180
            Days of history shown before ``as_of``.
        total : bool, default True
            Add a first panel with the total over classes.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        classes = list(classes) if classes is not None else list(self.history.columns)
        panels = ([TOTAL] if total and len(classes) > 1 else []) + classes
        ncol = 2 if len(panels) > 1 else 1
        nrow = int(np.ceil(len(panels) / ncol))
        fig, axes = plt.subplots(nrow, ncol, figsize=(6 * ncol, 2.6 * nrow), squeeze=False)
        hist = self.history.iloc[-history_days:]
        unit = "room-nights" if self.measure == "room_nights" else self.measure
        for ax, name in zip(axes.ravel(), panels):
            if name == TOTAL:
                h, f = hist.sum(axis=1), self.total
            else:
                h, f = hist[name], self.forecast.loc[self.forecast["fare_class"] == name]
            ax.plot(h.index, h.to_numpy(), color="black", lw=0.8, label="history")
            ax.fill_between(f["date"], f["lower"], f["upper"], color="C1", alpha=0.25, label=f"{self.level:.0%} interval")
            ax.plot(f["date"], f["mean"], color="C1", lw=1.2, label="forecast")
            ax.axvline(self.as_of, color="grey", ls="--", lw=0.8)
            ax.set_title(f"{name}: {self.chosen.get(name, '')}", fontsize="small")
            ax.set_xlabel("date")
            ax.set_ylabel(unit)
            ax.tick_params(axis="x", labelsize=7)
        for ax in axes.ravel()[len(panels):]:
            ax.set_visible(False)
        axes.ravel()[0].legend(fontsize="x-small", loc="upper left")
        what = "Demand" if self.measure in ("room_nights", "arrivals", "demand") else unit.replace("_", " ").capitalize()
        fig.suptitle(f"{what} forecast after {self.as_of.date()} by {self.by or 'total'}")
        fig.tight_layout()
        return fig

    def plot_cv(self) -> "Figure":
        """Cross-validated MASE of each candidate and of the final forecast, by series.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        tab = self.cv_errors["mase"].unstack("model")
        fig, ax = plt.subplots(figsize=(10, 3.5))
        tab.plot.bar(ax=ax, width=0.8)
        ax.set_title(f"Rolling-origin cross-validation ({len(self.origins)} origins): MASE by series and model")
        ax.set_xlabel("series")
        ax.set_ylabel("MASE (1 = in-sample seasonal naive)")
        ax.legend(fontsize="x-small", ncol=3)
        ax.tick_params(axis="x", rotation=0)
        fig.tight_layout()
        return fig


# ============================================================== the estimator
class DemandForecaster(NotFittedAttributes):
    """Daily demand forecasts per series by cross-validated model selection or combination.

    See the module docstring for the models, the cross-validation, the
    reconciliation and the intervals.

    Parameters
    ----------
    models : sequence of str, default all of :data:`MODELS`
        Candidate models (``"pickup"`` is left out, with a note, for a
        series without bookings; ``"ets_damped"`` is left out, with a note,
        when the pickup candidate is in).
    selection : {"combine", "cv"}, default "combine"
        Combine the ``combine_top`` best candidates with inverse
        cross-validated MSE weights (the geometric mean over the origins of
        each origin's MSE), or use the single one with the lowest
        cross-validated MAE (pooled over the origins).
    horizon : int, default 90
        Days forecast after ``as_of``.
    level : float, default 0.9
        Level of the prediction intervals.
    cv_windows : int, default 4
        Cross-validation origins.
    cv_horizon : int, default 56
        Days forecast from each origin (capped at ``horizon``).
    cv_step : int, optional
        Days between origins (default ``cv_horizon // 2``).
    holidays : HolidayCalendar or mapping, optional
        Public holidays (regressors or closed days) and declared closed days.
    reconcile : {"top_down", "mint", "bottom_up"} or None, default "top_down"
        Reconciliation of the class forecasts with the total (when there are
        at least two classes); see the module docstring.
    unconstrain : bool, default False
        Bookings only: replace the sales of nights that were full at some time
        by their censored-normal EM expectation, and raise the open nights
        around them for the stays lost to them (stay lengths from the
        bookings arrived by the origin), before fitting (needs ``capacity``;
        :mod:`crm_analysis.seasonality.unconstrain`).
    capacity : int, optional
        Rooms, for ``unconstrain`` (required there); with bookings, checked against the rooms they hold
        (:func:`~crm_analysis.seasonality.check_capacity`: refused when the bookings contradict it). Without
        ``unconstrain`` the pickup candidate's forecast of the total sales,
        and the reconciled forecast of sales, are capped at the larger of
        ``capacity`` and the most room-nights sold on a night of the
        history (that most alone when not given).
    closed_tolerance : int, default 0
        A night is full when the most rooms held reached ``capacity -
        closed_tolerance``.
    by : str or None, default "fare_class"
        Bookings only: the column whose values are the series (``fare_class``
        defaults to the segment); ``None`` forecasts the total alone.
    measure : {"room_nights", "arrivals"}, default "room_nights"
        Bookings only: room-nights by stay date, or bookings by arrival date.
    include_cancelled : bool, default False
        Bookings only: count cancelled bookings as demand.
    start : date-like, optional
        Bookings only: first day of history.
    fourier_terms : int, default 4
        Yearly Fourier pairs of the calendar stage.
    yearly_min_days : int, default 400
        Fewest days of history for the yearly terms (at a cross-validation
        origin with fewer, a ``+yearly`` variant is fitted without them).
    combine_top : int, default 2
        Candidates combined with ``selection="combine"`` (2 was best on the
        benchmark backtests among 2, 3, 4 and all; with the pickup
        candidate 2 and 3 tied over the 26 main and held-out backtests,
        benchmarks/README.md).
    pickup_weeks : int, default 52
        The ``"pickup"`` candidate averages the pickup of the last
        ``7 * pickup_weeks`` complete nights, weighted by ``pickup_halflife``.
    pickup_halflife : float or None, default 8.0
        Weeks: the pickup of a night ``a`` days before the origin weighs
        ``0.5 ** (a / (7 * pickup_halflife))`` (exponentially weighted
        pickup; ``None``: the window's nights weigh the same).
    pickup_weekday : float, default 0.5
        In ``[0, 1]``: weight of the weekday's own mean pickup at each lead
        against that of all nights (:func:`~crm_analysis.seasonality.pickup.pickup_forecast`).
        The defaults (52 weeks, half-life 8 weeks, weekday 0.5; before: 13
        weeks, equal weights, one pickup for all weekdays) made 17 of the 20
        hotel backtests of ``benchmarks/bench_forecast.py`` more accurate and
        won the City Hotel's 2017-07-15 (round fc18f, benchmarks/README.md).
    backtest_days : int, default 56
        ``fit`` also backtests the whole procedure from ``as_of -
        backtest_days`` (0: no backtest).
    seed : int, default 42
        Kept for the common interface; the models are deterministic.
    progress : bool, default False
        Progress bar over series.

    Raises
    ------
    ValueError
        On a bad setting (at ``fit``, naming the parameter and the value).

    Examples
    --------
    >>> from crm_analysis.synthetic import default_bookings
    >>> f = DemandForecaster(horizon=28, backtest_days=0).fit(default_bookings(), as_of="2024-12-31")
    >>> f.result_.forecast.groupby("fare_class").size().eq(28).all()
    np.True_
    """

    def __init__(
        self,
        *,
        models: Sequence[str] = MODELS,
        selection: Literal["combine", "cv"] = "combine",
        horizon: int = 90,
        level: float = 0.9,
        cv_windows: int = 4,
        cv_horizon: int = 56,
        cv_step: int | None = None,
        holidays: HolidayCalendar | dict | None = None,
        reconcile: Literal["top_down", "mint", "bottom_up"] | None = "top_down",
        unconstrain: bool = False,
        capacity: int | None = None,
        closed_tolerance: int = 0,
        by: str | None = "fare_class",
        measure: Literal["room_nights", "arrivals"] = "room_nights",
        include_cancelled: bool = False,
        start: object = None,
        fourier_terms: int = 4,
        yearly_min_days: int = 400,
        combine_top: int = 2,
        pickup_weeks: int = 52,
        pickup_halflife: float | None = 8.0,
        pickup_weekday: float = 0.5,
        backtest_days: int = 56,
        seed: int = 42,
        progress: bool = False,
    ) -> None:
        self.models = models
        self.selection = selection
        self.horizon = horizon
        self.level = level
        self.cv_windows = cv_windows
        self.cv_horizon = cv_horizon
        self.cv_step = cv_step
        self.holidays = holidays
        self.reconcile = reconcile
        self.unconstrain = unconstrain
        self.capacity = capacity
        self.closed_tolerance = closed_tolerance
        self.by = by
        self.measure = measure
        self.include_cancelled = include_cancelled
        self.start = start
        self.fourier_terms = fourier_terms
        self.yearly_min_days = yearly_min_days
        self.combine_top = combine_top
        self.pickup_weeks = pickup_weeks
        self.pickup_halflife = pickup_halflife
        self.pickup_weekday = pickup_weekday
        self.backtest_days = backtest_days
        self.seed = seed
        self.progress = progress

    # ---------------------------------------------------------- settings
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Settings (scikit-learn convention)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> "DemandForecaster":
        """Change settings (scikit-learn convention); returns ``self``."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise InputError(f"unknown setting {k!r}; settings: {sorted(valid)}")
            setattr(self, k, v)
        return self

    def _check(self) -> None:
        models = tuple(self.models) if not isinstance(self.models, str) else (self.models,)
        bad = [m for m in models if m not in MODELS]
        if bad or not models:
            raise InputError(f"models: unknown or no model(s) {bad or list(models)}; choose from {list(MODELS)}")
        if self.selection not in ("combine", "cv"):
            raise InputError(f"selection must be 'combine' or 'cv', got {shown(self.selection)}")
        for name in ("horizon", "cv_windows", "cv_horizon", "combine_top", "pickup_weeks"):
            check_count(getattr(self, name), name, minimum=1)
        hl = self.pickup_halflife
        if hl is not None and (isinstance(hl, bool) or not isinstance(hl, (int, float, np.number))
                               or not np.isfinite(hl) or hl <= 0):
            raise InputError(f"pickup_halflife must be a positive number of weeks or None (the window's nights "
                             f"weigh the same), got {shown(hl)}")
        wd = self.pickup_weekday
        if isinstance(wd, bool) or not isinstance(wd, (int, float, np.number)) or not 0 <= wd <= 1:
            raise InputError(f"pickup_weekday must be a number in [0, 1] (0: one pickup for every weekday, 1: the "
                             f"weekday's own), got {shown(wd)}")
        for name in ("fourier_terms", "backtest_days", "yearly_min_days", "closed_tolerance"):
            check_count(getattr(self, name), name)
        if self.cv_step is not None:
            check_count(self.cv_step, "cv_step", minimum=1)
        level = self.level
        if isinstance(level, bool) or not isinstance(level, (float, int)) or not 0 < level < 1:
            raise InputError(f"level must be a number in (0, 1), got {shown(level)}")
        if self.reconcile not in ("top_down", "mint", "bottom_up", None):
            raise InputError(f"reconcile must be 'top_down', 'mint', 'bottom_up' or None, got {shown(self.reconcile)}")
        if self.measure not in ("room_nights", "arrivals"):
            raise InputError(f"measure must be 'room_nights' or 'arrivals', got {shown(self.measure)}")
        if self.unconstrain:
            if self.measure != "room_nights":
                raise InputError("unconstrain=True needs measure='room_nights' (capacity is rooms per night)")
            if self.capacity is None:
                raise InputError("unconstrain=True needs the capacity (rooms per night), got capacity=None")
        if self.capacity is not None:  # it also sets the sales cap: checked with or without unconstrain
            _capacity_count(self.capacity)

    # ---------------------------------------------------------- fitting
    def fit(self, history: Any, *, as_of: object = None) -> "DemandForecaster":
        """Select/combine, reconcile and forecast from the history known at ``as_of``.

        Parameters
        ----------
        history : pandas.DataFrame, DemandSeries or pandas.Series
            Canonical bookings (room-nights or arrivals per ``by`` are built
            from the bookings made by ``as_of``), a daily
            :class:`~crm_analysis.seasonality.series.DemandSeries` (its closed
            days are kept), or a daily Series/DataFrame (one column per series).
        as_of : date-like, optional
            Forecast origin: the last day whose data may be used. Required for
            bookings; for series the default is their last day.

        Returns
        -------
        DemandForecaster
            ``self``, with ``result_`` (:class:`ForecastResult`).

        Raises
        ------
        ValueError
            On a bad setting, an unusable history or one too short for the
            cross-validation.
        """
        return self._fit_from(history, as_of=as_of, capacity_checked=False)

    def _fit_from(self, history: Any, *, as_of: object, capacity_checked: bool) -> "DemandForecaster":
        """:meth:`fit`; ``capacity_checked=True`` where the caller checked the capacity against ``history`` at ``as_of``
        (:func:`~crm_analysis.seasonality.run_demand_forecast`, naming SeasonalityParams in its message)."""
        from threadpoolctl import threadpool_limits

        self._check()
        self.calendar_ = HolidayCalendar.from_config(self.holidays)
        as_of_ts = None if as_of is None else to_timestamp(as_of, "as_of")
        source = _Source(history, self, as_of_ts, capacity_checked=capacity_checked)
        if as_of_ts is None:
            as_of_ts = pd.Timestamp(source.values.index.max())
        if self.backtest_days:
            known = source.known(as_of_ts)
            self._check_backtest_room(known.values.index[0], as_of_ts, len(known.values))
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels convergence chatter; problems are noted below
            self.result_ = self._fit(source, as_of_ts)
        if self.backtest_days:
            self.result_.backtest = _backtest(self, history, cutoffs=[as_of_ts - pd.Timedelta(days=int(self.backtest_days))],
                                              horizon=int(self.backtest_days), as_of=as_of_ts,
                                              capacity_checked=True)  # the same check as above: made once
        return self

    def _fit(self, source: _Source, as_of: pd.Timestamp) -> ForecastResult:
        from tqdm import tqdm

        notes: list[str] = list(source.notes)
        cal = self.calendar_
        known = source.known(as_of)
        notes.extend(known.notes)
        hist = known.values
        n = len(hist)
        H = int(self.horizon)
        h_cv = min(int(self.cv_horizon), H)
        step = int(self.cv_step) if self.cv_step is not None else max(1, h_cv // 2)
        origins = [as_of - pd.Timedelta(days=h_cv + k * step) for k in range(int(self.cv_windows))]
        min_len = n - h_cv - (int(self.cv_windows) - 1) * step
        if min_len < _MIN_ORIGIN_DAYS:
            raise InputError(self._too_short(hist.index[0], as_of, n, H))
        models = list(dict.fromkeys([self.models] if isinstance(self.models, str) else self.models))
        unvalidated: list[str] = []  # '+yearly' variants fitted without the yearly terms at some origin
        if "pickup" in models and source.kind != "bookings":
            models.remove("pickup")
            if not models:
                raise InputError("models=('pickup',) needs bookings (the reservations on the books); a series has none")
            notes.append("pickup left out: it needs bookings (the reservations on the books at the origin)")
        if "pickup" in models and "ets_damped" in models:
            models.remove("ets_damped")
            notes.append("ets_damped left out: with the pickup candidate the reservations on the books carry the "
                         "coming level; the damped trend is for series without bookings")
        if int(self.fourier_terms) and n >= int(self.yearly_min_days):
            # each calendar-stage model also with the yearly Fourier terms; the cross-validation weighs both
            models = [v for m in models for v in ([m, f"{m}+yearly"] if m in _CAL_MODELS else [m])]
            if min_len < int(self.yearly_min_days):
                unvalidated = [m for m in models if m.endswith("+yearly")]
                notes.append(f"yearly terms need {self.yearly_min_days} days of history: at cross-validation origins "
                             f"with fewer (the earliest has {min_len}) the '+yearly' variants are fitted without them, "
                             f"so their cross-validation did not score the forecast with them: within the "
                             f"{h_cv} cross-validated days they are left out of the combination (beyond, combined as "
                             "the rule there says)")
        elif int(self.fourier_terms):
            notes.append(f"no yearly terms: the history has {n} days (yearly_min_days={self.yearly_min_days})")
        if "mstl" in models and min_len <= 2 * 365:
            models.remove("mstl")
            notes.append(f"mstl left out: its yearly cycle needs more than 730 days at every cross-validation origin "
                         f"(the earliest has {min_len})")
            if not models:
                raise InputError("no candidate model left (mstl needs more than two years of history)")
        classes = list(hist.columns)
        multi = len(classes) > 1
        series = classes + ([TOTAL] if multi else [])
        dates_f = pd.date_range(as_of + pd.Timedelta(days=1), periods=H, freq="D").astype("datetime64[ns]")
        end_all = dates_f[-1]
        regs = None
        if cal is not None:
            regs = cal.regressors(pd.date_range(hist.index.min(), end_all, freq="D"))
            if regs.shape[1]:
                notes.append(f"calendar effects: {cal.describe()}")
        closed_f = cal.closed_mask(dates_f) if cal is not None else np.zeros(H, dtype=bool)
        if known.closed.any() and cal is None:
            notes.append("the history has closed days but no calendar was given: the forecast assumes every future day open")

        def frame(k: _Known) -> pd.DataFrame:
            v = k.values.copy()
            if multi:
                v[TOTAL] = v[classes].sum(axis=1)
            return v

        full = frame(known)
        open_full = ~known.closed
        scale = {s: _mase_scale(full[s].to_numpy(), open_full) for s in series}

        otb = None
        if "pickup" in models:
            otb = source.on_books(hist.index[0], as_of + pd.Timedelta(days=h_cv), h_cv)
            notes.extend(otb.notes)
            hl, wd = self.pickup_halflife, float(self.pickup_weekday)
            notes.append(f"pickup: reservations on the books at the origin plus the mean pickup of the last "
                         f"{int(self.pickup_weeks) * 7} nights"
                         + (f" (weight halving every {hl:g} weeks back)" if hl is not None else "")
                         + (f", the night's weekday weighted {wd:g} against all nights" if wd else "")
                         + f", up to {h_cv} days ahead (the cross-validated horizon); "
                         "the combination weights are set by horizon")

        def fc_one(v: pd.DataFrame, s: str, m: str, h: int, origin: pd.Timestamp, closed: np.ndarray,
                   full_nights: pd.Series | None = None, capped: list | None = None) -> np.ndarray:
            if m == "pickup":
                return self._pickup(otb, v, s, classes, origin, min(h, h_cv), h, full_nights, capped)
            return self._forecast_one(v[s], m, h, regs, closed)[0]

        # ---- rolling-origin cross-validation
        cv_rows = []
        tk = TOTAL if multi else classes[0]
        caps: dict[pd.Timestamp, float] = {}  # what a night can sell, known at each origin (sales only)
        for o in origins:
            ko = source.known(o)
            vo = frame(ko)
            cap_o = self._sales_cap(vo, tk, classes)
            if cap_o is not None:
                caps[o] = cap_o
            fut = pd.date_range(o + pd.Timedelta(days=1), periods=h_cv, freq="D")
            act = full.reindex(fut)
            is_open = ~pd.Index(fut).isin(known.values.index[known.closed])
            for s in series:
                for m in models:
                    mean = fc_one(vo, s, m, h_cv, o, ko.closed,
                                  ko.unconstrained.closed if ko.unconstrained is not None else None)
                    cv_rows.append(pd.DataFrame({"origin": o, "date": fut, "series": s, "model": m, "mean": mean,
                                                 "actual": act[s].to_numpy(), "h": np.arange(1, h_cv + 1),
                                                 "open": is_open}))
        cvp = pd.concat(cv_rows, ignore_index=True)
        cvp_open = cvp.loc[cvp["open"]]

        # ---- final forecasts of the candidates (computed once; the long-run choice needs the ARIMA fits)
        finals: dict[tuple[str, str], tuple[np.ndarray, str]] = {}
        pickup_capped: list[tuple[str, int, float]] = []  # (series, nights, cap) of the final pickup forecasts

        def final_one(s: str, m: str) -> tuple[np.ndarray, str]:
            if (s, m) not in finals:
                finals[s, m] = ((fc_one(full, s, m, H, as_of, known.closed, known.unconstrained.closed
                                        if known.unconstrained is not None else None, pickup_capped), "pickup")
                                if m == "pickup"
                                else self._forecast_one(full[s], m, H, regs, known.closed))
            return finals[s, m]

        # ---- beyond the cross-validated horizon: the candidates that revert to the history's mean level
        long_run: dict[str, list[str] | None] = {s_: None for s_ in series}
        if H > h_cv and any(m.endswith("+yearly") for m in models):
            for s_ in series:
                rev = [m for m in models if m.partition("+")[0] == "arima" and _reverts(final_one(s_, m)[1])]
                long_run[s_] = rev or None
            kept = sorted({m for v in long_run.values() if v for m in v})
            if kept:
                notes.append(f"beyond {h_cv} days ahead (the cross-validated horizon) only the candidates whose "
                             f"forecast reverts to the history's mean level are combined ({', '.join(kept)}: ARIMA "
                             "errors with d = 0); the others carry the last weeks' level through the year")
        weights = {s_: self._weights(cvp_open.loc[cvp_open["series"] == s_], models, H, h_cv, long_run[s_],
                                     unvalidated=unvalidated)
                   for s_ in series}

        # ---- final base forecasts
        base = {}
        labels: dict[str, str] = {}
        wmean: dict[str, dict[str, float]] = {}
        for s in tqdm(series, desc="forecast", disable=not self.progress, leave=False):
            fc = np.zeros(H)
            W = weights[s]
            parts = []
            for j, m in enumerate(models):
                if not (W[:, j] > 0).any():
                    continue
                mean, lab = final_one(s, m)
                fc += W[:, j] * mean
                parts.append((float(W[:, j].mean()), m, lab))
            base[s] = fc
            wmean[s] = {m: float(W[:, j].mean()) for j, m in enumerate(models)}
            parts.sort(reverse=True)
            labels[s] = (parts[0][2] if len(parts) == 1
                         else "combination: " + ", ".join(f"{m} {w:.0%}" for w, m, _ in parts)
                         + (" (weights by horizon)" if otb is not None else ""))

        # with include_cancelled the series is gross demand (cancelled bookings too): the cap is the most held
        can, sold = (("what a night can hold (cancelled bookings included)", "held") if self.include_cancelled
                     else ("what a night can sell", "sold"))
        for s_, n_cap, cap in pickup_capped:
            if not n_cap:
                continue  # nothing capped in the forecast: no note
            notes.append(f"pickup ({s_}): {n_cap} of {min(H, h_cv)} night(s) forecast above {can}, set to "
                         f"{cap:.0f} room-nights (" + (f"the capacity or the most {sold} on a night of the history, "
                         "whichever is larger" if self.capacity is not None else f"the most {sold} on a night of the "
                         "history; give capacity to use the hotel's rooms") + "); the cross-validation's pickup "
                         "forecasts are capped the same way")
        # ---- combined CV predictions, reconciliation
        midx = {m: j for j, m in enumerate(models)}
        comb = cvp.assign(wmean=cvp["mean"] * [weights[s][h - 1, midx[m]] for s, m, h in zip(cvp["series"], cvp["model"],
                                                                                              cvp["h"])])
        comb = comb.groupby(["origin", "date", "series"], sort=False).agg(
            mean=("wmean", "sum"), actual=("actual", "first"), h=("h", "first"), open=("open", "first")).reset_index()
        P = None
        if multi and self.reconcile == "top_down":
            def prop(tot: np.ndarray, parts: np.ndarray) -> np.ndarray:
                parts = np.clip(parts, 0, None)
                ssum = parts.sum(axis=0)
                share = np.where(ssum > 0, parts / np.where(ssum > 0, ssum, 1), 1.0 / parts.shape[0])
                return share * tot

            B = prop(base[TOTAL], np.vstack([base[c] for c in classes]))
            base = {**{c: B[i] for i, c in enumerate(classes)}, TOTAL: base[TOTAL]}
            piv = comb.pivot_table(index=["origin", "date"], columns="series", values="mean", sort=False)[series]
            rc = prop(piv[TOTAL].to_numpy(), piv[classes].to_numpy().T).T
            rec = pd.DataFrame(np.hstack([rc, piv[[TOTAL]].to_numpy()]), index=piv.index,
                               columns=pd.Index(series, name="series"))
            rec = rec.stack().rename("mean_rec").reset_index()
            comb = comb.merge(rec, on=["origin", "date", "series"], how="left")
            comb["mean"] = comb["mean_rec"]
            comb = comb.drop(columns="mean_rec")
            notes.append("fare-class forecasts reconciled with the total: top-down with forecast proportions (the "
                         "total forecast is kept; each class gets its share of the class forecasts)")
        elif multi and self.reconcile is not None:
            if self.reconcile == "bottom_up":
                G = np.hstack([np.eye(len(classes)), np.zeros((len(classes), 1))])
            else:
                wide = comb.loc[comb["open"]].pivot_table(index=["origin", "date"], columns="series",
                                                          values=["mean", "actual"], sort=False)
                E = (wide["mean"] - wide["actual"])[series].to_numpy()
                W = _shrunk_cov(E)
                S = np.vstack([np.eye(len(classes)), np.ones((1, len(classes)))])
                Wi = np.linalg.pinv(W)
                G = np.linalg.solve(S.T @ Wi @ S, S.T @ Wi)
            P = np.vstack([G, G.sum(axis=0, keepdims=True)])  # rows: classes then total = S @ G
            B = np.vstack([base[s] for s in series])
            R = P @ B
            base = {s: R[i] for i, s in enumerate(series)}
            piv = comb.pivot_table(index=["origin", "date"], columns="series", values="mean", sort=False)[series]
            rec = pd.DataFrame(piv.to_numpy() @ P.T, index=piv.index, columns=pd.Index(series, name="series"))
            rec = rec.stack().rename("mean_rec").reset_index()
            comb = comb.merge(rec, on=["origin", "date", "series"], how="left")
            comb["mean"] = comb["mean_rec"]
            comb = comb.drop(columns="mean_rec")
            notes.append(
                "fare-class forecasts reconciled with the total: "
                + ("bottom-up (the total is the sum of the classes)" if self.reconcile == "bottom_up"
                   else "MinT(Shrink) with the covariance of the cross-validation errors")
            )
        elif multi:
            notes.append("reconcile=None: the class forecasts are not reconciled; the total is their sum")

        # ---- a forecast of the hotel's sales never above what a night can sell (see _sales_cap)
        cap = self._sales_cap(full, tk, classes)
        if cap is not None:
            tot = np.sum([np.clip(base[c], 0, None) for c in classes], axis=0)  # the table's total (classes >= 0)
            over = tot > cap
            if over.any():
                f = np.where(over, cap / np.where(over, tot, 1.0), 1.0)
                base = {**{c: base[c] * f for c in classes}, **({TOTAL: np.minimum(base[TOTAL], cap)} if multi else {})}
                notes.append(f"{int(over.sum())} of {H} night(s) of the reconciled forecast above what a night can sell "
                             f"({cap:.0f} room-nights, as for the pickup candidate): every class scaled down to it")
            if caps:
                piv = comb.pivot_table(index=["origin", "date"], columns="series", values="mean", sort=False)[series]
                cap_v = np.array([caps.get(o, np.inf) for o in piv.index.get_level_values("origin")])
                tot_v = piv[classes].clip(lower=0).sum(axis=1).to_numpy()
                f_v = np.where(tot_v > cap_v, cap_v / np.where(tot_v > cap_v, tot_v, 1.0), 1.0)
                vals = piv[classes].to_numpy() * f_v[:, None]
                if multi:
                    vals = np.hstack([vals, np.minimum(piv[[TOTAL]].to_numpy(), cap_v[:, None])])
                rec = pd.DataFrame(vals, index=piv.index, columns=pd.Index(series, name="series"))
                rec = rec.stack().rename("mean_rec").reset_index()
                comb = comb.merge(rec, on=["origin", "date", "series"], how="left")
                comb["mean"] = comb["mean_rec"]
                comb = comb.drop(columns="mean_rec")

        # ---- intervals from the final forecast's CV errors by horizon (see the module docstring)
        from scipy import stats

        k_t = float(stats.t.ppf(0.5 + float(self.level) / 2, df=len(origins)))
        q = {}
        for s in series:
            g = comb.loc[(comb["series"] == s) & comb["open"]]
            e = (g["actual"] - g["mean"]).to_numpy()
            hh = g["h"].to_numpy()
            rms = np.empty(H)
            for h in range(1, H + 1):
                sel = e[np.abs(hh - min(h, h_cv)) <= _POOL] if e.size else e
                rms[h - 1] = np.sqrt(np.mean(sel**2)) if sel.size else 0.0
            q[s] = (-k_t * rms, k_t * rms, rms)
        if H > h_cv:
            notes.append(f"intervals beyond {h_cv} days ahead keep the error spread of the longest cross-validated "
                         f"horizon ({h_cv} days)")

        # ---- table
        parts_t = []
        clipped = 0
        flag = bool(self.unconstrain)
        for c in classes:
            mean = base[c].copy()
            lo, hi, rms = q[c]
            clipped += int((mean < 0).sum())
            mean = np.where(closed_f, 0.0, np.clip(mean, 0, None))
            lower = np.where(closed_f, 0.0, np.clip(mean + np.minimum(lo, 0), 0, None))
            upper = np.where(closed_f, 0.0, np.clip(mean + np.maximum(hi, 0), 0, None))
            std = np.where(closed_f, 0.0, rms)
            parts_t.append(pd.DataFrame({"date": dates_f, "fare_class": c, "mean": mean, "std": std, "lower": lower,
                                         "upper": upper, "model": labels[c], "unconstrained": flag}))
        table = pd.concat(parts_t, ignore_index=True)
        table["fare_class"] = table["fare_class"].astype("string")
        table["model"] = table["model"].astype("string")
        table = table[list(FORECAST_COLUMNS)]
        if clipped:
            notes.append(f"{clipped} negative class forecast value(s) set to 0 (demand); the total is the sum after that")
        if closed_f.any():
            notes.append(f"{int(closed_f.sum())} closed day(s) in the forecast period forecast as 0")
        tot_mean = table.groupby("date", sort=True)["mean"].sum().to_numpy()
        tk = TOTAL if multi else classes[0]
        lo, hi, rms = q[tk]
        total = pd.DataFrame({"date": dates_f, "mean": tot_mean, "std": np.where(closed_f, 0.0, rms),
                              "lower": np.where(closed_f, 0.0, np.clip(tot_mean + np.minimum(lo, 0), 0, None)),
                              "upper": np.where(closed_f, 0.0, np.clip(tot_mean + np.maximum(hi, 0), 0, None))})

        # ---- CV error table
        comb_m = comb.assign(model="final")
        allp = pd.concat([cvp, comb_m[cvp.columns]], ignore_index=True)
        allp = allp.loc[allp["open"]]
        rows = []
        for (s, m), g in allp.groupby(["series", "model"], sort=False):
            e = (g["mean"] - g["actual"]).to_numpy()
            act = g["actual"].to_numpy()
            rows.append({"series": s, "model": m, "mae": float(np.mean(np.abs(e))), "rmse": float(np.sqrt(np.mean(e**2))),
                         "mase": float(np.mean(np.abs(e)) / scale[s]) if np.isfinite(scale[s]) else np.nan,
                         "bias_pct": float(100 * e.sum() / act.sum()) if act.sum() > 0 else np.nan, "n": int(len(e)),
                         "weight": wmean[s].get(m, np.nan) if m != "final" else np.nan})
        cv_errors = pd.DataFrame(rows).set_index(["series", "model"])
        chosen = pd.Series(labels, name="model").rename_axis("series")
        if multi:
            chosen[TOTAL] = labels[TOTAL] + (" (reconciled)" if self.reconcile else "")
        cv_predictions = allp.drop(columns=["open"]).reset_index(drop=True)
        return ForecastResult(
            forecast=table, total=total, cv_errors=cv_errors, chosen=chosen, cv_predictions=cv_predictions,
            history=hist, as_of=as_of, horizon=H, level=float(self.level), measure=self.measure if source.kind == "bookings"
            else source.measure, by=self.by if source.kind == "bookings" else None, origins=origins,
            reconcile=self.reconcile if multi else None, unconstrained=known.unconstrained, calendar=cal, notes=notes,
        )

    def _weights(self, g: pd.DataFrame, models: list[str], H: int, h_cv: int,
                 long_run: list[str] | None = None, *, unvalidated: Sequence[str] = ()) -> np.ndarray:
        """Combination weights, shape ``(H, len(models))``, from one series' open-day CV predictions ``g``.

        Without the pickup candidate the weights are the same at every
        horizon (from all cross-validated horizons). With it, the weights at
        horizon ``h <= h_cv`` come from the cross-validation errors at the
        horizons ``h +- _POOL`` (what is on the books says more about the
        next days than about the eighth week), and beyond ``h_cv`` (where the
        pickup candidate has no cross-validated accuracy and no forecast) from
        all horizons of the other candidates. ``long_run`` (the candidates
        whose forecast reverts to the history's mean level, see
        :meth:`_fit`) restricts the candidates beyond ``h_cv``, with or
        without the pickup candidate. ``unvalidated`` (the ``+yearly``
        variants when some cross-validation origin had too short a history
        for the yearly terms: there they were fitted without them, so their
        cross-validation errors are not those of the forecast that uses
        them; with no origin long enough they tie exactly with the plain
        variant and took half the weight with it) are left out up to
        ``h_cv``. A candidate's MSE is the geometric mean over the origins
        of its MSE at each (:func:`_origin_mse`). On the 26 backtests of ``benchmarks/bench_forecast.py``
        (issue #18, round fc18c): the built-in hotel 2024-06-30 / 08-15 and
        seed 3 2024-06-30 0.420 / 0.561 / 0.343 -> 0.415 / 0.524 / 0.333,
        seed 7 2024-06-30 0.315 -> 0.326, the others unchanged.
        """
        e = (g["mean"] - g["actual"]).to_numpy()
        hh = g["h"].to_numpy()
        mod = g["model"].to_numpy()
        org = g["origin"].to_numpy()

        def one(sel: np.ndarray, cands: list[str]) -> np.ndarray:
            mse = np.array([_origin_mse(e[sel & (mod == m)], org[sel & (mod == m)]) for m in cands])
            mae = np.array([np.mean(np.abs(e[sel & (mod == m)])) if (sel & (mod == m)).any() else np.inf for m in cands])
            w = np.zeros(len(models))
            pos = [models.index(m) for m in cands]
            if self.selection == "cv" or len(cands) == 1:
                w[pos[int(np.argmin(mae))]] = 1.0
                return w
            top = np.argsort(mse, kind="stable")[: int(self.combine_top)]
            inv = 1.0 / np.maximum(mse[top], 1e-12)
            w[np.asarray(pos)[top]] = inv / inv.sum()
            return w

        every = np.ones(len(e), dtype=bool)
        within = [m for m in models if m not in set(unvalidated)] or models
        if "pickup" not in models:
            W = np.tile(one(every, within), (H, 1))
            if within != models and H > h_cv:
                W[h_cv:] = one(every, models)
            if long_run and H > h_cv:
                W[h_cv:] = one(every, long_run)
            return W
        W = np.empty((H, len(models)))
        for h in range(1, min(H, h_cv) + 1):
            W[h - 1] = one(np.abs(hh - h) <= _POOL, within)
        if H > h_cv:
            others = [m for m in models if m != "pickup"]
            if long_run:
                W[h_cv:] = one(every, long_run)
            else:
                W[h_cv:] = one(every, others) if others else 0.0
        return W

    def _pickup(self, otb: OnTheBooks, v: pd.DataFrame, s: str, classes: list[str], origin: pd.Timestamp,
                h_pick: int, h: int, full_nights: pd.Series | None = None,
                capped: list[tuple[str, int, float]] | None = None) -> np.ndarray:
        """Pickup forecast of series ``s`` for ``h`` days after ``origin`` (0 beyond ``h_pick``, where it has no weight).

        ``full_nights`` (with ``unconstrain``: the nights that were full, by date) are left out of the
        mean pickup when at least a week of the window's nights was open: a full night's unconstrained
        demand holds the requests refused that night, so its pickup is that of a sold-out night, and
        added to every coming night it put the spill of the busy weeks on the quiet ones (issue #18,
        round fc18b: pickup alone +3.8 % against the built-in hotel's true demand over 12 backtests,
        +1.4 % with the open nights only; mean absolute error 10.4 -> 9.5 room-nights).

        A forecast of the hotel's room-night sales is capped at what a night can sell (:meth:`_sales_cap`);
        ``capped`` (a list) receives ``(series, nights capped, cap)``.
        """
        arr = otb.total() if s == TOTAL else otb.values[:, :, otb.series.index(s)] if s in otb.series else None
        out = np.zeros(h)
        if arr is None:  # a class without any booking on the books (cannot happen for a class of the history)
            return out
        final = np.full(len(otb.nights), np.nan)
        vals = (v[classes].sum(axis=1) if s == TOTAL else v[s]).reindex(otb.nights).to_numpy(dtype=float)
        final[: len(vals)] = vals
        pos = int((origin - otb.nights[0]) / pd.Timedelta(days=1))
        if full_nights is not None:
            full = full_nights.reindex(otb.nights, fill_value=False).to_numpy(dtype=bool)[: len(vals)]
            lo = max(0, pos - 7 * int(self.pickup_weeks) + 1)
            if (~full[lo: pos + 1]).sum() >= 7:
                final[: len(vals)][full] = np.nan
        cap = self._sales_cap(v, s, classes)
        how = dict(weeks=int(self.pickup_weeks), halflife=self.pickup_halflife, weekday_weight=self.pickup_weekday)
        out[:h_pick] = pickup_forecast(arr, final, pos, h_pick, cap=cap, **how)
        if capped is not None and cap is not None:
            raw = pickup_forecast(arr, final, pos, h_pick, **how)
            capped.append((s, int((raw > cap).sum()), cap))
        return out

    def _sales_cap(self, v: pd.DataFrame, s: str, classes: list[str]) -> float | None:
        """The most a night of series ``s`` can sell, for the pickup candidate (``None``: no cap).

        Only for a forecast of room-night sales (not ``unconstrain``: unconstrained demand may exceed the
        rooms) of the whole hotel (the total, or the one series): ``max(capacity, the most room-nights
        sold on a night of the history known at the origin)`` (the capacity alone may sit below what an
        overbooking hotel sold), the history's most when ``capacity`` is not given (a hotel that sold
        out shows its capacity there). A fare class has no such bound of its own.
        """
        if self.unconstrain or self.measure != "room_nights" or not (s == TOTAL or len(classes) == 1):
            return None
        col = v[s].to_numpy(dtype=float)
        most = float(np.nanmax(col)) if np.isfinite(col).any() else np.nan
        if self.capacity is not None:
            return float(max(float(self.capacity), most)) if np.isfinite(most) else float(self.capacity)
        return most if np.isfinite(most) else None

    def _need(self, horizon: int) -> int:
        """Fewest days of history a fit with ``horizon`` needs (cross-validation windows included)."""
        h_cv = min(int(self.cv_horizon), int(horizon))
        step = int(self.cv_step) if self.cv_step is not None else max(1, h_cv // 2)
        return _MIN_ORIGIN_DAYS + h_cv + (int(self.cv_windows) - 1) * step

    def min_history_days(self) -> int:
        """Days of history up to ``as_of`` that :meth:`fit` needs with these cross-validation settings.

        The earliest cross-validation origin needs 28 days before it, and the
        ``cv_windows`` windows of ``min(cv_horizon, horizon)`` days follow it
        ``cv_step`` days apart (a shorter history makes :meth:`fit` raise).
        """
        return int(self._need(int(self.horizon)))

    def _too_short(self, first: pd.Timestamp, as_of: pd.Timestamp, n: int, horizon: int) -> str:
        h_cv = min(int(self.cv_horizon), int(horizon))
        step = int(self.cv_step) if self.cv_step is not None else max(1, h_cv // 2)
        fixes = []
        w_max = (n - _MIN_ORIGIN_DAYS - h_cv) // step + 1 if n - _MIN_ORIGIN_DAYS - h_cv >= 0 else 0
        if w_max >= 1:
            fixes.append(f"cv_windows <= {w_max}")
        h_ok = [h for h in range(h_cv, 0, -1)
                if n >= _MIN_ORIGIN_DAYS + h + (int(self.cv_windows) - 1) * (
                    int(self.cv_step) if self.cv_step is not None else max(1, h // 2))]
        if h_ok:
            fixes.append(f"cv_horizon <= {h_ok[0]}")
        if not fixes and n - _MIN_ORIGIN_DAYS >= 1:
            fixes.append(f"cv_windows=1 with cv_horizon <= {n - _MIN_ORIGIN_DAYS}")
        return (
            f"the history from {first:%Y-%m-%d} to as_of {as_of:%Y-%m-%d} has {n} days; a forecast with "
            f"{self.cv_windows} cross-validation window(s) of {h_cv} days, {step} days apart, needs at least "
            f"{self._need(horizon)} ({_MIN_ORIGIN_DAYS} before the earliest origin): "
            + (f"use {' or '.join(fixes)}, " if fixes else "")
            + "choose a later as_of, or give more history"
        )

    def _check_backtest_room(self, first: pd.Timestamp, as_of: pd.Timestamp, n: int) -> None:
        b = int(self.backtest_days)
        if n - b >= self._need(b):
            return
        room = max((x for x in range(1, n) if n - x >= self._need(x)), default=0)
        fix = f"use backtest_days <= {room} (0: no backtest)" if room >= 1 else "use backtest_days=0 (no backtest)"
        raise InputError(
            f"backtest_days={b} is too long for the history: it runs from {first:%Y-%m-%d} to as_of "
            f"{as_of:%Y-%m-%d} ({n} days), which leaves {max(n - b, 0)} days before the backtest window, and a "
            f"forecast with these cross-validation settings needs at least {self._need(b)}; {fix}, or give more history"
        )

    def _forecast_one(
        self, y: pd.Series, model: str, h: int, regs: pd.DataFrame | None, closed: np.ndarray
    ) -> tuple[np.ndarray, str]:
        """Forecast ``h`` days after the end of ``y`` with one candidate (calendar stage included)."""
        vals = y.to_numpy(dtype=float)
        dates = pd.DatetimeIndex(y.index)
        fut = pd.date_range(dates[-1] + pd.Timedelta(days=1), periods=h, freq="D")
        if np.ptp(vals) == 0:
            return np.full(h, vals[-1]), "constant"
        if model == "mstl":
            return _run_engine(model, vals, vals, h, int(fut[0].day_of_week))
        model, _, yearly = model.partition("+")
        k = int(self.fourier_terms) if yearly and len(vals) >= int(self.yearly_min_days) else 0
        cal = _fit_calendar(vals, dates, regs, k, (~closed).astype(float))
        z = vals - cal.part(dates, regs)
        mean, label = _run_engine(model, vals, z, h, int(fut[0].day_of_week))
        extra = cal.part(fut, regs)
        if k or cal.reg_cols:
            label += " + calendar(" + ", ".join(([f"yearly Fourier K={k}"] if k else []) + cal.reg_cols) + ")"
        return mean + extra, label


# ============================================================== backtest
def backtest(
    forecaster: DemandForecaster,
    history: Any,
    *,
    cutoffs: Sequence[object] | None = None,
    horizon: int = 56,
    as_of: object = None,
    n_cutoffs: int = 3,
    step: int | None = None,
) -> Backtest:
    """Rolling-origin backtest of a forecaster: refit at each cutoff, score the next ``horizon`` days.

    At each cutoff the forecaster (its settings, with ``horizon`` and no
    inner backtest) is fitted on the history known at the cutoff only
    (bookings made by the cutoff; days up to it) and its forecast of the
    next ``horizon`` days is compared with the actual demand known at
    ``as_of`` (the unconstrained demand with ``unconstrain``). Closed days
    are left out of the scores.

    Parameters
    ----------
    forecaster : DemandForecaster
    history : pandas.DataFrame, DemandSeries or pandas.Series
        As in :meth:`DemandForecaster.fit`.
    cutoffs : sequence of date-like, optional
        Forecast origins. Default: ``n_cutoffs`` origins ``step`` days apart
        (default ``horizon``), the last ``horizon`` days before ``as_of``.
    horizon : int, default 56
        Days scored after each cutoff.
    as_of : date-like, optional
        Last day of data used (default: the last day of a series, or the
        latest cutoff + ``horizon`` for bookings).
    n_cutoffs : int, default 3
    step : int, optional

    Returns
    -------
    Backtest

    Raises
    ------
    ValueError
        When a cutoff's window reaches past ``as_of`` or the settings are bad.
    """
    return _backtest(forecaster, history, cutoffs=cutoffs, horizon=horizon, as_of=as_of, n_cutoffs=n_cutoffs, step=step,
                     capacity_checked=False)


def _backtest(
    forecaster: DemandForecaster,
    history: Any,
    *,
    cutoffs: Sequence[object] | None = None,
    horizon: int = 56,
    as_of: object = None,
    n_cutoffs: int = 3,
    step: int | None = None,
    capacity_checked: bool,
) -> Backtest:
    """:func:`backtest`; ``capacity_checked=True`` where the caller checked the capacity against ``history`` at ``as_of``."""
    if not isinstance(forecaster, DemandForecaster):
        raise InputTypeError(
            f"backtest takes a DemandForecaster, got {type(forecaster).__name__} (the former "
            "backtest(bookings, as_of=...) is backtest(DemandForecaster(...), bookings, cutoffs=[...], horizon=...))"
        )
    horizon = int(horizon)
    if horizon < 1:
        raise InputError(f"horizon must be >= 1, got {horizon}")
    as_of_ts = None if as_of is None else to_timestamp(as_of, "as_of")
    if cutoffs is None:
        if as_of_ts is None:
            if isinstance(history, pd.DataFrame) and {"booking_date", "arrival_date"} <= set(history.columns):
                raise InputError("backtest on bookings needs cutoffs or as_of")
            idx = history.values.index if isinstance(history, DemandSeries) else history.index
            as_of_ts = pd.Timestamp(idx.max())
        st = int(step) if step is not None else horizon
        cut = [as_of_ts - pd.Timedelta(days=horizon + k * st) for k in range(int(n_cutoffs))][::-1]
    else:
        cut = sorted(to_timestamp(c, "cutoffs") for c in cutoffs)
    if as_of_ts is None:
        as_of_ts = max(cut) + pd.Timedelta(days=horizon)
    if max(cut) + pd.Timedelta(days=horizon) > as_of_ts:
        raise InputError(f"cutoff {max(cut).date()} + {horizon} days reaches past as_of {as_of_ts.date()}")
    est = DemandForecaster(**{**forecaster.get_params(), "horizon": horizon, "backtest_days": 0,
                              "cv_horizon": min(int(forecaster.cv_horizon), horizon)})
    est._check()
    est.calendar_ = HolidayCalendar.from_config(est.holidays)
    src = _Source(history, est, as_of_ts, capacity_checked=capacity_checked)
    actual_k = src.known(as_of_ts)
    actual = actual_k.values
    closed_days = actual.index[actual_k.closed]
    preds, rows = [], []
    from threadpoolctl import threadpool_limits

    for c in cut:
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = est._fit(src, c)
        fc = res.forecast
        fc = fc.loc[~fc["date"].isin(closed_days)]
        act = actual.reindex(columns=res.history.columns, fill_value=0.0)
        act_long = act.rename_axis(index="date", columns="fare_class").stack().rename("actual").reset_index()
        act_long["fare_class"] = act_long["fare_class"].astype("string")
        p = fc.merge(act_long, on=["date", "fare_class"], how="left")
        p["actual"] = p["actual"].fillna(0.0)
        p.insert(0, "cutoff", c)
        p = p[["cutoff", "date", "fare_class", "actual", "mean", "lower", "upper"]]
        preds.append(p)
        tot = p.groupby("date")[["actual", "mean"]].sum()
        e = (tot["mean"] - tot["actual"]).to_numpy()
        hist_tot = res.history.sum(axis=1).to_numpy()
        open_h = ~res.history.index.isin(closed_days)
        sc = _mase_scale(hist_tot, open_h)
        a_sum = float(tot["actual"].sum())
        rows.append({"cutoff": c, "mae": float(np.mean(np.abs(e))), "rmse": float(np.sqrt(np.mean(e**2))),
                     "mape": float(100 * np.mean(np.abs(e[tot["actual"] > 0]) / tot["actual"].to_numpy()[tot["actual"] > 0])),
                     "mase": float(np.mean(np.abs(e)) / sc), "bias_pct": float(100 * e.sum() / a_sum) if a_sum > 0 else np.nan,
                     "coverage": float(((p["actual"] >= p["lower"]) & (p["actual"] <= p["upper"])).mean()),
                     "models": "; ".join(f"{k}: {v}" for k, v in res.chosen.items())})
    pred = pd.concat(preds, ignore_index=True)
    errors = forecast_errors(pred, level=est.level)
    by_cut = pd.DataFrame(rows).set_index("cutoff")
    errors["mase"] = np.nan
    errors.loc["total", "mase"] = float(by_cut["mase"].mean())
    return Backtest(predictions=pred, errors=errors, by_cutoff=by_cut, cutoffs=cut, horizon=horizon, level=est.level)
