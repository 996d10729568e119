"""BG/NBD and MBG/NBD predictions at horizons far beyond any practical one (findings_12u F1).

With ``a < 1`` a new customer's ``E[X(t)]`` grows without bound, like ``t^(1-a)``; the package
flattened that growth silently above ``t / alpha ~ 1e20`` (0.5 % low at 2e21, 93 % low at 2e29) and
returned NaN above ~1e45. The values themselves are checked against the mpmath table in
``test_reference.py::test_against_reference_long_horizon``; here, properties that hold for all
parameters:

* the exact growth law for ``a < 1``: ``E[X(t)] = C t^(1-a) + O(1)`` with
  ``C = r B(a, r+1-a) / ((1-a) B(a, b) alpha^(1-a))`` (BG/NBD eq. 7 integrated over ``p`` with
  ``int_0^inf s^(a-2) (1 - (1+s)^-r) ds = r B(a, r+1-a) / (1-a)``, by parts), and the ``O(1)`` term
  bounded by ``K = (1/(1-a) + max(b-1, 1)/a) / B(a, b)`` for ``b >= 1`` (``int_1^inf p^(a-2) dp`` plus
  ``int_0^1 p^(a-2) (1 - (1-p)^(b-1)) dp <= max(b-1, 1)/a``: ``1 - (1-p)^c <= max(c, 1) p``); the MBG/NBD is ``b/(a+b)`` times the same with
  ``b + 1``;
* ``E[X(t)]`` is non-decreasing in ``t`` for every ``a``, up to ``t / alpha = 1e290``;
* horizons too long to compute are refused with an error that names ``t`` and the limit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from crm_analysis.clv import BetaGeoModel, ModifiedBetaGeoModel
from crm_analysis.exceptions import InputError

MODELS = [BetaGeoModel, ModifiedBetaGeoModel]


def _growth(model, r, alpha, a, b):
    """``(C, K)``: ``|E[X(t)] - C t^(1-a)| <= K`` for ``a < 1 <= b`` (module docstring)."""
    if model is ModifiedBetaGeoModel:
        c, k = _growth(BetaGeoModel, r, alpha, a, b + 1.0)
        return b / (a + b) * c, b / (a + b) * k
    log_b = special.betaln(a, b)
    log_c = np.log(r) + special.betaln(a, r + 1.0 - a) - np.log1p(-a) - log_b + (a - 1.0) * np.log(alpha)
    return np.exp(log_c), (1.0 / (1.0 - a) + max(b - 1.0, 1.0) / a) / np.exp(log_b)


@settings(max_examples=20, deadline=None)
@given(
    r=st.floats(1e-2, 1e2),
    alpha=st.floats(1e-2, 1e2),
    a=st.floats(0.02, 0.95),
    b=st.floats(1.0, 1e3),
    model=st.sampled_from(MODELS),
)
def test_growth_law_for_a_below_one(r, alpha, a, b, model):
    """``|E[X(t)] - C t^(1-a)| <= K`` at t / alpha = 1e25 ... 1e280 (the old code: 5e5 for C t^(1-a) = 7e6 at
    the CDNOW fit and t = 1e30, K = 11), scalar and array horizons alike."""
    m = model.from_params([r, alpha, a, b])
    c, k = _growth(model, r, alpha, a, b)
    t = alpha * np.geomspace(1e25, 1e280, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = m.expected_purchases_new(t)
        single = m.expected_purchases_new(float(t[-1]))
    assert np.all(np.isfinite(got))
    lead = c * t ** (1.0 - a)
    assert np.all(np.abs(got - lead) <= k * (1 + 1e-9) + 1e-9 * lead), (got / lead - 1, k / lead)
    assert single == pytest.approx(got[-1], rel=1e-12)


@settings(max_examples=20, deadline=None)
@given(
    r=st.floats(1e-3, 1e2),
    alpha=st.floats(1e-3, 1e3),
    a=st.floats(1e-3, 1e3),
    b=st.floats(1e-3, 1e3),
    model=st.sampled_from(MODELS),
)
def test_expected_purchases_increase_with_t(r, alpha, a, b, model):
    """E[X(t)] is non-decreasing in t from t / alpha = 1 to 1e290 (a < 1, a = 1, a > 1, a + b < 1 all drawn),
    finite and positive; E[Y(t) | x, t_x, T] likewise for a repeat buyer, with T = 1e30, t_x = 5e29, and for a
    customer without one, positive wherever P(alive) is above 1e-300 (computed here in log space from Fader, Hardie
    & Lee 2005 / Batislam et al. 2007: MBG/NBD r = 77, alpha = 0.0039, a = b = 1 has P(alive) 1.4e-309 for x = 0,
    T = 40, and E[Y] was 0 from the first horizon, a product 0 * E; the value is 1.06e-311 ... 1.87e-306)."""
    m = model.from_params([r, alpha, a, b])
    t = alpha * np.geomspace(1.0, 1e290, 30)
    cust = pd.DataFrame({"frequency": [0, 4, 7], "recency": [0.0, 30.0, 5e29], "T": [40.0, 40.0, 1e30]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = m.expected_purchases_new(t)
        cond = m.expected_purchases_grid(t, cust)
    x, t_x, T = (cust[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    mbg = model is ModifiedBetaGeoModel
    with np.errstate(invalid="ignore"):  # log(b - 1) of the BG/NBD's x = 0 row, which has P(alive) 1
        log_odds = np.log(a) - np.log(b + x - (0.0 if mbg else 1.0)) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        log_alive = np.where((x > 0) | mbg, -np.logaddexp(0.0, log_odds), 0.0)
    for row, positive in ((new, True), *zip(cond, log_alive > np.log(1e-300))):
        assert np.all(np.isfinite(row)) and np.all(row >= 0) and (not positive or np.all(row > 0)), row
        assert np.all(np.diff(row) >= -1e-10 * row[1:]), row


def test_tiny_p_alive_times_expectation_is_not_flushed_to_zero():
    """The hypothesis example above (MBG/NBD r = 77, alpha = 0.0039, a = b = 1; x = 0, T = 40): P(alive) = 1 / (1 +
    (a / b) ((alpha + T) / alpha)^r) = e^-711.17 = 1.41e-309 (not 0), and E[Y(t)] at t = alpha 1e290 is P(alive)
    times an expectation if alive of about 1.3e3 (a = 1: logarithmic growth): 1.87e-306 (mpmath, 40 digits, of the
    same closed form at a = 1 + 1e-30), where 0 * 1.3e3 was returned."""
    m = ModifiedBetaGeoModel.from_params([77.0, 0.0039, 1.0, 1.0])
    cust = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [40.0]})
    log_alive = -np.logaddexp(0.0, 77.0 * np.log((0.0039 + 40.0) / 0.0039))
    assert m.probability_alive(cust)[0] == pytest.approx(np.exp(log_alive), rel=1e-10, abs=0)  # subnormal: rel 1e-10 ok
    big = m.expected_purchases_grid([0.0039 * 1e290], cust)[0, 0]
    ref = np.exp(log_alive) * m._expected_if_alive(np.array([0.0039e290]), np.zeros(1), np.array([40.0]))[0, 0]
    assert big > 0 and big == pytest.approx(ref, rel=1e-9, abs=0)  # 4e-14 measured; abs=0: the default abs 1e-12 accepts any tiny value


@pytest.mark.parametrize("model", MODELS)
def test_too_long_horizon_is_refused(model):
    """(r + 8) t / alpha above 1e305 cannot be computed in double precision: an InputError naming t and the limit,
    for a new customer and for the conditional expectation (never NaN, inf or a wrong number)."""
    m = model.from_params([1.0, 1e-3, 0.5, 2.0])
    with pytest.raises(InputError, match=r"horizon t = 1e\+305 .*\(r \+ 8\) t / alpha <= 1e305.*use t <= "):
        m.expected_purchases_new(1e305)
    with pytest.raises(InputError, match=r"horizon t = 1e\+305"):
        m.expected_purchases_new([1.0, 1e305])
    cust = pd.DataFrame({"frequency": [2], "recency": [3.0], "T": [5.0]})
    with pytest.raises(InputError, match=r"horizon t = 1e\+308"):
        m.expected_purchases(1e308, cust)
    # just below the limit: finite
    assert np.isfinite(m.expected_purchases_new(1e300))


def test_cdnow_fit_at_long_horizons():
    """The CDNOW BG/NBD fit (Fader, Hardie & Lee 2005) at t = 1e30 weeks: about 7.0e6 purchases (findings_12u's
    mpmath value 6,992,011.248; the old code returned 518,226), and its growth law."""
    m = BetaGeoModel.from_params([0.243, 4.414, 0.793, 2.426])
    c, k = _growth(BetaGeoModel, 0.243, 4.414, 0.793, 2.426)
    got = m.expected_purchases_new(1e30)
    assert abs(got - c * 1e30 ** (1 - 0.793)) <= k
    m = BetaGeoModel.from_params([0.24, 4.4, 0.79, 2.4])
    assert m.expected_purchases_new(1e30) == pytest.approx(6992011.2484307615, rel=1e-9)
