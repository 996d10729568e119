"""Input messages of issue #12 (mend14): a Series passed as the customer summary, duplicated column labels, the BG/BB's
row checks in the wording of the continuous models, and the spend models' shared exclusions.

* ``d.iloc[3]`` (one customer's row as a Series) was read by pandas as one column named ``3``: the missing-column
  message listed ``['3']``, or for the row labelled 0 said "a list or array (e.g. [x, t, T]) was read as rows". A
  column ``d["frequency"]`` gave a missing-column message or a bare ``AttributeError`` / ``KeyError``
  (``spend_exclusions``, ``fit_clv_models``, ``fit_purchase_models``, covariate predictions).
* ``pd.concat([d, d[["frequency"]]], axis=1)`` gave ``AttributeError: 'DataFrame' object has no attribute 'dtype'``
  (or a ``TypeError`` in the spend paths).
* The BG/BB named the first row by position only (``first: row 0``), without the fix.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from crm_analysis.clv import (
    BetaGeoBetaBinomModel,
    BetaGeoCovariateModel,
    BetaGeoModel,
    GammaGammaCovariateModel,
    GammaGammaModel,
    GeometricNBDModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
    check_discrete_data,
    check_transaction_data,
    clv_prediction_intervals,
    compare_models,
    conditional_expectations,
    customer_lifetime_value,
    expected_spend,
    fit_clv_models,
    fit_purchase_models,
    fit_spend_model,
    frequency_histogram,
    prediction_intervals,
    simulate_bgnbd,
    spend_exclusions,
)
from crm_analysis.exceptions import InputError

_DISCRETE = pd.DataFrame({"frequency": [0, 1, 2, 3, 1, 0], "recency": [0, 1, 2, 3, 3, 0], "n_periods": [5] * 6,
                          "weights": [10, 5, 3, 2, 4, 20]})


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    d = simulate_bgnbd(0.5, 5.0, 0.7, 2.5, n_customers=400, T=30.0, seed=1820)[["frequency", "recency", "T"]]
    rng = np.random.default_rng(3)
    return d.assign(monetary_value=np.where(d["frequency"] > 0, rng.gamma(3.0, 10.0, len(d)), np.nan),
                    z=rng.integers(0, 2, len(d)).astype(float))


@pytest.fixture(scope="module")
def fitted(summary) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "bg": BetaGeoModel().fit(summary), "gg": GammaGammaModel().fit(summary),
            "bgc": BetaGeoCovariateModel(purchase_covariates=["z"]).fit(summary),
            "ggc": GammaGammaCovariateModel(spend_covariates=["z"]).fit(summary),
            "bb": BetaGeoBetaBinomModel().fit(_DISCRETE, weights="weights"),
        }


def _entry_points(fitted: dict, continuous, discrete) -> dict:
    """Every entry point that takes a customer summary, called on ``continuous`` (or ``discrete`` for the BG/BB)."""
    bg, gg = fitted.get("bg"), fitted.get("gg")
    pi = dict(n_draws=20, seed=1)
    return {
        **{f"{cls.__name__}.fit": (lambda cls=cls: cls().fit(continuous))
           for cls in (BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, NBDModel, GeometricNBDModel)},
        "probability_alive": lambda: bg.probability_alive(continuous),
        "expected_purchases": lambda: bg.expected_purchases(10.0, continuous),
        "check_transaction_data": lambda: check_transaction_data(continuous),
        "GammaGammaModel.fit": lambda: GammaGammaModel().fit(continuous),
        "expected_average_spend": lambda: gg.expected_average_spend(continuous),
        "fit_spend_model": lambda: fit_spend_model(continuous),
        "spend_exclusions": lambda: spend_exclusions(continuous),
        "expected_spend": lambda: expected_spend(gg, continuous),
        "customer_lifetime_value": lambda: customer_lifetime_value(bg, gg, continuous),
        "prediction_intervals": lambda: prediction_intervals(bg, continuous, 26.0, **pi),
        "clv_prediction_intervals": lambda: clv_prediction_intervals(bg, gg, continuous, horizon=26.0, time_unit="W",
                                                                     margin=0.3, discount_rate=0.1, level=0.9, **pi),
        "fit_clv_models": lambda: fit_clv_models(continuous),
        "fit_purchase_models": lambda: fit_purchase_models(continuous),
        "compare_models": lambda: compare_models(continuous),
        "BetaGeoCovariateModel.fit": lambda: BetaGeoCovariateModel(purchase_covariates=["z"]).fit(continuous),
        "BetaGeoCovariateModel.probability_alive": lambda: fitted.get("bgc").probability_alive(continuous),
        "GammaGammaCovariateModel.fit": lambda: GammaGammaCovariateModel(spend_covariates=["z"]).fit(continuous),
        "GammaGammaCovariateModel.expected_average_spend": lambda: fitted.get("ggc").expected_average_spend(continuous),
        "frequency_histogram": lambda: frequency_histogram(bg, continuous),
        "conditional_expectations": lambda: conditional_expectations(bg, continuous),
        "BetaGeoBetaBinomModel.fit": lambda: BetaGeoBetaBinomModel().fit(discrete),
        "BetaGeoBetaBinomModel.probability_alive": lambda: fitted.get("bb").probability_alive(discrete),
        "check_discrete_data": lambda: check_discrete_data(discrete),
    }


_NAMES = list(_entry_points({}, None, None))


@pytest.mark.parametrize("entry", _NAMES)
@pytest.mark.parametrize("position", [3, 0])
def test_one_customers_row_as_a_series_is_named(summary, fitted, entry, position):
    """d.iloc[3]: main said "missing column(s) ... its columns are ['3']"; at the row labelled 0 (pandas then names
    the column 0) "a list or array (e.g. [x, t, T]) was read as rows of a table"."""
    labelled = summary.set_axis([f"c{i}" for i in range(len(summary))])
    call = _entry_points(fitted, labelled.iloc[position], _DISCRETE.iloc[position])[entry]
    with pytest.raises(InputError, match="one customer's row as a Series") as err:
        call()
    text = str(err.value)
    label = repr(f"c{position}") if entry not in ("BetaGeoBetaBinomModel.fit", "BetaGeoBetaBinomModel.probability_alive",
                                                 "check_discrete_data") else repr(position)
    assert f"d.loc[[{label}]]" in text and "d.iloc[[i]]" in text and "one-row DataFrame" in text
    assert "read as rows" not in text and "missing column" not in text


@pytest.mark.parametrize("entry", _NAMES)
def test_one_column_as_a_series_is_named(summary, fitted, entry):
    call = _entry_points(fitted, summary["frequency"], _DISCRETE["frequency"])[entry]
    with pytest.raises(InputError, match=r"is a Series: one column \('frequency', \d+ value\(s\)\), not the table") as err:
        call()
    # the columns to pass: every entry point here reads more than the frequency
    assert re.search(r"e\.g\. d or d\[\['frequency', '\w+'", str(err.value)), str(err.value)


@pytest.mark.parametrize("entry", _NAMES)
def test_duplicated_column_labels_are_named(summary, fitted, entry):
    """pd.concat([d, d[["frequency"]]], axis=1): main raised AttributeError: 'DataFrame' object has no attribute
    'dtype' (TypeError in the spend paths)."""
    dup = pd.concat([summary.assign(frequency_holdout=0.0, duration_holdout=10.0), summary[["frequency"]]], axis=1)
    dup_discrete = pd.concat([_DISCRETE, _DISCRETE[["frequency"]]], axis=1)
    call = _entry_points(fitted, dup, dup_discrete)[entry]
    expected = "duplicated column label(s) in "
    with pytest.raises(InputError, match=re.escape(expected)) as err:
        call()
    assert "'frequency' (2 times)" in str(err.value)
    assert "d.loc[:, ~d.columns.duplicated()]" in str(err.value)


def test_duplicated_labels_not_read_are_let_be(summary, fitted):
    """Only the columns a model reads must be unique: a duplicated other column changes nothing."""
    extra = pd.concat([summary, summary[["z"]].rename(columns={"z": "note"}),
                       summary[["z"]].rename(columns={"z": "note"})], axis=1)
    np.testing.assert_array_equal(fitted["bg"].probability_alive(extra), fitted["bg"].probability_alive(summary))
    np.testing.assert_array_equal(fitted["gg"].expected_average_spend(extra),
                                  fitted["gg"].expected_average_spend(summary))


def test_spend_models_count_the_same_exclusions(summary):
    """GammaGammaModel and GammaGammaCovariateModel build exclusions_ with one helper: on the same data (NaN spend
    where frequency is 0) they agree, the covariate model adding its own reason (non-positive spend, which the
    model without covariates refuses)."""
    n0 = int((summary["frequency"] == 0).sum())
    assert n0 > 0
    for data, n_missing in ((summary, n0), (summary.fillna({"monetary_value": 0.0}), 0)):
        gg = GammaGammaModel().fit(data)
        ggc = GammaGammaCovariateModel(spend_covariates=["z"]).fit(data)
        expected = {"no repeat purchases (frequency == 0)": n0}
        if n_missing:
            expected["of which monetary value missing (NaN)"] = n_missing
        assert gg.exclusions_ == expected
        assert ggc.exclusions_ == {**gg.exclusions_, "mean repeat spend <= 0": 0}


@pytest.mark.parametrize(
    ("row", "problem", "fix"),
    [
        ({"frequency": -1, "recency": 0, "n_periods": 6}, "frequency column 'frequency' has 1 negative value(s)",
         "counts of opportunities are >= 0"),
        ({"frequency": 1.5, "recency": 2, "n_periods": 6}, "frequency column 'frequency' has 1 non-integer value(s)",
         "use whole numbers of periods"),
        ({"frequency": 1, "recency": 7, "n_periods": 6},
         "1 row(s) have recency ('recency') greater than the number of opportunities ('n_periods')", "recency <= n"),
        ({"frequency": 3, "recency": 2, "n_periods": 6}, "1 row(s) have frequency ('frequency') greater than "
         "recency ('recency')", "at most one transaction per opportunity"),
        ({"frequency": 0, "recency": 2, "n_periods": 6}, "1 row(s) have frequency 0 but positive recency ('recency')",
         "set it to 0 there"),
    ],
)
def test_discrete_checks_name_the_rows_and_the_fix(row, problem, fix):
    """The BG/BB's checks in the continuous models' wording: column, count, row labels, fix (main: 'first: row 4')."""
    good = pd.DataFrame({"frequency": [0, 1, 2, 3], "recency": [0, 3, 4, 6], "n_periods": [6, 6, 6, 6]},
                        index=["a", "b", "c", "d"])
    bad = pd.concat([good, pd.DataFrame([row], index=["bad"])])
    with pytest.raises(InputError, match=re.escape(f"{problem} (rows 'bad'): ") + ".*" + re.escape(fix)):
        BetaGeoBetaBinomModel().fit(bad)


def test_recency_without_repeat_purchases_one_message_for_both_time_scales():
    """Continuous and discrete summaries refuse t_x > 0 with x = 0 in the same words (one helper)."""
    messages = []
    for call in (lambda: check_transaction_data(pd.DataFrame({"frequency": [0, 1], "recency": [2.0, 1.0],
                                                              "T": [5.0, 5.0]}, index=["p", "q"])),
                 lambda: check_discrete_data(pd.DataFrame({"frequency": [0, 1], "recency": [2, 1], "n_periods": [5, 5]},
                                                          index=["p", "q"]))):
        with pytest.raises(InputError) as err:
            call()
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("1 row(s) have frequency 0 but positive recency ('recency') (rows 'p'): ")
