"""fit_on_distinct and score_in_batches equal the in-memory CLV path."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from crm_analysis.clv import CLV_COLUMNS, BetaGeoModel, GammaGammaModel, ParetoNBDModel, fit_clv_models
from crm_analysis.rfm import rfm_summary
from crm_analysis.scale import distinct_rows, fit_on_distinct, score_in_batches
from crm_analysis.synthetic import generate_transactions


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    tx = generate_transactions(n_customers=600, seed=7).transactions
    return rfm_summary(tx, observation_end="2024-12-31", time_unit="W")


@pytest.fixture(scope="module")
def summary_file(summary, tmp_path_factory):
    path = tmp_path_factory.mktemp("summary") / "rfm_summary.parquet"
    summary.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def analysis(summary):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Gamma-Gamma correlation check
        return fit_clv_models(summary)


def test_distinct_rows_count_customers(summary_file, summary) -> None:
    rows = distinct_rows(summary_file, ["frequency", "recency", "T"])
    assert rows["n"].sum() == len(summary)
    assert len(rows) == len(summary[["frequency", "recency", "T"]].drop_duplicates())


def test_fit_on_distinct_equals_full_fit(summary_file, summary, analysis) -> None:
    bg = fit_on_distinct(summary_file, BetaGeoModel())
    pd.testing.assert_series_equal(bg.params_, analysis.transaction_model.params_, rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Gamma-Gamma correlation check, as in the fixture
        gg = fit_on_distinct(summary_file, GammaGammaModel())
    pd.testing.assert_series_equal(gg.params_, analysis.spend_model.params_, rtol=1e-10)
    assert gg.exclusions_ == analysis.spend_excluded
    assert gg.n_excluded_ == sum(analysis.spend_excluded.values())


def test_fit_on_distinct_pareto_and_bad_model(summary) -> None:
    small = summary.iloc[:300]
    full = ParetoNBDModel().fit(small[["frequency", "recency", "T"]])
    pd.testing.assert_series_equal(fit_on_distinct(small, ParetoNBDModel()).params_, full.params_, rtol=1e-10)
    with pytest.raises(TypeError, match="model must be"):
        fit_on_distinct(small, object())


@pytest.mark.parametrize("kind", ["file", "folder", "relation", "frame"])
def test_score_in_batches_equals_value_table(kind, summary, summary_file, analysis, tmp_path) -> None:
    import duckdb

    source = {
        "file": summary_file,
        "folder": summary_file.parent,
        "relation": duckdb.connect().read_parquet(str(summary_file)),
        "frame": summary,
    }[kind]
    out = tmp_path / "clv" / "clv.parquet"
    res = score_in_batches(
        source, analysis.transaction_model, analysis.spend_model, out_path=out, batch_size=97,
        horizon=52, margin=0.3, discount_rate=0.1,
    )
    ref = analysis.value_table(horizon=52, margin=0.3, discount_rate=0.1)
    got = pq.read_table(out).to_pandas()
    assert res.n_customers == len(summary) and res.n_batches == -(-len(summary) // 97)
    assert list(got.columns) == CLV_COLUMNS
    got = got.sort_values("customer_id").reset_index(drop=True)
    ref = ref.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, ref, check_dtype=False, check_exact=False, rtol=1e-12, atol=0)
    assert res.totals["clv"] == pytest.approx(ref["clv"].sum(), rel=1e-12)


def test_score_in_batches_errors(summary, analysis, tmp_path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        score_in_batches(summary, analysis.transaction_model, analysis.spend_model, out_path=tmp_path / "x.parquet", batch_size=0)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['T'\] in the summary"):
        score_in_batches(
            summary.drop(columns="T"), analysis.transaction_model, analysis.spend_model, out_path=tmp_path / "y.parquet"
        )
