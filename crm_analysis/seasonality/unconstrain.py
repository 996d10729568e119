"""Unconstraining: demand on sold-out nights from censored sales.

Sales of a hotel night cannot exceed its rooms: once a night is full, every
further request for it is turned away and never appears in the bookings, so
the sales of the night are a *lower bound* (a censored observation) of its
demand. Forecasting the sales and handing them to capacity control
understates demand exactly on the nights where control matters (Talluri &
van Ryzin 2004, *The Theory and Practice of Revenue Management*, sec. 9.4,
"Unconstraining").

Which nights were closed
------------------------
Requests are refused while the night is full, even if cancellations free
rooms later; the final occupancy therefore hides many closures (a night
that sold out in March and lost 10 % to cancellations by its date looks
open). :func:`night_closures` replays the bookings, including the cancelled
ones, in booking-date order (a booking holds its rooms from its
``booking_date`` until its ``cancellation_date``; cancellations of a day come
after the day's bookings) and records the most rooms held at any time on each
night. A night is *closed* when that maximum reached ``capacity -
tolerance``.

Censored-normal EM
------------------
:func:`unconstrain_history` treats the demand of each class on night ``t``
as ``X_t ~ N(x_t' beta, sigma^2)`` with ``x_t`` an intercept, month and
weekday indicators and a linear trend. On open nights ``X_t`` is the
observed sales; on closed nights only ``X_t >= s_t`` (the sales) is known.
The EM algorithm for this censored regression (the "expectation
maximisation" method of Talluri & van Ryzin 2004, sec. 9.4.2; for one mean
it is the classical EM for a censored normal sample) alternates

* E-step: ``E[X_t | X_t >= s_t] = m_t + sigma * lambda(z_t)`` and
  ``Var[X_t | X_t >= s_t] = sigma^2 (1 + z_t lambda(z_t) - lambda(z_t)^2)``
  with ``z_t = (s_t - m_t) / sigma`` and the inverse Mills ratio
  ``lambda(z) = phi(z) / (1 - Phi(z))``;
* M-step: ``beta`` by least squares on the completed data, ``sigma^2`` the
  mean of squared residuals plus the conditional variances.

The unconstrained history keeps the sales of open nights and replaces those
of closed nights by ``E[X_t | X_t >= s_t]`` (never below the sales).

Assumptions: demand of a class is normal around a month x weekday x trend
mean with one variance; the classes are censored independently (each at its
own sales) on a closed night; open nights are not censored (a request may
also be refused because *another* night of its stay was full, which this
ignores, so the correction is conservative).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from crm_analysis._validate import check_count

from ._common import to_timestamp

__all__ = ["NightClosures", "night_closures", "UnconstrainedHistory", "unconstrain_history"]


@dataclass
class NightClosures:
    """Result of :func:`night_closures`.

    Attributes
    ----------
    table : pandas.DataFrame
        Index: night (``date``); ``max_held`` (most rooms held at any time,
        cancelled bookings included while they were held), ``final_held``
        (rooms of the non-cancelled bookings), ``closed``.
    capacity : int
    tolerance : int
    """

    table: pd.DataFrame
    capacity: int
    tolerance: int

    @property
    def closed(self) -> pd.Series:
        """Boolean closed flag by night."""
        return self.table["closed"]


def night_closures(
    bookings: pd.DataFrame,
    capacity: int,
    *,
    as_of: object = None,
    tolerance: int = 0,
) -> NightClosures:
    """Most rooms held on each night over the booking horizon, and closed nights.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``booking_date``, ``arrival_date``, ``nights``,
        ``status``; optional ``units`` and ``cancellation_date``). Without
        ``cancellation_date`` cancelled bookings cannot be replayed and only
        non-cancelled ones count.
    capacity : int
        Rooms.
    as_of : date-like, optional
        Only bookings made and cancellations known by ``as_of`` are used;
        nights up to ``as_of`` are returned.
    tolerance : int, default 0
        A night is closed when ``max_held >= capacity - tolerance`` (e.g. the
        size of a typical group block, refused with fewer rooms left).

    Returns
    -------
    NightClosures

    Raises
    ------
    ValueError
        On a capacity below 1 or a negative tolerance.
    """
    capacity = check_count(capacity, "capacity", minimum=1)
    tolerance = check_count(tolerance, "tolerance", minimum=0)
    b = bookings
    if as_of is not None:
        as_of_ts = to_timestamp(as_of, "as_of")
        b = b[b["booking_date"] <= as_of_ts]
    n = b["nights"].clip(lower=0).to_numpy(dtype=np.int64)
    rep = np.repeat(np.arange(len(b)), n)
    off = np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n)
    night = b["arrival_date"].to_numpy(dtype="datetime64[ns]")[rep] + off.astype("timedelta64[D]")
    units = (b["units"].to_numpy(dtype=float) if "units" in b.columns else np.ones(len(b)))[rep]
    booked = b["booking_date"].to_numpy(dtype="datetime64[ns]")[rep]
    cancelled = (b["status"] == "cancelled").to_numpy(dtype=bool)[rep]
    if "cancellation_date" in b.columns:
        cdate = b["cancellation_date"].to_numpy(dtype="datetime64[ns]")[rep]
    else:
        cdate = np.full(rep.size, np.datetime64("NaT"), dtype="datetime64[ns]")
    known = ~np.isnat(cdate)
    if as_of is not None:
        known &= cdate <= np.datetime64(as_of_ts)
    # a cancelled booking without a (known) cancellation date: counted as never held
    held_at_all = ~cancelled | known
    rel = cancelled & known
    ev = pd.DataFrame(
        {
            "night": np.concatenate([night[held_at_all], night[rel]]),
            "t": np.concatenate([booked[held_at_all], cdate[rel]]),
            "kind": np.concatenate([np.zeros(int(held_at_all.sum())), np.ones(int(rel.sum()))]),
            "u": np.concatenate([units[held_at_all], -units[rel]]),
        }
    ).sort_values(["night", "t", "kind"], kind="stable")
    ev["held"] = ev.groupby("night")["u"].cumsum()
    max_held = ev.groupby("night")["held"].max()
    final = ev.groupby("night")["u"].sum()
    tab = pd.DataFrame({"max_held": max_held, "final_held": final})
    if as_of is not None:
        tab = tab.loc[tab.index <= as_of_ts]
    tab.index = pd.DatetimeIndex(tab.index, name="date")
    tab["closed"] = tab["max_held"] >= capacity - tolerance
    return NightClosures(table=tab, capacity=int(capacity), tolerance=int(tolerance))


@dataclass
class UnconstrainedHistory:
    """Result of :func:`unconstrain_history`.

    Attributes
    ----------
    values : pandas.DataFrame
        Unconstrained daily demand, same shape as the input history.
    observed : pandas.DataFrame
        The input (censored) history.
    closed : pandas.Series
        Closed flag by date (``False`` for dates the closures do not cover).
    summary : pandas.DataFrame
        Per class: ``sigma``, ``iterations``, ``converged``, ``closed_nights``,
        ``observed_total`` and ``unconstrained_total`` over the closed nights,
        ``uplift_pct`` (unconstrained over observed on closed nights, %).
    notes : list of str
    """

    values: pd.DataFrame
    observed: pd.DataFrame
    closed: pd.Series
    summary: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _design(index: pd.DatetimeIndex) -> np.ndarray:
    month = pd.get_dummies(index.month).reindex(columns=range(1, 13), fill_value=False).to_numpy(dtype=float)[:, 1:]
    wday = pd.get_dummies(index.day_of_week).reindex(columns=range(7), fill_value=False).to_numpy(dtype=float)[:, 1:]
    t = np.arange(len(index), dtype=float)
    trend = (t - t.mean()) / max(t.std(), 1.0)
    X = np.column_stack([np.ones(len(index)), month, wday, trend])
    return X[:, np.abs(X).sum(axis=0) > 0]


def _censored_em(
    y: np.ndarray, censored: np.ndarray, X: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, float, int, bool]:
    """EM for ``y ~ N(X b, s^2)`` with ``y`` a lower bound where ``censored``; returns E[y], s, iterations, converged."""
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    sigma = max(float(np.std(y - X @ beta)), 1e-6)
    comp = y.astype(float).copy()
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        m = X @ beta
        z = (y[censored] - m[censored]) / sigma
        lam = np.exp(stats.norm.logpdf(z) - stats.norm.logsf(z))
        comp = y.astype(float).copy()
        comp[censored] = m[censored] + sigma * lam
        cvar = np.zeros_like(comp)
        cvar[censored] = sigma**2 * np.clip(1 + z * lam - lam**2, 0.0, None)
        new_beta, *_ = np.linalg.lstsq(X, comp, rcond=None)
        new_sigma = max(float(np.sqrt(np.mean((comp - X @ new_beta) ** 2 + cvar))), 1e-6)
        change = max(float(np.max(np.abs(new_beta - beta))), abs(new_sigma - sigma))
        beta, sigma = new_beta, new_sigma
        if change < tol * max(1.0, sigma):
            converged = True
            break
    m = X @ beta
    z = (y[censored] - m[censored]) / sigma
    lam = np.exp(stats.norm.logpdf(z) - stats.norm.logsf(z))
    comp = y.astype(float).copy()
    comp[censored] = np.maximum(m[censored] + sigma * lam, y[censored])
    return comp, sigma, it, converged


def unconstrain_history(
    history: pd.DataFrame | pd.Series,
    closed: pd.Series,
    *,
    max_iter: int = 200,
    tol: float = 1e-6,
) -> UnconstrainedHistory:
    """Unconstrained daily demand per class by censored-normal EM on closed nights.

    Parameters
    ----------
    history : pandas.DataFrame or Series
        Daily sales (e.g. room-nights by stay date) with a ``DatetimeIndex``;
        one column per class.
    closed : pandas.Series
        Boolean by date: the night was full at some time (from
        :func:`night_closures`); dates missing from it count as open.
    max_iter : int, default 200
        EM iterations at most.
    tol : float, default 1e-6
        Convergence on the largest change of the coefficients and ``sigma``,
        relative to ``sigma``.

    Returns
    -------
    UnconstrainedHistory

    Raises
    ------
    ValueError
        When the history is not daily by date or has negative values.
    """
    hist = history.to_frame() if isinstance(history, pd.Series) else history
    if not isinstance(hist.index, pd.DatetimeIndex):
        raise InputError("history must be indexed by date (DatetimeIndex)")
    vals = hist.to_numpy(dtype=float)
    if np.any(vals < 0) or not np.all(np.isfinite(vals)):
        raise InputError("history must hold finite values >= 0")
    cl = closed.reindex(hist.index).fillna(False).astype(bool)
    notes: list[str] = []
    out = hist.astype(float).copy()
    rows = {}
    X = _design(hist.index)
    cmask = cl.to_numpy()
    for col in hist.columns:
        y = hist[col].to_numpy(dtype=float)
        n_c = int(cmask.sum())
        if n_c == 0 or n_c == len(y) or np.ptp(y) == 0:
            rows[str(col)] = {"sigma": np.nan, "iterations": 0, "converged": True, "closed_nights": n_c,
                              "observed_total": float(y[cmask].sum()), "unconstrained_total": float(y[cmask].sum())}
            if n_c == len(y) and n_c:
                notes.append(f"{col}: every night closed; nothing to learn the demand level from, left as sold")
            continue
        comp, sigma, it, conv = _censored_em(y, cmask, X, max_iter, tol)
        if not conv:
            notes.append(f"{col}: EM did not converge in {max_iter} iterations")
        out[col] = comp
        rows[str(col)] = {"sigma": sigma, "iterations": it, "converged": conv, "closed_nights": n_c,
                          "observed_total": float(y[cmask].sum()), "unconstrained_total": float(comp[cmask].sum())}
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = hist.columns.name or "fare_class"
    obs = summary["observed_total"].where(summary["observed_total"] > 0)
    summary["uplift_pct"] = 100 * (summary["unconstrained_total"] / obs - 1)
    return UnconstrainedHistory(values=out, observed=hist, closed=cl, summary=summary, notes=notes)
