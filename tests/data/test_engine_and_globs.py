"""The one connection factory (data.engine.connect) and folders / globs in the one source reader."""

from __future__ import annotations

import threading

import duckdb
import pandas as pd
import pytest

from crm_analysis.data import SourceFileError, connect, load_transactions, source_relation, transactions_relation
from crm_analysis.data.engine import default_connection
from crm_analysis.scale import connect_out_of_core, parquet_glob


def _setting(con: duckdb.DuckDBPyConnection, name: str):
    return con.sql(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_connect_applies_every_setting(tmp_path) -> None:
    con = connect(memory_limit="300MB", threads=1, temp_directory=tmp_path / "spill",
                  config={"preserve_insertion_order": False})
    assert _setting(con, "threads") == 1
    assert _setting(con, "preserve_insertion_order") is False
    assert _setting(con, "enable_progress_bar") is False  # never on stderr, i.e. never in a report
    assert _setting(con, "temp_directory") == str(tmp_path / "spill") and (tmp_path / "spill").is_dir()
    assert _setting(con, "memory_limit") in ("286.1 MiB", "300.0 MB", "300MB")
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"):
        connect(threads=0)


def test_connect_out_of_core_is_a_preset_of_connect(tmp_path) -> None:
    con = connect_out_of_core(memory_limit="1GB", temp_directory=tmp_path / "t", threads=1, config={"threads": 2})
    assert _setting(con, "preserve_insertion_order") is False
    assert _setting(con, "threads") == 2  # config is applied last
    assert _setting(con, "enable_progress_bar") is False


def test_default_connection_is_one_per_thread() -> None:
    assert default_connection() is default_connection()
    other = []
    t = threading.Thread(target=lambda: other.append(default_connection()))
    t.start()
    t.join()
    assert other[0] is not default_connection()


def _write_parts(tmp_path, suffix: str) -> pd.DataFrame:
    frames = [
        pd.DataFrame({"customer_id": ["007", "a"], "timestamp": ["2024-01-02", "2024-01-03"], "amount": [1.0, 2.5]}),
        pd.DataFrame({"customer_id": ["b"], "timestamp": ["2024-02-01"], "amount": [4.0]}),
    ]
    for i, f in enumerate(frames):
        if suffix == "csv":
            f.to_csv(tmp_path / f"part-{i}.csv", index=False)
        else:
            f.to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_glob_reads_the_same_on_both_paths(tmp_path, suffix) -> None:
    """load_transactions (pandas) and transactions_relation (DuckDB) read a glob's files alike."""
    expected = _write_parts(tmp_path, suffix)
    pattern = str(tmp_path / f"part-*.{suffix}")
    by_pandas = load_transactions(pattern).sort_values("customer_id", ignore_index=True)
    by_duckdb = load_transactions(transactions_relation(pattern)).sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(by_pandas, by_duckdb)
    assert sorted(by_pandas["customer_id"]) == sorted(expected["customer_id"])  # '007' kept as text
    assert by_pandas["amount"].sum() == expected["amount"].sum()


def test_folder_is_read_as_its_parquet_files(tmp_path) -> None:
    _write_parts(tmp_path, "parquet")
    assert parquet_glob(tmp_path) == str(tmp_path / "**" / "*.parquet")
    assert len(source_relation(tmp_path).fetchall()) == 3
    with pytest.raises(ValueError, match="a folder is read as its Parquet files"):
        source_relation(tmp_path, fmt="csv")


def test_a_bad_file_in_a_glob_is_named(tmp_path) -> None:
    """Every file of a glob gets the checks of a single file: an empty one is named."""
    _write_parts(tmp_path, "csv")
    (tmp_path / "part-9.csv").write_text("")
    for read in (lambda: source_relation(str(tmp_path / "part-*.csv")), lambda: load_transactions(str(tmp_path / "part-*.csv"))):
        with pytest.raises(SourceFileError, match="part-9.csv"):
            read()


def test_glob_characters_in_a_real_file_name(tmp_path) -> None:
    """An existing file whose name contains '[' is that file, not a pattern."""
    path = tmp_path / "tx[1].csv"
    pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-02"], "amount": [1.0]}).to_csv(path, index=False)
    assert parquet_glob(path) is None
    assert load_transactions(str(path))["customer_id"].tolist() == ["a"]
    assert transactions_relation(str(path)).fetchall()[0][0] == "a"
