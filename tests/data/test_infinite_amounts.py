"""Infinite amounts: one rule on every reader of a transactions source (findings_13f F1).

Every public function that reads a source (a ``con`` parameter; the family of
``tests/test_reader_options.py``) and sums amounts refuses ``inf`` / ``-inf``
with :func:`crm_analysis.data.errors.raise_on_infinite`'s message, whatever the
source (DataFrame, CSV, Parquet). ``scale.daily_demand`` used to sum them into
revenue (``inf``, ``-inf``, and NaN on a day holding both). The loaders hand
them on: ``clean_transactions`` / ``clean_bookings`` drop and count them
(``nonfinite_amount`` / ``nonfinite_rate``), which the data-quality step
reports; that is tested here too. The in-memory demand series
(``transaction_series`` / ``booking_series`` with measure ``"revenue"``) follow
the same rule. The walk is found from the signatures, so a new reader must be
classified here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crm_analysis.clv.diagnostics import tracking
from crm_analysis.data import (DataValidationError, bookings_relation, clean_bookings, clean_transactions,
                               load_bookings, load_transactions, transactions_relation)
from crm_analysis.data.errors import raise_on_infinite, refuse_infinite
from crm_analysis.rfm import calibration_and_holdout, cohort_table, repeat_purchases_by_day, rfm_summary
from crm_analysis.scale import daily_demand
from crm_analysis.seasonality import booking_series, transaction_series

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_reader_options import _family  # noqa: E402  (the reader family, found from the signatures)

OBS_END = "2024-03-31"


def _tx(values: list[float]) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({
        "customer_id": [f"c{i % 3}" for i in range(n)],
        "timestamp": pd.to_datetime([f"2024-01-{i + 1:02d}" for i in range(n)]),
        "amount": values,
    })


#: Readers that sum amounts: each called on a source; each must refuse an infinite amount.
def _finite_summary():
    return calibration_and_holdout(_tx([10.0, 11.0, 12.0, 13.0, 14.0, 15.0]), calibration_end="2024-01-03",
                                   observation_end=OBS_END)


REFUSING = {
    "crm_analysis.rfm._api.rfm_summary": lambda src: rfm_summary(src, observation_end=OBS_END),
    "crm_analysis.rfm._api.calibration_and_holdout":
        lambda src: calibration_and_holdout(src, calibration_end="2024-01-03", observation_end=OBS_END),
    "crm_analysis.rfm._api.repeat_purchases_by_day": lambda src: repeat_purchases_by_day(src, observation_end=OBS_END),
    "crm_analysis.rfm.cohorts.cohort_table": lambda src: cohort_table(src, observation_end=OBS_END),
    "crm_analysis.scale.demand.daily_demand": lambda src: daily_demand(src),
    "crm_analysis.clv.diagnostics.tracking":
        lambda src: tracking(object(), src, _finite_summary(), calibration_end="2024-01-03", observation_end=OBS_END),
}
#: Readers that hand the values on to the cleaning (which drops and counts them); why, per reader.
HANDS_ON = {
    "crm_analysis.data.loaders.load_transactions": "loader: clean_transactions counts 'nonfinite_amount'",
    "crm_analysis.data.loaders.transactions_relation": "loader (lazy relation): the cleaning or the reader that sums",
    "crm_analysis.data.loaders.load_bookings": "loader: clean_bookings counts 'nonfinite_rate'",
    "crm_analysis.data.loaders.bookings_relation": "loader (lazy relation) of bookings",
}


def test_every_source_reader_is_classified() -> None:
    assert set(_family()) == set(REFUSING) | set(HANDS_ON)


def _expected(with_rows: bool) -> str:
    try:
        raise_on_infinite("amount", 2, [(np.inf, 1 if with_rows else None), (-np.inf, 4 if with_rows else None)])
    except DataValidationError as err:
        return str(err)
    raise AssertionError("raise_on_infinite did not raise")


@pytest.mark.parametrize("kind", ["frame", "csv", "parquet"])
@pytest.mark.parametrize("name", sorted(REFUSING))
def test_every_reader_that_sums_amounts_refuses_infinite_ones(name, kind, tmp_path) -> None:
    df = _tx([10.0, np.inf, 12.0, 13.0, -np.inf, 15.0])
    src: object = df
    if kind == "csv":
        src = tmp_path / "tx.csv"
        df.to_csv(src, index=False)
    elif kind == "parquet":
        src = tmp_path / "tx.parquet"
        df.to_parquet(src)
    with pytest.raises(DataValidationError) as err:
        REFUSING[name](str(src) if kind != "frame" else src)
    text = str(err.value)
    # one message on every path: rows are known to the pandas path only (the message says which)
    assert text in (_expected(True), _expected(False)), text


def test_daily_demand_with_inf_and_minus_inf_on_one_day_is_refused_not_nan() -> None:
    df = _tx([10.0, 11.0]).assign(amount=[np.inf, -np.inf], timestamp=pd.to_datetime(["2024-01-01"] * 2))
    with pytest.raises(DataValidationError, match="2 value.s. are infinite"):
        daily_demand(df)


def test_daily_demand_names_the_mapped_column() -> None:
    df = _tx([10.0, np.inf]).rename(columns={"amount": "Total"})
    with pytest.raises(DataValidationError, match=r"column 'amount \(Total\)': 1 value"):
        daily_demand(df, columns={"amount": "Total"})


def test_finite_amounts_pass_every_reader() -> None:
    df = _tx([10.0, 11.0, -2.0, 13.0, 14.0, 15.0])
    for name, call in REFUSING.items():
        if name == "crm_analysis.clv.diagnostics.tracking":
            continue  # needs a fitted model; its reading is repeat_purchases_by_day's
        call(df)
    assert daily_demand(df)["revenue"].sum() == pytest.approx(df["amount"].sum())


def test_loaders_hand_infinite_amounts_to_the_cleaning_which_counts_them(tmp_path) -> None:
    df = _tx([10.0, np.inf, 12.0, -np.inf])
    path = tmp_path / "tx.csv"
    df.to_csv(path, index=False)
    for loaded in (load_transactions(df), load_transactions(path), transactions_relation(str(path)).df()):
        res = clean_transactions(loaded)
        assert np.isfinite(res.data["amount"]).all()
        assert int(res.report.dropped["nonfinite_amount"]) == 2


def _bookings(rates: list[float]) -> pd.DataFrame:
    n = len(rates)
    return pd.DataFrame({
        "booking_id": [f"b{i}" for i in range(n)],
        "booking_date": pd.to_datetime(["2024-01-01"] * n),
        "arrival_date": pd.to_datetime([f"2024-02-{i + 1:02d}" for i in range(n)]),
        "nights": [2] * n, "rate": rates, "segment": ["Direct"] * n, "status": ["stayed"] * n,
    })


def test_bookings_loaders_hand_infinite_rates_to_the_cleaning(tmp_path) -> None:
    bk = _bookings([100.0, np.inf, 90.0])
    path = tmp_path / "bk.csv"
    bk.to_csv(path, index=False)
    for loaded in (load_bookings(bk), bookings_relation(str(path)).df()):
        res = clean_bookings(loaded)
        assert int(res.report.dropped["nonfinite_rate"]) == 1


def test_demand_series_refuse_infinite_amounts_and_rates() -> None:
    with pytest.raises(DataValidationError) as err:
        transaction_series(_tx([10.0, np.inf, 12.0, 13.0, -np.inf]), measure="revenue")
    assert str(err.value) == _expected(True)
    transaction_series(_tx([10.0, np.inf]), measure="lines")  # no amount summed: no refusal
    with pytest.raises(DataValidationError, match=r"column 'rate': 1 value\(s\) are infinite.*nonfinite_rate"):
        booking_series(_bookings([100.0, np.inf, 90.0]), measure="revenue")
    booking_series(_bookings([100.0, np.inf, 90.0]), measure="room_nights")


def test_refuse_infinite_passes_missing_and_finite_values() -> None:
    refuse_infinite([1.0, np.nan, -3.0, 1e308], "amount")
    with pytest.raises(DataValidationError, match=r"row 2: '-inf'"):
        refuse_infinite([1.0, np.nan, -np.inf], "amount")



def test_fares_from_bookings_refuse_an_infinite_rate() -> None:
    """The yield step's fares are room-night weighted mean rates: an inf rate was the class's fare."""
    from crm_analysis.yield_management import fares_from_bookings

    assert fares_from_bookings(_bookings([100.0, 80.0, 90.0]))["fare"].iloc[0] == pytest.approx(90.0)
    with pytest.raises(DataValidationError, match=r"column 'rate': 1 value\(s\) are infinite.*nonfinite_rate"):
        fares_from_bookings(_bookings([100.0, np.inf, 90.0]))
