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
