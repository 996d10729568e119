import numpy as np
import pandas as pd
import pytest

from crm_analysis.seasonality import DemandForecaster, booking_series, night_closures, unconstrain_history
from crm_analysis.synthetic.hotel import generate_bookings


def test_em_recovers_censored_normal_mean_and_sd():
    # classical censored-normal EM: N(100, 15^2) censored above 105 (about 37 % censored)
    rng = np.random.default_rng(3)
    idx = pd.date_range("2023-01-02", periods=4000, freq="D")
    x = rng.normal(100, 15, idx.size)
    cap = 105.0
    obs = np.minimum(x, cap)
    closed = pd.Series(x >= cap, index=idx)
    # constant mean: make the design irrelevant by month/weekday-free truth; EM still fits them (4000 days)
    res = unconstrain_history(pd.DataFrame({"a": obs}, index=idx), closed)
    est = res.values["a"].to_numpy()
    assert abs(est.mean() - 100) < 1.0
    assert abs(obs.mean() - 100) > 3  # the censored sample mean is ~96.3
    assert abs(res.summary.loc["a", "sigma"] - 15) < 1.0
    assert (est[closed.to_numpy()] >= obs[closed.to_numpy()]).all()
    assert np.array_equal(est[~closed.to_numpy()], obs[~closed.to_numpy()])


@pytest.mark.parametrize("seed", [42, 7])
def test_recovers_generator_unconstrained_demand_better_than_sales(seed):
    data = generate_bookings(seed=seed)
    cap = data.config.capacity
    sales = booking_series(data.bookings, "room_nights", by="fare_class", end="2024-12-31").values
    closures = night_closures(data.bookings, cap, as_of="2024-12-31")
    res = unconstrain_history(sales, closures.closed)
    truth = data.unconstrained_nights.pivot(index="date", columns="fare_class", values="demand").reindex(sales.index)
    cl = res.closed.to_numpy()
    assert cl.sum() > 50  # the default hotel sells out on many nights
    t_tot = truth[cl].sum(axis=1)
    mae_raw = float((t_tot - sales[cl].sum(axis=1)).abs().mean())
    mae_unc = float((t_tot - res.values[cl].sum(axis=1)).abs().mean())
    assert mae_unc < 0.8 * mae_raw, (mae_raw, mae_unc)
    gap_raw = float(truth.to_numpy().sum() - sales.to_numpy().sum())
    gap_unc = float(truth.to_numpy().sum() - res.values.to_numpy().sum())
    assert gap_raw > 0 and abs(gap_unc) < 0.75 * gap_raw


def test_closures_use_cancelled_holds():
    data = generate_bookings(seed=42)
    c = night_closures(data.bookings, data.config.capacity, as_of="2024-12-31").table
    assert (c["max_held"] >= c["final_held"]).all()
    assert c["max_held"].max() <= data.config.capacity  # the generator never overbooks
    assert (c["max_held"] >= data.config.capacity).sum() > (c["final_held"] >= data.config.capacity).sum()


def test_forecast_unconstrain_flags_and_guards():
    data = generate_bookings(start="2023-01-01", end="2023-12-31", seed=1)
    with pytest.raises(ValueError, match="capacity"):
        DemandForecaster(unconstrain=True, backtest_days=0).fit(data.bookings, as_of="2023-12-31")
    with pytest.raises(ValueError, match="room_nights"):
        DemandForecaster(unconstrain=True, capacity=120, measure="arrivals").fit(data.bookings, as_of="2023-12-31")
    fc = DemandForecaster(horizon=14, unconstrain=True, capacity=120, backtest_days=0).fit(
        data.bookings, as_of="2023-12-31").result_
    assert fc.forecast["unconstrained"].all()  # an explicit flag, not a suffix of `model`
    assert fc.unconstrained is not None
    assert (fc.history.to_numpy() >= fc.unconstrained.observed.to_numpy() - 1e-9).all()
