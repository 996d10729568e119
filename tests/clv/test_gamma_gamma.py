"""Tests of the Gamma-Gamma spend model (crm_analysis.clv.gamma_gamma)."""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm_analysis.clv import GammaGammaModel, simulate_gamma_gamma
from crm_analysis.clv import _fitting
from crm_analysis.exceptions import IdentificationWarning
from clv_likelihood_oracles import gamma_gamma_loglik_rows


@pytest.mark.shared_data
def test_cdnow_published_estimates(shared_data):
    """Fader, Hardie & Lee (2005), JMR 42(4), and Fader & Hardie (2013), "The
    Gamma-Gamma Model of Monetary Value": p=6.25, q=3.74, v=15.44 on the 946
    CDNOW repeat customers' mean spend zbar. Tolerance 0.01 absolute for p, q
    (published to 2 decimals) and 0.02 for v."""
    data = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the correlation here is ~0.11: no warning
        m = GammaGammaModel().fit(data, frequency_col="x", monetary_value_col="zbar")
    assert m.params_["p"] == pytest.approx(6.25, abs=0.01)
    assert m.params_["q"] == pytest.approx(3.74, abs=0.01)
    assert m.params_["v"] == pytest.approx(15.44, abs=0.02)
    assert m.n_customers_ == 946
    assert m.n_excluded_ == 2357 - 946
    spend = m.expected_average_spend(data)
    # x = 0: population mean p v / (q - 1); x > 0: between population and own mean
    assert np.allclose(spend[data["x"] == 0], m.population_mean_spend())
    rep = data["x"] > 0
    lo = np.minimum(data.loc[rep, "zbar"], m.population_mean_spend())
    hi = np.maximum(data.loc[rep, "zbar"], m.population_mean_spend())
    assert np.all((spend[rep] >= lo - 1e-9) & (spend[rep] <= hi + 1e-9))


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_parameter_recovery(seed):
    """Simulated from the model (3,000 repeat buyers), truth within 3.5 standard errors;
    mean conditional spend tracks the latent mean spend better than the raw mean does."""
    truth = {"p": 4.0, "q": 5.0, "v": 20.0}
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 8, 3500)
    sim = simulate_gamma_gamma(*truth.values(), x, seed=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = GammaGammaModel().fit(sim)
    z = (m.params_ - pd.Series(truth)) / m.standard_errors_
    assert (z.abs() < 3.5).all(), z
    rep = sim["frequency"] > 0
    est = m.expected_average_spend(sim)[rep]
    truth_mean = sim.loc[rep, "true_mean"]
    assert np.mean((est - truth_mean) ** 2) < np.mean((sim.loc[rep, "monetary_value"] - truth_mean) ** 2)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(3, 400), x_values=st.integers(1, 4), seed=st.integers(0, 10_000),
       spend=st.sampled_from(["gamma", "constant", "tiny spread", "huge"]))
def test_correlation_is_the_guarded_corrcoef(n, x_values, seed, spend):
    """``correlation_`` (:func:`_spend_correlation`) is Pearson's correlation of frequency and mean spend among the
    repeat buyers, NaN where either is constant, with no numpy warning: byte for byte the former computation
    (reference: ``np.corrcoef`` after ``np.std(...) > 0`` of both columns, written out here); one frequency value
    (``x_values = 1``) or one spend makes a constant column."""
    from crm_analysis.clv.gamma_gamma import _spend_correlation

    rng = np.random.default_rng(seed)
    x = rng.integers(1, x_values + 1, n).astype(float)
    m = {"gamma": lambda: rng.gamma(2.0, 3.0, n), "constant": lambda: np.full(n, 7.5),
         "tiny spread": lambda: 7.5 + rng.integers(0, 2, n) * 1e-15, "huge": lambda: rng.gamma(2.0, 3.0, n) * 1e150}[spend]()
    ref = float(np.corrcoef(x, m)[0, 1]) if np.std(x) > 0 and np.std(m) > 0 else float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _spend_correlation(x, m)
    assert np.array([got]).tobytes() == np.array([ref]).tobytes()


@settings(max_examples=100, deadline=None)
@given(lp=st.tuples(st.floats(-5.0, 28.0), st.floats(-5.0, 28.0), st.floats(-5.0, 12.0)), seed=st.integers(0, 1000))
def test_value_only_loglik_is_the_full_evaluations_value(lp, seed):
    """The value-only evaluation (the fit's starts are chosen by it) gives the value of the full evaluation (with
    gradient) byte for byte, in scipy's range and beyond it (``q`` or ``p x`` above ``_LARGE``: the stable
    log-beta path). Reference: ``_weighted_loglik`` with its gradient, the evaluation the starts took before."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 30, 300).astype(float)
    m_ = rng.gamma(2.0, 5.0, 300)
    model = GammaGammaModel()
    arrays = model._prepare(x, m_)
    w = rng.integers(1, 4, 300).astype(float)
    full, grad = model._weighted_loglik(np.array(lp), arrays, w)
    assert grad is not None
    value = model._weighted_loglik_value(np.array(lp), arrays, w)
    assert np.array([value]).tobytes() == np.array([full]).tobytes()


def test_correlation_warning():
    """Spend that rises with frequency breaks the independence assumption: UserWarning."""
    rng = np.random.default_rng(1)
    x = rng.integers(1, 20, 500)
    data = pd.DataFrame({"frequency": x, "monetary_value": 5.0 * x + rng.gamma(2.0, 2.0, 500)})
    with pytest.warns(UserWarning, match="correlation"):
        m = GammaGammaModel().fit(data)
    assert m.correlation_ > 0.3
    from crm_analysis.exceptions import SpendCorrelationWarning

    with pytest.warns(SpendCorrelationWarning, match="correlation"):  # typed (F7): filtered by class, not text
        GammaGammaModel().fit(data)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*correlation")
        GammaGammaModel(correlation_threshold=0.999).fit(data)  # no correlation warning at a looser threshold


def test_errors():
    with pytest.raises(ValueError, match="no repeat buyers"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}))
    with pytest.raises(ValueError, match="zero or negative"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [1, 2, 3], "monetary_value": [0.0, 2.0, 3.0]}))
    with pytest.raises(ValueError, match=r"is missing \(NaN\) for 1 customer\(s\) with repeat purchases \(rows 0\)"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [1, 2], "monetary_value": [np.nan, 2.0]}))
    with pytest.raises(ValueError, match="monetary_value column 'monetary_value' has 1 non-finite"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [1, 2], "monetary_value": [np.inf, 2.0]}))


@pytest.mark.parametrize("params", [(6.25, 3.74, 15.44), (0.5, 40.0, 300.0), (0.65, 2.4e9, 2.6e11)])
def test_fast_likelihood_equals_per_row_likelihood(params):
    """The fitting likelihood (gamma functions per distinct x) equals the weighted per-row
    density of Fader & Hardie (2013, eq. 3), rtol 1e-9 (1e-6 for the extreme q, v, where the
    per-row form loses digits to cancellation), and its gradient matches central differences
    (rtol 1e-5) where those are accurate."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 12, 2000).astype(float)
    mv = rng.gamma(3.0, 10.0, 2000)
    w = rng.uniform(0.5, 2.0, 2000)
    m = GammaGammaModel()
    arrays = m._prepare(x, mv)
    lp = np.log(params)
    ll, g = m._weighted_loglik(lp, arrays, w)
    ll_rows, _ = gamma_gamma_loglik_rows(lp, arrays)
    extreme = params[1] > 1e6
    assert ll == pytest.approx(float(w @ ll_rows), rel=1e-6 if extreme else 1e-9)
    if not extreme:  # there central differences drown in the rounding of gammaln(q) ~ 5e10
        h = 1e-6
        fd = [(m._weighted_loglik(lp + h * e, arrays, w)[0] - m._weighted_loglik(lp - h * e, arrays, w)[0]) / (2 * h) for e in np.eye(3)]
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * abs(ll))
    assert np.all(np.isfinite(g))


def _mp_loglik(params, x, m, w, dps=60):
    """Fader & Hardie (2013) eq. 3 summed over rows, at ``dps`` digits (mpmath): an independent oracle."""
    with mp.workdps(max(dps, mp.mp.dps)):  # not below the precision mp.diff works at
        p, q, v = (mp.mpf(z) for z in params)  # floats exactly, or mpf values (derivatives)
        total = mp.mpf(0)
        for xi, mi, wi in zip(x, m, w):
            xi, mi = mp.mpf(float(xi)), mp.mpf(float(mi))
            px = p * xi
            total += mp.mpf(float(wi)) * (
                mp.loggamma(px + q) - mp.loggamma(px) - mp.loggamma(q) + q * mp.log(v)
                + (px - 1) * mp.log(mi) + px * mp.log(xi) - (px + q) * mp.log(v + mi * xi)
            )
        return total


@pytest.mark.parametrize(
    "params",
    [(6.25, 3.74, 15.44), (0.65, 2.4e9, 2.6e11), (1.0, 1e12, 3e13), (2e3, 1e12, 1e13), (1e6, 1e6, 3e5), (1e8, 5e9, 5e9)],
)
def test_loglik_and_gradient_match_mpmath_at_large_p_q(params):
    """Issue #12 pt 3: log Gamma(p x + q) - log Gamma(p x) - log Gamma(q) is -log B(p x, q) by a stable
    evaluation (the plain gammaln difference made the total wrong by 4.5e-4 relatively at q = 1e12, p = 1).
    Oracle: mpmath at 60 digits, the log-likelihood to rel 1e-12 and the gradient in the log parameters
    (mpmath's numerical derivative at 60 digits) to rel 1e-7 of the largest component."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 12, 20).astype(float)
    mv = rng.gamma(3.0, 10.0, 20)
    w = rng.uniform(0.5, 2.0, 20)
    model = GammaGammaModel()
    lp = np.log(params)
    ll, g = model._weighted_loglik(lp, model._prepare(x, mv), w)
    assert ll == pytest.approx(float(_mp_loglik(params, x, mv, w)), rel=1e-12)
    with mp.workdps(60):
        ref_g = []
        for j in range(3):
            def f(u, j=j):
                theta = [mp.mpf(float(z)) for z in params]
                theta[j] = theta[j] * mp.exp(u)
                return _mp_loglik(theta, x, mv, w)
            ref_g.append(float(mp.diff(f, 0)))
    np.testing.assert_allclose(g, ref_g, rtol=0, atol=1e-7 * max(np.max(np.abs(ref_g)), 1.0))


def _mp_log_derivatives(params, x, mv, w, dps=30):
    """Gradient and Hessian in the log parameters of :func:`_mp_loglik` by ``mpmath.diff`` at ``dps`` digits."""

    def f(a, b, c):
        return _mp_loglik([mp.exp(a), mp.exp(b), mp.exp(c)], x, mv, w, dps=dps)

    with mp.workdps(dps):
        point = [mp.log(mp.mpf(float(z))) for z in params]
        g = np.empty(3)
        H = np.empty((3, 3))
        for i in range(3):
            g[i] = float(mp.diff(f, point, tuple(int(k == i) for k in range(3))))
            for j in range(i, 3):
                order = [0, 0, 0]
                order[i] += 1
                order[j] += 1
                H[i, j] = H[j, i] = float(mp.diff(f, point, tuple(order)))
    return g, H


@settings(max_examples=12, deadline=None)
@given(
    log_p=st.floats(np.log(1e-2), np.log(1e5)),  # p x up to 1.1e6 (x <= 11)
    log_q=st.floats(np.log(0.1), np.log(1e8)),
    log_v=st.floats(np.log(0.1), np.log(1e8)),
    seed=st.integers(0, 1000),
)
@example(log_p=float(np.log(6.25)), log_q=float(np.log(3.74)), log_v=float(np.log(15.44)), seed=0)  # CDNOW
@example(log_p=float(np.log(1e5)), log_q=float(np.log(1e8)), log_v=float(np.log(1e8)), seed=1)  # all large
@example(log_p=float(np.log(1e-2)), log_q=float(np.log(1e8)), log_v=float(np.log(1e8)), seed=2)  # p x small, q huge
@example(log_p=float(np.log(1e5)), log_q=float(np.log(0.5)), log_v=float(np.log(2.0)), seed=3)  # p x huge, q small
def test_hessian_matches_mpmath(log_p, log_q, log_v, seed):
    """The analytic log-likelihood, gradient and Hessian in the log parameters (the Newton fit's) equal mpmath's
    numerical derivatives (30 digits) of Fader & Hardie (2013) eq. 3 summed over rows (:func:`_mp_loglik`, written
    independently of the package), relative 1e-9 per entry (measured: ~1e-14), for q, v up to 1e8 and p x up to
    1.1e6, where the trigamma differences are taken by their asymptotic series (``_special.trigamma_difference``)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 12, 6).astype(float)
    mv = rng.gamma(3.0, 10.0, 6)
    w = rng.uniform(0.5, 2.0, 6)
    params = np.exp([log_p, log_q, log_v])
    model = GammaGammaModel()
    ll, g, H = model._weighted_loglik_hessian(np.log(params), model._prepare(x, mv), w)
    g_mp, H_mp = _mp_log_derivatives(params, x, mv, w)
    assert ll == pytest.approx(float(_mp_loglik(params, x, mv, w)), rel=1e-12)
    np.testing.assert_allclose(g, g_mp, rtol=1e-9, atol=1e-12 * np.max(np.abs(g_mp)))
    np.testing.assert_allclose(H, H_mp, rtol=1e-9, atol=1e-12 * np.max(np.abs(H_mp)))


@pytest.mark.shared_data
def test_cdnow_fit_takes_the_newton_path(shared_data, monkeypatch):
    """Issue #12 (speed): on the CDNOW repeat buyers the fit is Newton's method with the analytic Hessian (5
    iterations from the best start; the quasi-Newton path took 11 L-BFGS-B iterations and a Hessian by forward
    differences). Its estimates equal those of the quasi-Newton path (L-BFGS-B and the Newton polish, the fallback)
    to rel 1e-8, at a log-likelihood not lower."""
    data = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    runs = []
    newton_fit = _fitting.LikelihoodFitter._newton_fit

    def spy(self, *args):
        out = newton_fit(self, *args)
        runs.append(out)
        return out

    monkeypatch.setattr(_fitting.LikelihoodFitter, "_newton_fit", spy)
    m = GammaGammaModel().fit(data, frequency_col="x", monetary_value_col="zbar")
    assert GammaGammaModel._has_analytic_hessian()
    assert len(runs) == 1 and runs[0] is not None  # the Newton path ran, settled, and its answer was used
    assert m.converged_ and m.n_iter_ == runs[0][3] <= 8
    np.testing.assert_allclose(m.params_, np.exp(runs[0][0]), rtol=0)
    monkeypatch.setattr(_fitting.LikelihoodFitter, "_newton_fit", lambda self, *args: None)
    quasi = GammaGammaModel().fit(data, frequency_col="x", monetary_value_col="zbar")
    np.testing.assert_allclose(m.params_, quasi.params_, rtol=1e-8)
    assert m.log_likelihood_ >= quasi.log_likelihood_ - 1e-9
    assert m.n_iter_ < quasi.n_iter_


def test_spend_without_heterogeneity_says_why_it_is_not_identified():
    """n12 finding F5: every customer's transactions drawn from one gamma (shape 3, scale 10): the spend
    scale nu does not vary between customers, q and v run off together (Gamma-Gamma's limit with one
    mean spend for all). The warning says so instead of only 'the Hessian is singular'; the
    population mean spend p v / (q - 1) still matches the sample mean of all transactions (rel 5%)."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, 400)
    m = np.array([rng.gamma(3.0, 10.0, k).mean() for k in x])
    with pytest.warns(UserWarning, match=r"Why: q and v grow together .*spend scale nu"):
        gg = GammaGammaModel().fit(pd.DataFrame({"frequency": x, "monetary_value": m}))
    assert gg.population_mean_spend() == pytest.approx(float(np.sum(x * m) / x.sum()), rel=0.05)


@pytest.mark.parametrize("spends", [[12.0, 33.3], [12.0, 33.3, 20.0]])
def test_few_repeat_buyers_named_as_the_likely_reason(spends):
    """findings_12u F6: with 2 or 3 repeat buyers the IdentificationWarning said only that the spend scale "hardly
    varies between customers" (two customers with mean spends 12.0 and 33.3 show nothing either way); it names
    their number as the likely reason, as the purchase models' warnings do."""
    data = pd.DataFrame({"frequency": [1, 4, 2][: len(spends)], "monetary_value": spends})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GammaGammaModel().fit(data)
    texts = [str(w.message) for w in caught if issubclass(w.category, IdentificationWarning)]
    assert texts, [str(w.message) for w in caught]
    assert all(f"Likely reason: only {len(spends)} customer(s) with repeat purchases of positive value" in t
               for t in texts), texts
    assert not any("hardly varies between customers in these data" in t for t in texts), texts


def test_many_repeat_buyers_get_no_few_buyer_note():
    """The note is for fewer than 10 repeat buyers per parameter (30): none on 200 simulated buyers."""
    rng = np.random.default_rng(4)
    x = rng.integers(1, 8, 200)
    m = rng.gamma(6.0, 1.0 / rng.gamma(4.0, 1 / 15.0, 200)) + 0.01
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GammaGammaModel().fit(pd.DataFrame({"frequency": x, "monetary_value": m}))
    assert not any("Likely reason" in str(w.message) for w in caught), [str(w.message) for w in caught]
