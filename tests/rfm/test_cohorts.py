"""Tests of the acquisition-cohort table (crm_analysis.rfm.cohorts; issue 15, point 5)."""

from __future__ import annotations

import duckdb
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_analysis.data import connect
from crm_analysis.rfm import COHORT_COLUMNS, cohort_table


def _tx(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"]).assign(
        timestamp=lambda d: pd.to_datetime(d["timestamp"]))


def test_hand_computed_example():
    """Two January customers (one returns in March), one February customer; end 2024-03-15."""
    tx = _tx([
        ("a", "2024-01-05", 10.0), ("a", "2024-01-20", 5.0), ("a", "2024-03-02", 7.0),
        ("b", "2024-01-31", 4.0),
        ("c", "2024-02-01", 8.0), ("c", "2024-02-28", -2.0),
        ("a", "2024-04-01", 99.0),  # after observation_end: ignored
    ])
    res = cohort_table(tx, observation_end="2024-03-15")
    t = res.table.set_index(["cohort", "period"])
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    assert list(res.table.columns) == list(COHORT_COLUMNS)
    assert t.loc[(jan, 0), ["cohort_size", "active_customers", "revenue"]].tolist() == [2, 2, 19.0]
    assert t.loc[(jan, 1), "active_customers"] == 0 and t.loc[(jan, 1), "retention_rate"] == 0.0
    assert t.loc[(jan, 2), "retention_rate"] == 0.5 and t.loc[(jan, 2), "revenue_per_customer"] == 3.5
    assert t.loc[(feb, 0), "revenue"] == 6.0 and t.loc[(feb, 1), "active_customers"] == 0
    assert not t.loc[(jan, 2), "complete"] and t.loc[(jan, 1), "complete"]  # March runs past the 15th
    assert (jan, 3) not in t.index and len(res.table) == 5
    q = cohort_table(tx, observation_end="2024-03-15", frequency="Q").table
    assert q[["cohort_size", "active_customers"]].to_numpy().tolist() == [[3, 3]]


_day = st.integers(0, 500).map(lambda d: pd.Timestamp("2023-01-01") + pd.Timedelta(days=d))
_rows = st.lists(
    st.tuples(st.sampled_from([f"c{i}" for i in range(12)]), _day,
              st.floats(-50, 500, allow_nan=False).map(lambda v: round(v, 2))),
    min_size=1, max_size=60,
)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return connect()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows, freq=st.sampled_from(["M", "Q"]), end_day=st.integers(0, 520))
def test_pandas_and_duckdb_paths_agree(rows, freq, end_day, tmp_path, con):
    """Property: the pandas path (a DataFrame), the DuckDB path (a relation) and a Parquet file give the same
    table; accounting identities hold (period-0 retention 1, active <= cohort size, cohort sizes add up to the
    customers, revenue adds up to the amounts up to observation_end)."""
    tx = _tx(rows)
    end = pd.Timestamp("2023-01-01") + pd.Timedelta(days=end_day)
    kept = tx[tx["timestamp"] <= end]
    if kept.empty:
        with pytest.raises(ValueError, match="no purchase falls on or before"):
            cohort_table(tx, observation_end=end.date().isoformat(), frequency=freq)
        return
    a = cohort_table(tx, observation_end=end.date().isoformat(), frequency=freq).table
    b = cohort_table(con.from_df(tx), observation_end=end.date().isoformat(), frequency=freq, con=con).table
    path = tmp_path / "tx.parquet"
    tx.to_parquet(path)
    c = cohort_table(str(path), observation_end=end.date().isoformat(), frequency=freq, con=con).table
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-9)
    pd.testing.assert_frame_equal(a, c, check_exact=False, rtol=1e-12, atol=1e-9)
    assert (a.loc[a["period"] == 0, "retention_rate"] == 1.0).all()
    assert (a["active_customers"] <= a["cohort_size"]).all()
    assert a.loc[a["period"] == 0, "cohort_size"].sum() == kept["customer_id"].nunique()
    assert a["revenue"].sum() == pytest.approx(kept["amount"].sum(), abs=1e-6)


def test_errors_name_the_parameter():
    tx = _tx([("a", "2024-01-05", 10.0)])
    with pytest.raises(ValueError, match="frequency must be 'M'"):
        cohort_table(tx, observation_end="2024-03-15", frequency="W")
    with pytest.raises(ValueError, match="amount"):
        cohort_table(tx.drop(columns="amount"), observation_end="2024-03-15")
    with pytest.raises(ValueError, match="no purchase falls on or before observation_end=2023-12-31"):
        cohort_table(tx, observation_end="2023-12-31")


def test_heatmap_has_labels():
    tx = _tx([("a", "2024-01-05", 10.0), ("b", "2024-02-05", 3.0), ("a", "2024-02-07", 1.0)])
    res = cohort_table(tx, observation_end="2024-03-31")
    fig = res.plot(metric="revenue_per_customer")
    ax = fig.axes[0]
    assert "Revenue per customer" in ax.get_title() and ax.get_xlabel() == "months since acquisition"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2024-01", "2024-02"]
    plt.close(fig)
    with pytest.raises(ValueError, match="metric"):
        res.matrix(metric="churn")


@pytest.mark.slow
@pytest.mark.shared_data
def test_online_retail_paths_agree(shared_data):
    """The real data set (UCI Online Retail, customers with an id): pandas and DuckDB agree; 13 monthly cohorts."""
    raw = pd.read_parquet(shared_data / "online_retail" / "online_retail.parquet",
                          columns=["CustomerID", "InvoiceDate", "Quantity", "UnitPrice"])
    tx = raw.dropna(subset=["CustomerID"]).assign(amount=lambda d: d["Quantity"] * d["UnitPrice"])
    kw = dict(observation_end="2011-12-09", customer_col="CustomerID", datetime_col="InvoiceDate", monetary_col="amount")
    a = cohort_table(tx, **kw)
    own = connect()
    b = cohort_table(own.from_df(tx), con=own, **kw)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-9)
    assert a.table["cohort"].nunique() == 13
    assert a.table.loc[a.table["period"] == 0, "cohort_size"].sum() == tx["CustomerID"].nunique()


@pytest.mark.parametrize(("end", "partial_days"), [("2024-03-15", 15), ("2024-03-31", None), ("2024-03-01", 1)])
def test_the_partial_period_is_hatched_and_named(end: str, partial_days: int | None) -> None:
    """Issue 17 (n17 F8): Online Retail ends on 2011-12-09, so the last cell of every cohort counted 9 days and
    read as a collapse, unmarked. Now those cells are hatched and the note says which month and how many days."""
    from matplotlib.patches import Rectangle

    tx = _tx([("a", "2024-01-05", 10.0), ("b", "2024-02-05", 3.0), ("a", "2024-02-07", 1.0), ("b", "2024-03-01", 2.0)])
    res = cohort_table(tx, observation_end=end)
    fig = res.plot(metric="retention_rate")
    hatched = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_hatch()]
    n_partial = int((~res.table["complete"]).sum())
    assert len(hatched) == n_partial == (0 if partial_days is None else 2)  # the March cell of both cohorts
    plt.close(fig)
    note = res.partial_note()
    assert "The first cohort (2024-01) also holds the customers acquired before the data begin." in note
    if partial_days is None:
        assert "partial" not in note
    else:
        assert f"The month 2024-03 is partial: the data end on {end}, {partial_days} of its 31 days" in note
