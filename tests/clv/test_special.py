"""Tests of crm_analysis.clv._special against mpmath at 50 digits (an independent high-precision computation)."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm_analysis.clv._special import (
    CountSums,
    digamma_difference,
    log1pexp,
    log1pexp_and_expit,
    log_beta,
    log_rising,
    trigamma_difference,
)


def _ref_rising(z: float, x: float) -> float:
    with mp.workdps(50):
        return float(mp.loggamma(mp.mpf(z) + mp.mpf(x)) - mp.loggamma(mp.mpf(z)))


def _ref_digamma(z: float, x: float) -> float:
    with mp.workdps(50):
        return float(mp.digamma(mp.mpf(z) + mp.mpf(x)) - mp.digamma(mp.mpf(z)))


@settings(max_examples=60, deadline=None)
@given(
    log_z=st.floats(-6, 30),  # z from 2.5e-3 to 1e13 (a BG/NBD fit on no-dropout data ran to b = 7e9)
    x=st.integers(0, 10_000).map(float),  # the models use counts: x, x + 1
)
def test_log_rising_and_digamma_difference_match_mpmath(log_z, x):
    z = float(np.exp(log_z))
    ref = _ref_rising(z, x)
    got = float(log_rising(z, x))
    assert got == pytest.approx(ref, rel=1e-12, abs=1e-300)
    ref_d = _ref_digamma(z, x)
    got_d = float(digamma_difference(z, x))
    assert got_d == pytest.approx(ref_d, rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("z", [float(np.exp(4.6e-11)), float(np.exp(-3e-13)), 1.0 + 2**-40, 0.5, 2.5e-3])
@pytest.mark.parametrize("x", [1.0, 2.0, 3.0, 32.0, 33.0])
def test_log_rising_next_to_one(z, x):
    """Found by hypothesis (log_z = 4.6e-11, x = 1): the gammaln difference was 5e-11 off relatively near z = 1."""
    assert float(log_rising(z, x)) == pytest.approx(_ref_rising(z, x), rel=1e-12, abs=1e-300)


def test_large_argument_where_the_plain_difference_fails():
    """At b = 7.2e9, x = 1 gammaln(b + 1) - gammaln(b) is wrong by ~1e-5; log_rising is exact to rounding."""
    from scipy import special

    z = 7.2e9
    ref = _ref_rising(z, 1.0)  # = log(z)
    assert abs(special.gammaln(z + 1) - special.gammaln(z) - ref) > 1e-7  # the plain difference (documents why)
    assert float(log_rising(z, 1.0)) == pytest.approx(np.log(z), rel=1e-15)
    assert float(digamma_difference(z, 1.0)) == pytest.approx(1.0 / z, rel=1e-12, abs=0)


def _ref_trigamma(z: float, x: float) -> float:
    with mp.workdps(50):
        return float(mp.psi(1, mp.mpf(z) + mp.mpf(x)) - mp.psi(1, mp.mpf(z)))


@settings(max_examples=60, deadline=None)
@given(log_z=st.floats(-6, 28), log_x=st.floats(-3, 28), as_array=st.booleans())
@example(log_z=float(np.log(1e8)), log_x=float(np.log(0.1)), as_array=False)
def test_trigamma_difference_matches_mpmath(log_z, log_x, as_array):
    """psi'(z + x) - psi'(z) for z from 2.5e-3 to 1.4e12 and x from 0.05 to 1.4e12 (the Gamma-Gamma Hessian: z, x
    are p x and q): mpmath at 50 digits, rel 1e-9 (measured ~1e-12 at worst, where z < 1000 and x << z)."""
    z, x = float(np.exp(log_z)), float(np.exp(log_x))
    got = trigamma_difference(np.array([z, 2.0]), x)[0] if as_array else float(trigamma_difference(z, x))
    assert got == pytest.approx(_ref_trigamma(z, x), rel=1e-9, abs=1e-300)


def test_trigamma_difference_where_the_plain_difference_fails():
    """At z = 1e10, x = 1 the plain difference of trigamma values (~1e-10 each, differing by ~1e-20) is wrong by
    6e-7 relatively (2.5e-8 at z = 1e8, x = 0.1); the series is exact to rounding."""
    from scipy import special

    z = 1e10
    ref = _ref_trigamma(z, 1.0)
    assert abs((special.zeta(2.0, z + 1.0) - special.zeta(2.0, z)) / ref - 1.0) > 1e-8  # documents why
    assert float(trigamma_difference(z, 1.0)) == pytest.approx(ref, rel=1e-13, abs=0)  # ref ~ 1e-20


def _ref_log_beta(a: float, b: float) -> float:
    with mp.workdps(50):
        return float(mp.log(mp.beta(mp.mpf(a), mp.mpf(b))))


@settings(max_examples=80, deadline=None)
@given(log_a=st.floats(-7, 30), log_b=st.floats(-7, 30))
def test_log_beta_matches_mpmath(log_a, log_b):
    """log B(a, b) over a, b in [1e-3, 1e13] (Gamma-Gamma: a = p x, b = q) against mpmath at 50 digits.
    Absolute error 1e-12 * max(|log B|, 10): where log B is near 0 (both below 1000, scipy.special.betaln's
    range) only absolute accuracy is meaningful; elsewhere it is a relative bound."""
    a, b = float(np.exp(log_a)), float(np.exp(log_b))
    ref = _ref_log_beta(a, b)
    assert abs(float(log_beta(a, b)) - ref) <= 1e-12 * max(abs(ref), 10.0)


@pytest.mark.parametrize("a, b", [(1.0, 1e12), (50.0, 1e7), (3.25, 2.4e9), (2000.0, 1e12), (1e6, 1e6), (999.0, 1001.0)])
def test_log_beta_where_gammaln_and_betaln_lose_digits(a, b):
    """The plain gammaln sum is 6e-5 off at (1, 1e12); scipy's betaln 5e-11 at (50, 1e7); log_beta rel 1e-14."""
    assert float(log_beta(a, b)) == pytest.approx(_ref_log_beta(a, b), rel=1e-14)


@settings(max_examples=40, deadline=None)
@given(log_z=st.floats(-6, 30), top=st.integers(1, 200))
@example(log_z=15.609827690848444, top=1)  # float ** 2 vs array ** 2 rounding: -7.5e-46 instead of 0 at x = 0
def test_one_z_many_counts_matches_mpmath(log_z, top):
    """The likelihoods' call: one z and an array of the distinct counts (its own code path, a running sum of
    log(z + k) for the counts up to 32), each value against mpmath at 50 digits, tolerances as above (found by
    this test: at z = e^13.25, x = 0 the Stirling differences gave 2e-36 instead of 0)."""
    z = float(np.exp(log_z))
    x = np.unique(np.r_[0.0, 1.0, 2.0, np.geomspace(1, top, 12).round(), float(top)])
    got = log_rising(z, x)
    assert got.shape == x.shape
    got_d = digamma_difference(z, x)
    for xi, gi, di in zip(x, got, got_d):
        assert gi == pytest.approx(_ref_rising(z, xi), rel=1e-12, abs=1e-300)
        assert di == pytest.approx(_ref_digamma(z, xi), rel=1e-10, abs=1e-300)


@settings(max_examples=60, deadline=None)
@given(d=st.lists(st.floats(-800, 800), min_size=1, max_size=20))
def test_log1pexp_and_expit_match_mpmath(d):
    """log(1 + e^d) and 1 / (1 + e^-d) against mpmath at 50 digits (relative 1e-14 where above 1e-300)."""
    d = np.asarray(d, float)
    sp, sig = log1pexp_and_expit(d)
    with mp.workdps(50):
        ref_sp = [float(mp.log1p(mp.exp(mp.mpf(v)))) for v in d]
        ref_sig = [float(1 / (1 + mp.exp(-mp.mpf(v)))) for v in d]
    for got, ref in ((sp, ref_sp), (sig, ref_sig)):
        for g, r in zip(got, ref):
            if abs(r) > 1e-300:
                assert g == pytest.approx(r, rel=1e-14, abs=0)
            else:
                assert abs(g) <= 1e-300


@settings(max_examples=40, deadline=None)
@given(d=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50))
def test_log1pexp_is_the_softplus_of_log1pexp_and_expit_bit_for_bit(d):
    """:func:`log1pexp` (the likelihoods' value-only evaluations) equals the first array of :func:`log1pexp_and_expit`
    (their evaluations with a gradient) to the last bit, NaN and infinities included, so a start chosen by value is
    the one chosen before (reference: log1pexp_and_expit, checked against mpmath above)."""
    d = np.asarray(d, float)
    assert log1pexp(d).tobytes() == log1pexp_and_expit(d)[0].tobytes()


def test_log1pexp_and_expit_at_infinities():
    sp, sig = log1pexp_and_expit(np.array([-np.inf, np.inf, 0.0]))
    assert sp.tolist() == [0.0, np.inf, float(np.log(2.0))]
    assert sig.tolist() == [0.0, 1.0, 0.5]


@settings(max_examples=30, deadline=None)
@given(
    log_z=st.floats(-6, 30),
    counts=st.lists(st.integers(0, 3000), min_size=1, max_size=8),
    weights=st.lists(st.floats(0.5, 1e4), min_size=8, max_size=8),
    frac=st.booleans(),
)
def test_count_sums_match_mpmath(log_z, counts, weights, frac):
    """CountSums (the weighted sums of the likelihoods: running sums of log(z + k) and 1/(z + k), counts above
    max_terms = 512 and fractional ones by log_rising) against mpmath at 50 digits, relative 1e-12 / 1e-10."""
    z = float(np.exp(log_z))
    x = np.asarray(counts, float) + (0.5 if frac else 0.0) * (np.arange(len(counts)) % 2)
    w = np.asarray(weights[: len(counts)], float)
    cs = CountSums(x, w)
    with mp.workdps(50):
        ref = float(sum(mp.mpf(wi) * (mp.loggamma(mp.mpf(z) + mp.mpf(xi)) - mp.loggamma(mp.mpf(z))) for wi, xi in zip(w, x)))
        ref_d = float(sum(mp.mpf(wi) * (mp.digamma(mp.mpf(z) + mp.mpf(xi)) - mp.digamma(mp.mpf(z))) for wi, xi in zip(w, x)))
        ref_t = float(sum(mp.mpf(wi) * (mp.psi(1, mp.mpf(z) + mp.mpf(xi)) - mp.psi(1, mp.mpf(z))) for wi, xi in zip(w, x)))
    assert cs.log_rising(z) == pytest.approx(ref, rel=1e-12, abs=1e-300)
    assert cs.digamma_difference(z) == pytest.approx(ref_d, rel=1e-10, abs=1e-300)
    if not frac and max(counts) <= 512:  # sums of 1/(z+k)^2 (beyond: scipy's polygamma difference, as before)
        assert cs.trigamma_difference(z) == pytest.approx(ref_t, rel=1e-10, abs=1e-300)
