"""Which engine summarises an input: the one place that looks at the input's type.

* a PySpark DataFrame (classic or Spark Connect) -> the Spark engine,
  recognised by its class's module name, so pyspark is never imported here;
* a pandas DataFrame -> the numpy engine (which hands frames it does not
  take, e.g. long string ids, to the DuckDB engine);
* anything else (a path, folder or glob of Parquet/CSV files, a DuckDB
  relation, a table name or query with ``con``) -> the DuckDB engine.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

__all__ = ["Engine", "engine_for", "is_spark_dataframe"]

Engine = Literal["spark", "numpy", "duckdb"]


def is_spark_dataframe(obj: Any) -> bool:
    """Whether ``obj`` is a PySpark DataFrame (classic or Spark Connect), without importing pyspark.

    Examples
    --------
    >>> is_spark_dataframe(pd.DataFrame())
    False
    """
    return any(
        cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.sql") for cls in type(obj).__mro__
    )


def engine_for(transactions: Any) -> Engine:
    """The engine for ``transactions``: ``"spark"``, ``"numpy"`` or ``"duckdb"``.

    Examples
    --------
    >>> engine_for(pd.DataFrame()), engine_for("tx/*.parquet")
    ('numpy', 'duckdb')
    """
    if is_spark_dataframe(transactions):
        return "spark"
    if isinstance(transactions, pd.DataFrame):
        return "numpy"
    return "duckdb"
