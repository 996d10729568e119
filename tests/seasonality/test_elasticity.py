import numpy as np
import pandas as pd
import pytest

from crm_analysis.seasonality import NOT_CAUSAL, price_demand_frame, price_elasticity


def _simulate(n=730, elasticity=-1.5, endogenous=0.0, seed=0, segments=("A", "B"), z_sd=0.2):
    """Daily log-log demand with weekday/month effects.

    ``endogenous`` > 0 lets the price respond to the demand shock (yield management).
    """
    rng = np.random.default_rng(seed)
    rows = []
    dates = pd.date_range("2023-01-01", periods=n, freq="D")
    wd_eff = np.array([0.0, 0.1, 0.1, 0.2, 0.4, 0.5, -0.2])[dates.day_of_week]
    m_eff = 0.3 * np.sin(2 * np.pi * (dates.month.to_numpy() - 1) / 12)
    for seg in segments:
        u = rng.normal(0, 0.3, n)  # demand shock
        z = rng.normal(0, z_sd, n)  # exogenous cost shifter (instrument)
        log_p = np.log(100) + 0.3 * wd_eff + z + endogenous * u
        log_q = 5 + elasticity * (log_p - np.log(100)) + wd_eff + m_eff + u
        rows.append(pd.DataFrame({"date": dates, "segment": seg, "quantity": np.exp(log_q), "price": np.exp(log_p), "z": z}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("cov_type", ["HC3", "cluster"])
def test_recovers_known_elasticity_with_exogenous_prices(cov_type):
    res = price_elasticity(_simulate(), cov_type=cov_type)
    t = res.table.set_index("segment")
    for seg in ["A", "B", "all segments (pooled)"]:
        row = t.loc[seg]
        assert row["valid"]
        assert row["ci_lower"] <= -1.5 <= row["ci_upper"]
        assert row["elasticity"] == row["estimate"]
    assert set(res.table.columns) >= {"segment", "elasticity", "std_error", "ci_lower", "ci_upper", "n", "r2", "caveat"}


def test_flags_positive_estimate_when_prices_follow_demand():
    # rates follow the demand shock closely (little exogenous price variation):
    # plim of OLS = -1 + 0.5 * 0.09 / (0.25 * 0.09 + 0.02**2) ~ +0.96
    data = _simulate(elasticity=-1.0, endogenous=0.5, z_sd=0.02)
    res = price_elasticity(data)
    t = res.table.set_index("segment")
    assert (t["estimate"] > 0).all()  # the simultaneity bias the caveat warns of
    assert t["elasticity"].isna().all() and not t["valid"].any()
    assert t["caveat"].str.contains(NOT_CAUSAL).all()
    assert "biased upward" in res.caveat


def test_two_stage_least_squares_recovers_elasticity_under_endogeneity():
    data = _simulate(n=1000, elasticity=-1.0, endogenous=2.0, seed=3)
    res = price_elasticity(data, instrument="z")
    t = res.table.set_index("segment")
    row = t.loc["all segments (pooled)"]
    assert row["valid"] and row["ci_lower"] <= -1.0 <= row["ci_upper"]
    assert row["first_stage_f"] > 10


def test_small_segments_are_reported_not_dropped():
    data = _simulate(n=40)
    res = price_elasticity(data, min_obs=50)
    assert len(res.table) == 3
    assert res.table["caveat"].iloc[:2].str.contains("too few observations").all()
    assert res.table["elasticity"].iloc[:2].isna().all()


def test_nonpositive_rows_counted():
    data = _simulate(n=200)
    data.loc[:4, "quantity"] = 0.0
    res = price_elasticity(data)
    assert res.excluded["quantity or price <= 0 (no logarithm)"] == 5
    with pytest.raises(ValueError, match="missing column"):
        price_elasticity(data.drop(columns="price"))


def test_price_demand_frame_from_bookings(bookings):
    f = price_demand_frame(bookings)
    kept = bookings[bookings["status"] != "cancelled"]
    assert f["quantity"].sum() == pytest.approx((kept["units"] * kept["nights"]).sum())
    rev = (f["quantity"] * f["price"]).sum()
    assert rev == pytest.approx((kept["rate"] * kept["units"] * kept["nights"]).sum())
    res = price_elasticity(f, min_obs=10)
    from matplotlib.figure import Figure

    assert isinstance(res.plot(), Figure)
