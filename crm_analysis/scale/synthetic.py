"""Large synthetic transaction files, written in chunks (for benchmarks and tests).

:func:`write_synthetic_parquet` writes ``n_rows`` canonical transactions
(``customer_id``, ``timestamp``, ``amount``) to a folder of Parquet files,
``rows_per_file`` rows at a time, so that data sets far larger than memory can
be produced: only one chunk is ever in memory. The data are *load* data, not a
behavioural model (use :mod:`crm_analysis.synthetic` for data with known
BTYD parameters): customers are drawn uniformly from ``n_customers`` ids,
timestamps uniformly over ``[start, end]`` (second resolution), amounts from a
gamma distribution rounded to cents.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crm_analysis._dates import parse_date

from crm_analysis._progress import progress as progress_bar

__all__ = ["write_synthetic_parquet"]


def write_synthetic_parquet(
    folder: str | os.PathLike[str],
    n_rows: int,
    *,
    n_customers: int,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    rows_per_file: int = 2_000_000,
    amount_shape: float = 2.0,
    amount_scale: float = 25.0,
    seed: int = 42,
    progress: bool = False,
) -> list[Path]:
    """Write synthetic transactions to ``folder/part-NNNNN.parquet`` in chunks.

    Parameters
    ----------
    folder : str or path
        Output folder (created; existing ``part-*.parquet`` files are
        overwritten).
    n_rows : int
        Total number of transaction lines.
    n_customers : int
        Size of the customer id pool (ids ``C00000000`` ...); with many rows
        per customer nearly all appear.
    start, end : date-like
        Timestamps are uniform over ``[start, end + 1 day)``.
    rows_per_file : int, default 2,000,000
        Rows per file (= the chunk held in memory, about 60 bytes per row).
    amount_shape, amount_scale : float
        Gamma parameters of the amounts (mean ``shape * scale``).
    seed : int, default 42
        Seed of ``numpy.random.default_rng``; file ``i`` is drawn from the
        ``i``-th spawned child stream, so the data are determined by
        ``seed`` and ``rows_per_file``.
    progress : bool, default False
        Show a progress bar over the files.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        For non-positive sizes or ``end`` before ``start``.
    """
    if n_rows < 1 or n_customers < 1 or rows_per_file < 1:
        raise InputError(
            f"n_rows, n_customers and rows_per_file must be positive, got {n_rows}, {n_customers}, {rows_per_file}"
        )
    t0 = parse_date(start, "start", tz="reject", time="normalize")
    t1 = parse_date(end, "end", tz="reject", time="normalize") + pd.Timedelta(days=1)
    if t1 <= t0:
        raise InputError(f"end {end} is before start {start}")
    span = int((t1 - t0).total_seconds())
    base = t0.value // 10**3  # microseconds
    width = max(8, len(str(n_customers - 1)))
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    n_files = math.ceil(n_rows / rows_per_file)
    streams = np.random.default_rng(seed).spawn(n_files)
    paths = []
    for i in progress_bar(range(n_files), enable=progress, desc="writing parquet"):
        rng = streams[i]
        n = min(rows_per_file, n_rows - i * rows_per_file)
        ids = pa.array(rng.integers(0, n_customers, size=n, dtype=np.int64)).cast(pa.string())
        cid = pc.binary_join_element_wise("C", pc.utf8_lpad(ids, width=width, padding="0"), "")
        secs = rng.integers(0, span, size=n, dtype=np.int64)
        ts = pa.array(base + secs * 10**6, type=pa.int64()).cast(pa.timestamp("us"))
        amount = np.round(rng.gamma(amount_shape, amount_scale, size=n), 2)
        table = pa.table({"customer_id": cid, "timestamp": ts, "amount": amount})
        path = out / f"part-{i:05d}.parquet"
        pq.write_table(table, path, row_group_size=min(n, 1_000_000))
        paths.append(path)
    return paths
