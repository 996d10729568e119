"""Tests of customer_lifetime_value (crm_analysis.clv.value)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    customer_lifetime_value,
    simulate_bgnbd,
    simulate_gamma_gamma,
    step_discount_rate,
)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(7)
    sim = simulate_bgnbd(0.5, 6.0, 0.7, 2.5, n_customers=1500, T=rng.uniform(20, 52, 1500), seed=rng)
    sim["monetary_value"] = simulate_gamma_gamma(4.0, 5.0, 20.0, sim["frequency"].to_numpy(), seed=rng)["monetary_value"]
    data = sim[["frequency", "recency", "T", "monetary_value"]]
    return BetaGeoModel().fit(data), GammaGammaModel().fit(data), data


def test_step_discount_rate():
    """Compounding the per-step rate over a year gives the annual rate (rtol 1e-12)."""
    for unit, n in (("W", 365.25 / 7), ("M", 12), ("D", 365.25)):
        assert (1 + step_discount_rate(0.1, unit, 1)) ** n == pytest.approx(1.1, rel=1e-12)
    assert step_discount_rate(0.0, "W", 1) == 0.0
    with pytest.raises(ValueError, match="time_unit"):
        step_discount_rate(0.1, "fortnight", 1)


def test_undiscounted_clv_telescopes(fitted):
    """Without discounting, CLV = margin * E[spend] * E[X(horizon)] for any step."""
    bg, gg, data = fitted
    out = customer_lifetime_value(bg, gg, data, horizon=52, margin=0.3, step=4)
    assert list(out.columns) == ["expected_purchases", "expected_spend", "clv"]
    assert out.index.equals(data.index)
    np.testing.assert_allclose(out["expected_purchases"], bg.expected_purchases(52, data), rtol=1e-12)
    np.testing.assert_allclose(out["expected_spend"], gg.expected_average_spend(data), rtol=1e-12)
    np.testing.assert_allclose(out["clv"], 0.3 * out["expected_spend"] * out["expected_purchases"], rtol=1e-10)


def test_discounting_lowers_value(fitted):
    """Discounting lowers CLV, by at most the factor of a full horizon, and more for higher rates."""
    bg, gg, data = fitted
    base = customer_lifetime_value(bg, gg, data, horizon=52)["clv"]
    d10 = customer_lifetime_value(bg, gg, data, horizon=52, discount_rate=0.1)["clv"]
    d30 = customer_lifetime_value(bg, gg, data, horizon=52, discount_rate=0.3)["clv"]
    assert (d10 <= base).all() and (d30 <= d10).all()
    assert (d10 >= base / 1.1 - 1e-9).all()  # every purchase is at most ~one year away


def test_intervals_seeded_and_cover_point(fitted):
    """Intervals from parameter draws are reproducible with a seed and bracket the
    point estimate for (almost) every customer."""
    bg, gg, data = fitted
    sub = data.iloc[:100]
    a = customer_lifetime_value(bg, gg, sub, horizon=26, step=2, intervals=True, interval_draws=60, seed=3)
    b = customer_lifetime_value(bg, gg, sub, horizon=26, step=2, intervals=True, interval_draws=60, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert (a["clv_param_lower"] <= a["clv_param_upper"]).all()
    inside = (a["clv_param_lower"] <= a["clv"]) & (a["clv"] <= a["clv_param_upper"])
    assert inside.mean() > 0.95


def test_interval_options_have_one_name_across_the_clv_functions(fitted):
    """findings_13f F8: customer_lifetime_value named its interval options n_draws / level while
    customer_value_table, CLVAnalysis.value_table and RfmClvParams call them interval_draws / interval_level.
    One name now; the old keywords still work with a FutureWarning and give the same table; both names with
    different values, or a bad value, are refused naming the option."""
    import inspect

    from crm_analysis.clv import CLVAnalysis, RfmClvParams, customer_value_table
    from crm_analysis.exceptions import InputError

    for fn in (customer_lifetime_value, customer_value_table, CLVAnalysis.value_table):
        params = inspect.signature(fn).parameters
        assert {"interval_draws", "interval_level"} <= set(params), fn.__qualname__
        assert not {"n_draws", "level"} & set(params), fn.__qualname__
        assert params["interval_draws"].default == 200 and params["interval_level"].default == 0.9
    assert {"interval_draws", "interval_level"} <= set(inspect.signature(RfmClvParams).parameters)

    bg, gg, data = fitted
    sub = data.iloc[:30]
    kw = dict(horizon=26, step=2, intervals=True, seed=3)
    new = customer_lifetime_value(bg, gg, sub, interval_draws=40, interval_level=0.8, **kw)
    with pytest.warns(FutureWarning, match=r"n_draws=\.\.\.\) is deprecated: use interval_draws"):
        with pytest.warns(FutureWarning, match=r"level=\.\.\.\) is deprecated: use interval_level"):
            old = customer_lifetime_value(bg, gg, sub, n_draws=40, level=0.8, **kw)
    pd.testing.assert_frame_equal(new, old)
    assert not new.equals(customer_lifetime_value(bg, gg, sub, interval_draws=40, interval_level=0.9, **kw))
    with pytest.warns(FutureWarning), pytest.raises(InputError, match="interval_draws=40 and the deprecated n_draws=50"):
        customer_lifetime_value(bg, gg, sub, interval_draws=40, n_draws=50, **kw)
    for bad in (1.5, 0, -0.1, True):
        with pytest.raises(InputError, match="interval_level"):
            customer_lifetime_value(bg, gg, sub, interval_level=bad, **kw)
    for bad in (10, 40.5, "40"):
        with pytest.raises(InputError, match="interval_draws"):
            customer_lifetime_value(bg, gg, sub, interval_draws=bad, **kw)


def test_pareto_transaction_model(fitted):
    """Pareto/NBD works as transaction model too (same undiscounted identity)."""
    _, gg, data = fitted
    pn = ParetoNBDModel.from_params({"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7})
    out = customer_lifetime_value(pn, gg, data, horizon=52, step=2)
    np.testing.assert_allclose(out["clv"], out["expected_spend"] * pn.expected_purchases(52, data), rtol=1e-10)


def test_bad_arguments(fitted):
    bg, gg, data = fitted
    with pytest.raises(ValueError, match="horizon"):
        customer_lifetime_value(bg, gg, data, horizon=0)
    with pytest.raises(ValueError, match="step"):
        customer_lifetime_value(bg, gg, data, step=0)


def test_rates_and_margins_given_as_percentages_are_refused(fitted):
    """Finding F8 (n15): a discount rate of 10 (meant: 10 %) was taken as 1,000 % per period by the CLV, the
    prediction intervals (revenue total 814 instead of ~17,900 on CDNOW) and the sBG's DERL, and a margin of 30
    as 3,000 %, all silently. Every entry point now refuses a rate >= 1 and a margin outside (0, 1], saying how
    to write the value; the usual fractions still work."""
    from crm_analysis.clv import RfmClvParams, ShiftedBetaGeoModel, prediction_intervals

    bg, gg, data = fitted
    small = data.head(50)
    calls = {
        "clv discount": lambda v: customer_lifetime_value(bg, gg, small, horizon=10, discount_rate=v),
        "clv margin": lambda v: customer_lifetime_value(bg, gg, small, horizon=10, margin=v * 3),
        "intervals": lambda v: prediction_intervals(bg, small, 10.0, spend_model=gg, discount_rate=v, n_draws=20, seed=1),
        "derl": lambda v: ShiftedBetaGeoModel.from_params([0.7, 1.2]).derl(v),
        "report params discount": lambda v: RfmClvParams(discount_rate=v),
        "report params margin": lambda v: RfmClvParams(margin=v * 3),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=r"a percentage given as a number\? .*0\.[13] for [13]0 %"):
            call(10)
        call(0.1)  # a fraction is fine
    with pytest.raises(ValueError, match=r"margin must be a share of revenue in \(0, 1\]"):
        customer_lifetime_value(bg, gg, small, horizon=10, margin=0.0)
