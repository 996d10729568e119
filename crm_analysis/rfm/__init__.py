"""RFM summaries of transaction data: one public summary, three private engines.

The summary per customer follows the conventions of Fader, Hardie & Lee (2005)
and of ``lifetimes.utils.summary_data_from_transaction_data`` with ``freq="D"``
and a ``freq_multiplier``:

* purchases on the same calendar day are merged into one purchase (amounts
  summed);
* ``frequency`` is the number of *repeat* purchase days (distinct purchase
  days minus one);
* ``recency`` is the time from the first to the last purchase day and ``T`` the
  time from the first purchase day to ``observation_end``, both in days
  divided by the number of days of the time unit (weeks = days / 7);
* ``observation_end`` is inclusive: a purchase on that day counts (with
  ``recency == T``);
* ``monetary_value`` is the mean value of the repeat purchase days (the first
  purchase excluded), 0 for customers without repeat purchases.

These conventions reproduce the published CDNOW summary
(``cdnow_customers_summary.csv``, Fader-Hardie / lifetimes) exactly; see
``tests/rfm/test_rfm.py``.

Engines
-------
:func:`rfm_summary` checks the parameters and hands the input to one engine,
chosen by the input's type in one place (``_dispatch.engine_for``):

numpy (``_numpy``)
    An in-memory DataFrame (string ids of up to 8 bytes, integer or
    categorical ids; ``datetime64`` times; numeric amounts): the ids become
    integer keys that sort like the id strings, the rows are sorted once by
    (customer, day) and reduced with segment sums. No string is hashed.
DuckDB (``_duckdb``)
    Files (Parquet, CSV; folders and globs), DuckDB relations, and the
    frames the numpy engine does not take: one ``GROUP BY`` pipeline (daily
    merge, then per customer). With a connection that has a
    ``memory_limit`` (:func:`crm_analysis.scale.connect_out_of_core`) files
    larger than memory are summarised by spilling to disk.
Spark (``_spark``)
    A PySpark DataFrame: the same aggregation with the DataFrame API on the
    cluster (pyspark is imported only then).

All engines give the same table (index, order, dtypes, values, ``attrs``;
tested against each other). On every input the key columns are read as the
loaders read them: text ids lose surrounding blanks, text dates follow the
date policy of :mod:`crm_analysis.data.dates`, aware timestamps are counted in
``timezone``.

Cohorts
-------
:func:`cohort_table` follows acquisition cohorts (month or quarter of the
first purchase) over the periods since acquisition (active customers,
retention rate, revenue per customer, heatmap), with pandas for frames and
DuckDB for files and relations (:mod:`crm_analysis.rfm.cohorts`).
"""

from ._api import calibration_and_holdout, repeat_purchases_by_day, rfm_summary
from .cohorts import COHORT_COLUMNS, CohortTable, cohort_table
from ._common import time_unit_days

__all__ = [
    "rfm_summary",
    "calibration_and_holdout",
    "repeat_purchases_by_day",
    "time_unit_days",
    "cohort_table",
    "CohortTable",
    "COHORT_COLUMNS",
]
