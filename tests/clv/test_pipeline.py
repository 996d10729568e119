"""Tests of crm_analysis.clv.pipeline (transactions -> clv.parquet table)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.clv.pipeline import CLV_COLUMNS, CLVAnalysis, customer_value_table, fit_clv_models
from crm_analysis.rfm import rfm_summary
from crm_analysis.synthetic import generate_transactions

END = "2024-06-30"


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return generate_transactions(
        n_customers=600, start="2023-01-01", end=END, acquisition_end="2023-06-30", seed=3
    ).transactions


@pytest.fixture(scope="module")
def table(tx) -> pd.DataFrame:
    return customer_value_table(tx, observation_end=END, horizon=26, margin=0.3, discount_rate=0.1)


def test_columns_rows_and_no_missing(tx, table):
    assert list(table.columns) == CLV_COLUMNS
    assert not table.isna().any().any()
    summary = rfm_summary(tx, observation_end=END)
    assert list(table["customer_id"]) == list(summary.index)
    np.testing.assert_array_equal(table["frequency"].to_numpy(), summary["frequency"].to_numpy())
    assert table["revenue"].sum() == pytest.approx(tx["amount"].sum())
    assert table["p_alive"].between(0, 1).all()
    assert (table["expected_purchases"] >= 0).all()
    assert (table["expected_spend"] > 0).all()
    assert (table["clv"] >= 0).all()


def test_clv_is_linear_in_margin_and_falls_with_discounting(tx, table):
    doubled = customer_value_table(tx, observation_end=END, horizon=26, margin=0.6, discount_rate=0.1)
    np.testing.assert_allclose(doubled["clv"], 2 * table["clv"], rtol=1e-9)
    undiscounted = customer_value_table(tx, observation_end=END, horizon=26, margin=0.3, discount_rate=0.0)
    assert (undiscounted["clv"] >= table["clv"] - 1e-9).all()
    assert undiscounted["clv"].sum() > table["clv"].sum()


def test_parquet_input_gives_the_same_table(tmp_path, tx, table):
    path = tmp_path / "tx.parquet"
    tx.to_parquet(path, index=False)
    from_file = customer_value_table(path, observation_end=END, horizon=26, margin=0.3, discount_rate=0.1)
    pd.testing.assert_frame_equal(from_file, table, check_exact=False, rtol=1e-6)


def test_fit_clv_models_counts_spend_exclusions(tx):
    summary = rfm_summary(tx, observation_end=END)
    analysis = fit_clv_models(summary)
    assert isinstance(analysis, CLVAnalysis)
    assert analysis.model == "bgnbd"
    assert analysis.spend_excluded["no repeat purchase"] == int((summary["frequency"] == 0).sum())
    assert analysis.spend_excluded["mean repeat purchase value <= 0"] == 0
    assert set(analysis.transaction_model.params_.index) == {"r", "alpha", "a", "b"}


def test_negative_repeat_value_is_excluded_and_counted(tx):
    summary = rfm_summary(tx, observation_end=END).copy()
    repeaters = summary.index[summary["frequency"] > 0][:3]
    summary.loc[repeaters, "monetary_value"] = -5.0
    analysis = fit_clv_models(summary)
    assert analysis.spend_excluded["mean repeat purchase value <= 0"] == 3


def test_bad_model_and_time_unit(tx):
    with pytest.raises(ValueError, match=r"unknown transaction \(purchase\) model"):
        customer_value_table(tx, observation_end=END, model="gmm")
    with pytest.raises(ValueError, match="days or weeks"):
        customer_value_table(tx, observation_end=END, time_unit=30)
