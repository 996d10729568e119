"""Demand forecasts per fare class and stay date, for yield management.

What is forecast
----------------
``mean`` is the expected number of **room-nights sold per stay date and fare
class** (non-cancelled bookings; each booking counts its ``units`` on every
night of its stay), the demand that capacity control (EMSR, Littlewood) needs
per night and class. With ``measure="arrivals"`` it is bookings by arrival date
instead. By default these are *realised* (constrained) sales, not
unconstrained demand: nights that sold out hide the demand that was turned
away. With ``unconstrain=True`` (and the ``capacity``) the history is first
unconstrained (:mod:`crm_analysis.seasonality.unconstrain`: nights that were
full at some time are censored observations, completed by a censored-normal
EM), so ``mean`` is the expected *unconstrained* demand.

Only data known at ``as_of`` is used: stay dates up to ``as_of``, from bookings
made on or before ``as_of``. Bookings on hand for later dates are ignored (no
pick-up model), so changing anything after ``as_of`` cannot change the
forecast.

Models
------
``"stl_ets"``
    The history of each class is decomposed with
    :func:`~crm_analysis.seasonality.decompose.decompose` (weekly and, with
    more than two years, yearly cycles). Each seasonal component is
    projected by repeating its last cycle; the seasonally adjusted series
    (trend + remainder) is forecast with an additive-error, damped-trend
    exponential smoothing model (``statsmodels`` ``ETSModel``, ETS(A,Ad,N)).
    This is the ``STLForecast`` idea (Hyndman & Athanasopoulos, FPP3,
    section 5.7 / 12.1) with several periods.

    Level at the origin (``level_method``). With a yearly cycle fitted from
    only two or three cycles, STL's seasonal at the end of the series is an
    extrapolation of a smooth curve, which cannot follow a sharp change such
    as the step from December to January: the seasonally adjusted series of
    the last weeks is then biased, and the ETS level, which follows the last
    weeks (smoothing parameter 0.4-0.8 on daily hotel data), carries that bias
    into every forecast date of the year. On the synthetic hotel (2023-2024
    history, true 2025 demand known) the ETS forecast of 2025 was 10 % below
    the truth for seed 42 and 5 % above for seed 7. ``"cycle"`` (default)
    instead takes the level as the mean of the seasonally adjusted series
    over the last full longest cycle (365 days), over which the yearly
    seasonal sums to about zero, so end effects average out (bias -0.7 % and
    -4.0 % on the same two cases, the latter mostly the EM unconstraining's
    own under-estimate of ~3 %). It assumes no trend within the year; with
    only the weekly cycle fitted, the ETS level is used. The early nights of
    a synthetic history (stays arriving before its first day are not
    simulated) are low for about a week; they enter the yearly seasonal of
    early January (averaged over the cycles) but not the level, and are not
    dropped because a 731-day history is the shortest that fits a yearly
    cycle.

    Intervals (``interval``): the ETS level of daily hotel demand behaves
    like a random walk (smoothing parameter near 1), so its analytic forecast
    variance grows with the horizon while the real errors of a series that
    reverts to its seasonal pattern do not: on the City Hotel data the
    analytic 90 % intervals cover ~98 % of backtest actuals.
    ``"empirical"`` (default) instead uses the errors the same forecast made
    in-sample: from every origin ``t`` of the last year (ETS state after
    ``t``, seasonal components repeated from the cycle ending at ``t``) the
    ``h``-step forecast is compared with ``y[t + h]``; the interval is
    ``mean`` plus the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of
    those errors at horizon ``h`` and ``std`` their root mean square (both
    smoothed over 7 neighbouring horizons; horizons with fewer than 60
    origins reuse the spread of the longest one with enough). This is a
    split-conformal-style calibration by horizon (FPP3 section 5.5,
    "prediction intervals from bootstrapped residuals"); it is slightly
    optimistic because the STL components are fitted on the whole history.
    ``"model"``: ``mean +- z * std`` with the ETS analytic variance.
``"seasonal_naive"``
    The value of the same weekday one week earlier (last observed week
    repeated); intervals from 1,000 bootstrap draws (seeded by ``seed``) of
    the empirical errors of a seasonal naive forecast made the same number of
    weeks ahead in the last year of history.

Forecasts are demand, so ``mean``, ``lower`` and ``upper`` are clipped at 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from crm_analysis._validate import check_count

from ._common import to_timestamp
from .decompose import decompose
from .series import booking_series
from .unconstrain import UnconstrainedHistory, night_closures, unconstrain_history

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "FORECAST_COLUMNS",
    "Forecast",
    "Backtest",
    "fit_forecast",
    "forecast_demand",
    "backtest",
    "forecast_errors",
]

#: Columns of the ``forecasts.parquet`` artefact (docs/architecture.md).
FORECAST_COLUMNS: tuple[str, ...] = ("date", "fare_class", "mean", "std", "lower", "upper", "model")

Method = Literal["stl_ets", "seasonal_naive"]
_N_BOOT = 1000
_EMP_WINDOW = 365  # in-sample origins (days) for empirical intervals
_EMP_MIN_ORIGINS = 60  # fewest origins per horizon
_MIN_HISTORY = 15  # fewest days of history a forecast is made from


def _check_backtest_room(first_day: pd.Timestamp, as_of: pd.Timestamp, backtest_days: int) -> None:
    """Raise when ``backtest_days`` leaves too little history before the backtest window."""
    n_hist = (as_of.normalize() - first_day.normalize()).days + 1
    left = n_hist - int(backtest_days)
    if left >= _MIN_HISTORY:
        return
    room = n_hist - _MIN_HISTORY
    fix = f"use backtest_days <= {room} (0: no backtest)" if room >= 1 else "use backtest_days=0 (no backtest)"
    raise ValueError(
        f"backtest_days={int(backtest_days)} is too long for the history: it runs from {first_day:%Y-%m-%d} to "
        f"as_of {as_of:%Y-%m-%d} ({n_hist} days), which leaves {max(left, 0)} days before the backtest window, "
        f"and a forecast needs at least {_MIN_HISTORY}; {fix}, or give more history"
    )


# ----------------------------------------------------------------- models
def _seasonal_naive(
    y: np.ndarray, horizon: int, level: float, rng: np.random.Generator, season: int = 7
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Last season repeated; intervals from the empirical k-season-ahead errors.

    For a forecast ``k`` seasons ahead the errors ``y[t] - y[t - k * season]``
    of the last year of history are resampled (``_N_BOOT`` draws with ``rng``):
    their spread is right both for a stable cycle with noise (where errors do
    not grow with k) and for a drifting one (where they do).
    """
    n = len(y)
    if n < 2 * season:
        raise ValueError(f"seasonal naive needs at least {2 * season} observations, got {n}")
    point = np.array([y[n - season + (h % season)] for h in range(horizon)], dtype=float)
    a = (1 - level) / 2
    std, lower, upper = np.empty(horizon), np.empty(horizon), np.empty(horizon)
    cache: dict[int, tuple[float, float, float]] = {}
    for h in range(horizon):
        k = h // season + 1
        if k not in cache:
            lag = min(k * season, (n // season - 1) * season)
            err = (y[lag:] - y[:-lag])[-365:]
            draws = rng.choice(err, size=_N_BOOT)
            cache[k] = (float(draws.std(ddof=1)), float(np.quantile(draws, a)), float(np.quantile(draws, 1 - a)))
        std[h], lo, hi = cache[k]
        lower[h], upper[h] = point[h] + lo, point[h] + hi
    return point, std, np.minimum(lower, point), np.maximum(upper, point), f"seasonal_naive({season})+bootstrap"


def _empirical_errors(
    y: np.ndarray, fitted_path: "callable", horizon: int, window: int, min_origins: int
) -> tuple[np.ndarray, int]:
    """Errors ``y[t + h] - forecast_t(h)`` by horizon from in-sample origins ``t``.

    ``fitted_path(t, h)`` gives the forecasts made at the origins ``t`` (an
    integer array) for ``h`` steps ahead. Origins are the last ``window`` days
    whose target ``t + h`` is observed. Horizons with fewer than
    ``min_origins`` origins reuse the errors of the longest horizon that has
    enough (returned as the second value: the longest horizon with its own
    errors).
    """
    n = len(y)
    out = []
    h_max = 0
    for h in range(1, horizon + 1):
        hi = n - h  # origins t with t + h <= n - 1
        lo = max(0, hi - window)
        if hi - lo < min_origins:
            break
        t = np.arange(lo, hi)
        out.append(y[t + h] - fitted_path(t, h))
        h_max = h
    return out, h_max


def _empirical_intervals(
    errors: list[np.ndarray], horizon: int, level: float, smooth: int = 7
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantiles and root mean square of the errors by horizon (smoothed over ``smooth`` horizons)."""
    a = (1 - level) / 2
    k = len(errors)
    q = np.array([[np.quantile(e, a), np.quantile(e, 1 - a), np.sqrt(np.mean(e**2))] for e in errors])
    if k < horizon:  # beyond the longest horizon with enough origins: keep its spread
        q = np.vstack([q, np.repeat(q[-1:], horizon - k, axis=0)])
    sm = pd.DataFrame(q).rolling(smooth, center=True, min_periods=1).mean().to_numpy()
    return sm[:horizon, 0], sm[:horizon, 1], sm[:horizon, 2]


def _stl_ets(
    y: pd.Series, horizon: int, level: float, periods: Sequence[int], robust: bool, notes: list[str], label: str,
    interval: str = "empirical", level_method: str = "ets",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    n = len(y)
    fit_periods = [p for p in periods if n > 2 * p]
    if not fit_periods:
        raise ValueError(f"{label}: history of {n} days is too short for any of the periods {list(periods)}")
    dec = decompose(y, periods=fit_periods, robust=robust)
    seas_fc = np.zeros(horizon)
    comps = {}
    for p in dec.periods:
        comp = dec.seasonal[f"seasonal_{p}"].to_numpy()
        comps[p] = comp
        last = comp[-p:]
        seas_fc += np.array([last[h % p] for h in range(horizon)])
    adj = dec.seasonally_adjusted.astype(float)
    adj.index = pd.DatetimeIndex(adj.index, freq="D")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ETSModel(adj, error="add", trend="add", damped_trend=True).fit(disp=False)
        pred = res.get_prediction(start=n, end=n + horizon - 1)
    msgs = sorted({str(w.message).splitlines()[0] for w in caught})
    if msgs:
        notes.append(f"{label}: ETS fit warned: {'; '.join(msgs)}")
    mean = seas_fc + np.asarray(pred.predicted_mean, dtype=float)
    model = f"{dec.method}({','.join(map(str, dec.periods))})+ETS(A,Ad,N)"
    p_max = max(dec.periods)
    adj_v = adj.to_numpy(dtype=float)
    cycle_level = level_method == "cycle" and p_max > 7
    if cycle_level:
        # level at the origin = mean of the seasonally adjusted series over the last full longest cycle
        csum = np.concatenate([[0.0], np.cumsum(adj_v)])
        mean = seas_fc + (csum[n] - csum[n - p_max]) / p_max
        model = f"{dec.method}({','.join(map(str, dec.periods))})+level(mean of last {p_max} d)"
    if interval == "model":
        std = np.sqrt(np.maximum(np.asarray(pred.var_pred_mean, dtype=float), 0.0))
        z = stats.norm.ppf(0.5 + level / 2)
        return mean, std, mean - z * std, mean + z * std, model
    # empirical: the same point forecast made from every in-sample origin t (ETS state after t,
    # seasonal components repeated from the cycle ending at t), errors by horizon
    states = res.states.to_numpy(dtype=float)
    has_trend = states.shape[1] > 1 and not cycle_level
    phi = float(getattr(res, "damping_trend", 1.0)) if has_trend else 0.0

    def path(t: np.ndarray, h: int) -> np.ndarray:
        if cycle_level:  # origins t >= p_max - 1: mean of adj[t - p_max + 1 .. t]
            f = (csum[t + 1] - csum[t + 1 - p_max]) / p_max
        else:
            f = states[t, 0].copy()
        if has_trend:
            f += (phi * (1 - phi**h) / (1 - phi) if phi != 1 else float(h)) * states[t, 1]
        for p, comp in comps.items():
            f = f + comp[t - p + 1 + (h - 1) % p]
        return f

    errors, h_max = _empirical_errors(y.to_numpy(dtype=float)[p_max - 1:], lambda t, h: path(t + p_max - 1, h),
                                      horizon, window=_EMP_WINDOW, min_origins=_EMP_MIN_ORIGINS)
    if not errors:
        raise ValueError(f"{label}: history of {n} days leaves no in-sample origins for empirical intervals")
    if h_max < horizon:
        notes.append(
            f"{label}: empirical intervals beyond {h_max} days ahead reuse the error spread at {h_max} days "
            f"(fewer than {_EMP_MIN_ORIGINS} in-sample origins)"
        )
    lo_q, hi_q, rmse = _empirical_intervals(errors, horizon, level)
    lower, upper = mean + np.minimum(lo_q, 0.0), mean + np.maximum(hi_q, 0.0)
    return mean, rmse, lower, upper, model + "+empirical"


def _forecast_one(
    y: pd.Series, horizon: int, method: str, level: float, rng: np.random.Generator,
    periods: Sequence[int], robust: bool, notes: list[str], label: str, interval: str = "empirical",
    level_method: str = "ets",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    values = y.to_numpy(dtype=float)
    if np.ptp(values[-min(len(values), 56):]) == 0 and np.ptp(values) == 0:
        c = float(values[-1])
        notes.append(f"{label}: constant history ({c:g}); forecast is that constant with no uncertainty")
        z = np.zeros(horizon)
        return z + c, z, z + c, z + c, "constant"
    if method == "seasonal_naive":
        return _seasonal_naive(values, horizon, level, rng)
    try:
        return _stl_ets(y, horizon, level, periods, robust, notes, label, interval, level_method)
    except (ValueError, np.linalg.LinAlgError) as exc:
        notes.append(f"{label}: stl_ets failed ({exc}); seasonal naive used instead")
        return _seasonal_naive(values, horizon, level, rng)


def _history(
    bookings: pd.DataFrame, as_of: pd.Timestamp, by: str | None, measure: str, start: object,
    include_cancelled: bool, notes: list[str], unconstrain: "_Unconstrain | None" = None,
) -> pd.DataFrame:
    """Daily history per group up to ``as_of`` from bookings made by ``as_of``.

    With ``unconstrain`` the sales of nights that were closed (as known at
    ``as_of``) are replaced by their censored-normal EM expectation; the
    :class:`UnconstrainedHistory` is stored in ``unconstrain.result``.
    """
    made = pd.to_datetime(bookings["booking_date"]) if "booking_date" in bookings.columns else None
    if made is not None and len(made) and not (made.dt.normalize() <= as_of.normalize()).any():
        first = made.min()
        raise ValueError(
            f"no booking was made by as_of={as_of:%Y-%m-%d}: the first booking_date is "
            + (f"{first:%Y-%m-%d}" if pd.notna(first) else "missing")
            + "; a forecast needs bookings known at as_of (choose a later as_of)"
        )
    hist = booking_series(
        bookings, measure, by=by, end=as_of, start=start, booked_by=as_of, include_cancelled=include_cancelled
    )
    notes.extend(hist.notes)
    vals = hist.values
    if isinstance(vals, pd.Series):
        vals = vals.to_frame("all")
    vals.columns = pd.Index([str(c) for c in vals.columns], name="fare_class")
    if unconstrain is not None:
        cl = night_closures(bookings, unconstrain.capacity, as_of=as_of, tolerance=unconstrain.tolerance)
        res = unconstrain_history(vals, cl.closed)
        notes.extend(res.notes)
        unconstrain.result = res
        vals = res.values
    return vals


@dataclass
class _Unconstrain:
    capacity: int
    tolerance: int = 0
    result: UnconstrainedHistory | None = None


def _unconstrain_spec(unconstrain: bool, capacity: int | None, tolerance: int, measure: str) -> _Unconstrain | None:
    if not unconstrain:
        return None
    if measure != "room_nights":
        raise ValueError("unconstrain=True needs measure='room_nights' (capacity is rooms per night)")
    if capacity is None:
        raise ValueError("unconstrain=True needs the capacity (rooms per night), got capacity=None")
    return _Unconstrain(check_count(capacity, "capacity", minimum=1), check_count(tolerance, "closed_tolerance"))


@dataclass
class Backtest:
    """Backtest of a forecast on the last ``days`` days before ``as_of``.

    Attributes
    ----------
    errors : pandas.DataFrame
        One row per fare class plus ``"all classes"`` (errors pooled over
        class-days) and ``"total"`` (the sum over classes, forecast as the
        sum of class forecasts; no coverage as intervals do not add):
        ``mae``, ``rmse``, ``mape`` (in %, over days with actual > 0),
        ``smape`` (in %, 0 where forecast and actual are both 0),
        ``coverage`` (share of actuals inside the interval), ``n``,
        ``n_zero_actual``.
    predictions : pandas.DataFrame
        ``date``, ``fare_class``, ``actual``, ``mean``, ``lower``, ``upper``.
    cutoff : pandas.Timestamp
        Forecast origin of the backtest (``as_of - days``).
    as_of : pandas.Timestamp
    level : float
    """

    errors: pd.DataFrame
    predictions: pd.DataFrame
    cutoff: pd.Timestamp
    as_of: pd.Timestamp
    level: float

    @property
    def mape(self) -> float:
        """MAPE (%) of the total over classes."""
        return float(self.errors.loc["total", "mape"])

    def plot(self) -> "Figure":
        """Actual vs forecast of the total over classes in the backtest window.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        tot = self.predictions.groupby("date")[["actual", "mean"]].sum()
        fig, ax = plt.subplots(figsize=(10, 3.2))
        ax.plot(tot.index, tot["actual"], label="actual", color="black", lw=1)
        ax.plot(tot.index, tot["mean"], label="forecast", color="C1", lw=1.2)
        ax.set_title(f"Backtest from {self.cutoff.date()}: total demand (MAPE {self.mape:.1f} %)")
        ax.set_xlabel("date")
        ax.set_ylabel("room-nights per day")
        ax.legend()
        fig.tight_layout()
        return fig


@dataclass
class Forecast:
    """Result of :func:`fit_forecast`.

    Attributes
    ----------
    table : pandas.DataFrame
        The ``forecasts.parquet`` contract: ``date``, ``fare_class``, ``mean``,
        ``std``, ``lower``, ``upper``, ``model``.
    history : pandas.DataFrame
        Daily history used (stay dates up to ``as_of``; one column per class).
    as_of : pandas.Timestamp
    by : str or None
        Booking column whose values are in ``fare_class``.
    method : str
    measure : str
    level : float
    backtest : Backtest or None
    notes : list of str
    unconstrained : UnconstrainedHistory or None
        With ``unconstrain=True``: closed nights, the sales and the
        unconstrained history (``history`` is the unconstrained one).
    """

    table: pd.DataFrame
    history: pd.DataFrame
    as_of: pd.Timestamp
    by: str | None
    method: str
    measure: str
    level: float
    backtest: Backtest | None = None
    notes: list[str] = field(default_factory=list)
    unconstrained: UnconstrainedHistory | None = None

    def plot(self, classes: Sequence[str] | None = None, history_days: int = 180, total: bool = True) -> "Figure":
        """History, forecast and prediction interval, one panel per class.

        Parameters
        ----------
        classes : sequence of str, optional
            Classes to show (default: all).
        history_days : int, default 180
            Days of history shown before ``as_of``.
        total : bool, default True
            Add a first panel with the sum over classes (interval not shown:
            intervals do not add).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        classes = list(classes) if classes is not None else list(self.history.columns)
        panels = (["total"] if total and len(classes) > 1 else []) + classes
        ncol = 2 if len(panels) > 1 else 1
        nrow = int(np.ceil(len(panels) / ncol))
        fig, axes = plt.subplots(nrow, ncol, figsize=(6 * ncol, 2.6 * nrow), squeeze=False)
        hist = self.history.iloc[-history_days:]
        unit = "room-nights" if self.measure == "room_nights" else self.measure
        for ax, name in zip(axes.ravel(), panels):
            if name == "total":
                h = hist.sum(axis=1)
                f = self.table.groupby("date")["mean"].sum()
                ax.plot(h.index, h.to_numpy(), color="black", lw=0.8, label="history")
                ax.plot(f.index, f.to_numpy(), color="C1", lw=1.2, label="forecast")
            else:
                f = self.table.loc[self.table["fare_class"] == name]
                ax.plot(hist.index, hist[name].to_numpy(), color="black", lw=0.8, label="history")
                ax.fill_between(f["date"], f["lower"], f["upper"], color="C1", alpha=0.25,
                                label=f"{self.level:.0%} interval")
                ax.plot(f["date"], f["mean"], color="C1", lw=1.2, label="forecast")
            ax.axvline(self.as_of, color="grey", ls="--", lw=0.8)
            ax.set_title(str(name), fontsize="small")
            ax.set_xlabel("stay date")
            ax.set_ylabel(unit)
            ax.tick_params(axis="x", labelsize=7)
        for ax in axes.ravel()[len(panels):]:
            ax.set_visible(False)
        axes.ravel()[0].legend(fontsize="x-small", loc="upper left")
        fig.suptitle(f"Demand forecast after {self.as_of.date()} by {self.by or 'total'} ({self.method})")
        fig.tight_layout()
        return fig


def _validate(
    horizon_days: int, level: float, method: str, interval: str = "empirical", level_method: str = "cycle"
) -> None:
    if interval not in ("empirical", "model"):
        raise ValueError(f"interval must be 'empirical' or 'model', got {interval!r}")
    if int(horizon_days) < 1:
        raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if method not in ("stl_ets", "seasonal_naive"):
        raise ValueError(f"method must be 'stl_ets' or 'seasonal_naive', got {method!r}")
    if level_method not in ("cycle", "ets"):
        raise ValueError(f"level_method must be 'cycle' or 'ets', got {level_method!r}")


def _forecast_table(
    history: pd.DataFrame, as_of: pd.Timestamp, horizon: int, method: str, level: float, seed: int,
    periods: Sequence[int], robust: bool, notes: list[str], progress: bool, interval: str = "empirical",
    level_method: str = "ets",
) -> pd.DataFrame:
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    dates = pd.date_range(as_of + pd.Timedelta(days=1), periods=horizon, freq="D").astype("datetime64[ns]")
    parts = []
    for name in tqdm(list(history.columns), desc="forecast", disable=not progress, leave=False):
        mean, std, lower, upper, model = _forecast_one(
            history[name], horizon, method, level, rng, periods, robust, notes, str(name), interval,
            level_method,
        )
        parts.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "fare_class": str(name),
                    "mean": np.clip(mean, 0, None),
                    "std": np.maximum(std, 0.0),
                    "lower": np.clip(lower, 0, None),
                    "upper": np.clip(upper, 0, None),
                    "model": model,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["fare_class"] = out["fare_class"].astype("string")
    out["model"] = out["model"].astype("string")
    return out[list(FORECAST_COLUMNS)]


def forecast_errors(predictions: pd.DataFrame, level: float | None = None) -> pd.DataFrame:
    """MAE, RMSE, MAPE, sMAPE and interval coverage of forecasts vs actuals.

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``date``, ``fare_class``, ``actual``, ``mean``; ``lower``/``upper``
        for coverage.
    level : float, optional
        Nominal level (only stored in the ``nominal`` column).

    Returns
    -------
    pandas.DataFrame
        Index: fare classes, ``"all classes"`` and ``"total"``.
    """

    def errs(a: np.ndarray, f: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None) -> dict[str, float]:
        e = f - a
        pos = a > 0
        denom = np.abs(a) + np.abs(f)
        sm = np.where(denom > 0, 2 * np.abs(e) / np.where(denom > 0, denom, 1), 0.0)
        return {
            "mae": float(np.mean(np.abs(e))),
            "rmse": float(np.sqrt(np.mean(e**2))),
            "mape": float(100 * np.mean(np.abs(e[pos]) / a[pos])) if pos.any() else np.nan,
            "smape": float(100 * np.mean(sm)),
            "coverage": float(np.mean((a >= lo) & (a <= hi))) if lo is not None else np.nan,
            "n": int(len(a)),
            "n_zero_actual": int((~pos).sum()),
        }

    rows = {}
    for name, g in predictions.groupby("fare_class", sort=True):
        rows[str(name)] = errs(g["actual"].to_numpy(), g["mean"].to_numpy(), g["lower"].to_numpy(), g["upper"].to_numpy())
    p = predictions
    rows["all classes"] = errs(p["actual"].to_numpy(), p["mean"].to_numpy(), p["lower"].to_numpy(), p["upper"].to_numpy())
    tot = p.groupby("date")[["actual", "mean"]].sum()
    rows["total"] = errs(tot["actual"].to_numpy(), tot["mean"].to_numpy(), None, None)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "fare_class"
    if level is not None:
        out["nominal"] = level
        out.loc["total", "nominal"] = np.nan
    return out


def backtest(
    bookings: pd.DataFrame,
    *,
    as_of: object,
    backtest_days: int = 56,
    by: str | None = "fare_class",
    method: Method = "stl_ets",
    level: float = 0.9,
    seed: int = 42,
    periods: Sequence[int] = (7, 365),
    robust: bool = False,
    measure: Literal["room_nights", "arrivals"] = "room_nights",
    start: object = None,
    include_cancelled: bool = False,
    progress: bool = False,
    interval: Literal["empirical", "model"] = "empirical",
    unconstrain: bool = False,
    capacity: int | None = None,
    closed_tolerance: int = 0,
    level_method: Literal["ets", "cycle"] = "cycle",
) -> Backtest:
    """Forecast the last ``backtest_days`` before ``as_of`` from the data known then.

    The model is fitted on stay dates up to ``cutoff = as_of - backtest_days``
    with bookings made by the cutoff, forecasts ``backtest_days`` ahead, and is
    compared with the realised demand (bookings made by ``as_of``). Nothing
    after ``as_of`` is used.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings.
    as_of : date-like
        End of the held-out window.
    backtest_days : int, default 56
        Length of the held-out window.
    by, method, level, seed, periods, robust, measure, start, include_cancelled, progress
        As in :func:`fit_forecast`.
    interval, unconstrain, capacity, closed_tolerance, level_method
        As in :func:`fit_forecast`. With ``unconstrain`` the model is fitted
        on the history unconstrained with what was known at the cutoff, and
        the actuals are the demand unconstrained with what is known at
        ``as_of`` (the best estimate of the demand, not the sales).

    Returns
    -------
    Backtest

    Raises
    ------
    ValueError
        When ``backtest_days`` leaves fewer than 15 days of history before
        the window (the message gives the history's dates and the longest
        ``backtest_days`` that fits), or no booking was made by ``as_of``.
    """
    _validate(backtest_days, level, method, interval, level_method)
    as_of_ts = to_timestamp(as_of, "as_of")
    cutoff = as_of_ts - pd.Timedelta(days=int(backtest_days))
    if start is not None:
        first_day = to_timestamp(start, "start")
    else:  # the first day of the history known at as_of
        first_day = _history(bookings, as_of_ts, by, measure, None, include_cancelled, []).index[0]
    _check_backtest_room(first_day, as_of_ts, int(backtest_days))
    notes: list[str] = []
    spec = _unconstrain_spec(unconstrain, capacity, closed_tolerance, measure)
    hist = _history(bookings, cutoff, by, measure, start, include_cancelled, notes, spec)
    spec_now = _unconstrain_spec(unconstrain, capacity, closed_tolerance, measure)
    actual = _history(bookings, as_of_ts, by, measure, hist.index[0], include_cancelled, [], spec_now)
    actual = actual.loc[actual.index > cutoff]
    fc = _forecast_table(
        hist, cutoff, int(backtest_days), method, level, seed, periods, robust, notes, progress, interval,
        level_method,
    )
    act = actual.reindex(columns=hist.columns, fill_value=0.0)
    act_long = act.rename_axis(index="date", columns="fare_class").stack().rename("actual").reset_index()
    act_long["fare_class"] = act_long["fare_class"].astype("string")
    pred = fc.merge(act_long, on=["date", "fare_class"], how="left")
    pred["actual"] = pred["actual"].fillna(0.0)
    pred = pred[["date", "fare_class", "actual", "mean", "lower", "upper"]]
    return Backtest(errors=forecast_errors(pred, level), predictions=pred, cutoff=cutoff, as_of=as_of_ts, level=level)


def fit_forecast(
    bookings: pd.DataFrame,
    *,
    as_of: object,
    horizon_days: int = 90,
    by: str | None = "fare_class",
    method: Method = "stl_ets",
    level: float = 0.9,
    seed: int = 42,
    backtest_days: int = 56,
    periods: Sequence[int] = (7, 365),
    robust: bool = False,
    measure: Literal["room_nights", "arrivals"] = "room_nights",
    start: object = None,
    include_cancelled: bool = False,
    progress: bool = False,
    interval: Literal["empirical", "model"] = "empirical",
    unconstrain: bool = False,
    capacity: int | None = None,
    closed_tolerance: int = 0,
    level_method: Literal["ets", "cycle"] = "cycle",
) -> Forecast:
    """Forecast daily demand per fare class after ``as_of`` (full result).

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings.
    as_of : date-like
        Forecast origin: the last day whose data may be used.
    horizon_days : int, default 90
        Days forecast after ``as_of``.
    by : str or None, default "fare_class"
        Booking column to forecast by (``fare_class`` defaults to the segment
        where absent); its values go to the ``fare_class`` column of the
        table (the artefact contract). ``None``: one series ``"all"``.
    method : {"stl_ets", "seasonal_naive"}, default "stl_ets"
        See the module docstring.
    level : float, default 0.9
        Level of the prediction intervals.
    seed : int, default 42
        Seed of the bootstrap (seasonal naive).
    backtest_days : int, default 56
        Held-out days before ``as_of`` for :func:`backtest`; 0 skips it.
    periods : sequence of int, default (7, 365)
        Seasonal periods (days); those without more than two cycles of
        history are left out.
    robust : bool, default False
        Robust STL.
    measure : {"room_nights", "arrivals"}, default "room_nights"
        Room-nights by stay date, or bookings by arrival date.
    start : date-like, optional
        First day of history (default: first day in the data).
    include_cancelled : bool, default False
        Count cancelled bookings as demand.
    progress : bool, default False
        Show a progress bar over classes.
    interval : {"empirical", "model"}, default "empirical"
        How ``stl_ets`` intervals are made (see the module docstring):
        quantiles of the in-sample errors of the same forecast by horizon, or
        the ETS model's analytic variance.
    unconstrain : bool, default False
        Forecast *unconstrained* demand: replace the sales of nights that were
        full at some time by their censored-normal EM expectation
        (:mod:`crm_analysis.seasonality.unconstrain`) before fitting. Needs
        ``capacity`` and ``measure="room_nights"``; ``model`` gets the suffix
        ``+unconstrained(EM)``.
    capacity : int, optional
        Rooms (for ``unconstrain``).
    closed_tolerance : int, default 0
        A night counts as closed when the most rooms held on it reached
        ``capacity - closed_tolerance``.
    level_method : {"cycle", "ets"}, default "cycle"
        Level of the seasonally adjusted series at the origin when a yearly
        (longer than weekly) cycle is fitted: ``"cycle"`` its mean over the
        last full longest cycle, ``"ets"`` the damped-trend ETS forecast
        (always used when only the weekly cycle is fitted). See the module
        docstring.

    Returns
    -------
    Forecast

    Raises
    ------
    ValueError
        On an option out of range (named); no booking made by ``as_of``;
        a history of fewer than 15 days; a ``backtest_days`` that leaves
        fewer than 15 days of history before the backtest window (the
        message gives the longest ``backtest_days`` that fits).
    """
    _validate(horizon_days, level, method, interval, level_method)
    if measure not in ("room_nights", "arrivals"):
        raise ValueError(f"measure must be 'room_nights' or 'arrivals', got {measure!r}")
    as_of_ts = to_timestamp(as_of, "as_of")
    notes: list[str] = []
    spec = _unconstrain_spec(unconstrain, capacity, closed_tolerance, measure)
    hist = _history(bookings, as_of_ts, by, measure, start, include_cancelled, notes, spec)
    if len(hist) < _MIN_HISTORY:
        raise ValueError(
            f"the history from {hist.index[0]:%Y-%m-%d} to as_of {as_of_ts:%Y-%m-%d} has {len(hist)} days; a "
            f"forecast needs at least {_MIN_HISTORY} (choose a later as_of, or give more history)"
        )
    if backtest_days:
        _check_backtest_room(hist.index[0], as_of_ts, int(backtest_days))
    table = _forecast_table(
        hist, as_of_ts, int(horizon_days), method, level, seed, periods, robust, notes, progress, interval,
        level_method,
    )
    if spec is not None:
        table["model"] = (table["model"] + "+unconstrained(EM)").astype("string")
    bt = None
    if backtest_days:
        bt = backtest(
            bookings, as_of=as_of_ts, backtest_days=backtest_days, by=by, method=method, level=level, seed=seed,
            periods=periods, robust=robust, measure=measure, start=hist.index[0], include_cancelled=include_cancelled,
            interval=interval, unconstrain=unconstrain, capacity=capacity, closed_tolerance=closed_tolerance,
            level_method=level_method,
        )
    return Forecast(
        table=table, history=hist, as_of=as_of_ts, by=by, method=method, measure=measure, level=level,
        backtest=bt, notes=notes, unconstrained=spec.result if spec is not None else None,
    )


def forecast_demand(
    bookings: pd.DataFrame,
    *,
    as_of: object,
    horizon_days: int = 90,
    by: str | None = "fare_class",
    method: Method = "stl_ets",
    level: float = 0.9,
    seed: int = 42,
    backtest_days: int = 56,
    **kwargs: object,
) -> pd.DataFrame:
    """Forecast table (the ``forecasts.parquet`` artefact) of :func:`fit_forecast`.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings.
    as_of, horizon_days, by, method, level, seed, backtest_days, **kwargs
        See :func:`fit_forecast`.

    Returns
    -------
    pandas.DataFrame
        ``date``, ``fare_class``, ``mean``, ``std``, ``lower``, ``upper``,
        ``model``: expected room-nights per stay date and fare class after
        ``as_of``. The backtest error table (when ``backtest_days > 0``) is in
        ``.attrs["backtest"]``.
    """
    fc = fit_forecast(
        bookings, as_of=as_of, horizon_days=horizon_days, by=by, method=method, level=level, seed=seed,
        backtest_days=backtest_days, **kwargs,  # type: ignore[arg-type]
    )
    table = fc.table
    if fc.backtest is not None:
        table.attrs["backtest"] = fc.backtest.errors.reset_index().to_dict(orient="list")
    return table
