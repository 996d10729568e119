"""Scale-out: out-of-core DuckDB aggregations, batch scoring and Spark.

* :func:`daily_demand` -- per-day orders, lines, revenue and customers over any
  source (DataFrame, Parquet folder or glob, DuckDB relation) in DuckDB SQL,
  every calendar day present;
* :func:`connect_out_of_core` -- a DuckDB connection with ``memory_limit`` and
  ``temp_directory`` so that aggregations spill instead of failing;
* :func:`fit_on_distinct` / :func:`score_in_batches` -- CLV model fits on the
  distinct summary rows and batch-wise scoring to Parquet, so that tens of
  millions of customers never sit in one pandas frame;
* :func:`write_synthetic_parquet` -- large synthetic transaction files written
  in chunks (benchmarks);
* :mod:`crm_analysis.scale.spark` -- the same summaries on Spark DataFrames
  (optional extra ``spark``; imported on use, never here).

See ``docs/scale.md`` for when to use which engine.
"""

from ._source import connect_out_of_core, parquet_glob
from .demand import DEMAND_COLUMNS, daily_demand
from .scoring import BatchScoring, distinct_rows, fit_on_distinct, score_in_batches
from .synthetic import write_synthetic_parquet

__all__ = [
    "BatchScoring",
    "DEMAND_COLUMNS",
    "connect_out_of_core",
    "daily_demand",
    "distinct_rows",
    "fit_on_distinct",
    "parquet_glob",
    "score_in_batches",
    "write_synthetic_parquet",
]
