"""The Spark implementations give the same tables as the DuckDB ones (local[2] session).

Skipped with a reason when pyspark or a Java runtime is missing. One JVM for
the whole module (~15-25 s to start), few tests.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark not installed (pip install 'crm_analysis[spark]')")
if shutil.which("java") is None:
    pytest.skip("no Java runtime on PATH (Spark needs Java 17+)", allow_module_level=True)

from crm_analysis.rfm import rfm_summary  # noqa: E402
from crm_analysis.scale import daily_demand  # noqa: E402
from crm_analysis.scale.spark import daily_demand_spark, get_spark, is_spark_dataframe, rfm_summary_spark  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    # pyspark warns about pandas >= 3 on every conversion (createDataFrame in these tests)
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@pytest.fixture(scope="module")
def spark():
    session = get_spark(
        master="local[2]",
        app_name="crm_analysis-tests",
        config={"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g", "spark.default.parallelism": "2"},
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    """Transactions with dyadic amounts (multiples of 1/4), so every sum is exact in any order."""
    rng = np.random.default_rng(11)
    n = 3000
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, n).astype(str),
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200 * 86400, n), unit="s"),
            "amount": rng.integers(-8, 800, n) / 4.0,
            "order_id": rng.integers(0, 1500, n).astype(str),
        }
    )


def test_rfm_summary_identical(spark, tx) -> None:
    sdf = spark.createDataFrame(tx)
    assert is_spark_dataframe(sdf) and not is_spark_dataframe(tx)
    for kwargs in (
        {"observation_end": "2024-06-30", "time_unit": "W"},
        {"observation_end": "2024-05-31", "time_unit": "D", "observation_start": "2024-02-01"},
    ):
        ref = rfm_summary(tx, **kwargs)
        got = rfm_summary(sdf, **kwargs)  # dispatches to rfm_summary_spark
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
        assert got.attrs == ref.attrs
    holes = tx.astype({"customer_id": "object"})
    holes.loc[::50, "customer_id"] = None
    with pytest.raises(ValueError, match=r"missing values: \{'customer \(customer_id\)': 60\}"):
        rfm_summary_spark(spark.createDataFrame(holes), observation_end="2024-06-30")


def test_daily_demand_identical(spark, tx) -> None:
    messy = tx.copy()
    messy.loc[::17, "order_id"] = None
    messy.loc[::29, "timestamp"] = pd.NaT
    sdf = spark.createDataFrame(messy.astype({"order_id": "object"}))
    for start, end in ((None, None), ("2023-12-20", "2024-03-01")):
        ref = daily_demand(messy, start=start, end=end)
        got = daily_demand_spark(sdf, start=start, end=end)
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
        assert got.attrs == ref.attrs


# ------------------------------------------- the date and number policies on Spark (intake2, points 1 and 3)
def _text_tx(dates, amounts=None) -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame({"customer_id": [f"c{i % 3}" for i in range(n)], "timestamp": list(dates),
                         "amount": list(amounts) if amounts is not None else ["1.5"] * n})


def _both(spark, tx: pd.DataFrame, **kwargs):
    """(numpy engine, Spark engine) results or error texts of rfm_summary on the same text frame."""
    out = []
    for data in (tx, spark.createDataFrame(tx)):
        try:
            out.append(rfm_summary(data, observation_end="2024-12-31", **kwargs))
        except ValueError as exc:
            out.append(str(exc))
    return out


def _without_rows(message: str) -> str:
    import re

    return re.sub(r"row \d+: ", "", message.replace("examples (0-based row: value): ", "examples: "))


@pytest.mark.parametrize("kwargs", [{}, {"dayfirst": True}, {"dayfirst": False}, {"date_format": "%d/%m/%Y"},
                                    {"date_format": "%m/%d/%Y %H:%M"}])
def test_text_dates_read_as_the_other_engines(spark, kwargs) -> None:
    """dd/mm text: Spark's own cast reads none of it; the policy reads it as pandas and DuckDB do, or refuses alike."""
    cases = {
        "ambiguous": ["03/01/2024", "04/02/2024", "05/03/2024"],  # valid both ways: refused without the order
        "day first": ["03/01/2024", "13/01/2024", "04/02/2024"],  # 13/01: day first, read off the column
        "mixed": ["13/01/2024", "01/13/2024"],  # two orders in one column: refused
        "with times": ["03/01/2024 10:30", "13/01/2024 23:59", "2024-02-04T08:00"],
        "invalid": ["31/02/2024", "13/01/2024", "30/02/2024", "hello", "31/02/2024"],
    }
    for name, dates in cases.items():
        ref, got = _both(spark, _text_tx(dates), **kwargs)
        if isinstance(ref, str):
            assert isinstance(got, str), (name, kwargs, got)
            assert got == _without_rows(ref), (name, kwargs)  # the same refusal, word for word
        else:
            assert not isinstance(got, str), (name, kwargs, got)
            pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_offsets_converted_to_utc_as_the_other_engines(spark) -> None:
    from crm_analysis.data import DataWarning

    tx = _text_tx(["2024-01-02 23:30+01:00", "2024-01-05T01:00-02:00", "2024-01-07 12:00Z"])
    with pytest.warns(DataWarning, match="counted in UTC"):
        ref = rfm_summary(tx, observation_end="2024-12-31", time_unit="D")
    with pytest.warns(DataWarning, match="counted in UTC"):
        got = rfm_summary(spark.createDataFrame(tx), observation_end="2024-12-31", time_unit="D")
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_bad_amounts_and_infinite_amounts_same_message(spark) -> None:
    ok = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    ref, got = _both(spark, _text_tx(ok, ["1.5", "€3", "n/a", "€3"]))
    assert ref.startswith("column 'amount': 3 value(s) are not numbers") and got == _without_rows(ref)
    tx = _text_tx(ok).assign(amount=[1.0, np.inf, -np.inf, np.inf])
    ref, got = _both(spark, tx)
    assert ref.startswith("column 'amount': 3 value(s) are infinite") and got == _without_rows(ref)
    ref, got = _both(spark, _text_tx(ok, ["1.5", "2", "1e3", " 4 "]))  # text numbers are read, not refused
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_a_format_spark_does_not_read_is_refused(spark) -> None:
    with pytest.raises(ValueError, match=r"directive\(s\) \['%b'\] that the Spark engine does not read"):
        rfm_summary(spark.createDataFrame(_text_tx(["3 Jan 2024"])), observation_end="2024-12-31",
                    date_format="%d %b %Y")


def test_daily_demand_reads_text_dates_as_the_duckdb_engine(spark) -> None:
    tx = _text_tx(["03/01/2024", "13/01/2024", "04/02/2024 10:00"], ["1.5", "2", "3.25"])
    pd.testing.assert_frame_equal(daily_demand_spark(spark.createDataFrame(tx)), daily_demand(tx), check_exact=True)
    ambiguous = _text_tx(["03/01/2024", "04/02/2024"])
    with pytest.raises(ValueError) as ref:
        daily_demand(ambiguous)
    with pytest.raises(ValueError) as got:
        daily_demand_spark(spark.createDataFrame(ambiguous))
    assert str(got.value) == str(ref.value)
    pd.testing.assert_frame_equal(daily_demand_spark(spark.createDataFrame(ambiguous), dayfirst=True),
                                  daily_demand(ambiguous, dayfirst=True), check_exact=True)
