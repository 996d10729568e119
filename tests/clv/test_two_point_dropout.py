"""Tests of the two-point-dropout limits (crm_analysis.clv.two_point_dropout) and the fits that reach them.

Independent references: mpmath quadrature over the purchase rate ``lambda`` of the likelihood written from
the model's story (a share ``pi`` drops out for certain, the rest never; not from the package's formulas);
the full BG/NBD, MBG/NBD and Pareto/NBD at ``a, b = pi eps, (1-pi) eps`` (``s = eps, beta = (1-pi)^(1/eps)``),
whose likelihood and predictions must converge to the limit's at rate eps; parameter recovery on data
simulated from the limit; and a scan of fits on simulated no-dropout (NBD) data, where these limits were
reached without being recognised (issue #12 stop note: Pareto/NBD beta ~ 3e-10; BG/NBD a = 9e-14).
"""

from __future__ import annotations

import json
import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from clv_likelihood_oracles import distinct_rows, pareto_nbd_loglik

from crm_analysis.clv import (
    BaseLikelihoodModel,
    BetaGeoModel,
    BoundaryWarning,
    IdentificationWarning,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
    TwoPointGeometricNBDModel,
    ZeroInflatedNBDModel,
    prediction_intervals,
    simulate_bgnbd,
    simulate_nbd,
    simulate_two_point_nbd,
)
from crm_analysis.clv.results import FitResult, json_number, read_number

DATA = pd.DataFrame({"frequency": [0, 1, 3, 10, 2, 0, 25, 1], "recency": [0, 5.0, 30, 38, 12, 0, 59.5, 0.5],
                     "T": [40.0, 38, 39, 40, 60, 10, 60, 3]})
PAIRS = [(BetaGeoModel, TwoPointGeometricNBDModel), (ModifiedBetaGeoModel, ZeroInflatedNBDModel),
         (ParetoNBDModel, ZeroInflatedNBDModel)]


def _arrays():
    return tuple(DATA[c].to_numpy(float) for c in ("frequency", "recency", "T"))


def _mp_two_point_lik(r, alpha, pi, x, t_x, T, first):
    """Story: lambda ~ Gamma(r, alpha); w.p. 1 - pi never drop out (lambda^x e^{-lambda T}); w.p. pi drop out
    for certain: at the first purchase (``first``: no repeat purchase, probability 1 for x = 0) or at the first
    repeat purchase (x = 0: none by T, e^{-lambda T}; x = 1: it came at t_x, lambda e^{-lambda t_x})."""
    r, alpha, pi = mp.mpf(r), mp.mpf(alpha), mp.mpf(pi)

    def f(v):  # v = log(alpha lambda): the gamma density is smooth there
        lam = mp.exp(v) / alpha
        never = lam**x * mp.exp(-lam * T)
        if first:
            certain = 1 if x == 0 else 0
        else:
            certain = mp.exp(-lam * T) if x == 0 else (lam * mp.exp(-lam * t_x) if x == 1 else 0)
        return mp.exp(r * v - mp.exp(v)) / mp.gamma(r) * ((1 - pi) * never + pi * certain)

    # breakpoints around the peaks of the integrand (lambda ~ (r+x)/(alpha+t): narrow for large x)
    lo, hi = -60 / r - 10, mp.mpf(8)
    points = {lo, hi, -10, -2, 0, 2, 4}
    for c in ((r + x) / (alpha + T), (r + x) / (alpha + t_x)):
        points.update(mp.log(alpha * c) + d for d in (-4, -2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2, 4))
    return mp.quad(f, sorted(p for p in points if lo <= p <= hi))


@pytest.mark.slow  # mpmath quadrature: ~2 s per parameter set
@pytest.mark.parametrize("cls, first", [(TwoPointGeometricNBDModel, 0), (ZeroInflatedNBDModel, 1)])
@pytest.mark.parametrize("params", [(0.6, 5.0, 0.3), (2.5, 0.7, 0.02), (0.05, 40.0, 0.9)])
def test_likelihood_matches_mpmath(cls, first, params):
    """Per-customer log-likelihood against mpmath quadrature over lambda of the model's story, rel 1e-9."""
    m = cls()
    with mp.workdps(25):
        for x, t_x, T in zip(*_arrays()):
            arrays = m._prepare(np.array([x]), np.array([t_x]), np.array([T]))
            got = m._weighted_loglik(np.log(params), arrays, np.ones(1))[0]
            ref = float(mp.log(_mp_two_point_lik(*params, int(x), t_x, T, first)))
            assert got == pytest.approx(ref, rel=1e-9, abs=1e-9), (x, t_x, T)


@pytest.mark.parametrize("cls", [TwoPointGeometricNBDModel, ZeroInflatedNBDModel])
def test_gradient_matches_central_differences(cls):
    x, t_x, T = _arrays()
    w = np.linspace(0.5, 2.0, x.size)
    m = cls()
    arrays = m._prepare(x, t_x, T)
    lp = np.log([0.6, 5.0, 0.3])
    _, g = m._weighted_loglik(lp, arrays, w)
    h = 1e-6
    fd = [(m._weighted_loglik(lp + h * e, arrays, w)[0] - m._weighted_loglik(lp - h * e, arrays, w)[0]) / (2 * h)
          for e in np.eye(3)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("full_cls, limit_cls", PAIRS)
def test_full_model_converges_to_the_limit(full_cls, limit_cls):
    """The full model at a, b = pi eps, (1-pi) eps (Pareto/NBD: s = eps, beta = (1-pi)^(1/eps)) approaches the
    limit at rate eps: log-likelihood, P(alive), E[Y(t)], E[X(t)] and P(X(t) = x) differ by ~c eps (each tenfold
    smaller eps cuts the difference 5-20 fold); below 1e-4 relative at eps = 1e-6 (BG/NBD, MBG/NBD)."""
    r, alpha, pi = 0.6, 5.0, 0.3
    pareto = full_cls is ParetoNBDModel
    limit = limit_cls.from_params([r, alpha, pi])
    x, t_x, T = _arrays()
    xs = np.arange(6)

    def gaps(eps):
        full = full_cls.from_params([r, alpha, eps, (1 - pi) ** (1 / eps)] if pareto else [r, alpha, pi * eps, (1 - pi) * eps])
        ll_f = full._weighted_loglik(np.log(full.params_.to_numpy()), full._prepare(x, t_x, T), np.ones(x.size))[0]
        ll_l = limit._weighted_loglik(np.log(limit.params_.to_numpy()), limit._prepare(x, t_x, T), np.ones(x.size))[0]
        rel = lambda a, b: float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1)))  # noqa: E731
        return np.array([
            rel(ll_f, ll_l),
            rel(full.probability_alive(DATA), limit.probability_alive(DATA)),
            rel(full.expected_purchases(10.0, DATA), limit.expected_purchases(10.0, DATA)),
            rel(full.expected_purchases_new(np.array([1.0, 20.0])), limit.expected_purchases_new(np.array([1.0, 20.0]))),
            rel(full.probability_of_purchases(xs, 20.0), limit.probability_of_purchases(xs, 20.0)),
        ])

    steps = [gaps(e) for e in ((1e-2, 1e-3) if pareto else (1e-4, 1e-5, 1e-6))]
    for a, b in zip(steps, steps[1:]):
        ratio = a / b
        assert np.all((ratio > 5) & (ratio < 20)), ratio
    if not pareto:
        assert np.all(steps[-1] < 1e-4), steps[-1]


@pytest.mark.parametrize("cls", [TwoPointGeometricNBDModel, ZeroInflatedNBDModel])
def test_pmf_sums_to_one_and_matches_the_mean(cls):
    m = cls.from_params([0.8, 4.0, 0.35])
    k = np.arange(400)
    p = m.probability_of_purchases(k, 10.0)
    assert p.sum() == pytest.approx(1.0, abs=1e-10)
    assert float((k * p).sum()) == pytest.approx(m.expected_purchases_new(10.0), rel=1e-9)


@pytest.mark.parametrize("cls, first", [(TwoPointGeometricNBDModel, False), (ZeroInflatedNBDModel, True)])
def test_parameter_recovery(cls, first):
    truth = np.array([0.5, 10.0, 0.4])
    d = simulate_two_point_nbd(*truth, n_customers=20000, T=40.0, dropout_at_first=first, seed=3)
    m = cls().fit(d)
    z = (m.params_.to_numpy() - truth) / m.standard_errors_.to_numpy()
    assert np.all(np.abs(z) < 3.5), (m.params_, m.standard_errors_)


@pytest.mark.parametrize("cls, first", [(TwoPointGeometricNBDModel, False), (ZeroInflatedNBDModel, True)])
def test_predictions_match_simulated_holdout(cls, first):
    """E[Y(t) | x, t_x, T] by calibration frequency against simulated holdout purchases (the model's own story)."""
    truth = (0.7, 8.0, 0.4)
    d = simulate_two_point_nbd(*truth, n_customers=60000, T=30.0, holdout=20.0, dropout_at_first=first, seed=11)
    pred = cls.from_params(truth).expected_purchases(20.0, d)
    for x in (0, 1, 2):
        rows = (d["frequency"] == x).to_numpy()
        actual = d.loc[rows, "frequency_holdout"]
        se = actual.std(ddof=1) / np.sqrt(rows.sum())
        assert abs(actual.mean() - pred[rows].mean()) < 4 * se + 1e-9, x


def test_bgnbd_on_nbd_data_near_the_two_point_limit_is_named():
    """Seed 0, 5000 customers of no-dropout data: the BG/NBD ran to a = 9e-14, b = 2.5e-13 (the optimiser's bound)
    with only a HessianWarning. Now the two-point limit is fitted and compared: 0.82 above the NBD limit in
    log-likelihood, not significant (LR 1.6 < 2.71, pi on its boundary), so the NBD limit is kept, saying why."""
    d = simulate_nbd(0.1, 100, n_customers=5000, T=40, seed=0)
    with pytest.warns(BoundaryWarning, match="towards the two-point-dropout limit.*not significantly"):
        m = BetaGeoModel().fit(d)
    assert m.boundary_kind() == "no_dropout" and isinstance(m.limit_model_, NBDModel)
    assert m.log_likelihood_ == pytest.approx(NBDModel().fit(d).log_likelihood_, rel=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        free = BetaGeoModel(detect_boundary=False).fit(d)
        tp = TwoPointGeometricNBDModel().fit(d)
    assert free.params_["a"] < 1e-8 and free.params_["b"] < 1e-8  # where it used to end, unnamed
    assert 0 < tp.log_likelihood_ - m.log_likelihood_ < 2.706 / 2  # not significant at 5%
    assert tp.log_likelihood_ >= free.log_likelihood_ - 1e-6  # the limit is the supremum of that path


def _two_point_bg_fit():
    d = simulate_two_point_nbd(0.5, 10.0, 0.4, n_customers=5000, T=40.0, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = BetaGeoModel().fit(d)
    assert m.boundary_kind() == "two_point_dropout"
    return m, d


def test_two_point_fit_predicts_with_its_limit():
    m, d = _two_point_bg_fit()
    assert isinstance(m.limit_model_, TwoPointGeometricNBDModel) and (m.params_["a"], m.params_["b"]) == (0.0, 0.0)
    np.testing.assert_allclose(m.probability_alive(d), m.limit_model_.probability_alive(d))
    assert m.expected_purchases_new(10.0) == m.limit_model_.expected_purchases_new(10.0)
    assert np.all(m.probability_alive(d)[(d["frequency"] == 1).to_numpy()] < 1.0)


def test_pareto_interior_maximum_near_the_limit_is_kept_and_explained():
    """Seed 1: the Pareto/NBD maximum is interior at s = 0.085, beta = 3e-10 (the profile likelihood in log beta
    falls on both sides, down to the limit 1.0 below); it stays, and its IdentificationWarning says why."""
    d = simulate_nbd(0.1, 100, n_customers=5000, T=40, seed=1)
    with pytest.warns(IdentificationWarning, match="limit is not the maximum") as rec:
        m = ParetoNBDModel().fit(d)
    assert m.boundary_kind() is None
    limit = ZeroInflatedNBDModel().fit(d)
    assert m.log_likelihood_ > limit.log_likelihood_ + 0.5
    assert any(limit_name in str(w.message) for w in rec for limit_name in ("ZeroInflatedNBDModel",))


def _named(m, caught) -> bool:
    """A parameter beyond 1e-8 / 1e8 is acceptable only where a boundary is named: boundary_kind(), or a warning
    naming the limit (the Poisson limit r, alpha -> inf; an interior maximum next to the two-point limit)."""
    if m.boundary_kind() is not None:
        return True
    text = " ".join(str(w.message) for w in caught)
    return "Poisson limit" in text or "two-point-dropout limit" in text


def _scan(sizes, seeds):
    bad = []
    for n in sizes:
        for seed in seeds:
            d = simulate_nbd(0.1, 100, n_customers=n, T=40, seed=seed)
            for cls in (BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    m = cls().fit(d)
                p = m.params_.to_numpy(float)
                finite = np.isfinite(p) & (p > 0)
                extreme = finite & ((p < 1e-8) | (p > 1e8))
                if extreme.any() and not _named(m, caught):
                    bad.append((cls.__name__, n, seed, m.params_.to_dict()))
    return bad


def test_no_fit_ends_at_an_extreme_parameter_without_a_named_boundary_quick():
    """The cases of the issue: BG/NBD and Pareto/NBD on 5000 no-dropout customers, seeds 0-2."""
    assert _scan([5000], range(3)) == []


@pytest.mark.slow  # 90 fits, ~15 s
def test_no_fit_ends_at_an_extreme_parameter_without_a_named_boundary():
    """Seeds 0-9 at 200, 2000 and 5000 no-dropout customers (200: a handful of repeat buyers)."""
    assert _scan([200, 2000, 5000], range(10)) == []


def test_two_point_fit_round_trips_as_strict_json():
    m, d = _two_point_bg_fit()

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    text = json.dumps(m.to_dict(), allow_nan=False)
    back = BaseLikelihoodModel.from_dict(json.loads(text, parse_constant=refuse))
    assert back.boundary_kind() == "two_point_dropout"
    np.testing.assert_allclose(back.probability_alive(d), m.probability_alive(d))
    assert back.expected_purchases_new(5.0) == m.expected_purchases_new(5.0)


def test_no_dropout_fit_round_trips_as_strict_json_and_old_files_still_load():
    """b = inf and NaN standard errors: written as "Infinity" and null; an older file with bare Infinity / NaN
    (json's default) is read as before."""
    d = simulate_nbd(0.5, 10, n_customers=2000, T=40, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = BetaGeoModel().fit(d)
    assert m.boundary_kind() == "no_dropout"

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    saved = m.to_dict()
    text = json.dumps(saved, allow_nan=False)
    assert "Infinity" in text and "NaN" not in text.replace('"Infinity"', "")
    new = BaseLikelihoodModel.from_dict(json.loads(text, parse_constant=refuse))
    old_text = json.dumps({**saved, "fit": {**saved["fit"], "params": list(m.params_.to_numpy(float)),
                                            "fixed": {k: float(v) for k, v in m.fit_result_.fixed.items()},
                                            "log_covariance": m.log_covariance_.to_numpy(float).tolist()}})
    assert "Infinity" in old_text and "NaN" in old_text  # the old, non-strict form
    old = BaseLikelihoodModel.from_dict(json.loads(old_text))
    for back in (new, old):
        assert back.params_["b"] == np.inf and back.params_["a"] == 0.0
        np.testing.assert_allclose(back.expected_purchases(4.0, d), m.expected_purchases(4.0, d))
        assert np.isnan(back.standard_errors_["b"])


def test_json_number_encoding():
    assert [json_number(v) for v in (1.5, float("inf"), float("-inf"), float("nan"))] == [1.5, "Infinity", "-Infinity", None]
    for v in (1.5, float("inf"), float("-inf")):
        assert read_number(json_number(v)) == v
    assert np.isnan(read_number(None)) and read_number("inf") == np.inf
    with pytest.raises(ValueError, match="not a number"):
        read_number("lots")
    with pytest.raises(ValueError, match="not a saved FitResult"):
        FitResult.from_dict({"format": "other"})


def test_prediction_intervals_of_a_two_point_fit_centre_on_the_expectation():
    m, d = _two_point_bg_fit()
    sub = d.iloc[:400]
    pi = prediction_intervals(m, sub, 30.0, n_draws=400, parameter_uncertainty=False, seed=2, keep_draws=True)
    sims_total = pi.draws["purchases"].sum(axis=0)
    expected = float(m.expected_purchases(30.0, sub).sum())
    total = pi.total.loc["purchases"]
    assert total["lower"] <= expected <= total["upper"]
    assert abs(sims_total.mean() - expected) < 4 * sims_total.std(ddof=1) / np.sqrt(sims_total.size)


def _fit_quiet(cls, d):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = cls().fit(d)
    return m, caught


@pytest.mark.parametrize("full_cls, first, seeds", [
    (BetaGeoModel, False, [0]),
    (ModifiedBetaGeoModel, True, [0, 1, 2]),
    pytest.param(ParetoNBDModel, True, [0, 2], marks=pytest.mark.slow),  # 2-5 s per fit
])
def test_full_models_recover_two_point_data(full_cls, first, seeds):
    """Data simulated from the limit (pi = 0.4 certain dropouts): the full model names the two-point boundary
    and recovers pi. The MBG/NBD and Pareto/NBD used to stop at the NBD limit (the derivative test at the NBD
    limit is local; the two-point limit was 9-45 log-likelihood units better) or on the common-dropout ridge."""
    for seed in seeds:
        d = simulate_two_point_nbd(0.5, 10.0, 0.4, n_customers=5000, T=40.0, dropout_at_first=first, seed=seed)
        m, caught = _fit_quiet(full_cls, d)
        lim = full_cls._two_point_model_class().fit(d)
        if m.boundary_kind() is None and full_cls is ModifiedBetaGeoModel:
            # MBG/NBD seed 1: the other-basin refit (findings_12n F1) finds an interior maximum next to the limit,
            # a = 0.0063, b = 0.0091, 0.158 above it with finite standard errors: the better point is kept
            assert m.params_["a"] + m.params_["b"] < 0.1 and m.not_identified_ == [], (seed, m.params_)
            assert m.log_likelihood_ > lim.log_likelihood_ + 1e-3
            assert m.log_likelihood_ > NBDModel().fit(d).log_likelihood_ + 5.0
            continue
        if m.boundary_kind() is None and full_cls is ParetoNBDModel:
            # Pareto/NBD seed 2: an interior maximum beyond the optimiser's old bound of beta, e^-30 (s = 0.0076,
            # beta = 8.1e-34, 1.70 above the limit; findings_12p Finding 3b): the better point is kept. Before, beta
            # stopped at e^-30 below the limit and the limit was kept. The log-likelihood there is the independent one
            assert m.params_["s"] < 0.05 and m.params_["beta"] < np.exp(-30.0), (seed, m.params_)
            assert m.log_likelihood_ > lim.log_likelihood_ + 1e-3
            assert pareto_nbd_loglik(m.params_.to_numpy(float), *distinct_rows(d)) == pytest.approx(
                m.log_likelihood_, rel=1e-11)
            continue
        assert m.boundary_kind() == "two_point_dropout", (seed, m.boundary_)
        assert any(issubclass(w.category, BoundaryWarning) and "two-point dropout" in str(w.message) for w in caught)
        lim = m.limit_model_
        assert abs(lim.params_["pi"] - 0.4) < 3.5 * lim.standard_errors_["pi"], (seed, lim.params_)
        assert m.log_likelihood_ > NBDModel().fit(d).log_likelihood_ + 5.0  # the NBD limit, fitted directly


@pytest.mark.parametrize("full", [BetaGeoModel, ModifiedBetaGeoModel])
def test_two_point_check_stops_where_its_share_vanishes(full, monkeypatch):
    """The two-point limit's fit inside the boundary checks stops once its share pi falls below 1e-6 (on its way
    to pi = 0, its NBD limit) and the limit counts as absent: every model is the one the complete fit of the limit
    gives (4,000 customers without dropout, seeds 1-8, and with a little), and the stop happens on some of them."""
    from crm_analysis.clv import base

    T = np.linspace(20, 60, 4000)
    data = [simulate_nbd(0.7, 9.0, n_customers=4000, T=T, seed=seed) for seed in range(1, 9)]
    data += [simulate_bgnbd(0.7, 9.0, 0.05, 5.0, n_customers=4000, T=T, seed=seed) for seed in (1, 2)]

    def fit_all():
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for d in data:
                out.append(full().fit(d))
        return out

    stopped = fit_all()
    monkeypatch.setattr(base, "_pi_vanishes", lambda log_params: False)
    complete = fit_all()
    assert sum(m._two_point_fit is False for m in stopped) >= 1  # the stop is exercised
    for a, b in zip(stopped, complete):
        assert a.boundary_kind() == b.boundary_kind()
        np.testing.assert_array_equal(a.params_.to_numpy(), b.params_.to_numpy())
        if a._two_point_fit is False and b._two_point_fit:  # the complete fit of the limit ran to pi -> 0
            assert b._two_point_fit.params_["pi"] < 1e-6


@pytest.mark.parametrize("t", [1e-12, 1e-9, 1e-6, 1e-3, 1.0, 50.0])
def test_probability_of_one_purchase_without_cancellation(t):
    """P(X(t) = 1) of the BG/NBD's two-point limit: ``(1 - pi) NB(1) + pi (1 - NB(0))``; ``1 - NB(0)`` was taken as a
    difference that cancels where ``r t / alpha`` is small (t = 1e-12: 1.0e-21 instead of 1.0e-18, findings_n15).
    Reference: the same formula in mpmath at 50 digits."""
    r, alpha, pi = 1e-3, 1e3, 0.999
    model = TwoPointGeometricNBDModel.from_params([r, alpha, pi])
    with mp.workdps(50):
        R, A, P, T = mp.mpf(r), mp.mpf(alpha), mp.mpf(pi), mp.mpf(t)
        nb0 = (A / (A + T)) ** R
        nb1 = R * (A / (A + T)) ** R * T / (A + T)
        ref = (1 - P) * nb1 + P * (1 - nb0)
    got = model.probability_of_purchases(1, t)
    assert got == pytest.approx(float(ref), rel=1e-12, abs=0.0)  # approx has abs=1e-12 by default
