"""The Gamma-Gamma spend model when the spend scale does not vary between customers (findings_12u F3, issue #12).

Spend per transaction Gamma(3, scale 12) for everyone (as the finding's shop): the spend scale nu has no
between-customer heterogeneity, so q and v run off together and are not identified. Then

* the warning's advice is the spend model's own (one spend scale for everyone: every customer valued at the
  population mean p v / (q - 1)), not the purchase models' "NBDModel when there is no sign of dropout";
* that advice is checked against the Gamma-Gamma conditional expectation computed here from its closed form
  (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves", eq. 5):
  E[M | p, q, v, x, mbar] = (p v + p x mbar) / (p x + q - 1);
* the report's parameter table says "not identified" instead of "nan";
* the rfm_clv step keeps the spend fits' warnings as notes (none escapes as a Python warning) and names the
  model without standard errors for the intervals' text.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from clv_transactions import btyd_transactions

from crm_analysis.clv import BetaGeoModel, GammaGammaModel, RfmClvParams, run_rfm_clv
from crm_analysis.clv.report_extras import parameter_table
from crm_analysis.exceptions import CRMAnalysisWarning, IdentificationWarning

AS_OF = "2024-12-31"


def _spends(n: int, seed: int, *, heterogeneous: bool) -> pd.DataFrame:
    """(frequency, mean spend) of n repeat buyers; spend per transaction Gamma(3, scale) with the scale 12 for
    everyone, or Gamma(6, 1/0.5)-distributed between customers (heterogeneous)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, n)
    scale = rng.gamma(6.0, 2.0, n) if heterogeneous else np.full(n, 12.0)
    m = np.array([rng.gamma(3.0, s, k).mean() for k, s in zip(x, scale)])
    return pd.DataFrame({"frequency": x, "monetary_value": m})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_spend_scale_for_everyone_gets_the_spend_models_own_advice(seed):
    data = _spends(300, seed, heterogeneous=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = GammaGammaModel().fit(data)
    msgs = [str(w.message) for w in caught if issubclass(w.category, IdentificationWarning)]
    assert msgs, "no identification warning for q, v -> inf"
    assert {"q", "v"} <= set(g.not_identified_)
    mean = g.population_mean_spend()
    for msg in msgs:
        assert "NBDModel" not in msg and "dropout" not in msg  # the purchase models' advice
        assert "one spend scale for everyone" in msg
        assert f"p v / (q - 1) = {mean:.4g}" in msg
    # the advice's claim, from the closed form: every customer's expected spend is the population mean
    p, q, v = g.params_[["p", "q", "v"]].to_numpy()
    x, mbar = data["frequency"].to_numpy(float), data["monetary_value"].to_numpy(float)
    closed = (p * v + p * x * mbar) / (p * x + q - 1.0)
    np.testing.assert_allclose(np.asarray(g.expected_average_spend(data), float), closed, rtol=1e-9)
    weight = p * x / (p * x + q - 1.0)  # of the customer's own mean; the rest on p v / (q - 1)
    np.testing.assert_allclose(closed, (1 - weight) * p * v / (q - 1.0) + weight * mbar, rtol=1e-12)
    assert weight.max() < 1e-4 and f"q = {q:.3g} here" in msgs[0]
    np.testing.assert_allclose(closed, p * v / (q - 1.0), rtol=1e-4)
    assert mean == pytest.approx(p * v / (q - 1.0), rel=1e-12)
    # and that mean is the data's: spend per transaction has mean 3 * 12 = 36 (within sampling error)
    assert mean == pytest.approx(np.average(mbar, weights=x), rel=0.03)


def test_the_purchase_models_keep_their_advice():
    assert "NBDModel when there is no sign of dropout" in BetaGeoModel()._not_identified_advice(["a", "b"], {})
    assert BetaGeoModel()._singular_hessian_advice(["a", "b"], {}) == ""


def test_parameter_table_says_not_identified_instead_of_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CRMAnalysisWarning)
        flat = GammaGammaModel().fit(_spends(300, 1, heterogeneous=False))
    table = parameter_table(flat)
    assert list(table.columns) == ["Estimate", "Std. error"]
    assert not table.apply(lambda c: c.str.contains("nan", case=False)).any().any()
    se = flat.summary()["std_error"]
    for name in flat.not_identified_:
        expected = "not identified" if not np.isfinite(se[name]) else f"{se[name]:.4g} (not identified)"
        assert table.loc[name, "Std. error"] == expected
    # an identified fit: the numbers, as before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CRMAnalysisWarning)
        good = GammaGammaModel().fit(_spends(400, 4, heterogeneous=True))
    assert not good.not_identified_
    s = good.summary()
    assert table.index.name == "parameter"
    assert parameter_table(good)["Std. error"].tolist() == [f"{v:.4g}" for v in s["std_error"]]
    assert parameter_table(good)["Estimate"].tolist() == [f"{v:.4g}" for v in s["estimate"]]
    with pytest.raises(ValueError, match="digits"):
        parameter_table(good, digits=-1)
    with pytest.raises(ValueError, match="digits"):
        parameter_table(good, digits=0)


def test_parameter_table_shows_significant_digits_when_q_and_v_run_off():
    """Issue #12 polish point 3: q and v of a spend model without heterogeneity run off together (q = 5.3e+11 in
    a finding's table: ``527455901248.8011``); each cell now reads back as its
    number to 4 significant digits (rel 5e-4) in at most 10 characters (``5.275e+11``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CRMAnalysisWarning)
        flat = GammaGammaModel().fit(_spends(300, 1, heterogeneous=False))
    assert flat.params_["q"] > 1e6  # the estimates that ran off
    table = parameter_table(flat)
    for name, text in table["Estimate"].items():
        assert len(text) <= 10, text
        assert float(text) == pytest.approx(flat.params_[name], rel=5e-4)
    for text in table["Std. error"]:
        number = text.replace(" (not identified)", "")
        assert number in ("", "not identified", "not available") or len(number) <= 10, text


def _transactions(n: int = 400, seed: int = 11) -> pd.DataFrame:
    """BG/NBD purchases (r 0.8, alpha 6 weeks, dropout Beta(0.6, 3)) over 18 months; every amount Gamma(3, 12)."""
    return btyd_transactions(n, seed)


def test_the_step_keeps_the_spend_warnings_as_notes_and_names_the_model_without_standard_errors():
    params = RfmClvParams(as_of=AS_OF, calibration_end="2024-06-30", purchase_model="bgnbd", fit_paretonbd=False,
                          interval_draws=50, seed=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_rfm_clv(_transactions(), params)
    escaped = [str(w.message) for w in caught if "GammaGamma" in str(w.message)]
    assert not escaped, escaped  # none printed as a Python warning with a file path
    notes = result.spend_notes
    assert list(notes.columns) == ["period", "note"]
    assert set(notes["period"]) == {"calibration", "whole period"}
    assert notes["note"].str.contains("GammaGammaModel").all()
    assert notes["note"].str.contains("one spend scale for everyone").all()
    gg = result.whole_notes[result.whole_notes["model"] == "Gamma-Gamma"]["note"].tolist()
    assert gg == notes.loc[notes["period"] == "whole period", "note"].tolist()
    assert result.analysis.spend_model.not_identified_
    assert "Gamma-Gamma" in result.models_without_covariance()
    assert result.intervals.parameter_uncertainty is False
    assert any("Gamma-Gamma" in n for n in result.clv_params()["whole_period"]["notes"])
