import functools

import numpy as np
import pandas as pd
import pytest

from crm_analysis.seasonality import DemandForecaster, booking_series, night_closures, unconstrain_history
from crm_analysis.synthetic.hotel import generate_bookings


@functools.lru_cache(maxsize=2)
def _hotel(seed: int):
    """The built-in hotel 2023-2024 (shared by the recovery tests of a seed; not modified by them)."""
    return generate_bookings(seed=seed)


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
    data = _hotel(seed)
    cap = data.config.capacity
    sales = booking_series(data.bookings, measure="room_nights", by="fare_class", end="2024-12-31").values
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
    assert (fc.unconstrained.summary["open_added"] > 0).all()  # the stays of every class
    tot = DemandForecaster(by=None, horizon=7, unconstrain=True, capacity=120, backtest_days=0, cv_windows=2).fit(
        data.bookings, as_of="2023-12-31").result_
    assert list(tot.unconstrained.summary.index) == ["all"] and tot.unconstrained.summary.loc["all", "open_added"] > 0


# ------------------------------------------------------------------ stays (issue 18)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from crm_analysis.seasonality import stay_length_shares  # noqa: E402
from crm_analysis.seasonality.unconstrain import _neighbour_loss  # noqa: E402


def _loss_by_enumeration(r: np.ndarray, shares: pd.Series) -> np.ndarray:
    """Every stay of m nights covering night u, one by one: the largest lost share of its nights, weighted pi(m)/m."""
    n = len(r)
    p = np.zeros(n)
    for u in range(n):
        for m, pi in shares.items():
            for i in range(m):
                nights = [t for t in range(u - i, u - i + m) if 0 <= t < n]
                p[u] += pi / m * max(r[t] for t in nights)
    return p


@settings(max_examples=40, deadline=None)
@given(
    r=st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1.0)), min_size=1, max_size=25),
    w=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6).filter(lambda v: sum(v) > 0),
)
def test_neighbour_loss_equals_enumeration_of_stays(r, w):
    shares = pd.Series(np.array(w) / sum(w), index=range(1, len(w) + 1))
    r = np.array(r)
    np.testing.assert_allclose(_neighbour_loss(r, shares), _loss_by_enumeration(r, shares), atol=1e-12)


def test_isolated_closed_night_gives_the_stay_length_kernel():
    """One closed night with lost share r: night c+j loses r * w_j, w_j = sum_m pi(m) (m-|j|)^+ / m."""
    shares = pd.Series({1: 0.2, 2: 0.3, 4: 0.5})
    r = np.zeros(21)
    r[10] = 0.4
    p = _neighbour_loss(r, shares)
    for j in range(-10, 11):
        w = sum(pi * max(m - abs(j), 0) / m for m, pi in shares.items())
        assert p[10 + j] == pytest.approx(0.4 * w, abs=1e-12)
    assert p[10] == pytest.approx(0.4)  # w_0 = 1


def test_run_of_closed_nights_counts_a_stay_once():
    """Three-night stays next to two closed nights (lost share 0.5): 2 of the 3 stays over the next night touch
    them, so it loses 0.5 * 2/3; adding the two nights' kernels would give 0.5 * (2/3 + 1/3)."""
    r = np.zeros(9)
    r[3:5] = 0.5
    p = _neighbour_loss(r, pd.Series({3: 1.0}))
    assert p[5] == pytest.approx(0.5 * 2 / 3)
    assert p[6] == pytest.approx(0.5 * 1 / 3)
    assert p[7] == 0.0


def test_stay_length_shares_by_room_nights():
    b = pd.DataFrame({
        "booking_date": pd.to_datetime(["2024-01-01"] * 5 + ["2024-03-01"]),
        "arrival_date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08",
                                        "2024-03-05"]),
        "nights": [1, 3, 3, 2, 5, 1],
        "units": [2, 1, 1, 1, 1, 1],
        "segment": ["A", "A", "A", "B", "B", "A"],
        "status": ["stayed", "stayed", "no_show", "stayed", "cancelled", "stayed"],
    })
    sh = stay_length_shares(b, as_of="2024-02-01")
    # A: 1 night x 2 rooms, two 3-night stays = 2 + 6 room-nights; B: one 2-night stay (the 5-night one cancelled)
    assert sh.loc[1, "A"] == pytest.approx(2 / 8) and sh.loc[3, "A"] == pytest.approx(6 / 8)
    assert sh.loc[2, "B"] == 1.0 and 5 not in sh.index
    assert sh.sum().tolist() == pytest.approx([1.0, 1.0])
    assert stay_length_shares(b, by=None, include_cancelled=True).loc[5, "all"] == pytest.approx(5 / 16)
    with pytest.raises(ValueError, match="as_of=2023-12-31"):
        stay_length_shares(b, as_of="2023-12-31")
    with pytest.raises(ValueError, match="nights"):
        stay_length_shares(b.drop(columns="nights"))


def test_stays_raise_only_open_nights_and_check_their_input():
    data = generate_bookings(start="2023-01-01", end="2023-12-31", seed=1)
    cap = data.config.capacity
    sales = booking_series(data.bookings, measure="room_nights", by="fare_class", end="2023-12-31").values
    closed = night_closures(data.bookings, cap, as_of="2023-12-31").closed
    shares = stay_length_shares(data.bookings, as_of="2023-12-31")
    em = unconstrain_history(sales, closed)
    st_ = unconstrain_history(sales, closed, stay_lengths=shares)
    cl = st_.closed.to_numpy()
    assert cl.sum() > 10
    pd.testing.assert_frame_equal(st_.values[cl], em.values[cl])  # the closed nights keep their EM values
    assert (st_.values.to_numpy() >= sales.to_numpy() - 1e-9).all()
    raised = (st_.values[~cl] > sales[~cl] + 1e-9).any(axis=1)
    assert raised.sum() > 10 and (st_.lost_share[~cl][raised] > 0).all()
    assert st_.summary["open_added"].sum() == pytest.approx((st_.values - em.values).to_numpy().sum())
    assert any("open night(s) next to closed ones raised" in n for n in st_.notes)
    # a shared Series: the same shares for every class
    one = unconstrain_history(sales, closed, stay_lengths=pd.Series({1: 1.0}))
    assert (one.lost_share[~cl] <= one.lost_share[cl].max() + 1e-12).all()
    with pytest.raises(ValueError, match="stay_lengths"):
        unconstrain_history(sales, closed, stay_lengths=shares.drop(columns=shares.columns[0]))
    with pytest.raises(ValueError, match="whole numbers of nights"):
        unconstrain_history(sales, closed, stay_lengths=pd.Series({0: 1.0}))
    with pytest.raises(ValueError, match="shares >= 0"):
        unconstrain_history(sales, closed, stay_lengths=pd.Series({1: -1.0, 2: 2.0}))


@pytest.mark.parametrize("seed", [42, 7])
def test_stays_recover_the_generator_total(seed):
    """Recovery of a known truth: the built-in hotel (calibrated, issue 14), history 2023-2024, total room-night
    demand against the generator's ``unconstrained_nights``. Measured: sales -9.5 %, EM alone -5.0 %, with the
    stays +0.5 % (seed 42) / +0.4 % (seed 7); bound 1.5 %, and open nights within three nights of a closed one
    within 3 % (EM alone: 11-12 % low)."""
    data = _hotel(seed)
    cap = data.config.capacity
    sales = booking_series(data.bookings, measure="room_nights", by="fare_class", end="2024-12-31").values
    closed = night_closures(data.bookings, cap, as_of="2024-12-31").closed
    res = unconstrain_history(sales, closed, stay_lengths=stay_length_shares(data.bookings, as_of="2024-12-31"))
    em = unconstrain_history(sales, closed)
    truth = data.unconstrained_nights.groupby("date")["demand"].sum().reindex(sales.index)
    cl = res.closed.to_numpy()
    near = np.zeros(len(cl), dtype=bool)
    for k in (1, 2, 3):
        near[k:] |= cl[:-k]
        near[:-k] |= cl[k:]
    near &= ~cl

    def bias(v: pd.DataFrame, m: np.ndarray) -> float:
        return float(v.sum(axis=1)[m].sum() / truth[m].sum() - 1)

    every = np.ones(len(cl), dtype=bool)
    assert bias(em.values, every) < -0.03 and bias(em.values, near) < -0.08  # what the stays correct
    assert abs(bias(res.values, every)) < 0.015, bias(res.values, every)
    assert abs(bias(res.values, near)) < 0.03, bias(res.values, near)
