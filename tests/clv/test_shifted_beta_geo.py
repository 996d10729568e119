"""Tests of the sBG model (Fader & Hardie 2007, J. Interactive Marketing 21(1); DERL: Fader & Hardie 2010,
Marketing Science 29(1))."""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.clv import BaseLikelihoodModel, ShiftedBetaGeoModel, survival_to_renewals

# Fader & Hardie (2007), "How to project customer retention", Table 1: % of each cohort still active
# at the start of years 1..8 (t = 0..7 renewals), and the estimates of section "Fitting the model"
REGULAR = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]
HIGH_END = [100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1]


@pytest.mark.parametrize(
    ("survival", "gamma", "delta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)], ids=["regular", "high_end"]
)
def test_reproduces_published_estimates(survival, gamma, delta):
    """Fader & Hardie (2007): regular alpha 0.704, beta 1.182; high end 0.668, 3.806 (our gamma, delta),
    printed to 3 decimals (tolerance half a unit of the last digit). The paper's cohorts are 1,000 customers;
    the estimates do not depend on that size (the curve is scaled), checked with 250."""
    m = ShiftedBetaGeoModel().fit_survival(survival, n_customers=1000)
    assert m.params_["gamma"] == pytest.approx(gamma, abs=5e-4)
    assert m.params_["delta"] == pytest.approx(delta, abs=5e-4)
    small = ShiftedBetaGeoModel().fit_survival(survival, n_customers=250)
    np.testing.assert_allclose(small.params_, m.params_, rtol=1e-7)
    assert small.standard_errors_["gamma"] == pytest.approx(2 * m.standard_errors_["gamma"], rel=1e-4)  # SE ~ 1/sqrt(N)


def test_counts_and_records_give_the_same_fit():
    """Fitting the survival counts equals fitting one record per customer."""
    counts = [1000, 631, 468, 382, 326, 289, 262, 241]
    a = ShiftedBetaGeoModel().fit_survival(counts)
    rec = survival_to_renewals(counts)
    per_customer = rec.loc[rec.index.repeat(rec["count"].astype(int))].drop(columns="count")
    b = ShiftedBetaGeoModel().fit(per_customer)
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-8)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-12)


def test_probabilities_are_consistent():
    """S(t) = 1 - sum_{k<=t} P(T = k); retention r_t = S(t)/S(t-1) (the identities of the 2007 paper, eq. 2-4)."""
    m = ShiftedBetaGeoModel.from_params({"gamma": 0.704, "delta": 1.182})
    t = np.arange(1, 30)
    np.testing.assert_allclose(m.survival(t), 1 - np.cumsum(m.churn_probability(t)), rtol=1e-12)
    np.testing.assert_allclose(m.retention_rate(t), m.survival(t) / m.survival(t - 1), rtol=1e-12)
    assert np.all(np.diff(m.retention_rate(t)) > 0)  # survivors are ever more loyal (heterogeneity)


@settings(max_examples=40, deadline=None)
@given(g=st.floats(0.2, 5.0), d=st.floats(0.2, 8.0), rate=st.floats(0.02, 0.5), n=st.integers(0, 12))
def test_derl_equals_direct_discounted_sum(g, d, rate, n):
    """Fader & Hardie (2010), eq. (6): the hypergeometric DERL equals its definition, the direct sum
    sum_{k>=0} S(n+1+k)/S(n) / (1+d)^k (terms until the discount factor is below 1e-18), rtol 1e-9."""
    from scipy import special

    m = ShiftedBetaGeoModel.from_params([g, d])
    k = np.arange(int(np.ceil(18 * np.log(10) / np.log1p(rate))) + 1)
    terms = np.exp(special.betaln(g, d + n + 1 + k) - special.betaln(g, d + n) - k * np.log1p(rate))
    assert float(m.derl(rate, renewals=n)) == pytest.approx(float(terms.sum()), rel=1e-9)


def test_derl_high_precision_reference():
    """The same at the published regular-cohort estimates against mpmath's summation (30 digits), rtol 1e-12."""
    g, d, rate = 0.704, 1.182, 0.1
    m = ShiftedBetaGeoModel.from_params([g, d])
    mpmath.mp.dps = 30
    for n in (0, 1, 4):
        direct = mpmath.nsum(
            lambda k: mpmath.beta(g, d + n + 1 + k) / mpmath.beta(g, d + n) / mpmath.power(1 + rate, k), [0, mpmath.inf]
        )
        assert float(m.derl(rate, renewals=n)) == pytest.approx(float(direct), rel=1e-12)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_parameter_recovery(seed):
    """Simulated records (5,000 customers, 8 opportunities) at gamma 0.7, delta 1.2: estimates within 4 SE."""
    truth = ShiftedBetaGeoModel.from_params([0.7, 1.2])
    sim = truth.sample(5000, 8, seed=seed)
    m = ShiftedBetaGeoModel().fit(sim)
    z = (m.params_ - truth.params_) / m.standard_errors_
    assert np.all(np.abs(z) < 4), z.to_dict()


@pytest.mark.parametrize(
    ("survival", "kwargs", "message"),
    [
        ([100, 63.1, 70.0], {"n_customers": 1000}, "rises from 63.1 to 70 at period 2"),
        ([100, 63.1], {}, "not whole counts"),
        ([0, 0], {}, "positive first value"),
        ([1000], {}, "at least one later period"),
    ],
)
def test_bad_survival_curves(survival, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ShiftedBetaGeoModel().fit_survival(survival, **kwargs)


def test_bad_records():
    good = pd.DataFrame({"renewals": [0, 1, 2, 3], "churned": [True, True, False, False]})
    with pytest.raises(ValueError, match="'renewals' has 1 negative or non-integer"):
        ShiftedBetaGeoModel().fit(good.assign(renewals=[0, 1.5, 2, 3]))
    with pytest.raises(ValueError, match="'churned' has 1 value"):
        ShiftedBetaGeoModel().fit(good.assign(churned=[True, "maybe", False, False]))
    with pytest.raises(ValueError, match="both cancellations and renewals"):
        ShiftedBetaGeoModel().fit(good.assign(churned=False))
    m = ShiftedBetaGeoModel.from_params([0.7, 1.2])
    with pytest.raises(ValueError, match="discount_rate"):
        m.derl(0.0)


def test_round_trip():
    m = ShiftedBetaGeoModel().fit_survival(REGULAR, n_customers=1000)
    loaded = BaseLikelihoodModel.from_dict(json.loads(json.dumps(m.to_dict())))
    np.testing.assert_array_equal(loaded.survival(np.arange(13)), m.survival(np.arange(13)))
    assert loaded.fit_result_.bic == m.fit_result_.bic
