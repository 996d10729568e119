"""The ARIMA candidate's AR order selection against statsmodels' ar_select_order.

Independent computation: ``statsmodels.tsa.ar_model.ar_select_order(x, maxlag,
ic="aic", trend="n")``, which fits one statsmodels AutoReg/OLS model per order;
the package does the same least squares in numpy (it was most of the ARIMA
candidate's time). The chosen orders must be equal on AR(p) series of every
order up to the largest tried, on white noise, on short series and on series
with a trend or a level shift.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.seasonality.forecaster import _ar_order_aic


def _statsmodels_order(x: np.ndarray, maxlag: int) -> int:
    from statsmodels.tsa.ar_model import ar_select_order

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lags = ar_select_order(x, maxlag=maxlag, ic="aic", trend="n").ar_lags or []
    return max(lags) if lags else 0


def _ar(coefs: list[float], n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n + 200)
    x = np.zeros_like(e)
    for t in range(len(e)):
        x[t] = e[t] + sum(c * x[t - 1 - j] for j, c in enumerate(coefs) if t - 1 - j >= 0)
    return x[200:]


@pytest.mark.parametrize("coefs", [[], [0.6], [0.3, 0.3], [0.5, -0.3, 0.2], [0.0] * 6 + [0.5], [0.2] * 3 + [-0.1] * 4])
@pytest.mark.parametrize("n", [60, 300, 1000])
def test_same_order_as_statsmodels_on_ar_series(coefs: list[float], n: int) -> None:
    for seed in range(3):
        x = _ar(coefs, n, seed)
        maxlag = min(21, n // 4)
        assert _ar_order_aic(x, maxlag) == _statsmodels_order(x, maxlag), (coefs, n, seed)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(12, 400), trend=st.floats(-0.05, 0.05),
       shift=st.floats(-5, 5), scale=st.floats(1e-3, 1e3))
def test_same_order_as_statsmodels_on_random_series(seed: int, n: int, trend: float, shift: float,
                                                     scale: float) -> None:
    rng = np.random.default_rng(seed)
    x = scale * (rng.standard_t(5, size=n) + trend * np.arange(n) + shift * (np.arange(n) > n // 2))
    maxlag = min(21, n // 4)
    assert _ar_order_aic(x, maxlag) == _statsmodels_order(x, maxlag)


def test_no_lag_tried_is_order_zero() -> None:
    assert _ar_order_aic(np.arange(3.0), 0) == 0
    assert _ar_order_aic(np.arange(3.0), 5) == 0  # fewer observations than lags


@pytest.mark.parametrize("n_open", [91, 45, 7, 6])
def test_unconstrained_pickup_leaves_out_the_full_nights(n_open):
    """Issue #18 (round fc18b): with ``unconstrain`` the mean pickup is taken over the nights that were not full.

    On the books: 40 rooms at every lead for every night. Final demand of the 91 window nights: 50 on open
    nights (pickup 10), 90 on full nights (their unconstrained demand holds the refused requests: pickup 50).
    The forecast of the coming nights is 40 + 10 when at least 7 window nights were open, and the pickup of
    all nights (40 + the mean) when fewer were.
    """
    from crm_analysis.seasonality.forecaster import DemandForecaster
    from crm_analysis.seasonality.pickup import OnTheBooks

    nights = pd.date_range("2024-01-01", periods=91 + 28, freq="D")
    otb = OnTheBooks(nights=nights, leads=np.arange(29), series=["A"], values=np.full((len(nights), 29, 1), 40.0),
                     measure="room_nights")
    full = pd.Series(np.arange(len(nights)) >= n_open, index=nights) & (np.arange(len(nights)) < 91)
    final = np.where(full.to_numpy()[:91], 90.0, 50.0)
    hist = pd.DataFrame({"A": final}, index=nights[:91])
    f = DemandForecaster(pickup_weeks=13, pickup_halflife=None, pickup_weekday=0.0)  # the plain mean pickup
    got = f._pickup(otb, hist, "A", ["A"], nights[90], 28, 28, full)
    expect = 50.0 if n_open >= 7 else 40.0 + float(np.mean(final - 40.0))
    np.testing.assert_allclose(got, expect)
    np.testing.assert_allclose(f._pickup(otb, hist, "A", ["A"], nights[90], 28, 28, None), 40.0 + np.mean(final - 40.0))


def _ets_damped_process(n: int, h: int, phi: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An ETS(A,Ad,A)[7] process (Hyndman et al. 2008, Table 2.1) and its true ``h``-step conditional mean."""
    rng = np.random.default_rng(seed)
    alpha, beta, gamma = 0.3, 0.1, 0.05
    s = [5.0, -3.0, 2.0, 0.0, -4.0, 6.0, -6.0]
    level, trend = 100.0, 1.0
    y = np.empty(n)
    for t in range(n):
        e = rng.normal()
        y[t] = level + phi * trend + s[t % 7] + e
        level, trend = level + phi * trend + alpha * e, phi * trend + beta * e
        s[t % 7] += gamma * e
    damp = np.cumsum(phi ** np.arange(1, h + 1))
    return y, level + damp * trend + np.array([s[(n + i) % 7] for i in range(h)])


def test_damped_trend_ets_recovers_the_conditional_mean_of_a_damped_trend_process() -> None:
    """Parameter recovery: on simulated ETS(A,Ad,A) series the ``ets_damped`` candidate's 56-day forecast is
    near the process's true conditional mean (known from its states), and nearer than the ``ets``
    candidate's (no trend), which carries the last level (issue #18, round fc18e)."""
    from crm_analysis.seasonality.forecaster import _engine_ets, _engine_ets_damped

    damped_err, plain_err, moved, labels = [], [], [], set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence warnings on a few draws
        for phi in (0.95, 0.98):
            for seed in range(4):
                y, truth = _ets_damped_process(300, 56, phi, seed)
                fc, label = _engine_ets_damped(y, 56)
                labels.add(label)
                damped_err.append(np.mean(np.abs(fc - truth)))
                moved.append(np.ptp(truth))
                plain_err.append(np.mean(np.abs(_engine_ets(y, 56)[0] - truth)))
    damped_err, plain_err = np.array(damped_err), np.array(plain_err)
    assert labels <= {"ETS(A,Ad,A)[7]", "ETS(A,Ad,M)[7]"}
    assert np.mean(damped_err) < 0.5 * np.mean(plain_err), (damped_err.round(2), plain_err.round(2))
    assert np.mean(damped_err < plain_err) >= 0.75, (damped_err.round(2), plain_err.round(2))
    assert np.mean(damped_err / np.array(moved)) < 0.2  # the true 56-day path moves 10-50 units


def test_damped_trend_candidate_only_without_the_pickup_candidate(bookings: pd.DataFrame) -> None:
    """``ets_damped`` is a candidate of a series without bookings; with the pickup candidate it is left out,
    with a note (the reservations on the books carry the coming level; issue #18, round fc18e)."""
    from crm_analysis.seasonality import DemandForecaster
    from crm_analysis.seasonality.forecaster import MODELS

    assert "ets_damped" in MODELS
    kw = dict(horizon=14, cv_windows=2, cv_horizon=14, backtest_days=0, by=None)
    idx = pd.date_range("2023-01-02", periods=200, freq="D")
    rng = np.random.default_rng(3)
    y = pd.Series(50 + 0.1 * np.arange(200) + 5 * (idx.day_of_week == 4) + rng.normal(0, 2, 200), index=idx,
                  name="demand")
    series = DemandForecaster(**kw).fit(y).result_
    assert ("demand", "ets_damped") in series.cv_errors.index
    assert (series.cv_predictions["model"] == "ets_damped").any()
    assert not any("ets_damped left out" in n for n in series.notes)

    hotel = DemandForecaster(**kw).fit(bookings, as_of=bookings["arrival_date"].min() + pd.Timedelta(days=150)).result_
    assert "ets_damped" not in hotel.cv_errors.index.get_level_values("model")
    assert any("ets_damped left out" in n for n in hotel.notes), hotel.notes
    without_pickup = DemandForecaster(models=("ets", "ets_damped"), **kw).fit(
        bookings, as_of=bookings["arrival_date"].min() + pd.Timedelta(days=150)).result_
    assert "ets_damped" in without_pickup.cv_errors.index.get_level_values("model")
