"""One public summary, three engines: dispatch, the inputs each engine takes, and equality between them."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from crm_analysis.data import connect
from crm_analysis.rfm import calibration_and_holdout, repeat_purchases_by_day, rfm_summary
from crm_analysis.rfm._dispatch import engine_for, is_spark_dataframe
from crm_analysis.scale import connect_out_of_core

END = "2023-06-30"


def _tx(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": pd.array([f"C{i:04d}" for i in rng.integers(0, 80, n)], dtype="str"),
            "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 200 * 24, n), unit="h"),
            "amount": rng.integers(1, 4000, n) / 4.0,  # dyadic: sums are exact in any order
        }
    )


def _fake_spark_frame():
    """An object whose class looks like pyspark's DataFrame (module ``pyspark.sql...``), without pyspark."""
    cls = type("DataFrame", (), {"__module__": "pyspark.sql.dataframe"})
    return cls()


# ----------------------------------------------------------------------------- dispatch
def test_engine_for_each_input_kind(tmp_path) -> None:
    tx = _tx()
    assert engine_for(tx) == "numpy"
    assert engine_for(_fake_spark_frame()) == "spark" and is_spark_dataframe(_fake_spark_frame())
    assert not is_spark_dataframe(tx)
    for other in ("tx/*.parquet", tmp_path, duckdb.connect().from_df(tx)):
        assert engine_for(other) == "duckdb"


@pytest.mark.parametrize("option", ["con", "timezone", "read_options", "encoding", "sheet"])
def test_spark_refuses_options_it_would_ignore(option) -> None:
    """The Spark engine counts days in the session zone and reads no file: a zone, a file option or a DuckDB
    connection is an error, not silently unused (dayfirst / date_format apply: tests/scale/test_spark.py)."""
    value = {"con": duckdb.connect(), "timezone": "Europe/Paris", "read_options": {"sep": ";"}, "encoding": "cp1252",
             "sheet": 0}[option]
    with pytest.raises(ValueError, match=rf"\['{option}'\] cannot be used with a Spark DataFrame"):
        rfm_summary(_fake_spark_frame(), observation_end=END, **{option: value})


def test_functions_without_spark_engine_say_so() -> None:
    with pytest.raises(TypeError, match="calibration_and_holdout has no Spark engine"):
        calibration_and_holdout(_fake_spark_frame(), calibration_end="2023-03-31", observation_end=END)
    with pytest.raises(TypeError, match="repeat_purchases_by_day has no Spark engine"):
        repeat_purchases_by_day(_fake_spark_frame(), observation_end=END)


# ----------------------------------------------------------------------------- sources of the DuckDB engine
def test_folders_and_globs_equal_the_frame(tmp_path) -> None:
    """A folder of Parquet files, a Parquet glob and a CSV glob give the frame's summary (numpy engine)."""
    tx = _tx()
    ref = rfm_summary(tx, observation_end=END)
    parts = tmp_path / "parts"
    (parts / "sub").mkdir(parents=True)
    chunks = np.array_split(np.arange(len(tx)), 3)
    tx.iloc[chunks[0]].to_parquet(parts / "a.parquet", index=False)
    tx.iloc[chunks[1]].to_parquet(parts / "sub" / "b.parquet", index=False)  # folders are read at any depth
    tx.iloc[chunks[2]].to_parquet(parts / "c.parquet", index=False)
    csv = tmp_path / "csv"
    csv.mkdir()
    for i, rows in enumerate(chunks):
        tx.iloc[rows].to_csv(csv / f"tx-{i}.csv", index=False)
    for source in (parts, str(parts), str(parts / "**" / "*.parquet"), str(csv / "tx-*.csv")):
        pd.testing.assert_frame_equal(rfm_summary(source, observation_end=END), ref, check_exact=True)
    ch = calibration_and_holdout(str(csv / "*.csv"), calibration_end="2023-04-30", observation_end=END)
    pd.testing.assert_frame_equal(
        ch, calibration_and_holdout(tx, calibration_end="2023-04-30", observation_end=END), check_exact=True
    )


def test_missing_files_and_folders_are_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no file matches"):
        rfm_summary(str(tmp_path / "nothing-*.parquet"), observation_end=END)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no .parquet file"):
        rfm_summary(tmp_path / "empty", observation_end=END)
    with pytest.raises(ValueError, match="cannot tell the format of the files matching"):
        rfm_summary(str(tmp_path / "tx-*"), observation_end=END)


def test_ids_with_leading_zeros_from_a_csv_glob(tmp_path) -> None:
    """CSV ids are read as text on every file of a glob (as for one file): '007' stays '007'."""
    for i, ids in enumerate((["007", "010"], ["007"])):
        pd.DataFrame({"customer_id": ids, "timestamp": ["2023-01-0" + str(i + 1)] * len(ids),
                      "amount": [1.0] * len(ids)}).to_csv(tmp_path / f"p{i}.csv", index=False)
    s = rfm_summary(str(tmp_path / "p*.csv"), observation_end=END)
    assert list(s.index) == ["007", "010"] and s.loc["007", "frequency"] == 1


# ----------------------------------------------------------------------------- engines agree
@pytest.mark.parametrize("kind", ["default", "out_of_core", "file_db"])
def test_duckdb_engine_on_any_connection_equals_numpy_engine(kind, tmp_path) -> None:
    tx = _tx()
    con = {
        "default": None,
        "out_of_core": connect_out_of_core(memory_limit="200MB", temp_directory=tmp_path / "spill", threads=1),
        "file_db": connect(tmp_path / "x.duckdb"),
    }[kind]
    rel = (con or duckdb.connect()).from_df(tx)
    for kw in ({"observation_end": END}, {"observation_end": END, "observation_start": "2023-02-01", "time_unit": "D"}):
        pd.testing.assert_frame_equal(rfm_summary(rel, con=con, **kw), rfm_summary(tx, **kw), check_exact=True)


@pytest.mark.parametrize("bytes_per_row", [10**6, 10**8])
def test_passes_over_id_ranges_give_the_one_pass_result(monkeypatch, bytes_per_row) -> None:
    """With little memory per row the DuckDB engine summarises ranges of customer ids in separate statements
    (cut points from a sample of ids); the concatenated result equals the one-pass result row for row."""
    from crm_analysis.rfm import _duckdb

    tx = _tx(n=2000)
    tx["customer_id"] = tx["customer_id"].str.replace("C00", "é", regex=False)  # non-ASCII ids: byte order
    rel = connect_out_of_core(memory_limit="300MB", threads=1).from_df(tx)
    one = rfm_summary(rel, observation_end=END)
    ch_one = calibration_and_holdout(rel, calibration_end="2023-04-30", observation_end=END)
    monkeypatch.setattr(_duckdb, "_BYTES_PER_ROW", bytes_per_row)
    ranges = _duckdb._id_ranges(rel, _duckdb.KeyColumns("customer_id", "timestamp", "amount"), len(tx))
    assert len(ranges) > 1 and ranges[0][0] is None and ranges[-1][1] is None
    assert all(a[1] == b[0] for a, b in zip(ranges[:-1], ranges[1:]))  # contiguous, no id left out
    pd.testing.assert_frame_equal(rfm_summary(rel, observation_end=END), one, check_exact=True)
    pd.testing.assert_frame_equal(
        calibration_and_holdout(rel, calibration_end="2023-04-30", observation_end=END), ch_one, check_exact=True
    )


def test_memory_limit_is_read_from_the_connection(tmp_path) -> None:
    from crm_analysis.rfm import _duckdb

    rel = connect_out_of_core(memory_limit="1GB", threads=1).from_df(_tx(10))
    assert _duckdb._memory_limit(rel) == pytest.approx(10**9, rel=0.01)
    # 1e8 rows at 1 GB: several passes; 1e6 rows: one
    cols = _duckdb.KeyColumns("customer_id", "timestamp", "amount")
    assert len(_duckdb._id_ranges(rel, cols, 10**6)) == 1
    assert len(_duckdb._id_ranges(rel, cols, 10**8)) > 1


def test_utc_warning_points_at_the_caller() -> None:
    """Aware times without a timezone warn once per call, attributed to the caller's line on every engine."""
    import warnings

    from crm_analysis.data import DataWarning

    tx = pd.DataFrame({"customer_id": ["a"], "amount": [1.0],
                       "timestamp": pd.to_datetime(["2024-01-02 10:00"]).tz_localize("Europe/Paris")})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rfm_summary(tx, observation_end="2024-01-31")
        rfm_summary(duckdb.connect().from_df(tx), observation_end="2024-01-31")
    found = [w for w in caught if issubclass(w.category, DataWarning)]
    assert len(found) == 2 and all(w.filename == __file__ for w in found)
