"""DemandForecaster: contract, no leakage, reconciliation, intervals, calendar, bias on a known truth."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.seasonality import (
    FORECAST_COLUMNS,
    DemandForecaster,
    HolidayCalendar,
    backtest,
    fit_forecast,
    forecast_demand,
)

from .conftest import make_bookings, seasonal_bookings

AS_OF = "2023-10-31"
FAST = dict(cv_windows=2, cv_horizon=14, backtest_days=0)


@pytest.fixture(scope="module")
def hist_bookings():
    b = make_bookings(n=5000, days=400, seed=5, start="2023-01-02")
    b["fare_class"] = b["segment"]
    return b


@pytest.mark.parametrize("models", [("ets", "arima", "theta", "seasonal_naive"), ("seasonal_naive",)])
def test_contract(hist_bookings, models):
    res = DemandForecaster(models=models, horizon=30, **FAST).fit(hist_bookings, as_of=AS_OF).result_
    fc = res.forecast
    assert list(fc.columns) == list(FORECAST_COLUMNS)
    assert not fc.isna().any().any()
    assert (fc["lower"] <= fc["mean"]).all() and (fc["mean"] <= fc["upper"]).all()
    assert (fc["std"] >= 0).all() and (fc["lower"] >= 0).all()
    assert fc["date"].min() == pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    assert fc.groupby("fare_class").size().eq(30).all()
    assert set(fc["fare_class"]) == set(hist_bookings["fare_class"])
    assert fc["unconstrained"].dtype == bool and not fc["unconstrained"].any()
    assert set(res.chosen.index) == set(hist_bookings["fare_class"]) | {"total"}
    from crm_analysis.contracts import FORECASTS

    assert FORECASTS.problems(fc) == []  # the declared contract too: finite, >= 0 (findings_13e I7)


def test_estimator_conventions(hist_bookings):
    f = DemandForecaster(horizon=7, **FAST)
    assert not hasattr(f, "result_")  # __init__ stores settings only
    assert f.get_params()["horizon"] == 7
    assert f.set_params(horizon=5) is f and f.horizon == 5
    assert f.fit(hist_bookings, as_of=AS_OF) is f
    assert f.result_.forecast["date"].nunique() == 5
    with pytest.raises(ValueError, match="unknown setting"):
        f.set_params(horizon_days=3)


@pytest.mark.parametrize("reconcile", ["top_down", "mint", "bottom_up"])
def test_reconciled_classes_add_up_to_total(hist_bookings, reconcile):
    """Every reconciliation gives coherent forecasts: the classes sum exactly to the total."""
    r = DemandForecaster(horizon=30, reconcile=reconcile, **FAST).fit(hist_bookings, as_of=AS_OF).result_
    by_date = r.forecast.groupby("date")["mean"].sum().to_numpy()
    np.testing.assert_allclose(by_date, r.total["mean"].to_numpy(), rtol=0, atol=1e-9)
    from crm_analysis.contracts import FORECASTS

    assert FORECASTS.problems(r.forecast) == []
    # also the cross-validation forecasts of the final model (before clipping at 0)
    fin = r.cv_predictions[r.cv_predictions["model"] == "final"]
    wide = fin.pivot_table(index=["origin", "date"], columns="series", values="mean")
    classes = [c for c in wide.columns if c != "total"]
    np.testing.assert_allclose(wide[classes].sum(axis=1), wide["total"], rtol=1e-10)


def test_top_down_keeps_the_total_forecast(hist_bookings):
    """Top-down: the reconciled total is the total series' own forecast (seasonal naive here: its last week)."""
    r = DemandForecaster(horizon=14, reconcile="top_down", models=("seasonal_naive",), **FAST).fit(
        hist_bookings, as_of=AS_OF).result_
    last = r.history.sum(axis=1).iloc[-7:].to_numpy()
    np.testing.assert_allclose(r.total["mean"].to_numpy(), np.tile(last, 2), atol=1e-9)


def test_bottom_up_total_is_sum_of_base_class_forecasts(hist_bookings):
    f = DemandForecaster(horizon=14, reconcile="bottom_up", models=("seasonal_naive",), **FAST)
    r = f.fit(hist_bookings, as_of=AS_OF).result_
    hist = r.history
    # seasonal naive per class: last week repeated; bottom-up total = their sum
    last = hist.iloc[-7:].sum(axis=1).to_numpy()
    np.testing.assert_allclose(r.total["mean"].to_numpy(), np.tile(last, 2), atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("models", [("ets", "arima", "theta", "seasonal_naive"), ("seasonal_naive",)])
def test_uses_no_data_after_as_of(hist_bookings, models):
    f = DemandForecaster(models=models, horizon=20, cv_windows=2, cv_horizon=14, backtest_days=14)
    base = f.fit(hist_bookings, as_of=AS_OF).result_
    changed = hist_bookings.copy()
    # what is not known at as_of: bookings made after it (and, these bookings having no cancellation dates,
    # the final status of bookings for later nights: on the books at as_of either way, see test_pickup.py)
    after = changed["booking_date"] > pd.Timestamp(AS_OF)
    assert after.sum() > 100
    changed.loc[after, "units"] = 50
    changed.loc[changed["arrival_date"] > pd.Timestamp(AS_OF), "status"] = "stayed"
    extra = changed.loc[after].head(200).copy()
    extra["booking_id"] = extra["booking_id"] + "x"
    extra["booking_date"] = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    changed = pd.concat([changed, extra], ignore_index=True)
    other = DemandForecaster(**f.get_params()).fit(changed, as_of=AS_OF).result_
    pd.testing.assert_frame_equal(base.forecast, other.forecast)
    pd.testing.assert_frame_equal(base.backtest.predictions, other.backtest.predictions)


def test_cross_validation_uses_only_history_known_at_each_origin(hist_bookings):
    """Changing the bookings made after the earliest CV origin leaves that origin's forecasts unchanged.

    (Bookings made by the origin for later nights are known there: the pickup candidate uses them.)
    """
    f = DemandForecaster(horizon=14, **FAST)
    base = f.fit(hist_bookings, as_of=AS_OF).result_
    o = min(base.origins)
    changed = hist_bookings.copy()
    later = changed["booking_date"] > o
    changed.loc[later, "units"] = changed.loc[later, "units"] * 3
    other = DemandForecaster(**f.get_params()).fit(changed, as_of=AS_OF).result_
    def cand(r):
        p = r.cv_predictions
        return p[(p["origin"] == o) & (p["model"] != "final")].reset_index(drop=True)

    a, b = cand(base), cand(other)
    pd.testing.assert_series_equal(a["mean"], b["mean"])  # forecasts from the origin: unchanged
    assert not np.allclose(a["actual"], b["actual"])  # while what they are scored against did change
    later_o = max(base.origins)
    pb, po = base.cv_predictions, other.cv_predictions
    assert not np.allclose(pb.loc[pb["origin"] == later_o, "mean"], po.loc[po["origin"] == later_o, "mean"])


def test_interval_coverage_near_nominal():
    b = seasonal_bookings(days=420, seed=11)
    f = DemandForecaster(by="segment", level=0.9)
    bt = backtest(f, b, cutoffs=["2023-12-31"], horizon=56, as_of="2024-02-25")
    cov = bt.errors.loc["all classes", "coverage"]
    assert 0.78 <= cov <= 0.99, bt.errors
    # Poisson noise alone gives a MAPE of ~15 % on a total of ~30 a day (as in the former stl_ets test)
    assert bt.errors.loc["total", "mape"] < 20


def test_forecast_follows_weekly_cycle():
    b = seasonal_bookings(days=420, seed=2)
    fc = DemandForecaster(by=None, horizon=28, backtest_days=0).fit(b, as_of="2024-02-24").result_.forecast
    # every booking is made 10 days ahead: the first 10 nights are already on the books (pickup candidate:
    # their realised Poisson counts); the cycle the models learned shows after them
    fc = fc.loc[fc["date"] > pd.Timestamp("2024-03-05")]
    by_wd = fc.groupby(fc["date"].dt.day_of_week)["mean"].mean()
    assert by_wd.idxmax() == 5 and by_wd.idxmin() == 6  # Saturday peak, Sunday trough as simulated


def test_selection_cv_picks_the_right_model_on_a_pure_weekly_cycle():
    """A noiseless weekly cycle: seasonal naive is exact; selection='cv' must find it (MASE 0)."""
    idx = pd.date_range("2023-01-02", periods=300, freq="D")
    y = pd.Series(np.array([5.0, 6, 7, 8, 20, 30, 2])[idx.day_of_week], index=idx, name="demand")
    r = DemandForecaster(selection="cv", horizon=14, backtest_days=0).fit(y).result_
    assert r.cv_errors.loc[("demand", "seasonal_naive"), "mae"] < 1e-9
    np.testing.assert_allclose(r.forecast["mean"], y.iloc[-7:].tolist() * 2, atol=1e-6)


def test_result_plots_and_guards(hist_bookings):
    from matplotlib.figure import Figure

    r = DemandForecaster(horizon=14, cv_windows=2, cv_horizon=14, backtest_days=14).fit(hist_bookings, as_of=AS_OF).result_
    assert isinstance(r.plot(), Figure) and isinstance(r.backtest.plot(), Figure) and isinstance(r.plot_cv(), Figure)
    assert set(r.backtest.errors.index) >= {"all classes", "total"}
    assert {"chosen"} < set(r.model_choice().columns)
    with pytest.raises(ValueError, match="models"):
        DemandForecaster(models=("prophet",)).fit(hist_bookings, as_of=AS_OF)
    with pytest.raises(ValueError, match="level"):
        DemandForecaster(level=1.5).fit(hist_bookings, as_of=AS_OF)
    with pytest.raises(ValueError, match="selection"):
        DemandForecaster(selection="best").fit(hist_bookings, as_of=AS_OF)
    with pytest.raises(ValueError, match="reconcile"):
        DemandForecaster(reconcile="middle_out").fit(hist_bookings, as_of=AS_OF)
    with pytest.raises(ValueError, match="history"):
        DemandForecaster().fit(hist_bookings, as_of="2023-01-20")
    with pytest.raises(ValueError, match="as_of"):
        DemandForecaster().fit(hist_bookings)
    with pytest.raises(TypeError, match="DemandForecaster"):
        backtest(hist_bookings, hist_bookings, cutoffs=[AS_OF])


def test_series_input_with_closed_days_and_calendar():
    """A shop closed on Saturdays and on English bank holidays: closed days are forecast as 0 and never scored."""
    cal = HolidayCalendar("GB", subdiv="ENG", closed_weekdays=("Saturday",), holidays_closed=True)
    idx = pd.date_range("2022-01-01", "2023-04-30", freq="D")
    rng = np.random.default_rng(0)
    y = pd.Series(100 + 30 * (idx.day_of_week == 3) + rng.normal(0, 5, len(idx)), index=idx, name="revenue")
    closed = cal.closed_mask(idx)
    y[closed] = 0.0
    r = DemandForecaster(holidays=cal, horizon=40, backtest_days=0).fit(y, as_of="2023-03-31").result_
    fc = r.forecast.set_index("date")
    fut_closed = cal.closed_mask(fc.index)
    assert pd.Timestamp("2023-04-07") in fc.index[fut_closed]  # Good Friday 2023 from the holidays package
    assert (fc.loc[fut_closed, ["mean", "std", "lower", "upper"]] == 0).all().all()
    assert (fc.loc[~fut_closed, "mean"] > 50).all()  # open days are not dragged down by the closed zeros
    assert not r.cv_predictions["date"].isin(idx[closed]).any()
    assert any("closed day" in n for n in r.notes)


def test_holiday_regressor_recovers_a_holiday_effect():
    """Hotel-like series open on holidays with +40 on each PT public holiday: the forecast of a holiday carries it."""
    cal = HolidayCalendar("PT")
    idx = pd.date_range("2022-01-01", "2024-03-31", freq="D")
    rng = np.random.default_rng(1)
    hol = cal.regressors(idx)["holiday"].to_numpy()
    y = pd.Series(100 + 40 * hol + rng.normal(0, 3, len(idx)), index=idx, name="nights")
    hist = y.loc[:"2024-03-20"]
    r = DemandForecaster(holidays=cal, horizon=11, backtest_days=0, models=("arima",)).fit(hist).result_
    fc = r.forecast.set_index("date")["mean"]
    good_friday = pd.Timestamp("2024-03-29")
    assert good_friday in cal.holidays("2024-03-21", "2024-03-31").index
    others = fc.drop(good_friday)
    assert 30 < fc[good_friday] - others.mean() < 50, fc


@pytest.mark.slow
def test_mstl_candidate_recovers_yearly_and_weekly_cycles():
    """More than two years: MSTL(7,365) is a candidate and follows a known yearly + weekly signal."""
    idx = pd.date_range("2020-01-01", periods=1200, freq="D")
    t = np.arange(len(idx) + 28)
    signal = 100 + 20 * np.sin(2 * np.pi * t / 365.25) + 8 * (t % 7 == 3)
    rng = np.random.default_rng(4)
    y = pd.Series(signal[: len(idx)] + rng.normal(0, 2, len(idx)), index=idx, name="d")
    r = DemandForecaster(models=("mstl",), horizon=28, cv_windows=2, cv_horizon=28, backtest_days=0).fit(y).result_
    assert r.chosen["d"].startswith("MSTL(7,365)")
    assert np.mean(np.abs(r.forecast["mean"].to_numpy() - signal[len(idx):])) < 3  # noise sd 2
    with pytest.raises(ValueError, match="two years"):
        DemandForecaster(models=("mstl",), horizon=7, backtest_days=0).fit(y.iloc[:500])


def test_calendar_stage_keeps_growth_out_of_the_yearly_shape():
    """A growing series without any yearly cycle: the yearly Fourier part fitted over 1.5 years stays ~0."""
    from crm_analysis.seasonality.forecaster import _fit_calendar

    idx = pd.date_range("2022-01-01", periods=550, freq="D")
    rng = np.random.default_rng(5)
    y = 50 + 0.1 * np.arange(len(idx)) + 5 * (idx.day_of_week == 4) + rng.normal(0, 1, len(idx))
    fit = _fit_calendar(y, idx, None, 4, np.ones(len(idx)))
    part = fit.part(idx, None)
    assert np.abs(part).max() < 1.5  # noise sd 1; growth over the period is 55
    # the same regression without the trend term would read the growth as a yearly shape
    t = ((idx - fit.t0) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    w = 2 * np.pi * np.outer(t, np.arange(1, 5)) / 365.25
    X = np.hstack([np.ones((len(idx), 1)), np.eye(7)[idx.day_of_week][:, 1:], np.sin(w), np.cos(w)])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert np.abs(X[:, 7:] @ beta[7:]).max() > 5  # measured ~7.9


def test_deprecated_wrappers(hist_bookings):
    with pytest.warns(DeprecationWarning):
        res = fit_forecast(hist_bookings, as_of=AS_OF, horizon_days=7, backtest_days=0, method="seasonal_naive")
    assert list(res.table.columns) == list(FORECAST_COLUMNS)
    with pytest.warns(DeprecationWarning):
        t = forecast_demand(hist_bookings, as_of=AS_OF, horizon_days=7, backtest_days=0, method="seasonal_naive")
    pd.testing.assert_frame_equal(t, res.forecast)
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="level_method"):
        fit_forecast(hist_bookings, as_of=AS_OF, level_method="ets")


@settings(max_examples=15, deadline=None)
@given(level=st.floats(0.5, 0.98), seed=st.integers(0, 1000))
def test_interval_bounds_property(level, seed):
    """For any level: lower <= mean <= upper, all >= 0, and wider with the level (same data)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2023-01-01", periods=160, freq="D")
    y = pd.Series(rng.poisson(20 + 10 * (idx.day_of_week >= 4)).astype(float), index=idx, name="d")
    kw = dict(models=("seasonal_naive", "theta"), horizon=10, cv_windows=3, cv_horizon=10, backtest_days=0)
    a = DemandForecaster(level=level, **kw).fit(y).result_.forecast
    b = DemandForecaster(level=min(0.99, level + 0.01), **kw).fit(y).result_.forecast
    assert (a["lower"] <= a["mean"]).all() and (a["mean"] <= a["upper"]).all() and (a["lower"] >= 0).all()
    assert ((b["upper"] - b["lower"]) >= (a["upper"] - a["lower"]) - 1e-9).all()


@pytest.mark.slow
def test_empirical_intervals_calibrated_on_city_hotel(shared_data):
    """Coverage of the 90 % intervals on the City Hotel backtest is near nominal (the former test's 0.82..0.95)."""
    from crm_analysis.data import load_hotels

    path = shared_data / "hotels" / "hotels.csv.gz"
    if not path.exists():
        pytest.skip(f"{path} not found")
    b = load_hotels(str(path))
    b = b[b["property"] == "City Hotel"]
    bt = backtest(DemandForecaster(level=0.9), b, cutoffs=["2017-04-05"], horizon=56, as_of="2017-05-31")
    cov = bt.errors.loc["all classes", "coverage"]
    assert 0.82 <= cov <= 0.95, bt.errors


def _pre_issue_14_hotel():
    """The built-in hotel before issue 14's calibration (mean_load 0.85, no peak pressure, cancellations
    independent of the lead time): the generator the issue #18 targets below were set and met on."""
    from dataclasses import replace

    from crm_analysis.synthetic import DEFAULT_HOTEL

    segs = tuple(replace(s, cancel_lead_slope=0.0) for s in DEFAULT_HOTEL.segments)
    return replace(DEFAULT_HOTEL, segments=segs, mean_load=0.85, peak_pressure=1.0)


def _expected_nights(data) -> pd.Series:
    """The generator's expected unconstrained room-nights per stay night (the oracle of issue #18, point 1).

    What a forecaster that knows every parameter of ``generate_bookings`` and the rates the hotel set, but
    not the draws (the day-level demand shock, the Poisson requests, stay lengths, cancellations), would
    forecast: per segment the expected rooms requested by arrival date without the shock
    (``expected_rooms / demand_shock`` of ``unconstrained_demand``), times the share that does not cancel
    (``1 - cancel_rate``: the lead-time dependent probabilities average to it over the segment), spread
    over the stay nights with ``P(nights > k)`` (``nights = 1 + NegBin(los_mean - 1, los_shape)`` or
    Poisson). Checked against the realised truth over seeds in
    ``test_expected_nights_is_the_mean_of_the_realised_demand``.
    """
    from scipy import stats

    cfg = data.config
    dem = data.unconstrained_demand
    S = len(cfg.segments)
    rooms = dem["expected_rooms"].to_numpy().reshape(-1, S) / dem["demand_shock"].to_numpy().reshape(-1, S)
    dates = pd.DatetimeIndex(dem["arrival_date"].to_numpy()[::S])
    k = np.arange(60)
    out = np.zeros(len(dates) + k.size)
    for j, seg in enumerate(cfg.segments):
        m = seg.los_mean - 1
        sf = (stats.poisson.sf(k - 1, m) if seg.los_shape is None
              else stats.nbinom.sf(k - 1, seg.los_shape, seg.los_shape / (seg.los_shape + m)))
        out[: len(dates) + k.size - 1] += np.convolve(rooms[:, j] * (1 - seg.cancel_rate), sf)
    return pd.Series(out[: len(dates)], index=dates)


@pytest.mark.slow
def test_expected_nights_is_the_mean_of_the_realised_demand():
    """Recovery: over six seeds the realised true demand (2023-02..2024-12) averages to the expected one.

    One seed's two-year mean lies about 1.0 % (sd over 30 seeds, measured) from its expectation, so six
    seeds' mean about 0.4 %; 1.5 % is 3.5 of those. Forgetting the cancellations (40 %), the stay lengths
    (x3) or the shock's normalisation would be far outside.
    """
    from crm_analysis.synthetic import DEFAULT_HOTEL, generate_bookings

    ratios = []
    for seed in range(200, 206):
        d = generate_bookings(DEFAULT_HOTEL, start="2023-01-01", end="2024-12-31", seed=seed)
        truth = d.unconstrained_nights.groupby("date")["demand"].sum().loc["2023-02-01":]
        ratios.append(truth.mean() / _expected_nights(d).loc["2023-02-01":].mean())
    assert abs(np.mean(ratios) - 1) < 0.015, ratios


def _year_ahead(seed: int, config=None) -> dict[str, float]:
    """Year-ahead forecast of 2025 (history 2023-2024) against the truth, the expected demand and the oracle.

    ``truth``: mean total forecast / mean true demand of 2025 - 1 (the issue's target); ``expected``: the
    same against the generator's expected demand (:func:`_expected_nights`); ``oracle``: against the
    expected demand of 2025 times the ratio of the true to the expected demand of the history
    (2023-02-01..2024-12-31; January 2023 lacks the stays of guests arriving before the start), i.e. what a
    forecaster with the generator's seasonal shape that takes the level from the same history would forecast.
    """
    from crm_analysis.synthetic import generate_bookings

    d = generate_bookings(_pre_issue_14_hotel() if config is None else config, start="2023-01-01",
                          end="2025-12-31", seed=seed)
    truth = d.unconstrained_nights.groupby("date")["demand"].sum()
    exp = _expected_nights(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = DemandForecaster(horizon=365, unconstrain=True, capacity=120, backtest_days=0).fit(
            d.bookings, as_of="2024-12-31").result_
    total = r.total.set_index("date")["mean"]
    fc = float(total.mean())
    level = float(truth.loc["2023-02-01":"2024-12-31"].mean() / exp.loc["2023-02-01":"2024-12-31"].mean())
    return {"truth": fc / float(truth.loc[total.index].mean()) - 1,
            "expected": fc / float(exp.loc[total.index].mean()) - 1,
            "oracle": fc / (level * float(exp.loc[total.index].mean())) - 1}


def _year_ahead_bias(seed: int, config=None) -> float:
    return _year_ahead(seed, config)["truth"]


_BIAS: dict[int, float] = {}


# Year-ahead bias of the mean total 2025 (history 2023-2024) against the truth, seeds 42, 7, 3, 1, 5 (issue
# #18; benchmarks/README.md, "Against the targets of issue 18"):
#   calibrated hotel: -1.9, -2.6, -2.1, -6.9, -2.5 %  (long-run rule alone: -1.8, -2.4, -1.9, -6.8, -2.3 %;
#                       before it -7.2 % for seed 5; the open-night pickup moves the first 56 days)
#   pre-issue-14 hotel: +3.7, -0.1, +0.9, -6.0, +1.7 % (long-run rule alone: +3.9, +0.1, +1.1, -5.8, +1.9 %)
# The realised demand of 2025 against the generator's expected demand: calibrated -0.4, -0.7, +2.8, +3.4,
# +2.1 %; pre-issue-14 -2.9, -0.0, +2.2, +3.5, -0.1 % (sd over 30 seeds 1.4 %).
_PRE14_NOTE = ("measured +3.6 % (re-measured after round fc18f; +3.7 % before round fc18d, +3.9 % before the open-night pickup): the history is unconstrained to +1.6 % of the truth (the censored-normal EM puts the "
               "closed nights of this hotel 3.4 % high, the open nights within three nights of one +2.0 %, the others 0.0 %), and the forecaster "
               "itself is +2.3 % with the generator's true history in place of the unconstraining; 2025's realised "
               "demand is 2.9 % below the generator's expected demand for this seed (against the expected demand the "
               "forecast is +0.6 %); before the stays were counted the two errors cancelled (-1.1 %)")
_SEED1_NOTE = ("measured -6.9 % since round fc18f (-7.0 % after round fc18d, -6.9 % before it), the generator's draw, not the forecaster's error: 2025's realised demand is 3.4 % above "
               "the generator's expected demand and the true history 2023-2024 1.9 % below it, so a forecaster that "
               "knows the seasonal shape exactly and takes the level from this history is -5.1 % off; the forecast "
               "is -3.8 % off the expected demand and -1.9 % off that oracle (test below)")


@pytest.mark.parametrize(
    "seed",
    [pytest.param(42, marks=pytest.mark.xfail(strict=True, reason=_PRE14_NOTE)), 7, 3],
)
@pytest.mark.slow
def test_year_ahead_unconstrained_forecast_within_3pct_of_truth(seed):
    """Recovery of a known truth (issue #18 target: within 3 %).

    Two years of history (2023-2024) from ``generate_bookings`` (the hotel before issue 14's calibration,
    :func:`_pre_issue_14_hotel`; the calibrated default is tested below), forecast of
    2025 from data known at 2024-12-31 with the report's settings
    (unconstrained, 120 rooms), compared with the generator's true
    unconstrained room-night demand of 2025 (``unconstrained_nights``): the
    mean of the total over the year must be within 3 % of the truth.
    """
    _BIAS[seed] = _BIAS.get(seed) if seed in _BIAS else _year_ahead_bias(seed)
    assert abs(_BIAS[seed]) < 0.03, f"mean bias {_BIAS[seed]:+.1%}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [42, 7, 3, 5, pytest.param(1, marks=pytest.mark.xfail(strict=True, reason=_SEED1_NOTE))])
def test_year_ahead_unconstrained_forecast_on_the_calibrated_hotel(seed):
    """The issue #18 target (3 %) on the default hotel since issue 14 (mean_load 0.9, peak_pressure 1.5).

    Met since the unconstraining counts the stays lost to closed nights (-7.3 % and -7.8 % for seeds 42 and 7
    with the EM alone): the history 2023-2024 is within 1 % of the truth for every seed. Seed 5 since beyond
    the 56 cross-validated days only the candidates that revert to the history's mean level are combined
    (-7.2 % before: ETS, 43 % of the weight, carried December's level through 2025; -2.5 % now).
    """
    from crm_analysis.synthetic import DEFAULT_HOTEL

    bias = _year_ahead_bias(seed, DEFAULT_HOTEL)
    assert abs(bias) < 0.03, f"mean bias {bias:+.1%}"


@pytest.mark.slow
@pytest.mark.parametrize("hotel", ["calibrated", "pre_issue_14"])
@pytest.mark.parametrize("seed", [1, 5, 3])
def test_year_ahead_forecast_within_3pct_of_the_oracle(seed, hotel):
    """The forecaster's own error: against what a forecaster that knows the generator's seasonal shape and
    takes the level from the same history would forecast (:func:`_year_ahead`), within 3 %.

    The truth of one year lies 1.4 % (sd over 30 seeds) from the generator's expected demand and a two-year
    history 1.0 %, so even that oracle misses the truth by more than 3 % on about one seed in 16 (seed 1 of
    the calibrated hotel: -5.1 %). Measured (seeds 1, 5, 3): calibrated about -1.9, -2.3, -0.2 %; before issue
    14 about +1.1, +0.1, +0.9 %.
    """
    from crm_analysis.synthetic import DEFAULT_HOTEL

    res = _year_ahead(seed, DEFAULT_HOTEL if hotel == "calibrated" else None)
    assert abs(res["oracle"]) < 0.03, res


@pytest.mark.slow
@pytest.mark.parametrize("seed", [42, 7])
def test_year_ahead_unconstrained_forecast_unbiased_on_generator(seed):
    """The former validation test (5 %), kept: the pre-issue-14 hotel, +3.7 % and -0.1 % measured."""
    bias = _BIAS[seed] if seed in _BIAS else _year_ahead_bias(seed)
    _BIAS[seed] = bias
    assert abs(bias) < 0.05, f"mean bias {bias:+.1%}"


def test_beyond_the_cross_validated_horizon_only_mean_reverting_candidates_are_combined():
    """Issue #18 (round fc18b): a year-ahead forecast does not carry the last weeks' level.

    A stationary daily series (weekly and yearly cycle, gamma noise) whose last three weeks run 20 % high by
    chance. Within the cross-validated horizon ETS (which carries the last level) may take weight; beyond it
    only the candidates that revert to the history's mean level (ARIMA errors with d = 0) are combined, so
    from day 57 on the forecast with ETS and ARIMA candidates equals the one with the ARIMA candidates alone
    (the same cross-validated weights among them). Without the rule (``_reverts`` always False) the two differ on
    every one of those days.
    """
    rng = np.random.default_rng(3)
    dates = pd.date_range("2022-01-01", "2024-12-31", freq="D")
    t = np.arange(len(dates))
    level = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 365.25)) * (1 + 0.2 * (dates.day_of_week.to_numpy() >= 5))
    y = level * rng.gamma(50, 1 / 50, len(dates))
    y[-21:] *= 1.2
    hist = pd.Series(y, index=dates, name="all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both = DemandForecaster(models=("ets", "arima"), horizon=365, backtest_days=0).fit(hist).result_
        arima = DemandForecaster(models=("arima",), horizon=365, backtest_days=0).fit(hist).result_
    assert both.cv_errors.loc[("all", "ets+yearly"), "weight"] > 0.01  # ETS is combined within 56 days
    assert "ARIMA(" in arima.chosen["all"] or "arima" in arima.chosen["all"]
    np.testing.assert_allclose(both.total["mean"].to_numpy()[56:], arima.total["mean"].to_numpy()[56:], rtol=1e-9)
    assert not np.allclose(both.total["mean"].to_numpy()[:56], arima.total["mean"].to_numpy()[:56])
    assert any("reverts to the history's mean level" in n for n in both.notes), both.notes


def test_yearly_variants_not_validated_at_every_origin_stay_out_of_the_cross_validated_horizon():
    """Issue #18 (round fc18c): a '+yearly' variant fitted without the yearly terms at a cross-validation origin.

    450 days of history: the series is long enough for the yearly terms (400 days), its cross-validation
    origins (56, 84, 112, 140 days back: 310-394 days) are not, so there the '+yearly' variant is the plain
    model and ties with it exactly; before this round the two shared the weight and the forecast used the
    yearly terms that no cross-validation had scored. Now within the 56 cross-validated days the forecast is
    the plain candidate's (the same as with ``fourier_terms=0``); beyond them the '+yearly' variant is
    combined as before (the forecasts differ there), and the notes say so.
    """
    rng = np.random.default_rng(8)
    dates = pd.date_range("2023-01-01", periods=450, freq="D")
    t = np.arange(450)
    y = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 365.25)) * (1 + 0.2 * (dates.day_of_week.to_numpy() >= 5))
    hist = pd.Series(y * rng.gamma(50, 1 / 50, 450), index=dates, name="all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = DemandForecaster(models=("arima",), horizon=90, backtest_days=0).fit(hist).result_
        plain = DemandForecaster(models=("arima",), horizon=90, backtest_days=0, fourier_terms=0).fit(hist).result_
    cv = r.cv_predictions
    e = cv[cv["model"] != "final"].pivot_table(index=["origin", "date"], columns="model", values="mean")
    np.testing.assert_allclose(e["arima"], e["arima+yearly"])  # the tie: the same fit at every origin
    np.testing.assert_allclose(r.total["mean"].to_numpy()[:56], plain.total["mean"].to_numpy()[:56], rtol=1e-9)
    assert not np.allclose(r.total["mean"].to_numpy()[56:], plain.total["mean"].to_numpy()[56:])
    assert any("left out of the combination" in n for n in r.notes), r.notes


def _cv_frame(errors: dict[str, list[np.ndarray]], h_cv: int = 14) -> pd.DataFrame:
    """Cross-validation predictions of one series: per model, one error array of ``h_cv`` days per origin."""
    rows = []
    for m, per_origin in errors.items():
        for k, e in enumerate(per_origin):
            rows.append(pd.DataFrame({"origin": pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * k),
                                      "model": m, "h": np.arange(1, h_cv + 1), "actual": 100.0, "mean": 100.0 + e}))
    return pd.concat(rows, ignore_index=True)


def test_origin_mse_is_the_geometric_mean_of_the_origins_mse():
    """Independent computation: scipy's geometric mean of the per-origin mean squared errors."""
    from scipy.stats import gmean

    from crm_analysis.seasonality.forecaster import _origin_mse

    rng = np.random.default_rng(0)
    e = rng.normal(0, [1.0] * 10 + [5.0] * 10 + [0.5] * 10)
    org = np.repeat([0, 1, 2], 10)
    expected = gmean([np.mean(e[org == o] ** 2) for o in range(3)])
    assert _origin_mse(e, org) == pytest.approx(expected, rel=1e-12)
    assert _origin_mse(np.array([]), np.array([])) == np.inf


def test_one_volatile_window_does_not_decide_the_ranking():
    """Issue #18 (round fc18d): the City Hotel's calm windows after a volatile winter window.

    Candidate ``ets`` is twice as accurate (RMSE 1 against 2) in three calm cross-validation windows and
    25 % worse (RMSE 10 against 8) in one volatile window. The pooled MSE (what the weights used before)
    prefers ``arima`` ((3 + 100) / 4 > (12 + 64) / 4); the geometric mean over the origins prefers ``ets``
    (3.2 against 8), which is what the weights now take.
    """
    ones = np.ones(14)
    g = _cv_frame({"ets": [ones, ones, ones, 10 * ones], "arima": [2 * ones, 2 * ones, 2 * ones, 8 * ones]})
    pooled = {m: float(np.mean((x["mean"] - x["actual"]) ** 2)) for m, x in g.groupby("model")}
    assert pooled["arima"] < pooled["ets"]  # the old rule's ranking
    f = DemandForecaster(combine_top=1)
    W = f._weights(g, ["ets", "arima"], 14, 14)
    np.testing.assert_array_equal(W, np.tile([1.0, 0.0], (14, 1)))
    W2 = DemandForecaster()._weights(g, ["ets", "arima"], 14, 14)
    np.testing.assert_allclose(W2, np.tile(np.array([8.0, np.sqrt(10)]) / (8 + np.sqrt(10)), (14, 1)), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), origin=st.integers(0, 3), factor=st.floats(0.05, 20.0))
def test_weights_do_not_change_when_one_window_is_more_volatile_for_every_candidate(seed, origin, factor):
    """Property: scaling every candidate's errors at one origin by the same factor leaves the weights alike.

    A window that is volatile for all candidates (every error ``factor`` times larger) says nothing about
    which candidate is better; with the geometric mean over the origins the weights are exactly invariant
    to it (with and without the pickup candidate's weights by horizon), which the pooled MSE was not.
    """
    rng = np.random.default_rng(seed)
    errs = {m: [rng.normal(0, rng.uniform(0.5, 3.0), 14) for _ in range(4)] for m in ("ets", "arima", "theta", "pickup")}
    scaled = {m: [e * (factor if k == origin else 1.0) for k, e in enumerate(v)] for m, v in errs.items()}
    for models in (["ets", "arima", "theta"], ["ets", "arima", "theta", "pickup"]):
        f = DemandForecaster()
        W = f._weights(_cv_frame({m: errs[m] for m in models}), models, 14, 14)
        W2 = f._weights(_cv_frame({m: scaled[m] for m in models}), models, 14, 14)
        np.testing.assert_allclose(W, W2, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(W.sum(axis=1), 1.0)
