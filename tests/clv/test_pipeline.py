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


def test_summary_without_revenue_gives_table_without_that_column():
    """A hand-made summary (frequency, recency, T, monetary_value, no revenue) is valued, not refused late.

    Before: ``ValueError: the value table has missing values: {'revenue': 800}`` after the whole CLV
    computation. Now the column is left out (as the batch scoring of crm_analysis.scale does) and
    ``attrs["missing_columns"]`` says why.
    """
    from crm_analysis.clv import simulate_bgnbd, simulate_gamma_gamma

    d = simulate_bgnbd(0.243, 4.414, 0.793, 2.426, n_customers=800, T=30.0, seed=1)
    d["monetary_value"] = simulate_gamma_gamma(6.25, 3.74, 15.44, d["frequency"].to_numpy(), seed=2)[
        "monetary_value"
    ].to_numpy()
    from crm_analysis.contracts import TimeUnit

    d.attrs.update(TimeUnit.parse("W").to_attrs())  # a hand-made summary must say its time unit (contracts)
    table = fit_clv_models(d).value_table(horizon=52)
    assert "revenue" not in table.columns
    assert [c for c in CLV_COLUMNS if c != "revenue"] == list(table.columns)
    assert "revenue" in table.attrs["missing_columns"]
    assert not table.isna().any().any()
    d["revenue"] = 1.0
    assert "revenue" in fit_clv_models(d).value_table(horizon=52).columns


def test_value_table_names_missing_input_values_up_front(tx):
    summary = rfm_summary(tx, observation_end="2024-12-31", time_unit="W")
    analysis = fit_clv_models(summary)
    summary = summary.copy()
    summary.loc[summary.index[:3], "monetary_value"] = np.nan
    analysis.summary = summary
    with pytest.raises(ValueError, match=r"missing values in \{'monetary_value': 3\}"):
        analysis.value_table()
