"""Tests of crm_analysis.rfm: published CDNOW figures, properties, and the numpy engine against the DuckDB engine."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from crm_analysis.data import DataValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crm_analysis.rfm import (
    calibration_and_holdout,
    repeat_purchases_by_day,
    rfm_summary,
    time_unit_days,
)

START = pd.Timestamp("2023-01-01")


# ----------------------------------------------------------------------------- helpers
def _cdnow_sample(shared_data) -> pd.DataFrame:
    """CDNOW_sample.txt as canonical transactions keyed by the sample id (1..2357)."""
    raw = pd.read_csv(
        shared_data / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "sample_id", "date", "cds", "dollars"],
        dtype={"master_id": str, "sample_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["sample_id"].astype(int).astype(str),
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollars"].astype(float),
        }
    )


def _pandas_reference(tx: pd.DataFrame, end: pd.Timestamp, unit_days: float) -> pd.DataFrame:
    """Independent plain-pandas implementation of the documented conventions."""
    t = tx[tx["timestamp"].dt.normalize() <= end].copy()
    t["day"] = t["timestamp"].dt.normalize()
    daily = t.groupby(["customer_id", "day"], as_index=False)["amount"].sum().sort_values(["customer_id", "day"])
    rows = {}
    for cid, g in daily.groupby("customer_id"):
        days = list(g["day"])
        amounts = list(g["amount"])
        rows[cid] = {
            "frequency": len(days) - 1,
            "recency": (days[-1] - days[0]).days / unit_days,
            "T": (end - days[0]).days / unit_days,
            "monetary_value": float(np.mean(amounts[1:])) if len(days) > 1 else 0.0,
            "revenue": float(np.sum(amounts)),
        }
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


@st.composite
def transactions(draw, max_customers: int = 6, max_rows: int = 40):
    """Random transactions: few customers, several purchases per day possible."""
    n = draw(st.integers(1, max_rows))
    cust = draw(st.lists(st.integers(0, max_customers - 1), min_size=n, max_size=n))
    day = draw(st.lists(st.integers(0, 120), min_size=n, max_size=n))
    day[0] = draw(st.integers(0, 100))  # at least one purchase up to END (an empty period is an error, tested apart)
    hour = draw(st.lists(st.integers(0, 23), min_size=n, max_size=n))
    amount = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": [f"c{c}" for c in cust],
            "timestamp": START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h"),
            "amount": np.asarray(amount, dtype=float) / 100.0,
        }
    )


END = START + pd.Timedelta(days=100)


# ----------------------------------------------------------------------------- published data
@pytest.mark.shared_data
def test_reproduces_cdnow_published_summary(shared_data):
    """CDNOW 2,357-customer sample, 39 weeks to 1997-09-30 (Fader, Hardie & Lee 2005).

    ``cdnow_customers_summary.csv`` (frequency, recency, T in weeks, 2 decimals)
    and ``cdnow_customers_summary_with_transactions.csv`` (x, t_x, T, zbar) as
    shipped with lifetimes 0.11.3 must be reproduced exactly after rounding to
    2 decimals (zbar within half a cent: the file rounds means ending in 5 up).
    This fixes the conventions: end day inclusive (13 purchases on 1997-09-30
    count), T = days from first purchase to the end / 7.
    """
    tx = _cdnow_sample(shared_data)
    s = rfm_summary(tx, observation_end="1997-09-30", time_unit="W")
    s.index = s.index.astype(int)
    ref = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv").set_index("ID")
    ref2 = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv").set_index("ID")
    assert len(s) == len(ref) == 2357
    s = s.loc[ref.index]
    np.testing.assert_array_equal(s["frequency"].to_numpy(), ref["frequency"].to_numpy())
    np.testing.assert_array_equal(s["recency"].round(2).to_numpy(), ref["recency"].to_numpy())
    np.testing.assert_array_equal(s["T"].round(2).to_numpy(), ref["T"].to_numpy())
    np.testing.assert_array_equal(s["frequency"].to_numpy(), ref2.loc[ref.index, "x"].to_numpy())
    # zbar is printed to 2 decimals (70 exact means end in 5 and are rounded up): within half a cent
    zbar = ref2.loc[ref.index, "zbar"].to_numpy()
    assert np.abs(s["monetary_value"].to_numpy() - zbar).max() <= 0.005 + 1e-9
    np.testing.assert_array_equal(s["monetary_value"].to_numpy() == 0, zbar == 0)


@pytest.mark.shared_data
def test_cdnow_end_day_is_inclusive(shared_data):
    """An exclusive end would change 13 customers' summaries (they bought on 1997-09-30)."""
    tx = _cdnow_sample(shared_data)
    inclusive = rfm_summary(tx, observation_end="1997-09-30")
    exclusive = rfm_summary(tx, observation_end="1997-09-29")
    assert (inclusive["frequency"] != exclusive["frequency"].reindex(inclusive.index)).sum() == 13


@pytest.mark.shared_data
def test_cdnow_calibration_holdout_totals(shared_data):
    """The whole cohort bought before 1997-04-01: holdout + calibration = all purchase days."""
    tx = _cdnow_sample(shared_data)
    ch = calibration_and_holdout(tx, calibration_end="1997-09-30", observation_end="1998-06-30")
    full = rfm_summary(tx, observation_end="1998-06-30")
    assert len(ch) == len(full) == 2357
    np.testing.assert_array_equal(
        (ch["frequency"] + ch["frequency_holdout"]).to_numpy(), full.loc[ch.index, "frequency"].to_numpy()
    )
    assert ch["duration_holdout"].eq(273 / 7).all()
    assert ch["revenue"].sum() + ch["revenue_holdout"].sum() == pytest.approx(tx["amount"].sum())


# ----------------------------------------------------------------------------- input kinds
def _small_tx() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 500
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, 60, n).astype(str),
            "timestamp": START + pd.to_timedelta(rng.integers(0, 200 * 24, n), unit="h"),
            "amount": rng.gamma(2.0, 20.0, n).round(2),
        }
    )


def test_dataframe_parquet_csv_and_relation_agree(tmp_path):
    tx = _small_tx()
    end = "2023-06-30"
    from_df = rfm_summary(tx, observation_end=end)
    pq = tmp_path / "tx.parquet"
    tx.to_parquet(pq, index=False)
    csv = tmp_path / "tx.csv"
    tx.to_csv(csv, index=False)
    con = duckdb.connect()
    rel = con.read_parquet(str(pq))
    for other in (
        rfm_summary(pq, observation_end=end),
        rfm_summary(str(pq), observation_end=end),
        rfm_summary(csv, observation_end=end),
        rfm_summary(rel, observation_end=end),
        rfm_summary(tx, observation_end=end, con=con),
    ):
        pd.testing.assert_frame_equal(other, from_df, check_exact=False, rtol=1e-12)


def test_matches_independent_pandas_implementation():
    tx = _small_tx()
    end = pd.Timestamp("2023-06-30")
    s = rfm_summary(tx, observation_end=end)
    ref = _pandas_reference(tx, end, 7.0)
    assert list(s.index) == list(ref.index)
    for col in ["frequency", "recency", "T", "monetary_value", "revenue"]:
        np.testing.assert_allclose(s[col].to_numpy(dtype=float), ref[col].to_numpy(dtype=float), rtol=1e-12)


def test_custom_column_names_and_output_schema():
    tx = _small_tx().rename(columns={"customer_id": "cust", "timestamp": "ts", "amount": "value"})
    s = rfm_summary(tx, observation_end="2023-06-30", customer_col="cust", datetime_col="ts", monetary_col="value")
    assert s.index.name == "customer_id"
    assert list(s.columns) == ["frequency", "recency", "T", "monetary_value", "revenue", "first_purchase"]
    assert s["frequency"].dtype == np.int64
    assert s.attrs["unit_days"] == 7.0


def test_summary_round_trips_through_parquet(tmp_path):
    """attrs are JSON-friendly, so the artefact can be written (RunContext.write_table)."""
    ch = calibration_and_holdout(_small_tx(), calibration_end="2023-04-30", observation_end="2023-06-30")
    ch.reset_index().to_parquet(tmp_path / "s.parquet", index=False)
    back = pd.read_parquet(tmp_path / "s.parquet")
    assert back.attrs["calibration_end"] == "2023-04-30" and back.attrs["time_unit"] == "W"


# ----------------------------------------------------------------------------- properties
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transactions())
def test_summary_properties(tx):
    s = rfm_summary(tx, observation_end=END, time_unit="W")
    in_window = tx[tx["timestamp"].dt.normalize() <= END]
    assert set(s.index) == set(in_window["customer_id"])
    assert (s["recency"] >= 0).all() and (s["recency"] <= s["T"] + 1e-12).all()
    days = in_window.groupby("customer_id")["timestamp"].apply(lambda t: t.dt.normalize().nunique())
    np.testing.assert_array_equal(s["frequency"].to_numpy(), days.loc[s.index].to_numpy() - 1)
    assert ((s["monetary_value"] == 0) == (s["frequency"] == 0)).all()  # amounts are positive
    revenue = in_window.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(s["revenue"].to_numpy(), revenue.loc[s.index].to_numpy())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transactions(), st.integers(1, 23))
def test_same_day_purchases_merge(tx, hours):
    """Splitting each purchase into two lines later the same day changes nothing."""
    same_day = tx["timestamp"].dt.normalize()
    split = tx.copy()
    split["amount"] = tx["amount"] / 2
    later = split.copy()
    later["timestamp"] = same_day + pd.Timedelta(hours=hours)
    doubled = pd.concat([split, later], ignore_index=True)
    a = rfm_summary(tx, observation_end=END)
    b = rfm_summary(doubled, observation_end=END)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transactions(), st.sampled_from([3, 14, 30.5]))
def test_time_unit_scaling(tx, days):
    d = rfm_summary(tx, observation_end=END, time_unit="D")
    w = rfm_summary(tx, observation_end=END, time_unit="W")
    k = rfm_summary(tx, observation_end=END, time_unit=days)
    for col in ["recency", "T"]:
        np.testing.assert_allclose(w[col] * 7, d[col], rtol=1e-12)
        np.testing.assert_allclose(k[col] * days, d[col], rtol=1e-12)
    np.testing.assert_array_equal(w["frequency"].to_numpy(), d["frequency"].to_numpy())
    for col in ["monetary_value", "revenue"]:  # DuckDB sums in parallel: order of additions may differ
        np.testing.assert_allclose(w[col].to_numpy(), d[col].to_numpy(), rtol=1e-12)
    assert (d["T"] == d["T"].round()).all()  # whole days


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transactions(), st.integers(0, 99))
def test_calibration_holdout_sums_equal_totals(tx, cal_offset):
    cal = START + pd.Timedelta(days=cal_offset)
    if not (tx["timestamp"].dt.normalize() <= cal).any():  # nothing to calibrate on: an error, not an empty table
        with pytest.raises(DataValidationError, match="no purchase falls in the calibration period"):
            calibration_and_holdout(tx, calibration_end=cal, observation_end=END, time_unit="D")
        return
    ch = calibration_and_holdout(tx, calibration_end=cal, observation_end=END, time_unit="D")
    full = rfm_summary(tx, observation_end=END, time_unit="D")
    cal_only = rfm_summary(tx, observation_end=cal, time_unit="D")
    # customers: those who bought in the calibration period, with its summary
    pd.testing.assert_frame_equal(ch[cal_only.columns], cal_only, check_exact=False, rtol=1e-12)
    f = full.loc[ch.index]
    np.testing.assert_array_equal((ch["frequency"] + ch["frequency_holdout"]).to_numpy(), f["frequency"].to_numpy())
    np.testing.assert_allclose((ch["revenue"] + ch["revenue_holdout"]).to_numpy(), f["revenue"].to_numpy())
    np.testing.assert_allclose(
        ch["monetary_value_holdout"] * ch["frequency_holdout"], ch["revenue_holdout"], atol=1e-9
    )
    assert ((ch["monetary_value_holdout"] == 0) == (ch["frequency_holdout"] == 0)).all()
    assert (ch["duration_holdout"] == (END - cal).days).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transactions(), st.integers(0, 99))
def test_repeat_purchases_by_day_counts(tx, cal_offset):
    cal = START + pd.Timedelta(days=cal_offset)
    daily = repeat_purchases_by_day(tx, observation_end=END, cohort_end=cal)
    if not (tx["timestamp"].dt.normalize() <= END).any():  # nothing to summarise: an error, not an empty table
        with pytest.raises(DataValidationError, match="no purchase falls"):
            rfm_summary(tx, observation_end=END)
        assert daily.empty
        return
    full = rfm_summary(tx, observation_end=END)
    cohort = full[full["first_purchase"] <= cal]
    assert daily["first_purchases"].sum() == len(cohort)
    assert daily["repeat_purchases"].sum() == cohort["frequency"].sum()


# ----------------------------------------------------------------------------- edges and errors
def test_observation_start_truncates_history():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "timestamp": pd.to_datetime(["2023-01-01", "2023-01-15", "2023-01-29"]),
            "amount": [1.0, 2.0, 4.0],
        }
    )
    s = rfm_summary(tx, observation_end="2023-02-05", observation_start="2023-01-10", time_unit="W")
    assert s.loc["a", "frequency"] == 1
    assert s.loc["a", "recency"] == 2.0 and s.loc["a", "T"] == 3.0
    assert s.loc["a", "monetary_value"] == 4.0 and s.loc["a", "revenue"] == 6.0


def test_numeric_customer_ids_become_strings():
    tx = pd.DataFrame({"customer_id": [7, 7], "timestamp": pd.to_datetime(["2023-01-01", "2023-01-02"]), "amount": [1.0, 2.0]})
    s = rfm_summary(tx, observation_end="2023-01-08", time_unit="D")
    assert list(s.index) == ["7"] and s.loc["7", "T"] == 7.0


@pytest.mark.parametrize("unit", ["M", 0, -1, "x", True])
def test_bad_time_unit(unit):
    with pytest.raises(ValueError, match="time_unit"):
        time_unit_days(unit)


def test_errors_name_the_problem(tmp_path):
    tx = _small_tx()
    with pytest.raises(ValueError, match="amount"):
        rfm_summary(tx.drop(columns="amount"), observation_end="2023-06-30")
    bad = tx.copy()
    bad.loc[3, "customer_id"] = None
    with pytest.raises(ValueError, match="missing values"):
        rfm_summary(bad, observation_end="2023-06-30")
    with pytest.raises(ValueError, match="calendar date"):
        rfm_summary(tx, observation_end="2023-06-30 12:00")
    with pytest.raises(ValueError, match="before observation_end"):
        calibration_and_holdout(tx, calibration_end="2023-06-30", observation_end="2023-06-01")
    with pytest.raises(FileNotFoundError):
        rfm_summary(tmp_path / "nope.parquet", observation_end="2023-06-30")
    with pytest.raises(TypeError):
        rfm_summary([1, 2, 3], observation_end="2023-06-30")


# ----------------------------------------------------------------------------- in-memory (numpy) path
# DataFrames with a string/integer/categorical key, a datetime64 time and a numeric amount are
# summarised by the numpy engine (crm_analysis.rfm._numpy: mixed-radix keys for ids of up to 8 bytes,
# dictionary ranks for longer or widely spread ids, decimal-string ranks for integers); relations and
# files always go through the DuckDB engine. The two must agree in index, order, dtypes and values.
def _via_duckdb(tx: pd.DataFrame, **kw) -> pd.DataFrame:
    return rfm_summary(duckdb.connect().from_df(tx), **kw)


_ID_FORMS = {
    "fixed width 8": lambda i: f"C{i:07d}",
    "fixed width 3": lambda i: f"{i:03d}",
    "varying, <= 7 bytes": lambda i: str(i) + "x" * (i % 4),
    "non-ASCII": lambda i: "é" + str(i % 40) + "ß" * (i % 2),
    "NUL bytes": lambda i: "a" + "\0" * (i % 3),
    "long (dictionary)": lambda i: f"customer-{i}-of-the-shop",
    "8 spread bytes (dictionary)": lambda i: "".join(chr(0x21 + (i * 7919 + 13 * k * k) % 90) for k in range(8)),
    # byte ranges whose product fits 32 bits but is far above the rows: keys must not be built (overflowed once)
    "8 bytes, 17**7 * 2 keys (dictionary)": lambda i: "ab"[i % 2] + "".join(chr(97 + (i * 31 + 7 * k * k + k) % 17) for k in range(7)),
}


@pytest.mark.parametrize("form", list(_ID_FORMS))
def test_numpy_path_matches_duckdb_for_string_ids(form):
    rng = np.random.default_rng(7)
    n = 3000
    ids = rng.integers(0, 400, n)
    tx = pd.DataFrame(
        {
            "customer_id": pd.array([_ID_FORMS[form](int(i)) for i in ids], dtype="str"),
            # starts before 1970: days are floored, not truncated towards zero
            "timestamp": pd.Timestamp("1969-11-20") + pd.to_timedelta(rng.integers(0, 150 * 24, n), unit="h"),
            "amount": rng.gamma(2.0, 20.0, n).round(2),
        }
    )
    for kw in (
        {"observation_end": "1970-02-28"},
        {"observation_end": "1970-03-31", "observation_start": "1969-12-24", "time_unit": "D"},
    ):
        pd.testing.assert_frame_equal(rfm_summary(tx, **kw), _via_duckdb(tx, **kw), check_exact=False, rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda ids: ids * 37,  # non-negative integers (string order: "1" < "10" < "2")
        lambda ids: ids * 37 - 5000,  # negative integers
        lambda ids: ids + 10**17,  # beyond the integer key
        lambda ids: ids * 10**9 + 7,  # spread out: ranked through a hash table
        lambda ids: pd.Categorical([f"k{i}" for i in ids]),
        lambda ids: pd.Series([f"C{i}" for i in ids], dtype=object),
        lambda ids: ids.astype(float),  # not handled in numpy: DuckDB
    ],
    ids=["int", "negative int", "huge int", "spread int", "categorical", "object", "float"],
)
def test_numpy_path_matches_duckdb_for_other_keys(make):
    rng = np.random.default_rng(8)
    n = 2000
    ids = rng.integers(0, 300, n)
    tx = pd.DataFrame(
        {
            "customer_id": make(ids),
            "timestamp": (START + pd.to_timedelta(rng.integers(0, 200 * 24, n), unit="h")).astype("datetime64[us]"),
            "amount": rng.integers(1, 500, n),  # integer amounts
        }
    )
    pd.testing.assert_frame_equal(
        rfm_summary(tx, observation_end="2023-05-31"), _via_duckdb(tx, observation_end="2023-05-31"),
        check_exact=False, rtol=1e-12,
    )


def test_repeat_days_that_cancel_give_exactly_zero():
    """A return that cancels an earlier repeat purchase leaves a repeat mean of exactly 0 (not a rounding
    residue of the first day): the spend rule (monetary_value <= 0 left out of Gamma-Gamma) must see it."""
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b"],
            "timestamp": pd.to_datetime(["2023-01-01", "2023-01-05", "2023-01-09", "2023-01-01", "2023-01-02"]),
            "amount": [0.1, 0.2, -0.2, 0.7, 0.1 + 0.2],  # (0.1 + 0.2) - 0.2 - 0.1 is 2.8e-17, not 0
        }
    )
    s = rfm_summary(tx, observation_end="2023-01-31")
    assert s.loc["a", "monetary_value"] == 0.0 and s.loc["a", "frequency"] == 2
    assert s.loc["b", "monetary_value"] == 0.1 + 0.2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=8), min_size=1, max_size=30), st.data())
def test_numpy_path_order_equals_duckdb_order(names, data):
    """Any short strings (any lengths, any code points): same ids, same byte-wise order."""
    idx = data.draw(st.lists(st.integers(0, len(names) - 1), min_size=1, max_size=40))
    tx = pd.DataFrame(
        {
            "customer_id": pd.array([names[i] for i in idx], dtype="str"),
            "timestamp": START + pd.to_timedelta(np.arange(len(idx)) % 5, unit="D"),
            "amount": np.arange(len(idx), dtype=float),
        }
    )
    a, b = rfm_summary(tx, observation_end=END), _via_duckdb(tx, observation_end=END)
    assert list(a.index) == list(b.index)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


# ------------------------------------------------- reader options (intake2, point 2)
def _ambiguous_csv(path) -> pd.DataFrame:
    """A ';'-separated file with a decimal comma and dd/mm dates valid in both orders; returns its canonical frame."""
    tx = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
                       "timestamp": pd.to_datetime(["2024-01-03", "2024-02-05", "2024-01-04", "2024-03-04",
                                                    "2024-02-01"]),
                       "amount": [10.5, 2.25, 7.0, 1.5, 3.0]})
    raw = tx.assign(timestamp=tx["timestamp"].dt.strftime("%d/%m/%Y"),
                    amount=tx["amount"].map(lambda v: f"{v:.2f}".replace(".", ",")))
    raw.to_csv(path, sep=";", index=False)
    return tx


@pytest.mark.parametrize("option", [{"dayfirst": True}, {"date_format": "%d/%m/%Y"}])
def test_repeat_purchases_by_day_reads_a_file_as_rfm_summary_does(tmp_path, option):
    """The reader options and date policy of rfm_summary: the file gives the days of its canonical frame."""
    path = tmp_path / "tx.csv"
    tx = _ambiguous_csv(path)
    got = repeat_purchases_by_day(path, observation_end="2024-03-31", read_options={"sep": ";", "decimal": ","},
                                  **option)
    ref = repeat_purchases_by_day(tx, observation_end="2024-03-31")
    pd.testing.assert_frame_equal(got, ref)
    assert ref.loc["2024-01-03", "first_purchases"] == 1  # read day first: 03/01 is 3 January
    # the same file without the order: refused by the date policy, as rfm_summary refuses it
    with pytest.raises(DataValidationError, match="valid in both orders") as exc:
        repeat_purchases_by_day(path, observation_end="2024-03-31", read_options={"sep": ";", "decimal": ","})
    with pytest.raises(DataValidationError) as ref_exc:
        rfm_summary(path, observation_end="2024-03-31", read_options={"sep": ";", "decimal": ","})
    assert str(exc.value) == str(ref_exc.value)


# ----------------------------------------------------------------------------- numpy engine internals
# The numpy engine counts a customer's purchase days without a sort: first and last day per key, then a
# bitmap check of the days strictly between (crm_analysis.rfm._numpy._distinct_middle_days); customers with
# two such rows on one day, and data whose bitmap would be large, are counted by a sort instead. Both ways
# must give the independent count (pandas nunique of the calendar days), for any mix of repeated days.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 7),
            st.one_of(st.integers(0, 12), st.integers(0, 400)),  # crowded days (repeats) and spread ones
            st.integers(-500, 5_000),
        ),
        min_size=1,
        max_size=120,
    ),
    st.booleans(),
)
@example([(0, 0, 100), (0, 5, 200), (0, 5, 300), (0, 10, 400), (1, 3, 100)], False)  # two middle rows on one day
@example([(0, 0, 100), (0, 70, 200), (0, 70, 300), (0, 300, 400), (0, 150, 5)], False)  # ... in another word
def test_purchase_days_equal_an_independent_count_on_both_counting_paths(rows, force_sort):
    from crm_analysis.rfm import _numpy

    cust, day, cents = (list(x) for x in zip(*rows))
    tx = pd.DataFrame(
        {
            "customer_id": pd.array([f"k{c:02d}" for c in cust], dtype="str"),
            # days up to 400 apart: several 64-day words per customer; hours spread purchases within a day
            "timestamp": START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(np.arange(len(day)) % 24, unit="h"),
            "amount": np.asarray(cents, dtype=float) / 100.0,
        }
    )
    end = START + pd.Timedelta(days=400)
    saved = _numpy._BITMAP_WORDS_PER_ROW
    try:
        if force_sort:
            _numpy._BITMAP_WORDS_PER_ROW = -(10**9)  # the words never fit: the sort counts every row
        s = rfm_summary(tx, observation_end=end, time_unit="D")
    finally:
        _numpy._BITMAP_WORDS_PER_ROW = saved
    days = tx.assign(day=tx["timestamp"].dt.normalize()).groupby("customer_id")["day"]
    np.testing.assert_array_equal(s["frequency"].to_numpy(), days.nunique().loc[s.index].to_numpy() - 1)
    np.testing.assert_array_equal(s["first_purchase"].to_numpy(), days.min().loc[s.index].to_numpy())
    np.testing.assert_array_equal(s["recency"].to_numpy(), (days.max() - days.min()).dt.days.loc[s.index].to_numpy())
    ref = _pandas_reference(tx, end, 1.0)
    np.testing.assert_allclose(s["monetary_value"].to_numpy(), ref.loc[s.index, "monetary_value"].to_numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_days_are_floored_alike_for_every_time_resolution(unit):
    """The numpy engine floors the raw ticks of each resolution to days (before 1970 too) as DuckDB does."""
    rng = np.random.default_rng(11)
    n = 600
    seconds = rng.integers(-40 * 86_400, 40 * 86_400, n)  # around 1970-01-01: negative ticks
    seconds[:5] = [-1, 0, 86_399, 86_400, -86_400]  # the edges of a day
    tx = pd.DataFrame(
        {
            "customer_id": pd.array([f"c{i % 37}" for i in range(n)], dtype="str"),
            "timestamp": pd.to_datetime(seconds, unit="s").astype(f"datetime64[{unit}]"),
            "amount": rng.integers(1, 100, n).astype(float),
        }
    )
    for kw in ({"observation_end": "1970-02-28"},
               {"observation_end": "1970-01-20", "observation_start": "1969-12-31", "time_unit": "D"}):
        pd.testing.assert_frame_equal(rfm_summary(tx, **kw), _via_duckdb(tx, **kw), check_exact=False, rtol=1e-12)


def test_checks_without_masks_still_find_every_bad_value():
    """The shortcuts of the checks (a finite sum, the smallest time, Arrow null counts) miss nothing."""
    base = pd.DataFrame({"customer_id": pd.array(["a", "b"], dtype="str"),
                         "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]), "amount": [1.0, 2.0]})
    for col, value in [("amount", np.nan), ("timestamp", pd.NaT), ("customer_id", None)]:
        bad = base.copy()
        bad.loc[1, col] = value
        with pytest.raises(ValueError, match="missing values"):
            rfm_summary(bad, observation_end="2024-01-31")
    huge = base.assign(amount=[1e308, 1e308])  # finite amounts whose sum overflows: no error
    assert np.isinf(rfm_summary(huge, observation_end="2024-01-31")["revenue"]).sum() == 0
    with pytest.raises(ValueError, match="infinite"):
        rfm_summary(base.assign(amount=[1e308, -np.inf]), observation_end="2024-01-31")
    # blanks first or last, ASCII or not, ids of one byte length (checked by column byte ranges) or not
    for ids in (["a ", "b"], ["\u00a0a", "b"], ["a", "b\ufeff"], ["a ", "bc"], ["\u00a0a", "bcd"], ["ab", "c\t"]):
        stripped = rfm_summary(base.assign(customer_id=pd.array(ids, dtype="str")), observation_end="2024-01-31")
        assert list(stripped.index) == [i.strip(" \t\u00a0\ufeff") for i in ids]
    for ids, read in ((["17850.0", "7.5"], ["17850", "7.5"]), (["17850.0", "17851.5"], ["17850", "17851.5"])):
        dotted = rfm_summary(base.assign(customer_id=pd.array(ids, dtype="str")), observation_end="2024-01-31")
        assert list(dotted.index) == read


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 1_600), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_byte_ranges_equal_the_column_minima_and_maxima(n, width, seed):
    """The reshaped reduction (512 rows as one) gives each column's own min and max, remainder rows included."""
    from crm_analysis.rfm._common import byte_ranges

    rng = np.random.default_rng(seed)
    matrix = rng.integers(rng.integers(0, 128), 256, (n, width), dtype=np.uint8)
    low, high = byte_ranges(matrix)
    np.testing.assert_array_equal(low, matrix.min(axis=0))
    np.testing.assert_array_equal(high, matrix.max(axis=0))
