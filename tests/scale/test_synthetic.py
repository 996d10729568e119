"""write_synthetic_parquet writes the requested rows in chunks, reproducibly."""

from __future__ import annotations

import duckdb
import pytest

from crm_analysis.scale import write_synthetic_parquet


def test_rows_files_and_ranges(tmp_path) -> None:
    paths = write_synthetic_parquet(tmp_path / "a", 25_000, n_customers=1_000, rows_per_file=10_000, seed=1)
    assert [p.name for p in paths] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    n, n_cust, lo, hi, mean, lo_amount = duckdb.sql(
        f"SELECT count(*), count(DISTINCT customer_id), min(timestamp), max(timestamp), avg(amount), min(amount) "
        f"FROM read_parquet('{tmp_path / 'a' / '*.parquet'}')"
    ).fetchall()[0]
    assert n == 25_000
    assert 990 <= n_cust <= 1_000  # 25 rows per id on average: all but a handful appear
    assert lo.year == 2023 and hi.year == 2024
    assert 47 < mean < 53  # gamma(2, 25): mean 50, sd of the mean 0.22
    assert lo_amount >= 0
    again = write_synthetic_parquet(tmp_path / "b", 25_000, n_customers=1_000, rows_per_file=10_000, seed=1)
    assert [p.read_bytes() == q.read_bytes() for p, q in zip(paths, again)] == [True] * 3


def test_bad_sizes(tmp_path) -> None:
    with pytest.raises(ValueError, match="positive"):
        write_synthetic_parquet(tmp_path, 0, n_customers=10)
