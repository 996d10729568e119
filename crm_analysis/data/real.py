"""Loaders of the three real public data sets used by tests and benchmarks.

The files live outside the project (``../shared/data``, see its README); every
function takes the path of the file. The loaders only translate the raw files
to the canonical schemas; they do not clean (use
:func:`crm_analysis.data.clean_transactions` / :func:`crm_analysis.data.clean_bookings`,
which count what they drop).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from crm_analysis.data.errors import DataValidationError
from crm_analysis.data.schema import STRING_DTYPE
from crm_analysis.data.validation import validate_bookings, validate_transactions

__all__ = ["load_cdnow", "load_online_retail", "load_hotels", "MONTHS"]

PathLike = str | os.PathLike

#: English month names -> month number (hotel data).
MONTHS: dict[str, int] = {
    m: i
    for i, m in enumerate(
        ["January", "February", "March", "April", "May", "June", "July",
         "August", "September", "October", "November", "December"],
        start=1,
    )
}


def load_cdnow(path: PathLike) -> pd.DataFrame:
    """Load CDNOW ``CDNOW_master.txt`` or ``CDNOW_sample.txt`` as transactions.

    The master file has four whitespace-separated columns (customer id, date
    ``YYYYMMDD``, number of CDs, dollar value; an optional header line is
    skipped), the sample file five (master id, sample id, date, CDs, dollars).
    The format is detected by the number of columns.

    Parameters
    ----------
    path : str or path
        ``CDNOW_master.txt`` or ``CDNOW_sample.txt``.

    Returns
    -------
    pandas.DataFrame
        Canonical transactions: ``customer_id`` is the *master* customer id
        in both files, without leading zeros (``"00004"`` -> ``"4"``), so the
        ids of the sample and of the master refer to the same customers;
        ``timestamp`` (the day), ``amount`` (dollars), ``quantity`` (CDs).
        The sample file adds ``sample_id`` (its own 1..2,357 numbering, as
        text without leading zeros).
    """
    path = Path(path)
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, comment=None)
    if len(raw) and not str(raw.iloc[0, 0]).strip().isdigit():  # header line
        raw = raw.iloc[1:].reset_index(drop=True)
    if raw.shape[1] == 4:
        names = ["customer_id", "date", "cds", "dollars"]
    elif raw.shape[1] == 5:
        names = ["customer_id", "sample_id", "date", "cds", "dollars"]
    else:
        raise DataValidationError(
            f"{path.name}: expected 4 (master) or 5 (sample) whitespace-separated columns, "
            f"found {raw.shape[1]}"
        )
    raw.columns = names
    out = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].str.lstrip("0").replace("", "0"),
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce"),
            "amount": pd.to_numeric(raw["dollars"], errors="coerce"),
            "quantity": pd.to_numeric(raw["cds"], errors="coerce"),
        }
    )
    bad = out["timestamp"].isna() | out["amount"].isna() | out["quantity"].isna()
    if bad.any():
        first = raw[bad.to_numpy()].head(5)
        raise DataValidationError(f"{path.name}: {int(bad.sum())} unparseable line(s), e.g.\n{first}")
    if "sample_id" in raw.columns:
        out["sample_id"] = raw["sample_id"].str.lstrip("0").replace("", "0").astype(STRING_DTYPE)
    return validate_transactions(out)


def load_online_retail(path: PathLike) -> pd.DataFrame:
    """Load UCI Online Retail (Parquet) as raw canonical transactions.

    Parameters
    ----------
    path : str or path
        ``online_retail.parquet`` (columns InvoiceNo, StockCode, Description,
        Quantity, InvoiceDate, UnitPrice, CustomerID, Country).

    Returns
    -------
    pandas.DataFrame
        Canonical transactions, NOT cleaned: ``order_id`` = InvoiceNo
        (cancellations start with ``"C"``), ``customer_id`` = CustomerID as
        text without ``".0"`` and ``<NA>`` where missing, ``timestamp`` =
        InvoiceDate, ``quantity``, ``unit_price``, ``amount = Quantity *
        UnitPrice``, ``product`` = StockCode, ``country`` = Country, plus
        ``description`` = Description. Returns, zero prices, missing customers
        and duplicates are all still there, for the cleaning report.
    """
    raw = pd.read_parquet(path)
    df = raw.rename(columns={"Description": "description"})
    return validate_transactions(
        df,
        {
            "customer_id": "CustomerID",
            "timestamp": "InvoiceDate",
            "order_id": "InvoiceNo",
            "quantity": "Quantity",
            "unit_price": "UnitPrice",
            "product": "StockCode",
            "country": "Country",
        },
    )


_HOTEL_USED = {
    "hotel", "arrival_date_year", "arrival_date_month", "arrival_date_day_of_month",
    "market_segment", "distribution_channel", "adr", "reservation_status",
}


def load_hotels(path: PathLike) -> pd.DataFrame:
    """Load the Hotel booking demand data (``hotels.csv.gz``) as canonical bookings.

    Parameters
    ----------
    path : str or path
        ``hotels.csv.gz`` (Antonio, de Almeida & Nunes 2019; 32 columns).

    Returns
    -------
    pandas.DataFrame
        Canonical bookings, not cleaned:

        * ``booking_id`` -- row number in the file (0-based) as text;
        * ``arrival_date`` -- from arrival_date_year / _month (name) / _day_of_month;
        * ``booking_date`` -- ``arrival_date - lead_time`` days;
        * ``nights`` -- stays_in_weekend_nights + stays_in_week_nights;
        * ``rate`` -- adr; ``units`` -- 1;
        * ``segment`` and ``fare_class`` -- market_segment;
        * ``channel`` -- distribution_channel; ``property`` -- hotel;
        * ``status`` -- reservation_status (Check-Out -> stayed,
          Canceled -> cancelled, No-Show -> no_show);
        * ``cancellation_date`` -- reservation_status_date where cancelled;

        and every other raw column unchanged (``customer_type``,
        ``lead_time``, ``is_canceled``, ``country``, ``deposit_type``,
        ``reservation_status_date``, ...). There is no customer id in the data.
    """
    raw = pd.read_csv(path)
    months = raw["arrival_date_month"].map(MONTHS)
    if months.isna().any():
        bad = raw.loc[months.isna(), "arrival_date_month"].unique()[:5]
        raise DataValidationError(f"unknown arrival_date_month value(s): {list(bad)}")
    arrival = pd.to_datetime(
        pd.DataFrame(
            {"year": raw["arrival_date_year"], "month": months.astype("int64"), "day": raw["arrival_date_day_of_month"]}
        )
    ).astype("datetime64[ns]")
    status_raw = raw["reservation_status"]
    cancelled = status_raw.astype(str).str.strip().str.lower().isin(["canceled", "cancelled"]).to_numpy()
    status_date = pd.to_datetime(raw["reservation_status_date"]).astype("datetime64[ns]")
    df = pd.DataFrame(
        {
            "booking_id": np.arange(len(raw)).astype(str),
            "booking_date": arrival - pd.to_timedelta(raw["lead_time"], unit="D"),
            "arrival_date": arrival,
            "nights": raw["stays_in_weekend_nights"] + raw["stays_in_week_nights"],
            "rate": raw["adr"],
            "segment": raw["market_segment"],
            "status": status_raw,
            "units": 1,
            "fare_class": raw["market_segment"],
            "channel": raw["distribution_channel"],
            "property": raw["hotel"],
            "cancellation_date": status_date.where(cancelled),
        }
    )
    extra = raw[[c for c in raw.columns if c not in _HOTEL_USED]]
    df = pd.concat([df, extra], axis=1)
    return validate_bookings(df)
