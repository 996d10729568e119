"""Uplift models and Qini / uplift curves (crm_analysis.campaigns.uplift), on a known truth.

Parameter recovery: on a simulated randomised campaign with a known uplift per
customer (crm_analysis.synthetic.simulate_campaign), ranking by the true
uplift (the oracle) must beat the fitted models on held-out customers, and the
models must beat random targeting (Qini coefficient > 0). The Qini curve
itself is checked on a small example computed by hand (Radcliffe 2007).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.campaigns import (
    CampaignInputError,
    ClassTransformationUplift,
    TwoModelUplift,
    analyse_campaign,
    campaign_data,
    prepare_features,
    qini_interval,
    targeting_table,
    uplift_curves,
)
from crm_analysis.synthetic import simulate_campaign

FEATURES = ["recency", "history", "channel", "newbie"]


def test_qini_curve_by_hand():
    # scores 4..1 on four customers; treated responders first
    y = np.array([1, 0, 1, 0])
    w = np.array([1, 0, 0, 1])
    s = np.array([4.0, 3.0, 2.0, 1.0])
    c = uplift_curves(y, w, s)
    # k=1: rt=1, nc=0 -> Q = 1; k=2: rt=1, rc=0 -> 1; k=3: rt=1, rc=1, nt=1, nc=2 -> 1 - 1*1/2 = 0.5;
    # k=4: rt=1, rc=1, nt=2, nc=2 -> 0
    np.testing.assert_allclose(c.qini, [0, 1, 1, 0.5, 0])
    # uplift curve: k=2: (1/1 - 0/1) * 2 = 2; k=3: (1 - 1/2) * 3 = 1.5; k=4: (1/2 - 1/2) * 4 = 0
    np.testing.assert_allclose(c.uplift, [0, 0, 2, 1.5, 0])
    # area between curve and the random line (here 0 at the end), x and y scaled by N = 4
    x = np.arange(5) / 4
    yq = np.array([0, 1, 1, 0.5, 0]) / 4
    assert c.qini_coefficient == pytest.approx(np.trapezoid(yq, x))


def test_tied_scores_are_one_step():
    y = np.array([1, 0, 1, 0])
    w = np.array([1, 0, 0, 1])
    c = uplift_curves(y, w, np.zeros(4))
    np.testing.assert_array_equal(c.n, [0, 4])
    assert c.qini_coefficient == pytest.approx(0.0)


@pytest.fixture(scope="module")
def experiment():
    sim = simulate_campaign(n_customers=20_000, seed=3)
    data = campaign_data(sim.table, control="control")
    return sim, analyse_campaign(data, "email", features=FEATURES, outcome="visit", seed=3, contact_cost=0.5,
                                 margin=0.4)


def test_oracle_beats_models_beat_random(experiment):
    sim, a = experiment
    t = a.test.merge(sim.truth, on="customer_id")
    oracle = uplift_curves(t["visit"].to_numpy(), t["treated"].to_numpy(), t["tau"].to_numpy(), label="oracle")
    for c in a.curves:
        assert oracle.qini_coefficient > c.qini_coefficient > 0, c.label
        assert np.corrcoef(t["tau"], t[f"score_{c.label}"])[0, 1] > 0.6, c.label
    # a random order sits near 0: far below the models
    rng = np.random.default_rng(0)
    rnd = uplift_curves(t["visit"].to_numpy(), t["treated"].to_numpy(), rng.random(len(t)))
    assert abs(rnd.qini_coefficient) < 0.5 * min(c.qini_coefficient for c in a.curves)


@pytest.mark.slow
def test_class_transformation_weights_unequal_groups():
    """With 20 % treated, the weighted class transformation still estimates the mean uplift (truth +/- 0.02)."""
    sim = simulate_campaign(n_customers=30_000, seed=5, treatment_share=0.2)
    t = sim.table
    X, _ = prepare_features(t, FEATURES)
    m = ClassTransformationUplift(seed=0).fit(X, t["visit"].to_numpy(), (t["group"] == "email").to_numpy())
    assert m.treated_share_ == pytest.approx(0.2, abs=0.01)
    assert m.predict(X).mean() == pytest.approx(sim.truth["tau"].mean(), abs=0.02)


@pytest.mark.slow
def test_two_model_learns_the_treated_and_control_rates():
    sim = simulate_campaign(n_customers=30_000, seed=6)
    t = sim.table
    X, _ = prepare_features(t, FEATURES)
    m = TwoModelUplift(seed=0).fit(X, t["visit"].to_numpy(), (t["group"] == "email").to_numpy())
    p1, p0 = m.predict_outcomes(X)
    assert abs(p1.mean() - sim.truth["p1"].mean()) < 0.01 and abs(p0.mean() - sim.truth["p0"].mean()) < 0.01


def test_targeting_table_by_hand():
    t = targeting_table(["a", "b", "c"], np.array([0.10, 0.01, -0.02]), contact_cost=1.0, margin=0.5,
                        value_per_response=40.0)
    # expected profit: 0.5 * 40 * u - 1 -> a: 1.0, b: -0.8, c: -1.4
    assert t["customer_id"].tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(t["expected_profit"], [1.0, -0.8, -1.4])
    assert t["contact"].tolist() == [True, False, False] and t["rank"].tolist() == [1, 2, 3]
    with pytest.raises(CampaignInputError, match="margin"):
        targeting_table(["a"], np.array([0.1]), contact_cost=1.0, margin=2.0, value_per_response=1.0)


def test_profit_curve_and_targeting_of_the_analysis(experiment):
    sim, a = experiment
    pc = a.profit_curve()
    assert pc["customers"].iloc[0] == 0 and pc["customers"].iloc[-1] == len(a.test)
    np.testing.assert_allclose(pc["profit"], 0.4 * pc["incremental_spend"] - 0.5 * pc["customers"])
    tt = a.targeting()
    assert len(tt) == len(sim.table) and tt["expected_profit"].is_monotonic_decreasing
    assert (tt["uplift_source"] == "model").all()  # the fixture's model beats random
    assert a.value_per_response > 0 and "treated responders" in a.notes[0]


def test_uplift_models_refuse_bad_inputs():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(CampaignInputError, match="0/1 outcome"):
        TwoModelUplift().fit(X, np.array([0, 1, 2, 0]), np.array([0, 1, 0, 1]))
    with pytest.raises(CampaignInputError, match="only one outcome value"):
        TwoModelUplift().fit(X, np.array([1, 1, 0, 1]), np.array([1, 1, 0, 0]))
    with pytest.raises(CampaignInputError, match=r"missing column\(s\) \['nope'\] in the table \(feature columns\)"):
        prepare_features(X, ["nope"])
    with pytest.raises(CampaignInputError, match="treatment must hold 0"):
        uplift_curves(np.ones(3), np.ones(3), np.arange(3.0))


# --- found by a newcomer's try-out (issue 16): a model no better than random drove the contact list silently -------

def test_qini_interval_separates_a_real_ranking_from_a_random_one(experiment):
    sim, a = experiment
    t = a.test.merge(sim.truth, on="customer_id")
    y, w = t["visit"].to_numpy(), t["treated"].to_numpy()
    lo, hi = qini_interval(y, w, t["tau"].to_numpy(), seed=1)          # the oracle
    point = uplift_curves(y, w, t["tau"].to_numpy()).qini_coefficient
    assert 0 < lo < point < hi
    rng = np.random.default_rng(2)
    lo, hi = qini_interval(y, w, rng.random(len(t)), seed=1)           # a random order
    assert lo < 0 < hi
    assert qini_interval(y, w, t["tau"].to_numpy(), seed=1) == qini_interval(y, w, t["tau"].to_numpy(), seed=1)
    # the fitted models of the fixture beat random, and nothing says otherwise
    assert a.beats_random and a.qini_interval[0] > 0
    assert not any("better than random" in n for n in a.notes)
    with pytest.raises(CampaignInputError, match="n_boot"):
        qini_interval(y, w, t["tau"].to_numpy(), n_boot=10)


def test_a_model_on_noise_says_it_does_not_beat_random():
    sim = simulate_campaign(n_customers=4_000, seed=8)
    table = sim.table.assign(noise=np.random.default_rng(8).normal(size=len(sim.table)))
    from sklearn.linear_model import LogisticRegression

    a = analyse_campaign(campaign_data(table, control="control"), "email", features=["noise"], outcome="visit",
                         seed=8, estimator=LogisticRegression(), models=("two_model",))
    assert a.beats_random is False and a.qini_interval[0] <= 0 <= a.qini_interval[1]
    assert any("does not rank the held-out customers better than random" in n for n in a.notes)
    # the targeting then gives everyone the campaign's overall uplift: one decision for all, not noise
    tt = a.targeting()
    assert (tt["uplift_source"] == "overall").all() and tt["contact"].nunique() == 1
    overall = a.uplift.query("segment == 'all' and outcome == 'visit'")["uplift"].iloc[0]
    np.testing.assert_allclose(tt["uplift"], overall)
    assert tt["contact"].iloc[0] == bool(a.margin * overall * a.value_per_response > a.contact_cost)
    # asked for, the per-customer uplifts are still available
    assert (a.targeting(per_customer=True)["uplift_source"] == "model").all()


@pytest.mark.parametrize("cls", [TwoModelUplift, ClassTransformationUplift])
def test_random_state_is_a_deprecated_alias_of_seed_and_clone_keeps_both(cls):
    """Issue #13 pt 9: ``seed`` is the package's one name; ``random_state`` still works, with a FutureWarning."""
    from sklearn.base import clone

    from crm_analysis.campaigns.uplift import default_classifier
    from crm_analysis.exceptions import InputError

    t = simulate_campaign(n_customers=2_000, seed=3).table
    X, _ = prepare_features(t, FEATURES)
    y, w = t["visit"].to_numpy(), (t["group"] == "email").to_numpy()
    new = cls(seed=4).fit(X, y, w)
    old = cls(random_state=4)
    assert old.get_params() == {"estimator": None, "seed": None, "random_state": 4}
    assert clone(old).get_params() == old.get_params()
    with pytest.warns(FutureWarning, match=r"random_state=\.\.\.\) is deprecated: use seed"):
        old.fit(X, y, w)
    np.testing.assert_array_equal(old.predict(X), new.predict(X))
    assert default_classifier(seed=9).random_state == 9
    with pytest.warns(FutureWarning):
        assert default_classifier(random_state=9).random_state == 9
    with pytest.raises(InputError, match="seed=1 and the deprecated random_state=2 disagree"):
        cls(seed=1, random_state=2).fit(X, y, w)
    with pytest.raises(TypeError):
        cls(None)  # options are keyword-only
