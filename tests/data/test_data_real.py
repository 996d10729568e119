"""Loaders of the real data sets, checked against the files and published counts.

Row and customer counts are those of ``../shared/data/README.md`` (CDNOW:
Fader & Hardie's master file of 23,570 customers and the 2,357-customer
sample; UCI Online Retail: 541,909 lines, 135,080 without CustomerID; Hotel
booking demand, Antonio et al. 2019: 119,390 bookings). Cleaning counts are
checked against independent pandas computations on the raw files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analysis.data import (
    BOOKINGS,
    TRANSACTIONS,
    clean_bookings,
    clean_transactions,
    load_cdnow,
    load_hotels,
    load_online_retail,
)

pytestmark = pytest.mark.shared_data


def _canonical_dtypes(df, schema):
    for col in schema:
        if col.name in df.columns:
            assert str(df[col.name].dtype) == str(col.pandas_dtype), col.name


def test_cdnow_master(shared_data):
    df = load_cdnow(shared_data / "cdnow" / "CDNOW_master.txt")
    assert len(df) == 69_659
    assert df["customer_id"].nunique() == 23_570
    _canonical_dtypes(df, TRANSACTIONS)
    assert df["timestamp"].min() == pd.Timestamp("1997-01-01")
    assert df["timestamp"].max() == pd.Timestamp("1998-06-30")
    # the first customers' first purchases are in Q1 1997 (the cohort definition)
    assert df.groupby("customer_id")["timestamp"].min().max() < pd.Timestamp("1997-04-01")


def test_cdnow_sample_uses_master_ids(shared_data):
    sample = load_cdnow(shared_data / "cdnow" / "CDNOW_sample.txt")
    assert len(sample) == 6_919
    assert sample["customer_id"].nunique() == 2_357
    assert sample["sample_id"].nunique() == 2_357
    master = load_cdnow(shared_data / "cdnow" / "CDNOW_master.txt")
    # every sample line is a master line of the same customer (master ids)
    key = ["customer_id", "timestamp", "amount", "quantity"]
    merged = sample[key].merge(master[key].drop_duplicates(), on=key, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


@pytest.fixture(scope="module")
def retail(shared_data):
    raw = pd.read_parquet(shared_data / "online_retail" / "online_retail.parquet")
    return raw, load_online_retail(shared_data / "online_retail" / "online_retail.parquet")


@pytest.mark.slow
def test_online_retail_raw(retail):
    raw, df = retail
    assert len(df) == 541_909
    assert df["customer_id"].isna().sum() == 135_080
    _canonical_dtypes(df, TRANSACTIONS)
    assert not df["customer_id"].dropna().str.contains(r"\.").any()
    np.testing.assert_allclose(df["amount"], raw["Quantity"] * raw["UnitPrice"])
    assert df["order_id"].tolist() == raw["InvoiceNo"].tolist()


@pytest.mark.slow
def test_online_retail_default_cleaning_accounts_for_every_row(retail):
    raw, df = retail
    res = clean_transactions(df)
    rep = res.report
    # independent computation on the raw columns, rule by rule, in the documented order
    r = raw.assign(amount=raw["Quantity"] * raw["UnitPrice"])
    labels = ["total", "grand total", "subtotal", "sum", "summe", "gesamt", "somme"]  # no such ids: 0
    totals = r["CustomerID"].astype(str).str.lower().isin(labels) | r["InvoiceNo"].str.lower().isin(labels)
    no_cust = r["CustomerID"].isna() & ~totals
    r0 = r[~totals & ~no_cust]
    mismatch = ((r0["Quantity"] < 0) & (r0["amount"] > 0)) | ((r0["Quantity"] > 0) & (r0["amount"] < 0))
    r1 = r0[~mismatch]
    ret = (r1["Quantity"] < 0) | (r1["amount"] < 0) | r1["InvoiceNo"].str.startswith("C")
    r2 = r1[~ret]
    nonpos = r2["amount"] <= 0
    r3 = r2[~nonpos]
    dup = r3.duplicated()
    expected = {
        "missing_timestamp_or_amount": 0,
        "nonfinite_amount": int(np.isinf(r["amount"]).sum()),  # 0: the file has no infinite values
        "missing_customer_id": int(no_cust.sum()),
        "totals_row": int(totals.sum()),
        "sign_mismatch": int(mismatch.sum()),  # 0: prices are >= 0 once customers are known
        "return_or_cancellation": int(ret.sum()),
        "nonpositive_amount": int(nonpos.sum()),
        "exact_duplicate": int(dup.sum()),
    }
    assert rep.dropped == expected
    assert expected["missing_customer_id"] == 135_080
    assert rep.rows_in == 541_909
    assert rep.rows_in - sum(rep.dropped.values()) == rep.rows_out == int((~dup).sum())
    amounts = rep.table().set_index("reason")["amount"]
    assert amounts["missing_customer_id"] == pytest.approx(r.loc[no_cust, "amount"].sum())
    assert amounts["return_or_cancellation"] == pytest.approx(r1.loc[ret, "amount"].sum())
    assert res.data["amount"].sum() == pytest.approx(r3.loc[~dup, "amount"].sum())


@pytest.mark.slow
def test_hotels(shared_data):
    path = shared_data / "hotels" / "hotels.csv.gz"
    raw = pd.read_csv(path)
    df = load_hotels(path)
    assert len(df) == 119_390
    _canonical_dtypes(df, BOOKINGS)
    mapping = {"Check-Out": "stayed", "Canceled": "cancelled", "No-Show": "no_show"}
    assert df["status"].value_counts().to_dict() == {mapping[k]: v for k, v in
                                                    raw["reservation_status"].value_counts().items()}
    assert (df["nights"] == raw["stays_in_weekend_nights"] + raw["stays_in_week_nights"]).all()
    assert ((df["arrival_date"] - df["booking_date"]).dt.days == raw["lead_time"]).all()
    assert df["arrival_date"].min() == pd.Timestamp("2015-07-01")
    assert df["arrival_date"].max() == pd.Timestamp("2017-08-31")
    assert (df["arrival_date"].dt.day == raw["arrival_date_day_of_month"]).all()
    cancelled = df["status"] == "cancelled"
    assert df.loc[cancelled, "cancellation_date"].notna().all() and df.loc[~cancelled, "cancellation_date"].isna().all()
    assert df["property"].value_counts().to_dict() == raw["hotel"].value_counts().to_dict()
    assert "customer_type" in df.columns and df["booking_id"].is_unique
    # is_canceled counts no-shows too (README)
    assert raw["is_canceled"].sum() == (df["status"] != "stayed").sum()
    res = clean_bookings(df)
    stayed_nonpos = (raw["adr"] <= 0) & (raw["reservation_status"] == "Check-Out")
    zero = (raw["stays_in_weekend_nights"] + raw["stays_in_week_nights"]) == 0
    assert res.report.dropped["zero_nights"] == int(zero.sum())
    assert res.report.dropped["nonpositive_rate"] == int((stayed_nonpos & ~zero).sum())
    assert res.report.rows_out == len(df) - int((zero | stayed_nonpos).sum())
