"""Input checks of findings_12d claim 5 (issue #12): repeat buyers with recency 0, a list of arrays or None passed as
the data, and a missing monetary value of customers without repeat purchases.

* Repeat buyers with recency 0 (``frequency > 0``, ``recency == 0``) make the likelihood unbounded (``alpha -> 0``):
  on main every such row gave BG/NBD a log-likelihood of +20,940, and 1-5 such rows fitted silently. Every CLV entry
  point that takes ``(frequency, recency, T)`` now refuses them, naming the columns, the number of rows, the first
  row labels and the fix (crm_analysis.rfm's summary counts purchases in distinct periods, so it cannot make them:
  checked below on its own output).
* ``[x, t, T]`` (pandas reads it as 3 rows of 400 numbered columns) listed all 400 column names and advised renaming;
  ``None`` became an empty table.
* Gamma-Gamma refused ``NaN`` monetary values of customers without repeat purchases, whom it leaves out anyway.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analysis.clv import (
    BetaGeoModel,
    ExponentialNBDModel,
    GammaGammaModel,
    GeometricNBDModel,
    ModifiedBetaGeoModel,
    ModifiedGeometricNBDModel,
    NBDModel,
    ParetoNBDModel,
    TwoPointGeometricNBDModel,
    ZeroInflatedNBDModel,
    fit_spend_model,
    simulate_bgnbd,
    spend_exclusions,
)
from crm_analysis.exceptions import InputError
from crm_analysis.rfm import rfm_summary

_MODELS = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, NBDModel, GeometricNBDModel, ModifiedGeometricNBDModel,
           TwoPointGeometricNBDModel, ZeroInflatedNBDModel, ExponentialNBDModel]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    d = simulate_bgnbd(0.5, 5.0, 0.7, 2.5, n_customers=400, T=30.0, seed=1820)[["frequency", "recency", "T"]]
    return d.set_axis([f"c{i}" for i in range(len(d))])  # string labels: the message names them


@pytest.fixture(scope="module")
def fitted(data) -> dict:
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cls in _MODELS:
            out[cls] = cls().fit(data)
    return out


def _recency_zero(d: pd.DataFrame, n: int | None) -> tuple[pd.DataFrame, list]:
    rep = d.index[d["frequency"] > 0]
    rows = list(rep if n is None else rep[:n])
    bad = d.copy()
    bad.loc[rows, "recency"] = 0.0
    return bad, rows


def _check_message(text: str, rows: list) -> None:
    assert f"{len(rows)} row(s) have frequency ('frequency') > 0 but recency ('recency') 0" in text
    assert "rows " + ", ".join(repr(r) for r in rows[:5]) in text
    if len(rows) > 5:
        assert f"and {len(rows) - 5} more" in text
    assert "a repeat purchase in the same period as the first cannot be told apart" in text
    assert "crm_analysis.rfm" in text and "finer time unit" in text


@pytest.mark.parametrize("cls", _MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("n", [1, 5, None], ids=["one", "five", "all"])
def test_fit_refuses_repeat_buyers_with_recency_zero(data, cls, n):
    """main: all such rows gave BG/NBD +20,940.14, MBG/NBD +42,960.0, Pareto/NBD +43,680.0; 1 or 5 fitted silently."""
    bad, rows = _recency_zero(data, n)
    with pytest.raises(InputError) as info:
        cls().fit(bad)
    _check_message(str(info.value), rows)


@pytest.mark.parametrize("cls", _MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("tiny", [1e-9, (0.1 + 0.2) - 0.3], ids=["1e-9", "float-noise"])
def test_fit_refuses_a_recency_of_float_noise_too(data, cls, tiny):
    """findings_n13: recency 1e-9 (or 5.6e-17, what (0.1 + 0.2) - 0.3 gives for a same-time purchase) for every repeat
    buyer gave BG/NBD log-likelihood +14,584 (alpha 1e-13), converged and silent: the same unbounded likelihood."""
    bad, rows = _recency_zero(data, None)
    bad.loc[rows, "recency"] = tiny
    with pytest.raises(InputError) as info:
        cls().fit(bad)
    _check_message(str(info.value), rows)
    assert "the likelihood is unbounded there" in str(info.value)


@pytest.mark.parametrize("cls", _MODELS, ids=lambda c: c.__name__)
def test_predictions_take_recency_zero(data, fitted, cls):
    """P(alive) and the expectations are defined at t_x = 0 (the limit of their formulas; p_alive_matrix's grid
    starts there, and findings_n13 found the report chain failing when predictions refused it): the values are the
    limit of those at a recency tending to 0 (1e-12 here)."""
    bad, rows = _recency_zero(data.iloc[:60], 3)
    near = bad.copy()
    near.loc[rows, "recency"] = 1e-12
    model = fitted[cls]
    assert np.allclose(model.probability_alive(bad), model.probability_alive(near), rtol=1e-9, atol=0)
    assert np.allclose(model.expected_purchases(10.0, bad), model.expected_purchases(10.0, near), rtol=1e-9, atol=0)


@settings(max_examples=30, deadline=None)
@given(n_days=st.lists(st.integers(0, 120), min_size=1, max_size=12), unit=st.sampled_from(["D", "W", 14]))
def test_rfm_summary_never_makes_repeat_buyers_with_recency_zero(n_days, unit):
    """The package's summary counts purchases on distinct days (several on the first day are one), so a repeat buyer's
    last purchase is on a later day and its recency is positive in any unit (the shared data sets' W and D summaries
    have none either: CDNOW sample / master, Online Retail to 2011-12-09 / 2011-09-09, checked for the report)."""
    tx = pd.DataFrame({"customer_id": ["a"] * len(n_days) + ["b"],
                       "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(n_days + [5], unit="D"),
                       "amount": 10.0})
    s = rfm_summary(tx, observation_end="2024-06-30", time_unit=unit)
    assert not ((s["frequency"] > 0) & (s["recency"] == 0)).any()
    assert s.loc["a", "frequency"] == len(set(n_days)) - 1


def test_a_list_of_arrays_says_pass_a_dataframe_and_caps_the_column_list(data):
    arrays = [data[c].to_numpy() for c in ("frequency", "recency", "T")]
    for call in (lambda: BetaGeoModel().fit(arrays), lambda: ParetoNBDModel().fit(arrays)):
        with pytest.raises(InputError) as info:
            call()
        text = str(info.value)
        assert "'frequency' (frequency column), 'recency' (recency column), 'T' (T column)" in text
        assert "['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '... 390 more']" in text  # not 400 names
        assert "numbers 0..399, not names" in text
        assert "Pass a DataFrame or a dict of named columns {'frequency': ..., 'recency': ..., 'T': ...}" in text
        assert "Rename" not in text
    spend = [data["frequency"].to_numpy(), np.ones(len(data))]
    with pytest.raises(InputError, match=re.escape("{'frequency': ..., 'monetary_value': ...}")):
        GammaGammaModel().fit(spend)


@pytest.mark.parametrize("call", [lambda: BetaGeoModel().fit(None), lambda: GammaGammaModel().fit(None)],
                         ids=["bgnbd", "gamma_gamma"])
def test_none_says_pass_a_dataframe(call):
    with pytest.raises(InputError, match=r"^data is None: pass a DataFrame or a dict of named columns"):
        call()


def test_named_tables_keep_the_rename_advice():
    with pytest.raises(InputError, match=r"its columns are \['freq', 'recency', 'T'\]\. Rename"):
        BetaGeoModel().fit(pd.DataFrame({"freq": [1, 0], "recency": [1.0, 0.0], "T": [2.0, 3.0]}))


@pytest.fixture(scope="module")
def spend() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    d = simulate_bgnbd(0.5, 5.0, 0.7, 2.5, n_customers=1500, T=30.0, seed=1821)[["frequency", "recency", "T"]]
    return d.assign(monetary_value=np.where(d["frequency"] > 0, rng.gamma(3.0, 10.0, len(d)), 0.0))


def test_gamma_gamma_accepts_missing_spend_without_repeat_purchases(spend):
    """NaN where frequency is 0 (main: InputError 'missing or non-finite') gives the fit of 0 there, exactly, and is
    counted among the exclusions."""
    nan = spend.assign(monetary_value=spend["monetary_value"].where(spend["frequency"] > 0))
    n0 = int((spend["frequency"] == 0).sum())
    ref = GammaGammaModel().fit(spend)
    model = GammaGammaModel().fit(nan)
    assert model.params_.equals(ref.params_)
    assert model.exclusions_ == {"no repeat purchases (frequency == 0)": n0, "of which monetary value missing (NaN)": n0}
    assert model.n_excluded_ == n0
    np.testing.assert_array_equal(model.expected_average_spend(nan), ref.expected_average_spend(spend))
    assert fit_spend_model(nan).params_.equals(fit_spend_model(spend).params_)
    assert spend_exclusions(nan)[1] == spend_exclusions(spend)[1]


def test_gamma_gamma_refuses_missing_spend_of_repeat_buyers(spend):
    bad = spend.copy()
    rows = list(bad.index[bad["frequency"] > 0][:7])
    bad.loc[rows, "monetary_value"] = np.nan
    expected = (f"monetary_value column 'monetary_value' is missing (NaN) for 7 customer(s) with repeat purchases "
                f"(rows {', '.join(map(str, rows[:5]))} and 2 more)")
    for call in (lambda: GammaGammaModel().fit(bad), lambda: fit_spend_model(bad),
                 lambda: GammaGammaModel().fit(spend).expected_average_spend(bad)):
        with pytest.raises(InputError, match=re.escape(expected) + ".*Fill it in"):
            call()


def test_missing_spend_without_repeat_purchases_in_the_whole_family(spend):
    """findings_n13: the Gamma-Gamma fit took NaN spend where frequency is 0, but prediction_intervals (so
    clv_prediction_intervals) and GammaGammaCovariateModel refused the same table: every spend path now treats it as
    the 0-coded table (the same numbers, seeded alike), and NaN of a repeat buyer as an error naming the rows."""
    from crm_analysis.clv import GammaGammaCovariateModel, prediction_intervals

    nan = spend.assign(monetary_value=spend["monetary_value"].where(spend["frequency"] > 0))
    bg = BetaGeoModel().fit(spend)
    gg = GammaGammaModel().fit(spend)
    kw = dict(spend_model=gg, n_draws=50, seed=4, monetary_value_col="monetary_value")
    a = prediction_intervals(bg, nan.iloc[:200], 26.0, **kw)
    b = prediction_intervals(bg, spend.iloc[:200], 26.0, **kw)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    z = np.random.default_rng(5).integers(0, 2, len(spend)).astype(float)
    cov = GammaGammaCovariateModel(spend_covariates=["z"]).fit(nan.assign(z=z))
    ref = GammaGammaCovariateModel(spend_covariates=["z"]).fit(spend.assign(z=z))
    assert cov.params_.equals(ref.params_) and cov.log_likelihood_ == ref.log_likelihood_
    assert cov.exclusions_["of which monetary value missing (NaN)"] == int((spend["frequency"] == 0).sum())
    np.testing.assert_array_equal(cov.expected_average_spend(nan.assign(z=z)), ref.expected_average_spend(spend.assign(z=z)))
    first_repeat = spend.index[spend["frequency"] > 0][0]
    broken = nan.copy()
    broken.loc[first_repeat, "monetary_value"] = np.nan
    for call in (lambda: prediction_intervals(bg, broken.iloc[:200], 26.0, **kw),
                 lambda: GammaGammaCovariateModel(spend_covariates=["z"]).fit(broken.assign(z=z))):
        with pytest.raises(InputError, match=rf"missing \(NaN\) for 1 customer\(s\) with repeat purchases \(rows {first_repeat}\)"):
            call()


def test_negative_frequency_refused_by_every_spend_model(spend):
    """report_mend14: GammaGammaCovariateModel counted a negative frequency as "no repeat purchases" and fitted, and
    every spend path fitted a fractional frequency (1.5 repeat purchases) silently; one check now serves them all
    (the rows named, fit and prediction)."""
    from crm_analysis.clv import GammaGammaCovariateModel

    z = np.random.default_rng(5).integers(0, 2, len(spend)).astype(float)
    fitted = GammaGammaCovariateModel(spend_covariates=["z"]).fit(spend.assign(z=z))
    for value, problem in ((-1.0, "negative"), (1.5, "non-integer")):
        bad = spend.assign(z=z, frequency=spend["frequency"].astype(float))
        row = bad.index[3]
        bad.loc[row, "frequency"] = value
        for call in (lambda: GammaGammaModel().fit(bad),
                     lambda: GammaGammaCovariateModel(spend_covariates=["z"]).fit(bad),
                     lambda: fitted.expected_average_spend(bad), lambda: fit_spend_model(bad),
                     lambda: spend_exclusions(bad)):
            with pytest.raises(InputError, match=rf"frequency column 'frequency' has 1 {problem} value\(s\) \(rows {row}\)"):
                call()
