"""Tests of the shared fitting machinery and input checks (crm_analysis.clv.base)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from crm_analysis.clv import BetaGeoModel, ModelFitError, ParetoNBDModel, simulate_bgnbd
from crm_analysis.clv import base as clv_base


@pytest.fixture()
def small() -> pd.DataFrame:
    return simulate_bgnbd(0.5, 5.0, 0.8, 3.0, n_customers=500, T=30.0, seed=1)[["frequency", "recency", "T"]]


@pytest.mark.parametrize("model_cls", [BetaGeoModel, ParetoNBDModel])
def test_no_repeat_buyers(model_cls):
    data = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [10.0, 20.0, 30.0]})
    with pytest.raises(ValueError, match="no repeat buyers"):
        model_cls().fit(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recency": np.nan}, "missing or non-finite"),
        ({"T": np.inf}, "missing or non-finite"),
        ({"frequency": -1}, "negative"),
        ({"recency": 99.0}, "recency .* greater than T"),
        ({"frequency": 1.5}, "non-integer"),
    ],
)
def test_bad_values(small, change, message):
    bad = small.copy()
    for col, value in change.items():
        bad[col] = bad[col].astype(float)
        bad.loc[bad.index[bad["frequency"] > 0][0], col] = value
    with pytest.raises(ValueError, match=message):
        BetaGeoModel().fit(bad)


def test_positive_recency_without_repeats(small):
    bad = small.copy()
    bad.loc[bad.index[bad["frequency"] == 0][0], "recency"] = 1.0
    with pytest.raises(ValueError, match="frequency 0 but positive recency"):
        BetaGeoModel().fit(bad)


def test_missing_column(small):
    with pytest.raises(ValueError, match="not in data"):
        BetaGeoModel().fit(small.drop(columns="T"))


def test_bad_weights(small):
    with pytest.raises(ValueError, match="weights"):
        BetaGeoModel().fit(small, weights=-np.ones(len(small)))
    with pytest.raises(ValueError, match="one value per row"):
        BetaGeoModel().fit(small, weights=[1.0, 2.0])


def test_unfitted_model_raises(small):
    with pytest.raises(RuntimeError, match="not fitted"):
        BetaGeoModel().probability_alive(small)


def test_optimiser_failure_raises_model_fit_error(small, monkeypatch):
    """A failing optimiser (simulated) is reported as ModelFitError, a RuntimeError."""
    assert issubclass(ModelFitError, RuntimeError)

    def failing(fun, x0, *args, **kwargs):
        return optimize.OptimizeResult(x=np.asarray(x0) + 3.0, fun=1.0, success=False, nit=1, message="simulated failure")

    monkeypatch.setattr(clv_base.optimize, "minimize", failing)
    with pytest.raises(ModelFitError, match="did not converge"):
        BetaGeoModel().fit(small)


def test_penalizer_shrinks_towards_one(small):
    """An L2 penalty on the log parameters moves every estimate towards 1 (log 0)."""
    free = BetaGeoModel().fit(small)
    pen = BetaGeoModel(penalizer=0.5).fit(small)
    assert (np.abs(np.log(pen.params_)) <= np.abs(np.log(free.params_)) + 1e-9).all()
    with pytest.raises(ValueError, match="penalizer"):
        BetaGeoModel(penalizer=-1).fit(small)


def test_delta_method_standard_errors(small):
    """Natural-scale covariance = J cov_log J with J = diag(params) (delta method)."""
    m = BetaGeoModel().fit(small)
    J = np.diag(m.params_.to_numpy())
    np.testing.assert_allclose(m.covariance_.to_numpy(), J @ m.log_covariance_.to_numpy() @ J, rtol=1e-12)
    np.testing.assert_allclose(m.standard_errors_.to_numpy(), np.sqrt(np.diag(m.covariance_)), rtol=1e-12)
    draws = m.sample_params(5000, seed=2)
    np.testing.assert_allclose(np.cov(np.log(draws).T), m.log_covariance_.to_numpy(), rtol=0.1, atol=3e-3)
