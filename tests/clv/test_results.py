"""Tests of the fit result (crm_analysis.clv.results), saving/loading and the estimator protocol (issue 13, point 4)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone

from crm_analysis.clv import (
    BaseLikelihoodModel,
    BetaGeoModel,
    FitResult,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_nbd,
)
from crm_analysis.exceptions import BoundaryWarning, NotFittedError

TRANSACTION_MODELS = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, NBDModel]


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return simulate_bgnbd(0.5, 5.0, 0.8, 3.0, n_customers=800, T=30.0, seed=11)[["frequency", "recency", "T"]]


@pytest.fixture(scope="module")
def fitted(sim) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {cls: cls().fit(sim) for cls in TRANSACTION_MODELS}


@pytest.mark.parametrize("cls", TRANSACTION_MODELS)
def test_information_criteria_follow_their_definitions(fitted, sim, cls):
    """AIC = 2k - 2 log L, BIC = k log n - 2 log L (Akaike 1974; Schwarz 1978), k estimated parameters."""
    m = fitted[cls]
    res = m.fit_result_
    k = len(m.params_) - len(res.fixed)
    assert res.n_obs == len(sim)
    assert m.aic_ == pytest.approx(2 * k - 2 * m.log_likelihood_, rel=1e-14)
    assert m.bic_ == pytest.approx(k * math.log(len(sim)) - 2 * m.log_likelihood_, rel=1e-14)


def test_summary_interval_is_wald_on_log_scale(fitted):
    """The summary's interval is exp(log theta +- z se_log); the SE is theta * se_log (delta method)."""
    m = fitted[BetaGeoModel]
    tab = m.fit_result_.summary(level=0.9)
    se_log = np.sqrt(np.diag(m.log_covariance_.to_numpy()))
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(tab["ci_lower"], m.params_ * np.exp(-z * se_log), rtol=1e-12)
    np.testing.assert_allclose(tab["std_error"], m.params_ * se_log, rtol=1e-12)
    pd.testing.assert_frame_equal(tab, m.summary(level=0.9))
    with pytest.raises(ValueError, match="level"):
        m.summary(level=95)


@pytest.mark.parametrize("cls", TRANSACTION_MODELS)
def test_to_dict_from_dict_round_trip_through_json(fitted, sim, cls):
    """Saved and loaded through JSON text, a model predicts exactly as the original."""
    m = fitted[cls]
    loaded = BaseLikelihoodModel.from_dict(json.loads(json.dumps(m.to_dict())))
    assert type(loaded) is cls
    assert loaded.get_params() == m.get_params()
    pd.testing.assert_series_equal(loaded.params_, m.params_)
    pd.testing.assert_frame_equal(loaded.covariance_, m.covariance_)
    assert loaded.fit_result_.aic == m.fit_result_.aic
    np.testing.assert_array_equal(loaded.probability_alive(sim), m.probability_alive(sim))
    np.testing.assert_array_equal(loaded.expected_purchases(10.0, sim), m.expected_purchases(10.0, sim))
    pd.testing.assert_frame_equal(loaded.summary(), m.summary())
    assert cls.from_dict(m.to_dict()).params_.equals(m.params_)


def test_round_trip_of_a_boundary_fit():
    """A boundary fit (no dropout) keeps b = inf, its note and a working NBD limit model after loading."""
    data = simulate_nbd(0.8, 4.0, n_customers=1500, T=30.0, seed=3)
    with pytest.warns(BoundaryWarning):
        m = BetaGeoModel().fit(data)
    text = json.dumps(m.to_dict())
    loaded = BetaGeoModel.from_dict(json.loads(text))
    assert np.isinf(loaded.params_["b"]) and loaded.boundary_ == m.boundary_
    assert loaded.fit_result_.n_params == 2
    np.testing.assert_array_equal(loaded.expected_purchases(5.0, data), m.expected_purchases(5.0, data))
    pd.testing.assert_series_equal(loaded.limit_model_.params_, m.limit_model_.params_)


def test_gamma_gamma_round_trip():
    data = simulate_gamma_gamma(6.0, 4.0, 15.0, frequency=np.arange(1, 401) % 7 + 1, seed=2)
    m = GammaGammaModel().fit(data)
    loaded = GammaGammaModel.from_dict(json.loads(json.dumps(m.to_dict())))
    assert loaded.exclusions_ == m.exclusions_
    np.testing.assert_array_equal(loaded.expected_average_spend(data), m.expected_average_spend(data))


def test_from_dict_rejects_wrong_model_and_format(fitted):
    saved = fitted[BetaGeoModel].to_dict()
    with pytest.raises(ValueError, match="not a ParetoNBDModel"):
        ParetoNBDModel.from_dict(saved)
    with pytest.raises(ValueError, match="unknown model"):
        BaseLikelihoodModel.from_dict({**saved, "model": "Nope"})
    with pytest.raises(ValueError, match="not a saved FitResult"):
        FitResult.from_dict({**saved["fit"], "format": "other"})


@pytest.mark.parametrize("cls", [*TRANSACTION_MODELS, GammaGammaModel])
def test_sklearn_clone_and_params(cls):
    """sklearn.base.clone copies the settings and not the fit; set_params checks names."""
    m = cls(penalizer=0.01)
    c = clone(m)
    assert type(c) is cls and c.get_params() == m.get_params() and c is not m
    assert c.set_params(penalizer=0.5).penalizer == 0.5
    with pytest.raises(ValueError, match="no setting 'alpha'"):
        m.set_params(alpha=1.0)


def test_clone_of_fitted_model_is_unfitted(fitted, sim):
    c = clone(fitted[BetaGeoModel])
    assert not hasattr(c, "params_")
    with pytest.raises(NotFittedError, match="not fitted"):
        c.probability_alive(sim)


def test_not_fitted_error_is_what_callers_caught_before():
    """NotFittedError subclasses RuntimeError (raised before) and AttributeError (as scikit-learn's)."""
    assert issubclass(NotFittedError, RuntimeError) and issubclass(NotFittedError, AttributeError)
    m = BetaGeoModel.from_params([0.5, 5.0, 0.8, 3.0])
    with pytest.raises(NotFittedError, match="from_params"):
        m.summary()
    with pytest.raises(NotFittedError):
        BetaGeoModel().to_dict()


def _note_c_data() -> pd.DataFrame:
    """findings_12r Note C: 3 repeat buyers of 500 (the BG/NBD and MBG/NBD go to the common-dropout limit, p ~ 0.61)."""
    return pd.DataFrame(dict(frequency=[0] * 497 + [1, 2, 1], recency=[0.0] * 497 + [5.0, 12.0, 20.0],
                             T=list(np.linspace(10, 39, 500).round())))


@pytest.mark.parametrize("model", [BetaGeoModel, ModifiedBetaGeoModel])
def test_a_probabilitys_interval_stays_in_the_unit_interval(model):
    """findings_12r Note C: the log-scale Wald interval of the common-dropout limit's p (0.615, standard error 0.346)
    reached 1.85. A probability's interval is now a logit-scale Wald interval: logit(p) +- z se(p) / (p (1 - p))
    (delta method from the natural-scale standard error, computed here with scipy.stats.norm), within (0, 1),
    containing p; the other parameters keep the log-scale interval; and a save / load keeps it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = model().fit(_note_c_data())
    assert m.boundary_kind() == "common_dropout"
    fr = m.limit_model_.fit_result_
    assert fr.probabilities == ("p",)
    table = fr.summary(level=0.9)
    p, se = table.loc["p", "estimate"], table.loc["p", "std_error"]
    z = stats.norm.ppf(0.95)
    logit = math.log(p / (1 - p))
    half = z * se / (p * (1 - p))
    assert table.loc["p", "ci_lower"] == pytest.approx(1 / (1 + math.exp(-(logit - half))), rel=1e-10)
    assert table.loc["p", "ci_upper"] == pytest.approx(1 / (1 + math.exp(-(logit + half))), rel=1e-10)
    assert 0 < table.loc["p", "ci_lower"] < p < table.loc["p", "ci_upper"] < 1
    r, se_r = table.loc["r", "estimate"], table.loc["r", "std_error"]
    assert table.loc["r", "ci_upper"] == pytest.approx(r * math.exp(z * se_r / r), rel=1e-10)  # log scale
    again = FitResult.from_dict(json.loads(json.dumps(fr.to_dict())))
    pd.testing.assert_frame_equal(again.summary(level=0.9), table)
    old = fr.to_dict()
    del old["probabilities"]  # a result saved before: the log-scale interval, as then
    assert FitResult.from_dict(old).summary().loc["p", "ci_upper"] > 1
