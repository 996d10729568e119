"""daily_demand (DuckDB) equals the pandas demand series of crm_analysis.seasonality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_analysis.data import DataValidationError, transactions_relation
from crm_analysis.scale import DEMAND_COLUMNS, connect_out_of_core, daily_demand
from crm_analysis.seasonality import transaction_series


def _random_tx(seed: int, n: int = 400, order_ids: bool = True, missing: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60 * 86400, n), unit="s")
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 40, n).astype(str),
            "timestamp": ts,
            "amount": np.round(rng.normal(20, 15, n), 2),
        }
    )
    if order_ids:
        tx["order_id"] = pd.array(rng.integers(0, max(1, n // 3), n).astype(str), dtype="string")
        if missing:
            tx.loc[rng.random(n) < 0.1, "order_id"] = pd.NA
    if missing:
        tx.loc[rng.random(n) < 0.05, "timestamp"] = pd.NaT
    return tx


def _pandas_demand(tx: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """The reference: transaction_series of each measure (independent pandas implementation)."""
    cols = {m: transaction_series(tx, measure=m, start=start, end=end).values for m in DEMAND_COLUMNS}
    return pd.DataFrame(cols).rename_axis("date")


def _assert_equal(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(got.columns) == list(DEMAND_COLUMNS)
    assert got.index.equals(ref.index), "calendars differ"
    for col in ("orders", "lines", "customers"):
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy(dtype=float), err_msg=col)
    np.testing.assert_allclose(got["revenue"].to_numpy(), ref["revenue"].to_numpy(), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("order_ids", [True, False])
@pytest.mark.parametrize("bounds", [(None, None), ("2023-12-20", "2024-02-10"), ("2024-01-10", "2024-01-31")])
def test_equals_pandas_series(order_ids: bool, bounds: tuple) -> None:
    tx = _random_tx(1, order_ids=order_ids)
    start, end = bounds
    got = daily_demand(tx, start=start, end=end)
    ref = _pandas_demand(tx, start=start, end=end)
    _assert_equal(got, ref)
    assert got.index.dtype == "datetime64[ns]" and got.index.name == "date"
    assert (got.index.to_series().diff().dropna() == pd.Timedelta(days=1)).all(), "every calendar day present"
    assert got.attrs["filled_days"] == int((got["lines"] == 0).sum())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 80))
def test_property_equals_pandas(seed: int, n: int) -> None:
    tx = _random_tx(seed, n=n, missing=False)
    _assert_equal(daily_demand(tx), _pandas_demand(tx))


def test_nothing_dropped_silently() -> None:
    tx = _random_tx(3)
    start, end = "2024-01-15", "2024-02-05"
    got = daily_demand(tx, start=start, end=end)
    day = tx["timestamp"].dt.normalize()
    expected = {
        "missing timestamp": int(day.isna().sum()),
        "before start": int((day < pd.Timestamp(start)).sum()),
        "after end": int((day > pd.Timestamp(end)).sum()),
    }
    assert got.attrs["excluded"] == {k: v for k, v in expected.items() if v}
    assert got["lines"].sum() + sum(expected.values()) == len(tx)


def test_sources_agree(tmp_path) -> None:
    """DataFrame, Parquet folder, Parquet glob and relation with a column mapping give one result."""
    tx = _random_tx(4, missing=False)
    folder = tmp_path / "tx"
    folder.mkdir()
    half = len(tx) // 2
    tx.iloc[:half].to_parquet(folder / "a.parquet")
    tx.iloc[half:].to_parquet(folder / "b.parquet")
    ref = daily_demand(tx)
    con = connect_out_of_core(memory_limit="500MB", temp_directory=tmp_path / "spill", threads=1)
    pd.testing.assert_frame_equal(daily_demand(folder, con=con), ref)
    pd.testing.assert_frame_equal(daily_demand(str(folder / "*.parquet")), ref)
    renamed = tx.rename(columns={"customer_id": "cid", "timestamp": "ts"})
    rel = con.from_df(renamed)
    pd.testing.assert_frame_equal(daily_demand(rel, columns={"customer_id": "cid", "timestamp": "ts"}), ref)
    pd.testing.assert_frame_equal(daily_demand(transactions_relation(renamed, columns={"customer_id": "cid", "timestamp": "ts"})), ref)


def test_bad_input() -> None:
    tx = _random_tx(5, missing=False)
    with pytest.raises(ValueError, match="after end"):
        daily_demand(tx, start="2024-02-01", end="2024-01-01")
    with pytest.raises(ValueError, match="calendar date"):
        daily_demand(tx, start="2024-01-01 12:00")
    with pytest.raises(DataValidationError, match="amount"):
        daily_demand(tx.drop(columns="amount"))
    with pytest.raises(ValueError, match="empty calendar"):
        daily_demand(tx.assign(timestamp=pd.NaT))


@pytest.mark.parametrize("option", [{"dayfirst": True}, {"date_format": "%d/%m/%Y"}])
def test_reader_options_and_date_policy_as_load_transactions(tmp_path, option) -> None:
    """A ';'-separated file with a decimal comma and dd/mm dates valid in both orders (intake2, point 2)."""
    from crm_analysis.data import load_transactions

    tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                       "timestamp": pd.to_datetime(["2024-01-03", "2024-02-05", "2024-01-04", "2024-02-01"]),
                       "amount": [10.5, 2.25, 7.0, 3.0]})
    raw = tx.assign(timestamp=tx["timestamp"].dt.strftime("%d/%m/%Y"),
                    amount=tx["amount"].map(lambda v: f"{v:.2f}".replace(".", ",")))
    path = tmp_path / "tx.csv"
    raw.to_csv(path, sep=";", index=False)
    opts = {"sep": ";", "decimal": ","}
    got = daily_demand(path, read_options=opts, **option)
    _assert_equal(got, _pandas_demand(load_transactions(path, read_options=opts, **option)))
    assert got.loc["2024-01-03", "revenue"] == 10.5  # 03/01 read day first
    with pytest.raises(DataValidationError, match="valid in both orders"):
        daily_demand(path, read_options=opts)
