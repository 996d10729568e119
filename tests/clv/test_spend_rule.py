"""The spend rule: customers with zero or negative mean repeat spend (returns on a later day).

Every path (fit_spend_model, customer_lifetime_value, fit_clv_models, the value
tables, batch scoring) leaves them out of the Gamma-Gamma fit with a counted
reason and values them with the population mean spend p v / (q - 1) (Fader &
Hardie 2013, "The Gamma-Gamma model of monetary value", eq. 4). The expected
values here are computed independently from the published formulas, not by the
code under test.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.clv import (
    CRMAnalysisWarning,
    SPEND_NO_REPEAT,
    SPEND_NONPOSITIVE,
    BetaGeoModel,
    GammaGammaModel,
    customer_lifetime_value,
    customer_value_table,
    expected_spend,
    fit_clv_models,
    fit_spend_model,
)
from crm_analysis.rfm import rfm_summary
from crm_analysis.synthetic import generate_transactions

END = "2024-06-30"


def _returns_table() -> pd.DataFrame:
    """Synthetic customers plus three hand-made ones whose returns fall on a later day.

    R1 buys 80.00 on 2024-01-10 and returns it on 2024-01-20: one repeat
    purchase day of -80, mean repeat spend -80.
    R2 buys 50 on 2024-02-01, 30 on 2024-03-01 and returns the 30 on
    2024-03-05: two repeat days (30, -30), mean repeat spend 0.
    R3 buys 40 on 2024-01-05, 25 on 2024-02-05 and returns 60 on 2024-04-01:
    two repeat days (25, -60), mean -17.5.
    """
    base = generate_transactions(
        n_customers=500, start="2023-01-01", end=END, acquisition_end="2023-06-30", seed=11
    ).transactions[["customer_id", "timestamp", "amount"]]
    hand = pd.DataFrame(
        {
            "customer_id": ["R1", "R1", "R2", "R2", "R2", "R3", "R3", "R3"],
            "timestamp": pd.to_datetime(
                ["2024-01-10", "2024-01-20", "2024-02-01", "2024-03-01", "2024-03-05", "2024-01-05",
                 "2024-02-05", "2024-04-01"]
            ),
            "amount": [80.0, -80.0, 50.0, 30.0, -30.0, 40.0, 25.0, -60.0],
        }
    )
    out = pd.concat([base, hand], ignore_index=True)
    out["customer_id"] = out["customer_id"].astype("string")
    return out


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return _returns_table()


@pytest.fixture(scope="module")
def summary(tx) -> pd.DataFrame:
    return rfm_summary(tx, observation_end=END, time_unit="W")


@pytest.fixture(scope="module")
def analysis(summary):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # frequency-spend correlation check
        return fit_clv_models(summary)


def _population_mean(gg: GammaGammaModel) -> float:
    p, q, v = (float(gg.params_[k]) for k in ("p", "q", "v"))
    return p * v / (q - 1.0)


def test_the_hand_made_customers_have_nonpositive_mean_spend(summary):
    """The input is what the test claims: repeat purchases with mean value -80, 0 and -17.5."""
    assert summary.loc[["R1", "R2", "R3"], "frequency"].tolist() == [1, 2, 2]
    assert summary.loc[["R1", "R2", "R3"], "monetary_value"].tolist() == pytest.approx([-80.0, 0.0, -17.5])


def test_fit_counts_them_and_leaves_them_out(summary, analysis):
    repeat = summary["frequency"] > 0
    n_nonpositive = int((repeat & (summary["monetary_value"] <= 0)).sum())
    assert n_nonpositive == 3  # only the hand-made ones: the synthetic spends are positive
    assert analysis.spend_excluded == {SPEND_NO_REPEAT: int((~repeat).sum()), SPEND_NONPOSITIVE: 3}
    assert analysis.spend_model.n_customers_ == int(repeat.sum()) - 3
    table = analysis.spend_exclusions()
    assert table.loc[SPEND_NONPOSITIVE, "customers"] == 3
    assert "population mean spend" in table.loc[SPEND_NONPOSITIVE, "valued_with"]


def test_value_table_values_them_with_the_population_mean(summary, analysis):
    """No crash; spend = p v/(q-1); undiscounted CLV = margin * spend * E[X(H)] (telescoping sum)."""
    table = analysis.value_table(horizon=26, margin=0.3, discount_rate=0.0).set_index("customer_id")
    pop = _population_mean(analysis.spend_model)
    for cid in ("R1", "R2", "R3"):
        assert table.loc[cid, "expected_spend"] == pytest.approx(pop, rel=1e-12)
    no_repeat = summary.index[summary["frequency"] == 0][0]
    assert table.loc[no_repeat, "expected_spend"] == pytest.approx(pop, rel=1e-12)
    purchases = analysis.transaction_model.expected_purchases(26, summary.loc[["R1", "R2", "R3"]])
    np.testing.assert_allclose(table.loc[["R1", "R2", "R3"], "clv"], 0.3 * pop * purchases, rtol=1e-9)
    assert (table["expected_spend"] > 0).all() and (table["clv"] >= 0).all()
    assert table.attrs["spend_basis"] == {SPEND_NO_REPEAT: int((summary["frequency"] == 0).sum()),
                                          SPEND_NONPOSITIVE: 3}


def test_customer_value_table_and_intervals_do_not_crash(tx, summary, analysis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = customer_value_table(tx, observation_end=END, horizon=26)
    rows = table.set_index("customer_id").loc[["R1", "R2", "R3"]]
    assert np.isfinite(rows[["expected_spend", "clv"]].to_numpy()).all()
    # parameter-uncertainty intervals: the draws use the same rule (few rows: BG/NBD draws are slow)
    few = summary.loc[["R1", "R2", "R3"] + list(summary.index[:5])]
    out = customer_lifetime_value(analysis.transaction_model, analysis.spend_model, few, horizon=26,
                                  intervals=True, n_draws=40, seed=1)
    assert np.isfinite(out[["clv", "clv_param_lower", "clv_param_upper"]].to_numpy()).all()
    assert (out["clv_param_lower"] <= out["clv_param_upper"]).all()
    assert out.attrs["spend_basis"][SPEND_NONPOSITIVE] == 3


def test_batch_scoring_follows_the_same_rule(summary, analysis, tmp_path):
    from crm_analysis.scale import score_in_batches

    path = tmp_path / "summary.parquet"
    summary.reset_index().to_parquet(path)
    result = score_in_batches(path, analysis.transaction_model, analysis.spend_model,
                              out_path=tmp_path / "scores.parquet", horizon=26, batch_size=200)
    scored = pd.read_parquet(result.out_path).set_index("customer_id")
    pop = _population_mean(analysis.spend_model)
    assert scored.loc[["R1", "R2", "R3"], "expected_spend"].to_numpy() == pytest.approx([pop] * 3, rel=1e-12)
    assert result.spend_basis[SPEND_NONPOSITIVE] == 3


@settings(max_examples=60, deadline=None)
@given(
    x=st.lists(st.integers(0, 40), min_size=1, max_size=30),
    m=st.lists(st.floats(-500, 500, allow_nan=False), min_size=30, max_size=30),
    pqv=st.tuples(st.floats(0.3, 20), st.floats(1.05, 20), st.floats(0.5, 200)),
)
def test_expected_spend_property(x, m, pqv):
    """Any frequency and any sign of mean spend: finite positive spend, from the right formula.

    Conditional expectation (x > 0, m > 0): p (v + x m) / (p x + q - 1)
    (Fader & Hardie 2013, eq. 5); otherwise the population mean p v / (q - 1).
    """
    p, q, v = pqv
    gg = GammaGammaModel.from_params([p, q, v])
    data = pd.DataFrame({"frequency": x, "monetary_value": m[: len(x)]})
    out = expected_spend(gg, data)
    xs, ms = data["frequency"].to_numpy(float), data["monetary_value"].to_numpy(float)
    usable = (xs > 0) & (ms > 0)
    expected = np.where(usable, p * (v + xs * np.maximum(ms, 0)) / (p * xs + q - 1), p * v / (q - 1))
    np.testing.assert_allclose(out["expected_spend"].to_numpy(), expected, rtol=1e-12)
    assert (out["expected_spend"] > 0).all()
    basis = out["spend_basis"].to_numpy(dtype=object)
    assert (basis[usable] == "conditional").all()
    assert (basis[(xs > 0) & (ms <= 0)] == SPEND_NONPOSITIVE).all()
    assert (basis[xs == 0] == SPEND_NO_REPEAT).all()


@settings(max_examples=40, deadline=None)
@given(
    x=st.lists(st.integers(0, 40), min_size=1, max_size=30),
    m=st.lists(st.floats(-500, 500, allow_nan=False), min_size=30, max_size=30),
    pqv=st.tuples(st.floats(0.3, 20), st.floats(1.05, 20), st.floats(0.5, 200)),
)
def test_the_model_method_follows_the_same_rule(x, m, pqv):
    """n12 finding F3: GammaGammaModel.expected_average_spend gave a third answer: a repeat buyer with
    mean value 0 got the posterior mean at m = 0 (6.28 on CDNOW where the rule says the population mean
    35.24), a negative one an error without the way out. Now it equals expected_spend for any sign of m
    (formulas as in test_expected_spend_property), with a CRMAnalysisWarning counting the customers
    valued with the population mean."""
    p, q, v = pqv
    gg = GammaGammaModel.from_params([p, q, v])
    data = pd.DataFrame({"frequency": x, "monetary_value": m[: len(x)]})
    xs, ms = data["frequency"].to_numpy(float), data["monetary_value"].to_numpy(float)
    usable = (xs > 0) & (ms > 0)
    expected = np.where(usable, p * (v + xs * np.maximum(ms, 0)) / (p * xs + q - 1), p * v / (q - 1))
    n_out = int(((xs > 0) & (ms <= 0)).sum())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = gg.expected_average_spend(data)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got, expected_spend(gg, data)["expected_spend"].to_numpy(), rtol=1e-12)
    said = [str(w.message) for w in caught if issubclass(w.category, CRMAnalysisWarning)]
    if n_out:
        assert any(f"{n_out} repeat buyer(s) have a zero or negative" in t and "population mean" in t for t in said), said
    else:
        assert not said


def test_fitting_the_model_on_them_names_the_way_out():
    """n12 finding F4: GammaGammaModel.fit on zero or negative mean values says what to use instead."""
    data = pd.DataFrame({"frequency": [1, 2, 3, 1], "monetary_value": [10.0, 0.0, 25.0, 40.0]})
    with pytest.raises(ValueError, match=r"1 repeat buyer\(s\) have a zero or negative 'monetary_value'.*fit_spend_model"):
        GammaGammaModel().fit(data)
    with pytest.raises(ValueError, match=r"1 repeat buyer\(s\) have a zero or negative.*smallest -5.*expected_spend"):
        GammaGammaModel().fit(data.assign(monetary_value=[10.0, -5.0, 25.0, 40.0]))


def test_infinite_population_mean_is_an_error(summary, analysis):
    gg = GammaGammaModel.from_params([2.0, 0.9, 10.0])
    with pytest.raises(ValueError, match=r"q = 0.9 <= 1.*population mean spend"):
        customer_lifetime_value(analysis.transaction_model, gg, summary, horizon=10)


def test_no_usable_spend_is_a_clear_error():
    data = pd.DataFrame({"frequency": [0, 1, 2], "monetary_value": [0.0, -3.0, 0.0]})
    with pytest.raises(ValueError, match=r"1 without repeat purchase, 2 with mean repeat purchase value <= 0"):
        fit_spend_model(data)
    with pytest.raises(ValueError, match=r"'monetary_value' is missing \(NaN\) for 1 customer\(s\) with repeat purchases"):
        fit_spend_model(data.assign(monetary_value=[0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="'monetary_value' has 1 missing, non-numeric or infinite"):
        fit_spend_model(data.assign(monetary_value=[0.0, "n/a", 1.0]))


def test_a_prefitted_model_is_reused_and_checked(summary, analysis):
    bg = analysis.transaction_model
    again = fit_clv_models(summary, transaction_model=bg, spend_model=analysis.spend_model)
    assert again.transaction_model is bg and again.spend_excluded == analysis.spend_excluded
    with pytest.raises(ValueError, match="must be a fitted ParetoNBDModel"):
        fit_clv_models(summary, model="pareto_nbd", transaction_model=bg)
    with pytest.raises(ValueError, match="must be a fitted BetaGeoModel"):
        fit_clv_models(summary, transaction_model=BetaGeoModel())


@pytest.mark.shared_data
@pytest.mark.slow
def test_online_retail_with_returns_kept(shared_data):
    """UCI Online Retail with the returns kept: 190+ customers have a negative mean; no crash.

    The count of customers with repeat purchase days and a mean repeat purchase-day value <= 0 is
    recomputed here with pandas from the cleaned lines (days summed per customer, first day dropped).
    """
    from crm_analysis import data as cdata

    raw = cdata.load_source(
        {"loader": "online_retail", "path": str(shared_data / "online_retail" / "online_retail.parquet")},
        "transactions",
    )
    tx = cdata.clean_transactions(raw, policy=cdata.CleaningPolicy(returns="keep")).data
    day = tx.assign(day=tx["timestamp"].dt.normalize()).groupby(["customer_id", "day"])["amount"].sum()
    day = day.reset_index().sort_values(["customer_id", "day"])
    repeat_days = day[day.duplicated("customer_id", keep="first")]
    mean_repeat = repeat_days.groupby("customer_id")["amount"].mean()
    n_nonpositive = int((mean_repeat <= 0).sum())
    assert n_nonpositive > 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        summary = rfm_summary(tx, observation_end="2011-12-09", time_unit="W")
        analysis = fit_clv_models(summary)
        # value the customers concerned (the whole table is slow here for a reason unrelated to spend:
        # with a + b < 1 the BG/NBD expectation of every non-repeater is integrated numerically)
        ids = list(mean_repeat.index[mean_repeat <= 0].astype(str))
        table = dataclasses.replace(analysis, summary=summary.loc[ids]).value_table(horizon=52)
    assert analysis.spend_excluded[SPEND_NONPOSITIVE] == n_nonpositive
    assert np.isfinite(table[["expected_spend", "clv"]].to_numpy()).all()
    assert table["expected_spend"].to_numpy() == pytest.approx(_population_mean(analysis.spend_model), rel=1e-12)
