"""UCI Online Retail loaders on small synthetic copies of the UCI files (no shared data needed).

The UCI Online Retail II workbook (UCI data set 502) holds one sheet per year,
"Year 2009-2010" and "Year 2010-2011", with the columns Invoice, StockCode,
Description, Quantity, InvoiceDate, Price, Customer ID, Country; invoice
numbers starting with "C" are cancellations; Customer ID is a number with gaps
(read as float: 13085.0). The workbooks here are written by the tests with the
same layout. Expected values are computed with pandas from the frames written,
independently of the loaders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crm_analysis.data import (
    TRANSACTIONS,
    CleaningPolicy,
    DataValidationError,
    SourceFileError,
    clean_transactions,
    load_online_retail,
    load_online_retail_ii,
    load_source,
    load_transactions,
)
from crm_analysis.data.real import ONLINE_RETAIL_COLUMNS, ONLINE_RETAIL_II_COLUMNS

SHEETS = ("Year 2009-2010", "Year 2010-2011")


def _year(first: str, invoices: list[str], customers: list[float]) -> pd.DataFrame:
    n = len(invoices)
    return pd.DataFrame({
        "Invoice": invoices,
        "StockCode": ["85048", "79323P", "22041", "21232", "POST", "85123A"][:n],
        "Description": ["CREAM CUPID HEARTS", "PINK CHERRY LIGHTS", "RECORD FRAME 7\"", "STRAWBERRY SET",
                        "POSTAGE", "WHITE HANGING HEART"][:n],
        "Quantity": [12, 12, -48, 24, 1, 6][:n],
        "InvoiceDate": pd.date_range(first, periods=n, freq="7h"),
        "Price": [6.95, 6.75, 2.1, 1.25, 18.0, 0.0][:n],
        "Customer ID": customers,
        "Country": ["United Kingdom", "France", "United Kingdom", "EIRE", "Germany", "United Kingdom"][:n],
    })


Y1 = _year("2009-12-01 07:45", ["489434", "489435", "C489449", "489436", "489437", "489438"],
           [13085.0, 13085.0, 16321.0, np.nan, 12682.0, 13078.0])
Y2 = _year("2010-12-01 08:26", ["536365", "C536379", "536366", "536367"], [17850.0, 14527.0, np.nan, 13047.0])
# the first line of the second sheet repeats a line of the first, as an export overlap would
Y2 = pd.concat([Y1.iloc[[0]], Y2], ignore_index=True)


@pytest.fixture()
def workbook(tmp_path: Path) -> Path:
    path = tmp_path / "online_retail_II.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as w:
        Y1.to_excel(w, sheet_name=SHEETS[0], index=False)
        Y2.to_excel(w, sheet_name=SHEETS[1], index=False)
    return path


def _expected(raw: pd.DataFrame) -> pd.DataFrame:
    """The canonical frame, computed with pandas from the raw columns."""
    cid = raw["Customer ID"].map(lambda v: pd.NA if pd.isna(v) else str(int(v)))
    return pd.DataFrame({
        "customer_id": cid.astype("string"),
        "timestamp": raw["InvoiceDate"].astype("datetime64[ns]"),
        "amount": (raw["Quantity"] * raw["Price"]).astype("float64"),
        "order_id": raw["Invoice"].astype("string"),
        "quantity": raw["Quantity"].astype("float64"),
        "unit_price": raw["Price"].astype("float64"),
        "product": raw["StockCode"].astype("string"),
        "country": raw["Country"].astype("string"),
        "description": raw["Description"].astype("string"),
        "is_cancellation": raw["Invoice"].str.startswith("C").to_numpy(dtype=bool),
    })


def _compare(got: pd.DataFrame, raw: pd.DataFrame) -> None:
    exp = _expected(raw.reset_index(drop=True))
    assert list(got.columns) == list(exp.columns)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    for col in TRANSACTIONS:
        if col.name in got.columns:
            assert str(got[col.name].dtype) == str(col.pandas_dtype), col.name
    assert got["is_cancellation"].dtype == bool


def test_workbook_every_sheet_by_default(workbook: Path) -> None:
    got = load_online_retail_ii(workbook)
    _compare(got, pd.concat([Y1, Y2]))
    assert got["customer_id"].tolist()[:2] == ["13085", "13085"]  # float ids lose ".0"


@pytest.mark.parametrize("sheet, raw", [(SHEETS[1], Y2), (0, Y1), ([SHEETS[1], SHEETS[0]], pd.concat([Y2, Y1]))])
def test_workbook_chosen_sheets(workbook: Path, sheet, raw: pd.DataFrame) -> None:
    _compare(load_online_retail_ii(workbook, sheet=sheet), raw)


def test_unknown_sheet_lists_the_sheets(workbook: Path) -> None:
    with pytest.raises(SourceFileError, match=r"no sheet named 'Year 2011'; sheets of the workbook: \['Year 2009-2010', "
                                              r"'Year 2010-2011'\]"):
        load_online_retail_ii(workbook, sheet="Year 2011")


def test_csv_copy_gives_the_same_frame(workbook: Path, tmp_path: Path) -> None:
    both = pd.concat([Y1, Y2], ignore_index=True)
    csv = tmp_path / "online_retail_II.csv"
    both.to_csv(csv, index=False)  # Customer ID written as 13085.0, as the widespread CSV copies have it
    assert "13085.0" in csv.read_text()
    pd.testing.assert_frame_equal(load_online_retail_ii(csv), load_online_retail_ii(workbook))
    # a latin-1 copy needs its encoding, and says so
    latin = tmp_path / "latin.csv"
    latin.write_bytes(both.assign(Description="CAFÉ SET").to_csv(index=False).encode("latin-1"))
    with pytest.raises(SourceFileError, match="encoding='cp1252'"):
        load_online_retail_ii(latin)
    assert set(load_online_retail_ii(latin, encoding="latin-1")["description"]) == {"CAFÉ SET"}


def test_same_canonical_output_as_online_retail(workbook: Path, tmp_path: Path) -> None:
    # the first release's column names, as in ../shared/data/online_retail/online_retail.parquet
    first = pd.concat([Y1, Y2], ignore_index=True).rename(columns={
        ONLINE_RETAIL_II_COLUMNS[k]: v for k, v in ONLINE_RETAIL_COLUMNS.items()})
    first.to_parquet(tmp_path / "online_retail.parquet", index=False)
    pd.testing.assert_frame_equal(load_online_retail(tmp_path / "online_retail.parquet"),
                                  load_online_retail_ii(workbook))


def test_column_mapping_for_renamed_copies(workbook: Path, tmp_path: Path) -> None:
    renamed = pd.concat([Y1, Y2], ignore_index=True).rename(columns={"Customer ID": "CustomerID", "Price": "UnitPrice"})
    renamed.to_csv(tmp_path / "renamed.csv", index=False)
    with pytest.raises(DataValidationError, match=r"'customer_id' -> 'Customer ID'.*found columns: \['Invoice'"):
        load_online_retail_ii(tmp_path / "renamed.csv")
    got = load_online_retail_ii(tmp_path / "renamed.csv", columns={"customer_id": "CustomerID", "unit_price": "UnitPrice"})
    pd.testing.assert_frame_equal(got, load_online_retail_ii(workbook))
    with pytest.raises(DataValidationError, match="'price' is not a canonical transactions column"):
        load_online_retail_ii(workbook, columns={"price": "Price"})


def test_cleaning_counts_cancellations_and_the_repeated_line(workbook: Path) -> None:
    raw = pd.concat([Y1, Y2], ignore_index=True)
    res = clean_transactions(load_online_retail_ii(workbook))
    # independent computation on the raw columns, rule by rule, in the documented order
    amount = raw["Quantity"] * raw["Price"]
    no_cust = raw["Customer ID"].isna()
    r0 = raw[~no_cust]
    a0 = amount[~no_cust]
    mismatch = ((r0["Quantity"] < 0) & (a0 > 0)) | ((r0["Quantity"] > 0) & (a0 < 0))
    r1 = r0[~mismatch]
    ret = r1["Invoice"].str.startswith("C") | (r1["Quantity"] < 0) | (amount[~no_cust][~mismatch] < 0)
    r2 = r1[~ret]
    nonpos = (r2["Quantity"] * r2["Price"]) <= 0
    dup = r2[~nonpos].duplicated()
    assert res.report.dropped == {
        "missing_timestamp_or_amount": 0,
        "nonfinite_amount": int(np.isinf(amount).sum()),
        "missing_customer_id": int(no_cust.sum()),
        "totals_row": 0,
        "sign_mismatch": int(mismatch.sum()),
        "return_or_cancellation": int(ret.sum()),
        "nonpositive_amount": int(nonpos.sum()),
        "exact_duplicate": int(dup.sum()),
    }
    assert res.report.dropped["exact_duplicate"] == 1  # the line in both sheets: the earlier sheet's is kept
    assert res.report.dropped["return_or_cancellation"] == 2
    # a C invoice with a positive quantity is a cancellation only through the UCI loader's marker
    tx = load_online_retail_ii(workbook).assign(quantity=lambda d: d["quantity"].abs(),
                                                amount=lambda d: d["amount"].abs())
    assert clean_transactions(tx).report.dropped["return_or_cancellation"] == 2
    generic = load_transactions(tx.drop(columns="is_cancellation"))
    assert clean_transactions(generic).report.dropped["return_or_cancellation"] == 0
    assert clean_transactions(generic, policy=CleaningPolicy(cancellation_prefix="C")).report.dropped[
        "return_or_cancellation"] == 2


def test_config_spec(workbook: Path) -> None:
    spec = {"loader": "online_retail_ii", "path": workbook.name, "sheet": SHEETS[1], "filter": {"country": "France"}}
    got = load_source(spec, "transactions", base_dir=workbook.parent)
    assert got["order_id"].tolist() == Y2.loc[Y2["Country"] == "France", "Invoice"].tolist()
    with pytest.raises(ValueError, match="provides"):
        load_source({"loader": "online_retail_ii", "path": workbook.name}, "bookings", base_dir=workbook.parent)
