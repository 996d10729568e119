"""Loaders of the real public data sets used by tests, benchmarks and reports.

The files live outside the project (``../shared/data``, see its README); every
function takes the path of the file. The loaders only translate the raw files
to the canonical schemas; they do not clean (use
:func:`crm_analysis.data.clean_transactions` / :func:`crm_analysis.data.clean_bookings`,
which count what they drop).

Rules that hold for one data set only live in its loader, never in the
generic cleaning: UCI Online Retail's invoice numbers starting with ``"C"``
are cancellations, so :func:`load_online_retail` and
:func:`load_online_retail_ii` mark those lines in the boolean column
``is_cancellation`` (:data:`crm_analysis.data.cleaning.CANCELLATION_MARKER`),
which the cleaning's ``return_or_cancellation`` rule honours. A generic file
whose order numbers start with "C" (``"CO-1001"``) is not affected.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from collections.abc import Mapping
from typing import Any

from crm_analysis.data.cleaning import CANCELLATION_MARKER
from crm_analysis.data.errors import DataValidationError
from crm_analysis.data.files import EXCEL_SUFFIXES, Sheet, excel_sheet_names
from crm_analysis.data.loaders import existing_file, read_source
from crm_analysis.data.schema import STRING_DTYPE, TRANSACTIONS
from crm_analysis.data.validation import validate_bookings, validate_transactions

__all__ = [
    "load_cdnow",
    "load_online_retail",
    "load_online_retail_ii",
    "load_hotels",
    "MONTHS",
    "ONLINE_RETAIL_COLUMNS",
    "ONLINE_RETAIL_II_COLUMNS",
]

PathLike = str | os.PathLike

#: Canonical name -> column of UCI Online Retail (2010-2011; Chen, Sain & Guo 2012).
ONLINE_RETAIL_COLUMNS: dict[str, str] = {
    "customer_id": "CustomerID",
    "timestamp": "InvoiceDate",
    "order_id": "InvoiceNo",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
    "product": "StockCode",
    "country": "Country",
}

#: Canonical name -> column of UCI Online Retail II (2009-2011, the same shop's
#: longer release: Invoice, StockCode, Description, Quantity, InvoiceDate, Price,
#: Customer ID, Country).
ONLINE_RETAIL_II_COLUMNS: dict[str, str] = {
    "customer_id": "Customer ID",
    "timestamp": "InvoiceDate",
    "order_id": "Invoice",
    "quantity": "Quantity",
    "unit_price": "Price",
    "product": "StockCode",
    "country": "Country",
}

#: English month names -> month number (hotel data).
MONTHS: dict[str, int] = {
    m: i
    for i, m in enumerate(
        ["January", "February", "March", "April", "May", "June", "July",
         "August", "September", "October", "November", "December"],
        start=1,
    )
}


#: Added to a missing data set file's message.
_WHERE = "check the path; the data sets' README says where to download them"


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
    path = existing_file(path, what=f"CDNOW: {_WHERE}")
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


def _uci_mapping(defaults: Mapping[str, str], columns: Mapping[str, str] | None, name: str) -> dict[str, str]:
    mapping = dict(defaults)
    for key, value in dict(columns or {}).items():
        if key not in TRANSACTIONS:
            raise DataValidationError(
                f"{name}: columns= key {key!r} is not a canonical transactions column; keys must be among "
                f"{list(TRANSACTIONS.names)} (the values are the file's column names)"
            )
        mapping[key] = value
    if "order_id" not in mapping:
        raise DataValidationError(f"{name}: the mapping needs 'order_id' (the invoice number marks cancellations)")
    return mapping


def _load_uci(
    path: PathLike,
    defaults: Mapping[str, str],
    name: str,
    columns: Mapping[str, str] | None,
    sheet: Sheet,
    encoding: str | None,
    read_options: Mapping[str, Any] | None,
) -> pd.DataFrame:
    mapping = _uci_mapping(defaults, columns, name)
    path = existing_file(path, what=f"{name}: {_WHERE}")
    suffixes = [x.lower() for x in path.suffixes]
    if sheet is None and suffixes and suffixes[-1] in EXCEL_SUFFIXES:
        sheet = excel_sheet_names(path)  # all sheets, stacked in workbook order
    # invoice and stock codes as text ("C536379", "85123A"); the customer id is
    # left to the reader, as the UCI files hold it as a number (17850.0)
    text = [mapping[c] for c in ("order_id", "product") if c in mapping]
    raw = read_source(path, read_options=read_options, text_columns=text, encoding=encoding, sheet=sheet)
    if "Description" in raw.columns and "description" not in raw.columns and "Description" not in mapping.values():
        raw = raw.rename(columns={"Description": "description"})
    df = validate_transactions(raw, columns=mapping)
    # UCI customer ids are whole numbers; a text column read from a CSV that was
    # written from floats holds "17850.0": same id as 17850
    df["customer_id"] = df["customer_id"].str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    # the data set's rule: an invoice number starting with "C" is a cancellation
    order = df["order_id"].str.strip().str.upper()
    df[CANCELLATION_MARKER] = order.str.startswith("C").to_numpy(dtype=bool, na_value=False)
    return df


def load_online_retail(
    path: PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: Sheet = None,
    encoding: str | None = None,
    read_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Load UCI Online Retail (2010-12-01 to 2011-12-09) as raw canonical transactions.

    Parameters
    ----------
    path : str or path
        ``online_retail.parquet`` (the copy in ``../shared/data``), the UCI
        workbook ``Online Retail.xlsx`` or a CSV export, with the columns
        InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
        CustomerID, Country (format by suffix).
    columns : mapping, optional
        Canonical name -> column name, for the columns a copy names
        differently; the others keep :data:`ONLINE_RETAIL_COLUMNS`, e.g.
        ``{"customer_id": "Customer ID"}``.
    sheet : str, int or list, optional
        Excel: the sheet(s) to read; default every sheet of the workbook,
        stacked in workbook order.
    encoding : str, optional
        CSV: the file's encoding, e.g. ``"latin-1"`` for the widespread
        ISO-8859-1 CSV copies (default UTF-8).
    read_options : mapping, optional
        Keyword arguments of the reader (see
        :func:`crm_analysis.data.read_source`).

    Returns
    -------
    pandas.DataFrame
        Canonical transactions, NOT cleaned: ``order_id`` = InvoiceNo,
        ``customer_id`` = CustomerID as text without ``".0"`` and ``<NA>``
        where missing, ``timestamp`` = InvoiceDate, ``quantity``,
        ``unit_price``, ``amount = Quantity * UnitPrice``, ``product`` =
        StockCode, ``country`` = Country, plus ``description`` = Description
        and ``is_cancellation`` (bool): the invoice number starts with
        ``"C"``, the data set's mark of a cancellation (Chen, Sain & Guo
        2012), which :func:`crm_analysis.data.clean_transactions` counts under
        ``return_or_cancellation``. Returns, zero prices, missing customers
        and duplicates are all still there, for the cleaning report.

    Raises
    ------
    DataValidationError
        A mapped column that the file lacks (the file's columns are listed),
        a ``columns`` key that is not canonical, unparseable values; file
        errors (:class:`crm_analysis.data.errors.SourceFileError`) name the
        file and the fix.
    """
    return _load_uci(path, ONLINE_RETAIL_COLUMNS, "Online Retail", columns, sheet, encoding, read_options)


def load_online_retail_ii(
    path: PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: Sheet = None,
    encoding: str | None = None,
    read_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Load UCI Online Retail II (2009-12-01 to 2011-12-09) as raw canonical transactions.

    The longer release of the same UK gift shop's invoice lines (UCI Machine
    Learning Repository, data set 502, doi:10.24432/C5CG6D). The UCI file
    ``online_retail_II.xlsx`` holds one sheet per year, ``"Year 2009-2010"``
    and ``"Year 2010-2011"``; CSV copies hold both in one file.

    Parameters
    ----------
    path : str or path
        ``online_retail_II.xlsx`` or a CSV (or Parquet) copy, with the columns
        Invoice, StockCode, Description, Quantity, InvoiceDate, Price,
        Customer ID, Country (format by suffix).
    columns : mapping, optional
        Canonical name -> column name, for the columns a copy names
        differently; the others keep :data:`ONLINE_RETAIL_II_COLUMNS`. A copy
        with the first release's names takes ``columns=ONLINE_RETAIL_COLUMNS``.
    sheet : str, int or list, optional
        Excel: the sheet(s) to read, e.g. ``"Year 2010-2011"``; default every
        sheet, stacked in workbook order (they must have the same columns).
    encoding : str, optional
        CSV: the file's encoding (default UTF-8).
    read_options : mapping, optional
        Keyword arguments of the reader (see
        :func:`crm_analysis.data.read_source`).

    Returns
    -------
    pandas.DataFrame
        The same canonical output as :func:`load_online_retail`:
        ``order_id`` = Invoice, ``customer_id`` = Customer ID as text without
        ``".0"`` (``<NA>`` where missing), ``timestamp`` = InvoiceDate,
        ``quantity``, ``unit_price`` = Price, ``amount = Quantity * Price``,
        ``product`` = StockCode, ``country``, ``description`` and
        ``is_cancellation`` (invoice starting with ``"C"``). Nothing is
        dropped: lines repeated in two sheets stay, and are identical lines
        that :func:`crm_analysis.data.clean_transactions` counts (and by
        default drops, keeping the first, i.e. the earlier sheet's) as
        ``exact_duplicate``.

    Raises
    ------
    DataValidationError
        As :func:`load_online_retail`; sheets with different columns.
    SourceNotFoundError
        No file at ``path``.
    """
    return _load_uci(path, ONLINE_RETAIL_II_COLUMNS, "Online Retail II", columns, sheet, encoding, read_options)


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
    raw = pd.read_csv(existing_file(path, what=f"Hotel booking demand: {_WHERE}"))
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
