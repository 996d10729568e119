"""Contracts of the hand-over files of the report chain: one declared schema per artefact.

The notebooks of the chain hand results to each other only through files in
the run directory (``<run_dir>/artifacts``). Every such file is declared here,
once: its columns (name, dtype, required, nullable, unit, meaning) for the
tables, its keys for the JSON records, the step that writes it and the steps
that read it. :class:`~crm_analysis.runtime.context.RunContext` validates every table
it writes or reads against its contract (:meth:`TableContract.validate`) and
raises :class:`ContractError` naming the artefact and the column;
``docs/architecture.md`` shows :func:`architecture_tables`, and a test fails
when the two disagree.

Time unit
---------
Recency and ``T`` of the RFM summary and of the CLV table are in a time unit
(days, weeks or a number of days): :class:`TimeUnit`. Tables whose contract
says ``time_unit=True`` carry it in ``DataFrame.attrs`` (``time_unit``,
``unit_days``, set by :func:`crm_analysis.rfm.rfm_summary`); the run context
writes it into the Parquet file's metadata and restores it on reading. A
table of such an artefact without its time unit is a :class:`ContractError`,
never a silent fallback to weeks.

Headline figures
----------------
``headlines.json`` holds ``{notebook: {key: {"value", "label"}}}``; the keys a
notebook of the chain may record are declared in :data:`HEADLINES` (a key may
hold a ``{placeholder}``, e.g. ``seasonal_strength_{period}``), and
:meth:`RunContext.headline` refuses any other.

This module is declarations only: it imports nothing of the package but the
data layer's :class:`~crm_analysis.data.schema.Column` / ``Schema`` and its
exception, so that every layer may use it.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, NotFoundError, shown

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis.data.errors import DataValidationError
from crm_analysis.data.schema import BOOKINGS, TRANSACTIONS, Column, Schema

__all__ = [
    "ContractError",
    "TimeUnit",
    "TableContract",
    "FileContract",
    "IntervalRule",
    "CLV_INTERVAL",
    "FORECAST_INTERVAL",
    "HalfWidthRule",
    "HALF_WIDTH",
    "REPLAY_INTERVAL",
    "HeadlineSpec",
    "ARTEFACTS",
    "TABLES",
    "HEADLINES",
    "MODEL_CHOICE_HEADLINES",
    "TRANSACTIONS_TABLE",
    "BOOKINGS_TABLE",
    "RFM_SUMMARY",
    "CLV",
    "COHORTS",
    "SEGMENTS",
    "SEGMENT_ACTIONS",
    "RETURNS",
    "CUSTOMER_PROFIT",
    "NEXT_BEST_PRODUCTS",
    "CAMPAIGN_TARGETING",
    "CUSTOMER_ACTIONS_IDIC",
    "FORECASTS",
    "BOOKING_CURVES",
    "PICKUP_ERRORS",
    "OVERBOOKING_HORIZON",
    "POLICY_REPLAY",
    "EXPECTED_SHOWS",
    "SYNTHETIC_REPLAY",
    "HORIZON_TABLES",
    "contract",
    "check_file",
    "headline_spec",
    "headline_labels",
    "architecture_tables",
    "architecture_section",
]


class ContractError(DataValidationError):
    """A hand-over table or record does not satisfy its declared contract.

    The message names the artefact (``clv.parquet``), what is wrong (the
    missing, extra or mistyped column, the count of missing values, the lost
    time unit) and the fix.
    """


# ------------------------------------------------------------------ time unit
_CODES = {"D": 1.0, "W": 7.0}
_LABELS = {1.0: ("days", "day"), 7.0: ("weeks", "week")}


@dataclass(frozen=True)
class TimeUnit:
    """The time unit of recency, ``T`` and horizons: days, weeks or a number of days.

    Parameters
    ----------
    days : float
        Days per time unit (positive, finite).
    code : {"D", "W"} or None
        ``"D"`` for days, ``"W"`` for weeks, ``None`` for another number of days.

    Examples
    --------
    >>> TimeUnit.parse("w")
    TimeUnit(days=7.0, code='W')
    >>> TimeUnit.parse(30.5).label
    '30.5-day periods'
    """

    days: float
    code: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, (int, float)) or not math.isfinite(self.days) \
                or self.days <= 0:
            raise InputError(f"a time unit must be a positive number of days, got {shown(self.days)}")
        if self.code is not None and _CODES.get(self.code) != float(self.days):
            raise InputError(f"time unit code {self.code!r} does not match {self.days!r} days")
        object.__setattr__(self, "days", float(self.days))

    @classmethod
    def parse(cls, value: "str | float | int | TimeUnit") -> "TimeUnit":
        """Read a time unit as every function of the package takes it.

        Parameters
        ----------
        value : {"D", "W"} (any case), positive number of days, or TimeUnit
            ``"D"`` (days), ``"W"`` (weeks = 7 days) or a number of days
            (7 and 1 are weeks and days).

        Raises
        ------
        ValueError
            For an unknown text, a non-positive or non-finite number.
        """
        if isinstance(value, TimeUnit):
            return value
        if isinstance(value, str):
            key = value.strip().upper()
            if key in _CODES:
                return cls(_CODES[key], key)
            raise InputError(f"unknown time_unit {shown(value)}: use 'D', 'W' or a positive number of days")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"time_unit must be 'D', 'W' or a number of days, got {shown(value)}")
        if not math.isfinite(value) or value <= 0:
            raise InputError(f"time_unit must be a positive number of days, got {shown(value)}")
        days = float(value)
        code = next((c for c, d in _CODES.items() if d == days), None)
        return cls(days, code)

    @property
    def value(self) -> str | float:
        """The unit as the package's functions take it: the code, else the number of days."""
        return self.code if self.code is not None else self.days

    @property
    def label(self) -> str:
        """Plural name: ``"weeks"``, ``"days"``, ``"30.5-day periods"``."""
        return _LABELS[self.days][0] if self.days in _LABELS else f"{self.days:g}-day periods"

    @property
    def singular(self) -> str:
        """Singular name: ``"week"``, ``"day"``, ``"30.5-day period"``."""
        return _LABELS[self.days][1] if self.days in _LABELS else f"{self.days:g}-day period"

    def to_attrs(self) -> dict[str, Any]:
        """``{"time_unit": ..., "unit_days": ...}`` as :func:`crm_analysis.rfm.rfm_summary` sets them."""
        return {"time_unit": self.value, "unit_days": self.days}

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any], *, what: str = "the table") -> "TimeUnit":
        """The time unit a table carries in its ``attrs`` (``unit_days``, else ``time_unit``).

        Parameters
        ----------
        attrs : mapping
            ``DataFrame.attrs`` of an RFM summary or CLV table.
        what : str
            Name of the table, for the message.

        Raises
        ------
        ContractError
            When neither key is there (e.g. the frame was rebuilt and lost its
            attributes) or they disagree: a silent fallback to weeks would
            misstate every recency and horizon.
        """
        unit, days = attrs.get("time_unit"), attrs.get("unit_days")
        if unit is None and days is None:
            raise ContractError(
                f"{what} does not carry its time unit (attrs 'time_unit' / 'unit_days', set by "
                "crm_analysis.rfm.rfm_summary and kept in the artefact's metadata): recency and T cannot be read "
                "without it. Keep the attrs of the summary (e.g. df.attrs.update(summary.attrs)) or set "
                "df.attrs.update(TimeUnit.parse('W').to_attrs())"
            )
        try:
            parsed = cls.parse(unit) if unit is not None else cls.parse(float(days))
        except (TypeError, ValueError) as exc:
            raise ContractError(f"{what}: unreadable time unit in its attrs: {exc}") from None
        if days is not None and not math.isclose(float(days), parsed.days):
            raise ContractError(f"{what}: attrs time_unit={unit!r} and unit_days={days!r} disagree")
        return parsed


# ------------------------------------------------------------------ tables
def _col(name: str, dtype: str, description: str, *, required: bool = True, nullable: bool = False,
         unit: str = "") -> Column:
    return Column(name, dtype, required, description, nullable=nullable, unit=unit)


@dataclass(frozen=True)
class TableContract:
    """The declared schema of one Parquet hand-over table.

    Parameters
    ----------
    name : str
        Artefact name (the file is ``<name>.parquet``).
    schema : Schema
        Columns in order (:class:`~crm_analysis.data.schema.Column`:
        dtype, required, nullable, unit, meaning).
    step : str
        Step (notebook name of the chain) that writes it.
    readers : tuple of str
        Steps (or the index page) that read it.
    description : str
        What one row is.
    time_unit : bool, default False
        The table carries a :class:`TimeUnit` (recency, T in it).
    key : str, optional
        Column whose values are unique (one row per key).
    extra_columns : bool, default False
        Columns that are not declared are allowed (the source columns a
        loader keeps beside the canonical ones, e.g. ``description`` of UCI
        Online Retail); they are handed over unchecked, and the columns may
        come in any order.
    row_checks : tuple of callable, default ()
        Checks across columns (e.g. an interval's two ends): each takes the
        table (whose columns passed the column checks) and returns its
        problems as sentences naming the columns and the number of rows.
    """

    name: str
    schema: Schema
    step: str
    readers: tuple[str, ...] = ()
    description: str = ""
    time_unit: bool = False
    key: str | None = None
    extra_columns: bool = False
    row_checks: tuple[Any, ...] = ()

    @property
    def file(self) -> str:
        """File name in the artefacts folder."""
        return f"{self.name}.parquet"

    @property
    def names(self) -> tuple[str, ...]:
        """All column names, in order."""
        return self.schema.names

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return self.schema.required

    def problems(self, df: pd.DataFrame) -> list[str]:
        """Everything about ``df`` that breaks the contract (empty when it is kept).

        Checked: a DataFrame; every required column present; no column that
        is not declared (unless ``extra_columns``); the declared columns in
        the declared order (not for the loaders' tables, ``extra_columns``,
        whose optional columns come in the source's order); each
        column's dtype (:meth:`Column.accepts`); no missing value in a
        column that is not ``nullable``; unique ``key``; the time unit in
        ``df.attrs`` when ``time_unit`` (:meth:`TimeUnit.from_attrs`); then,
        when all that holds, the ``row_checks``.
        """
        if not isinstance(df, pd.DataFrame):
            return [f"expected a pandas DataFrame, got {type(df).__name__}"]
        out: list[str] = []
        cols = [str(c) for c in df.columns]
        missing = [c for c in self.required if c not in cols]
        if missing:
            out.append(f"missing required column(s) {missing}")
        extra = [c for c in cols if c not in self.schema]
        if extra and not self.extra_columns:
            out.append(f"column(s) {extra} are not in the contract (declared: {list(self.names)})")
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            out.append(f"column(s) {dup} appear more than once")
        present = [c for c in self.names if c in cols]
        if not dup and not self.extra_columns and [c for c in cols if c in self.schema] != present:
            out.append(f"columns out of the declared order: {[c for c in cols if c in self.schema]}, declared {present}")
        for name in present if not dup else ():
            col = self.schema[name]
            dtype = df[name].dtype
            if not col.accepts(dtype):
                out.append(f"column {name!r} is {dtype}, the contract says {col.dtype}")
            elif not col.nullable:
                n = int(df[name].isna().sum())
                if n:
                    out.append(f"column {name!r} has {n:,} missing value(s); the contract allows none")
        if self.key is not None and self.key in cols and not dup and df[self.key].duplicated().any():
            first = df.loc[df[self.key].duplicated(), self.key].iloc[0]
            out.append(f"key column {self.key!r} is not unique (e.g. {first!r} appears more than once)")
        if self.time_unit:
            try:
                TimeUnit.from_attrs(df.attrs, what="it")
            except ContractError as exc:
                out.append(str(exc))
        if not out:  # the columns are right: check across them
            for check in self.row_checks:
                out.extend(check(df))
        return out

    def validate(self, df: pd.DataFrame, *, action: str = "hand over") -> pd.DataFrame:
        """Raise :class:`ContractError` unless ``df`` keeps the contract; return ``df``.

        Parameters
        ----------
        df : DataFrame
            The table.
        action : str
            What is being done, for the message (``"write"``, ``"read"``).

        Raises
        ------
        ContractError
            Listing every problem (:meth:`problems`), naming the artefact.
        """
        problems = self.problems(df)
        if problems:
            raise ContractError(
                f"cannot {action} artefact {self.file} (written by the {self.step} step): it does not keep its "
                "contract (crm_analysis.contracts, docs/architecture.md):\n  - " + "\n  - ".join(problems)
            )
        return df


@dataclass(frozen=True)
class FileContract:
    """A hand-over file that is not a Parquet table: a JSON record or a CSV export.

    Parameters
    ----------
    file : str
        File name in the artefacts folder (``clv_params.json``).
    step : str
        Step that writes it (``"*"``: every notebook).
    readers : tuple of str
        Who reads it.
    description : str
        What it holds.
    keys : tuple of str
        Top-level keys a JSON record must have (checked on write and read).
    columns : tuple of str
        Columns a CSV export must have (checked on write by
        :meth:`crm_analysis.runtime.context.RunContext.write_csv`).
    """

    file: str
    step: str
    readers: tuple[str, ...] = ()
    description: str = ""
    keys: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Artefact name (the file name without suffix)."""
        return self.file.rsplit(".", 1)[0]

    def validate(self, obj: Any, *, action: str = "hand over") -> Any:
        """Raise :class:`ContractError` when a JSON record lacks a declared key or a CSV export's table a declared
        column; return ``obj``."""
        if self.columns:
            if not isinstance(obj, pd.DataFrame):
                raise ContractError(f"cannot {action} artefact {self.file}: expected a DataFrame, got "
                                    f"{type(obj).__name__}")
            from crm_analysis._validate import check_columns

            check_columns(self.columns, obj.columns, table=f"artefact {self.file} (written by the {self.step} step)",
                          fix=f"cannot {action} it: the contract declares {list(self.columns)}", error=ContractError)
        if self.keys:
            if not isinstance(obj, Mapping):
                raise ContractError(f"cannot {action} artefact {self.file}: expected a JSON object, got "
                                    f"{type(obj).__name__}")
            missing = [k for k in self.keys if k not in obj]
            if missing:
                raise ContractError(f"cannot {action} artefact {self.file} (written by the {self.step} step): "
                                    f"missing key(s) {missing}; declared {list(self.keys)}")
        return obj


def _not_null(schema: Schema, names: Iterable[str], name: str | None = None) -> Schema:
    names = set(names)
    return Schema(name or schema.name, tuple(dataclasses.replace(c, nullable=c.name not in names)
                                             for c in schema.columns))


_MARKER = Column("is_cancellation", "bool", False, "True on a cancellation line (marker set by some loaders)")

TRANSACTIONS_TABLE = TableContract(
    "transactions",
    Schema("transactions", _not_null(TRANSACTIONS, TRANSACTIONS.required).columns + (_MARKER,)),
    step="data_quality",
    readers=("rfm_clv", "idic", "seasonality"),
    description="canonical transactions (crm_analysis.data.schema.TRANSACTIONS), cleaned: one row per order line; "
                "further source columns the loader keeps may follow",
    extra_columns=True,
)
BOOKINGS_TABLE = TableContract(
    "bookings",
    _not_null(BOOKINGS, BOOKINGS.required),
    step="data_quality",
    readers=("seasonality", "yield"),
    description="canonical bookings (crm_analysis.data.schema.BOOKINGS), cleaned: one row per booking; further "
                "source columns the loader keeps may follow",
    extra_columns=True,
)

_RFM = (
    _col("customer_id", "string", "customer key"),
    _col("frequency", "int64", "repeat purchase days (purchases on one day merged)"),
    _col("recency", "float64", "time from the first to the last purchase", unit="time_unit"),
    _col("T", "float64", "time from the first purchase to the end of the observation period", unit="time_unit"),
    _col("monetary_value", "float64", "mean value of the repeat purchases (0 without one)", unit="currency"),
    _col("revenue", "float64", "all purchases up to as_of", unit="currency"),
)
RFM_SUMMARY = TableContract(
    "rfm_summary",
    Schema("rfm_summary", _RFM + (_col("first_purchase", "datetime64[ns]", "day of the first purchase"),)),
    step="rfm_clv",
    readers=(),
    description="one row per customer: the RFM summary (crm_analysis.rfm.rfm_summary)",
    time_unit=True,
    key="customer_id",
)
#: Relative tolerance of the interval-order check of the clv table (floating-point noise of the quantiles).
_INTERVAL_TOLERANCE = 1e-9


@dataclass(frozen=True)
class IntervalRule:
    """The one rule of a hand-over table's interval, declared once and used as a ``row_checks`` entry.

    Checked: both ends or neither (columns); in each row both ends or neither
    missing; ``lower <= upper`` (relative tolerance 1e-9); where a minimum is
    given, ``lower``, ``upper`` and the ``point`` estimate ``>= minimum``
    (what the producer writes, e.g. demand clipped at 0); with ``finite``, no
    infinite end, point or standard deviation; ``std >= 0`` where a standard
    deviation column is named. A point estimate need not lie inside the
    interval (a prediction interval of a realised value need not contain the
    expected value, and an empirical interval may be asymmetric), so that is
    not checked.

    Parameters
    ----------
    lower, upper : str
        The columns of the interval's ends.
    std : str, optional
        A standard-deviation column (must be >= 0).
    minimum : float, optional
        Smallest value the ends and the point estimate can take (0 for a CLV or a demand).
    point : str, optional
        The point-estimate column (``mean`` of the forecasts): held to ``minimum`` and ``finite``, not to the
        interval.
    finite : bool, default False
        Refuse infinite values in the ends, the point estimate and the standard deviation (missing values are
        the column checks' and the both-ends rule's matter).
    key : str, optional
        Column naming a row in the messages (e.g. ``customer_id``).
    what : str
        What the interval is of, for the messages (``"CLV"``, ``"forecast"``).
    why_minimum : str
        Why values below ``minimum`` are impossible, for the message.

    Examples
    --------
    >>> rule = IntervalRule("lower", "upper", std="std", what="forecast")
    >>> rule(pd.DataFrame({"lower": [12.0], "upper": [9.0], "std": [-1.0]}))[0][:25]
    'lower > upper in 1 row(s)'
    """

    lower: str
    upper: str
    std: str | None = None
    minimum: float | None = None
    key: str | None = None
    what: str = "interval"
    why_minimum: str = ""
    point: str | None = None
    finite: bool = False

    def _example(self, df: pd.DataFrame, mask: np.ndarray) -> str:
        i = int(np.argmax(mask))
        return f"{self.key} {df[self.key].iloc[i]!r}" if self.key in df.columns else f"row {i}"

    def __call__(self, df: pd.DataFrame) -> list[str]:
        """The table's problems with the interval, as sentences naming the columns and the number of rows."""
        has = [c for c in (self.lower, self.upper) if c in df.columns]
        out: list[str] = []
        if len(has) == 1:
            other = self.upper if has[0] == self.lower else self.lower
            out.append(f"column {has[0]!r} without {other!r}: the {self.what} interval needs both ends (or neither)")
        elif has:
            lo, hi = df[self.lower].to_numpy(float), df[self.upper].to_numpy(float)
            one = np.isnan(lo) != np.isnan(hi)
            if one.any():
                out.append(f"{self.lower} / {self.upper}: one end missing in {int(one.sum()):,} row(s) (e.g. "
                           f"{self._example(df, one)}); the {self.what} interval needs both ends (or neither)")
            tol = _INTERVAL_TOLERANCE * (1.0 + np.abs(hi))
            with np.errstate(invalid="ignore"):
                bad = lo > hi + tol
            if bad.any():
                i = int(np.argmax(bad))
                out.append(f"{self.lower} > {self.upper} in {int(bad.sum()):,} row(s) (e.g. {self._example(df, bad)}: "
                           f"{lo[i]:g} > {hi[i]:g}); the interval's ends are swapped or wrong")
        values = [c for c in (self.lower, self.upper) if len(has) == 2] + (
            [self.point] if self.point is not None and self.point in df.columns else [])
        if self.finite:
            for c in values + ([self.std] if self.std is not None and self.std in df.columns else []):
                inf = np.isinf(df[c].to_numpy(float))
                if inf.any():
                    out.append(f"{c} is infinite in {int(inf.sum()):,} row(s) (e.g. {self._example(df, inf)}): the "
                               f"{self.what} values must be finite numbers")
        if self.minimum is not None:
            for c in values:
                with np.errstate(invalid="ignore"):
                    low = df[c].to_numpy(float) < self.minimum - _INTERVAL_TOLERANCE * (1.0 + abs(self.minimum))
                if low.any():
                    out.append(f"{c} < {self.minimum:g} in {int(low.sum()):,} row(s) (e.g. {self._example(df, low)})"
                               + (f": {self.why_minimum}" if self.why_minimum else ""))
        if self.std is not None and self.std in df.columns:
            with np.errstate(invalid="ignore"):
                neg = df[self.std].to_numpy(float) < 0
            if neg.any():
                out.append(f"{self.std} < 0 in {int(neg.sum()):,} row(s) (e.g. {self._example(df, neg)}): a "
                           "standard deviation cannot be negative")
        return out


@dataclass(frozen=True)
class HalfWidthRule:
    """The rule of half-width columns (``<figure>_ci``: half the width of a symmetric interval), a ``row_checks`` entry.

    Every column whose name ends in ``suffix`` (declared or, in a table with ``extra_columns``, not) must be
    finite and ``>= 0`` where it is not missing (a half-width from one replication is missing). A negative
    half-width would turn ``figure +- half-width`` into an interval with its ends swapped.

    Parameters
    ----------
    suffix : str, default "_ci"
        The suffix of the half-width columns.
    key : str, optional
        Column naming a row in the messages (e.g. ``policy``).

    Examples
    --------
    >>> HalfWidthRule(key="policy")(pd.DataFrame({"policy": ["fcfs"], "revpar_ci": [-5.0]}))
    ["revpar_ci < 0 in 1 row(s) (e.g. policy 'fcfs'): a half-width of an interval cannot be negative"]
    """

    suffix: str = "_ci"
    key: str | None = None

    def __call__(self, df: pd.DataFrame) -> list[str]:
        """The table's problems with its half-width columns, naming each column and the number of rows."""
        out: list[str] = []
        for c in [str(c) for c in df.columns if str(c).endswith(self.suffix)]:
            v = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
            for bad, why in ((np.isinf(v), "is infinite"), (v < 0, "< 0")):
                if bad.any():
                    i = int(np.argmax(bad))
                    where = f"{self.key} {df[self.key].iloc[i]!r}" if self.key in df.columns else f"row {i}"
                    out.append(f"{c} {why} in {int(bad.sum()):,} row(s) (e.g. {where}): a half-width of an interval "
                               + ("must be a finite number" if why == "is infinite" else "cannot be negative"))
        return out


#: The clv table's interval: a prediction interval of the customer's *realised* CLV
#: (:func:`crm_analysis.clv.report_extras.clv_prediction_intervals`), so it need not contain ``clv``, the
#: *expected* value: a customer whose chance of buying again within the horizon is below the upper tail share
#: has ``clv_upper`` 0 and a positive ``clv`` (about one customer in twelve of the built-in data at 90 %).
CLV_INTERVAL = IntervalRule("clv_lower", "clv_upper", minimum=0.0, key="customer_id", what="CLV", finite=True,
                            why_minimum="a CLV (positive margin times spend) cannot be negative")
#: The forecasts' prediction interval, the expected demand ``mean`` and the standard deviation of the forecast
#: error: finite, and ``mean``, ``lower``, ``upper`` >= 0 (the forecaster clips demand at 0, as it writes them).
#: ``mean`` within [lower, upper] is not checked: the intervals are empirical (quantiles of backtest errors) and
#: may be asymmetric, and a clipped end may cut them.
FORECAST_INTERVAL = IntervalRule("lower", "upper", std="std", point="mean", minimum=0.0, finite=True, key="date",
                                 what="forecast", why_minimum="demand (room-nights or arrivals) cannot be negative; "
                                 "the forecaster clips mean, lower and upper at 0")
#: The booking-horizon step's half-widths (``*_ci``, "half-width of the 95 % interval"): finite and >= 0.
HALF_WIDTH = HalfWidthRule(key="policy")
#: The policy replay's bootstrap interval of the net RevPAR (undeclared columns ``net_revpar_low`` /
#: ``net_revpar_high``, missing with fewer than two weeks): in order and finite; no minimum (walk costs can make
#: the net RevPAR negative).
REPLAY_INTERVAL = IntervalRule("net_revpar_low", "net_revpar_high", finite=True, key="policy", what="net RevPAR")


CLV = TableContract(
    "clv",
    Schema("clv", _RFM + (
        _col("p_alive", "float64", "probability the customer is alive at as_of (purchase model p_alive_model)"),
        _col("expected_purchases", "float64", "expected purchases over the horizon"),
        _col("expected_spend", "float64", "expected spend per purchase (Gamma-Gamma)", unit="currency"),
        _col("clv", "float64", "discounted expected margin over the horizon", unit="currency"),
        _col("p_alive_model", "string", "label of the purchase model used downstream and the limit its fit sits at, if any, "
             "e.g. 'BG/NBD' or 'BG/NBD at its common-dropout limit'"),
        _col("clv_lower", "float64", "lower end of the prediction interval of the customer's realised CLV over the "
             "horizon (level: clv_params.json prediction_intervals.level; crm_analysis.clv.clv_prediction_intervals); "
             "with clv_upper or not at all. Not the parameter-uncertainty interval of the expected CLV "
             "(customer_lifetime_value's clv_param_lower / clv_param_upper)",
             required=False, unit="currency"),
        _col("clv_upper", "float64", "upper end of that interval; clv_lower <= clv_upper. It need not contain clv "
             "(an expected value): a customer unlikely to buy again within the horizon has clv_upper 0",
             required=False, unit="currency"),
    )),
    step="rfm_clv",
    readers=("segmentation", "idic"),
    description="one row per customer: P(alive), expected purchases and spend, CLV",
    time_unit=True,
    key="customer_id",
    row_checks=(CLV_INTERVAL,),
)
COHORTS = TableContract(
    "cohorts",
    Schema("cohorts", (
        _col("cohort", "datetime64[ns]", "first day of the acquisition month or quarter (first purchase)"),
        _col("period", "int64", "periods since acquisition (0 = the acquisition period)"),
        _col("period_start", "datetime64[ns]", "first day of the period"),
        _col("complete", "bool", "the period ends on or before as_of"),
        _col("cohort_size", "int64", "customers acquired in the cohort"),
        _col("active_customers", "int64", "customers of the cohort with a transaction in the period"),
        _col("retention_rate", "float64", "active customers / cohort size"),
        _col("revenue", "float64", "revenue of the cohort in the period", unit="currency"),
        _col("revenue_per_customer", "float64", "revenue / cohort size", unit="currency"),
    )),
    step="rfm_clv",
    readers=(),
    description="one row per acquisition cohort (month or quarter, cohort_frequency) and period since acquisition, "
                "up to as_of (crm_analysis.rfm.cohort_table)",
)
SEGMENTS = TableContract(
    "segments",
    Schema("segments", (
        _col("customer_id", "string", "customer key"),
        _col("r_score", "int64", "recency score 1..bins (bins = most recent)"),
        _col("f_score", "int64", "frequency score 1..bins"),
        _col("m_score", "int64", "monetary score 1..bins"),
        _col("segment", "string", "named RFM segment"),
        _col("value_tier", "string", "cell of the current-vs-future value grid"),
        _col("cluster", "int64", "behavioural cluster"),
        _col("action", "string", "the customer's own recommended action"),
    )),
    step="segmentation",
    readers=("idic", "index"),
    description="one row per customer: RFM scores, segment, value tier, cluster, action",
    key="customer_id",
)
SEGMENT_ACTIONS = TableContract(
    "segment_actions",
    Schema("segment_actions", (
        _col("segment", "string", "named RFM segment"),
        _col("customers", "int64", "customers in the segment"),
        _col("share", "float64", "share of all customers"),
        _col("revenue", "float64", "revenue of the segment", unit="currency"),
        _col("revenue_share", "float64", "share of all revenue"),
        _col("clv_total", "float64", "CLV of the segment", unit="currency"),
        _col("clv_share", "float64", "share of all CLV"),
        _col("mean_p_alive", "float64", "mean P(alive)"),
        _col("mean_clv", "float64", "mean CLV", unit="currency"),
        _col("median_days_since_last", "float64", "median days since the last purchase", unit="days"),
        _col("lapsed_share", "float64", "share of customers lapsed by their own figures"),
        _col("segment_lapsed", "bool", "the segment counts as lapsed (name or figures)"),
        _col("segment_lapsed_reason", "string", "why the segment counts as lapsed", nullable=True),
        _col("mean_r_score", "float64", "mean recency score"),
        _col("mean_f_score", "float64", "mean frequency score"),
        _col("mean_m_score", "float64", "mean monetary score"),
        _col("revenue_index", "float64", "mean revenue / mean revenue of all customers"),
        _col("clv_index", "float64", "mean CLV / mean CLV of all customers"),
        _col("action", "string", "most common action in the segment"),
        _col("offer", "string", "offer of that action"),
        _col("action_share", "float64", "its share of the segment"),
        _col("actions", "string", "the mix of actions, e.g. 'Win back 62%, Let go 38%'"),
        _col("p_alive_model", "string", "purchase model of the P(alive) used"),
    )),
    step="segmentation",
    readers=(),
    description="one row per segment: figures, most common action, action mix",
    key="segment",
)
FORECASTS = TableContract(
    "forecasts",
    Schema("forecasts", (
        _col("date", "datetime64[ns]", "stay date after as_of"),
        _col("fare_class", "string", "fare class; the classes add up to the reconciled total"),
        _col("mean", "float64", "expected demand (room-nights); finite, >= 0 (clipped at 0)"),
        _col("std", "float64", "standard deviation of the forecast error at that horizon; finite, >= 0"),
        _col("lower", "float64", "lower end of the prediction interval; finite, >= 0 (clipped at 0)"),
        _col("upper", "float64", "upper end of the prediction interval; finite, >= lower. The interval is empirical "
             "(backtest errors) and may be asymmetric: mean within [lower, upper] is not checked"),
        _col("model", "string", "model or combination used"),
        _col("unconstrained", "bool", "True: mean is unconstrained demand, not sales"),
    )),
    step="seasonality",
    readers=("yield",),
    description="one row per stay date after as_of and fare class (crm_analysis.seasonality.DemandForecaster)",
    row_checks=(FORECAST_INTERVAL,),
)

RETURNS = TableContract(
    "returns",
    Schema("returns", TRANSACTIONS.columns + (_MARKER,)),
    step="data_quality",
    readers=("idic",),
    description="the return lines the cleaning dropped (canonical transaction columns, as loaded; "
                "crm_analysis.data.dropped_lines), for the profit step",
    extra_columns=True,
)

_PROFIT_MONEY = (
    ("gross_revenue", "purchases, money"), ("returned_lines", "returned lines (count)"),
    ("returned_revenue", "refunds of returned lines, money (>= 0)"), ("net_revenue", "gross - returned"),
    ("return_rate", "returned / gross revenue (NaN without purchases)"),
    ("gross_margin", "margin on what was kept, money"), ("order_cost", "cost per order x orders"),
    ("line_cost", "cost per line x lines"), ("return_cost", "cost per return x returned lines"),
    ("cost_to_serve", "order + line + return cost"), ("profit", "gross margin - cost to serve"),
)
CUSTOMER_PROFIT = TableContract(
    "customer_profit",
    Schema("customer_profit", (
        _col("customer_id", "string", "customer key"),
        _col("orders", "int64", "purchase orders"),
        _col("lines", "int64", "purchase lines"),
        *(_col(c, "int64" if c == "returned_lines" else "float64", d, nullable=c == "return_rate")
          for c, d in _PROFIT_MONEY),
        _col("profit_decile", "int64", "1 = the most profitable tenth of the customers"),
    )),
    step="idic",
    readers=(),
    description="one row per customer: revenue, returns, cost to serve and profit (crm_analysis.profitability)",
    key="customer_id",
)
NEXT_BEST_PRODUCTS = TableContract(
    "next_best_products",
    Schema("next_best_products", (
        _col("customer_id", "string", "customer key"),
        _col("rank", "int64", "1 = recommend first"),
        _col("product", "string", "a product the customer has not bought"),
        _col("score", "float64", "model score (NaN where filled by popularity)", nullable=True),
        _col("source", "string", "'model' or 'popularity'"),
    )),
    step="idic",
    readers=(),
    description="top-k products per customer not yet bought (only when the transactions name products)",
)
CAMPAIGN_TARGETING = TableContract(
    "campaign_targeting",
    Schema("campaign_targeting", (
        _col("customer_id", "string", "customer key"),
        _col("uplift", "float64", "estimated uplift of the response probability"),
        _col("expected_revenue", "float64", "uplift x value per response"),
        _col("expected_profit", "float64", "margin x expected revenue - contact cost"),
        _col("contact", "bool", "expected profit > 0"),
        _col("rank", "int64", "1 = contact first"),
        _col("uplift_source", "string", "'model': the best uplift model's per-customer uplift; 'overall': the "
             "campaign's overall uplift for everyone (the model did not rank held-out customers better than random)"),
    )),
    step="idic",
    readers=(),
    description="one row per customer: uplift and expected profit of a campaign contact (only with a campaign)",
    key="customer_id",
)
#: Columns ``customer_actions_idic.csv`` adds to those of the segmentation's ``customer_actions.csv``.
CUSTOMER_ACTIONS_IDIC = Schema("customer_actions_idic", (
    Column("value_basis", "string", True, "'profit' (costs configured) or 'revenue': what value_tier and action use"),
    Column("net_revenue", "float64", True, "purchases less returns"),
    Column("returned_revenue", "float64", True, "refunds"),
    Column("cost_to_serve", "float64", True, "cost to serve"),
    Column("profit", "float64", True, "profit after the cost to serve"),
    Column("profit_decile", "int64", True, "1 = most profitable tenth"),
    Column("next_best_products", "string", False, "top-k products not yet bought, '; '-separated"),
    Column("campaign_uplift", "float64", False, "estimated uplift of a contact (campaign configured)"),
    Column("campaign_expected_profit", "float64", False, "expected profit of a contact"),
    Column("campaign_eligible", "bool", False, "contact: expected profit > 0"),
))


# --------------------------------------------------------------- booking horizon (notebook 45)
BOOKING_CURVES_SCHEMA = Schema("booking_curves", (
    Column("night", "datetime64[ns]", True, "stay night (rooms) / arrival date (arrivals)"),
    Column("series", "string", True, "segment (or 'all')"),
    Column("days_before", "int64", True, "days before the night"),
    Column("rooms", "float64", True, "rooms on the books for the night, net of cancellations known then"),
    Column("arrivals", "float64", True, "bookings arriving on the date on the books then"),
))
PICKUP_ERRORS_SCHEMA = Schema("pickup_errors", (
    Column("method", "string", True, "pick-up method or 'time_series'"),
    Column("days_before", "int64", True, "days between the forecast origin and the night"),
    Column("mae", "float64", True, "mean absolute error of the final rooms"),
    Column("rmse", "float64", True, "root mean squared error"),
    Column("bias", "float64", True, "mean error (forecast - actual)"),
    Column("wape", "float64", True, "sum |error| / sum actual"),
    Column("nights", "int64", True, "nights scored"),
))
OVERBOOKING_HORIZON_SCHEMA = Schema("overbooking_horizon", (
    Column("days_before", "int64", True, "days before the night"),
    Column("show_rate", "float64", True, "share of the rooms on the books then that finally stay"),
    Column("limit_service", "int64", True, "booking limit for the service level"),
    Column("limit_cost", "int64", True, "booking limit for walk cost vs empty room"),
))
POLICY_REPLAY_SCHEMA = Schema("policy_replay", (
    Column("policy", "string", True, "control (+ overbooking)"),
    Column("revenue", "float64", True, "room revenue of the scored nights"),
    Column("net_revenue", "float64", True, "revenue minus walk costs"),
    Column("revpar", "float64", True, "revenue per available room-night"),
    Column("net_revpar", "float64", True, "net revenue per available room-night"),
    Column("occupancy", "float64", True, "occupied / available room-nights"),
    Column("adr", "float64", True, "revenue per occupied room-night"),
    Column("walked", "int64", True, "rooms walked"),
    Column("empty_rooms", "int64", True, "empty room-nights"),
))
EXPECTED_SHOWS_SCHEMA = Schema("expected_shows", (
    Column("days_before", "int64", True, "days before the night"),
    Column("rooms_on_hand", "float64", True, "rooms held then (mean over the test nights)"),
    Column("expected_shows_on_hand", "float64", True, "sum of the held bookings' show probabilities x rooms"),
    Column("expected_net_pickup", "float64", True, "rooms booked later that stay (training nights' mean)"),
    Column("expected_shows", "float64", True, "expected shows on hand + expected net pick-up"),
    Column("actual_shows", "float64", True, "rooms that stayed"),
    Column("shows_mae", "float64", True, "mean |expected - actual shows| over the test nights"),
    Column("shows_bias", "float64", True, "mean (expected - actual shows)"),
    Column("p_over_capacity", "float64", True, "P(shows > rooms) with no further control (mean)"),
    Column("limit_service", "float64", True, "rooms held allowed for the service level (mean over nights)"),
    Column("limit_cost", "float64", True, "rooms held allowed for walk vs empty-room costs (mean over nights)"),
))
SYNTHETIC_REPLAY_SCHEMA = Schema("synthetic_replay", (
    Column("policy", "string", True, "control (+ overbooking)"),
    Column("net_revpar", "float64", True, "mean over the replications"),
    Column("net_revpar_ci", "float64", True, "half-width of the 95 % interval of the mean; finite, >= 0 (as every "
           "*_ci column)"),
    Column("revpar", "float64", True, "revenue per available room-night"),
    Column("occupancy", "float64", True, "occupied / available room-nights"),
    Column("adr", "float64", True, "revenue per occupied room-night"),
    Column("walked", "float64", True, "rooms walked (mean per replication)"),
    Column("empty_rooms", "float64", True, "empty room-nights (mean per replication)"),
    Column("net_revpar_diff_vs_first", "float64", True, "paired difference to FCFS (common random numbers)"),
    Column("net_revpar_diff_vs_first_ci", "float64", True, "half-width of its 95 % interval; finite, >= 0"),
    Column("streams", "int64", True, "replications"),
))
BOOKING_CURVES = TableContract(
    "booking_curves", BOOKING_CURVES_SCHEMA, step="booking_horizon", readers=(),
    description="one row per night, series (segment or 'all') and days before: rooms and arrivals on the books then",
)
PICKUP_ERRORS = TableContract(
    "pickup_errors", PICKUP_ERRORS_SCHEMA, step="booking_horizon", readers=(),
    description="one row per pick-up method (and the time-series baseline) and days before: backtest errors of the final rooms",
)
OVERBOOKING_HORIZON = TableContract(
    "overbooking_horizon", OVERBOOKING_HORIZON_SCHEMA, step="booking_horizon", readers=(),
    description="one row per days before the night: show rate of the rooms on the books and the booking limits",
)
POLICY_REPLAY = TableContract(
    "policy_replay", POLICY_REPLAY_SCHEMA, step="booking_horizon", readers=(),
    description="one row per capacity-control policy replayed on the test nights: revenue, RevPAR, occupancy, refusals, walks (more columns than declared: counts by outcome, interval bounds)", extra_columns=True,
    row_checks=(REPLAY_INTERVAL,),
)
EXPECTED_SHOWS = TableContract(
    "expected_shows", EXPECTED_SHOWS_SCHEMA, step="booking_horizon", readers=(),
    description="one row per days before the night: expected shows of the bookings on hand, their error and limits",
)
SYNTHETIC_REPLAY = TableContract(
    "synthetic_replay", SYNTHETIC_REPLAY_SCHEMA, step="booking_horizon", readers=(),
    description="one row per policy replayed on request streams of the synthetic hotel (empty when none); "
                "more columns than declared: the _ci half-widths of every figure", extra_columns=True,
    row_checks=(HALF_WIDTH,),
)
#: The booking-horizon step's tables (:func:`crm_analysis.yield_management.run_booking_horizon`).
HORIZON_TABLES: tuple[TableContract, ...] = (BOOKING_CURVES, PICKUP_ERRORS, OVERBOOKING_HORIZON, POLICY_REPLAY,
                                             EXPECTED_SHOWS, SYNTHETIC_REPLAY)

#: The Parquet hand-over tables, by artefact name.
TABLES: dict[str, TableContract] = {
    c.name: c for c in (TRANSACTIONS_TABLE, RETURNS, BOOKINGS_TABLE, RFM_SUMMARY, CLV, COHORTS, SEGMENTS,
                        SEGMENT_ACTIONS, CUSTOMER_PROFIT, NEXT_BEST_PRODUCTS, CAMPAIGN_TARGETING, FORECASTS,
                        *HORIZON_TABLES)
}

_FILES = (
    FileContract("data_quality.json", "data_quality", ("index",),
                 "cleaning reports by reason, row counts, coverage, the data specs",
                 keys=("sources", "transactions", "bookings")),
    FileContract("clv_params.json", "rfm_clv", (),
                 "fitted parameters of every purchase model (bgnbd, mbgnbd where available, paretonbd, and a forced "
                 "boundary limit; null when not fitted; with the model's boundary kind, `boundary`, and at a limit the limit "
                 "model's own name, parameters and log-likelihood, `limit_model`) and Gamma-Gamma "
                 "on the calibration period and the whole period, spend exclusions by reason, the model comparison "
                 "(purchase_model_choice), BG/NBD mean dropout probability a/(a+b) (its limit's at a boundary), "
                 "mean P(alive) per model, the prediction intervals of the totals (prediction_intervals), the configured "
                 "reference estimates beside the calibration estimates (reference_estimates: source and rows; null "
                 "without) and, with "
                 "covariates, their coefficients and likelihood-ratio test (covariate_effects); strict JSON: NaN is "
                 "null, an infinite limit the string \"Infinity\"",
                 keys=("time_unit", "calibration_end", "as_of", "clv_model", "p_alive_model", "purchase_model_choice",
                       "calibration", "whole_period", "bgnbd_dropout_probability", "mean_p_alive")),
    FileContract("segment_actions.csv", "segmentation", ("campaign tools",),
                 "one row per segment: figures, most common action, action mix, p_alive_model",
                 columns=("segment", "customers", "share", "action", "offer", "action_share", "actions",
                          "p_alive_model")),
    FileContract("customer_actions.csv", "segmentation", ("campaign tools",),
                 "one row per customer: segments.parquet columns, action, offer, intent, state, days_since_last, "
                 "p_alive, p_alive_model",
                 columns=("customer_id", "segment", "action", "offer", "intent", "state", "days_since_last",
                          "p_alive", "p_alive_model")),
    FileContract("customer_actions_idic.csv", "idic", ("campaign tools",),
                 "one row per customer: the columns of customer_actions.csv (value_tier and action by profit when "
                 "costs are configured), then those of CUSTOMER_ACTIONS_IDIC (value_basis, profit, "
                 "next_best_products, campaign eligibility; docs/idic.md)",
                 columns=("customer_id", "action", *(c.name for c in CUSTOMER_ACTIONS_IDIC.columns))),
    FileContract("headlines.json", "*", ("index",),
                 "{notebook: {key: {value, label}}}: the headline figures, keys declared in HEADLINES"),
)

#: Every hand-over file, by file name (``"clv.parquet"``, ``"clv_params.json"``).
ARTEFACTS: dict[str, TableContract | FileContract] = {c.file: c for c in (*TABLES.values(), *_FILES)}


def check_file(obj: Any, file: str, *, action: str = "write") -> None:
    """Check a JSON record or CSV export ``file`` (a file name, e.g. ``"customer_actions.csv"``) against its contract.

    The one check of the chain's non-table hand-overs (:class:`RunContext
    <crm_analysis.runtime.context.RunContext>`'s ``write_json``, ``read_json``, ``write_csv``, and
    :func:`crm_analysis.segmentation.export_action_table`): a record's declared keys, an export's declared
    columns; a file that is not declared passes.

    Raises
    ------
    ContractError
        ``obj`` lacks a key or column the file's contract declares (naming them).
    """
    declared = ARTEFACTS.get(file)
    if isinstance(declared, FileContract):
        declared.validate(obj, action=action)


def contract(name: str) -> TableContract | FileContract:
    """The contract of artefact ``name``: a table by name or file (``"clv"``, ``"clv.parquet"``), a file by name.

    Raises
    ------
    KeyError
        For an artefact that is not declared, listing the declared ones.
    """
    if name in TABLES:
        return TABLES[name]
    if name in ARTEFACTS:
        return ARTEFACTS[name]
    raise NotFoundError(f"no contract for artefact {name!r}; declared: {sorted(ARTEFACTS)}")


# ------------------------------------------------------------------ headlines
@dataclass(frozen=True)
class HeadlineSpec:
    """One declared headline figure of a notebook.

    Parameters
    ----------
    key : str
        Machine name; may hold ``{placeholder}`` parts (``seasonal_strength_{period}``),
        which match letters, digits and dots.
    label : str
        Label shown in the index; may hold ``str.format`` fields the step
        fills in (``"Total CLV, next {horizon} {unit}"``).
    """

    key: str
    label: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """Regular expression of the keys this spec declares."""
        parts = re.split(r"(\{\w+\})", self.key)
        return re.compile("".join(r"[\w.]+" if p.startswith("{") else re.escape(p) for p in parts) + r"\Z")

    def matches(self, key: str) -> bool:
        """Whether ``key`` is this figure (exactly, or by its placeholders)."""
        return key == self.key or ("{" in self.key and bool(self.pattern.match(key)))


#: Headline figures of the purchase-model choice (key -> label), see
#: :meth:`crm_analysis.clv.ModelComparison.headlines`.
MODEL_CHOICE_HEADLINES: dict[str, str] = {
    "purchase_model": "Purchase model used for P(alive) and CLV",
    "purchase_model_name": "Purchase model chosen on the holdout (calibration fit)",
    "purchase_model_chosen_by": "How the purchase model was chosen",
    "purchase_model_holdout_rmse": "Holdout RMSE of the purchase model (purchases per customer)",
    "purchase_model_holdout_total_error_pct": "Error of the total holdout purchases of the purchase model (%)",
    "purchase_models_compared": "Purchase models compared",
    "purchase_models_tied": "Purchase models tied on the holdout (empty without a tie)",
}

_HEADLINES: dict[str, dict[str, str]] = {
    "data_quality": {
        "customers": "Customers",
        "transactions": "Transaction lines (cleaned)",
        "revenue": "Revenue (cleaned)",
        "bookings": "Bookings (cleaned)",
        "rows_dropped": "Rows dropped in cleaning",
    },
    "rfm_clv": {
        "customers": "Customers",
        "total_clv": "Total CLV, next {horizon} {unit}",
        "mean_clv": "Mean CLV per customer",
        "top20_clv_share": "Share of CLV from the top 20% of customers",
        "bgnbd_holdout_mae": "BG/NBD conditional-expectations MAE (mean holdout purchases by calibration frequency)",
        "bgnbd_dropout_probability": "BG/NBD dropout probability after a repeat purchase, {dropout}",
        "mean_p_alive": "Mean P(alive) ({model})",
        "spend_nonpositive_customers": "Repeat buyers with mean repeat purchase value <= 0 (valued with the "
                                       "population mean spend)",
        **MODEL_CHOICE_HEADLINES,
        "total_clv_lower": "Total CLV, next {horizon} {unit}: lower end of the {level} prediction interval",
        "total_clv_upper": "Total CLV, next {horizon} {unit}: upper end of the {level} prediction interval",
    },
    "segmentation": {
        "top20_revenue_share": "Share of revenue from the top 20% of customers",
        "gini_revenue": "Gini coefficient of revenue",
        "customers_for_80pct_revenue": "Share of customers producing 80% of revenue",
        "n_segments": "Number of RFM segments",
        "largest_segment": "Largest segment",
        "n_clusters": "Behavioural clusters",
        "cluster_stability_ari": "Cluster stability (mean adjusted Rand index)",
        "p_alive_model": "P(alive) used for the actions (purchase model)",
        "lapsed_customer_share": "Share of customers lapsed (days since last purchase or P(alive))",
        "onboarding_customers": "Customers given an onboarding or acquisition action",
    },
    "idic": {
        "total_profit": "Total customer profit (net revenue less the configured cost to serve)",
        "costs_configured": "Margin and cost to serve configured (otherwise profit is the net revenue)",
        "unprofitable_customer_share": "Share of customers who cost more than they bring",
        "whale_peak_share": "Whale curve peak: profit of the profitable customers, share of the total",
        "top20_profit_share": "Share of profit from the most profitable 20% of customers",
        "bottom20_profit_share": "Profit of the least profitable 20% of customers, share of the total",
        "returned_revenue_share": "Share of revenue returned",
        "recommendation_hit_rate": "Next-best products: hit rate at k on the time holdout",
        "popularity_hit_rate": "Popularity baseline: hit rate at k on the time holdout",
        "campaign_uplift": "Campaign uplift of the response rate",
        "qini_coefficient": "Qini coefficient of the best uplift model (held out)",
        "campaign_eligible_share": "Share of customers worth contacting",
        "campaign_model_beats_random": "Uplift model ranks held-out customers better than random (Qini interval above 0)",
    },
    "seasonality": {
        "strongest_seasonal_cycle": "Strongest seasonal cycle of room-nights",
        "seasonal_strength_{period}": "Seasonal strength, period {period} days",
        "trend_strength": "Trend strength of room-nights",
        "forecast_backtest_coverage": "Backtest coverage of the {level} forecast intervals",
        "forecast_backtest_mape": "Forecast backtest MAPE of total room-nights (%)",
        "forecast_cv_mase": "Cross-validated MASE of the total room-night forecast",
        "retail_strongest_cycle": "Strongest seasonal cycle of retail revenue",
        "retail_seasonal_strength_{period}": "Seasonal strength of retail revenue, period {period} days",
        "retail_peak_weekday": "Weekday with the largest share of retail revenue",
        "retail_peak_weekday_share": "Share of retail revenue on {weekday} (open days)",
    },
    "yield": {
        "revenue_uplift_vs_fcfs": "Revenue uplift of best policy ({policy}) over FCFS, % per night",
        "dp_gap_vs_emsr_b": "Expected revenue gain of the exact DP over EMSR-b, %",
        "nights_over_capacity": "Forecast nights with expected demand above {capacity} rooms",
        "overbooking_limit": "Booking limit for {capacity} rooms at a {service_level} walk risk",
        "group_decision_peak": "Group of {group_size} for {group_nights} nights at {group_rate}, arriving {arrival} "
                               "(peak)",
        "group_decision_low": "Group of {group_size} for {group_nights} nights at {group_rate}, arriving {arrival} "
                              "(low season)",
        "demand_forecast": "Demand the controls use",
        "group_break_even_rate_peak": "Break-even group rate per room-night, peak stay",
    },
    "booking_horizon": {
        "cancel_rate": "Share of bookings cancelled (test bookings)",
        "cancel_auc": "Cancellation model AUC (gradient boosting, test bookings)",
        "pickup_mae_7": "Pick-up forecast MAE 7 days out (best method, rooms)",
        "limit_service_90": "Booking limit 90 days out (service level)",
        "limit_service_0": "Booking limit on the night (no-show-only rule)",
        "replay_uplift_pct": "Best policy's net RevPAR over FCFS without overbooking (replay)",
        "shows_mae_7": "Expected shows 7 days out: mean absolute error against the rooms that stayed "
                       "(test nights)",
        "dp_vs_fcfs_pct": "DP bid price without overbooking: net RevPAR over FCFS (replay)",
    },
}

#: Headline figures each notebook of the chain may record: ``{notebook: (HeadlineSpec, ...)}``.
HEADLINES: dict[str, tuple[HeadlineSpec, ...]] = {
    nb: tuple(HeadlineSpec(k, v) for k, v in specs.items()) for nb, specs in _HEADLINES.items()
}


def headline_labels(notebook: str) -> dict[str, str]:
    """``{key: label}`` of the headline figures declared for ``notebook`` (a copy)."""
    return {s.key: s.label for s in HEADLINES[notebook]}


def headline_spec(notebook: str, key: str) -> HeadlineSpec | None:
    """The declared spec of headline ``key`` of ``notebook``.

    Returns
    -------
    HeadlineSpec or None
        ``None`` when ``notebook`` has no declared headlines (not a step of
        the chain: a notebook of your own may record any key; every step of
        :data:`crm_analysis.steps.STEPS` has its keys declared, a test checks).

    Raises
    ------
    ContractError
        When ``notebook`` is a step of the chain and ``key`` is not declared
        for it.
    """
    specs = HEADLINES.get(notebook)
    if specs is None:
        return None
    for spec in specs:
        if spec.matches(key):
            return spec
    raise ContractError(
        f"headline {key!r} is not declared for the {notebook} notebook; declared: {[s.key for s in specs]} "
        "(crm_analysis.contracts.HEADLINES): declare it there, with its label, before recording it"
    )


# ------------------------------------------------------------------ documentation
_BEGIN, _END = "<!-- contracts:begin (generated by crm_analysis.contracts.architecture_tables) -->", \
    "<!-- contracts:end -->"


def _who(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names) if names else "-"


def architecture_tables(producers: Mapping[str, str] | None = None) -> str:
    """The artefact tables of ``docs/architecture.md``, generated from the contracts (Markdown).

    Parameters
    ----------
    producers : mapping, optional
        ``{step: "module.function"}``: the function that produces each step's
        artefacts; shown with the step.

    Returns
    -------
    str
        Between the markers ``<!-- contracts:begin ... -->`` and
        ``<!-- contracts:end -->``: one table of all hand-over files, one
        column table per Parquet table, and the declared headline keys.
    """
    producers = producers or {}

    def writer(step: str) -> str:
        if step == "*":
            return "every notebook"
        fn = producers.get(step)
        return f"{step} (`{fn}`)" if fn else step

    lines = [_BEGIN, "", "| file | written by | read by | contents |", "|---|---|---|---|"]
    for c in ARTEFACTS.values():
        extra = "; metadata: time unit of recency and T" if isinstance(c, TableContract) and c.time_unit else ""
        key = f"; one row per `{c.key}`" if isinstance(c, TableContract) and c.key else ""
        keys = f"; keys: {', '.join(f'`{k}`' for k in c.keys)}" if isinstance(c, FileContract) and c.keys else ""
        lines.append(f"| {c.file} | {writer(c.step)} | {_who(c.readers)} | {c.description}{key}{extra}{keys} |")
    for c in TABLES.values():
        lines += ["", f"`{c.file}`:", "", "| column | dtype | required | nullable | unit | meaning |",
                  "|---|---|---|---|---|---|"]
        for col in c.schema:
            lines.append(f"| {col.name} | {col.dtype} | {'yes' if col.required else 'no'} | "
                         f"{'yes' if col.nullable else 'no'} | {col.unit or '-'} | {col.description} |")
    lines += ["", "Headline figures (`headlines.json`), keys declared per notebook:", ""]
    for nb, specs in HEADLINES.items():
        lines.append(f"- **{nb}**: " + ", ".join(f"`{s.key}`" for s in specs))
    lines += ["", _END]
    return "\n".join(lines)


def architecture_section(text: str) -> str | None:
    """The generated part of a ``docs/architecture.md`` text (markers included), or ``None`` without markers."""
    start, end = text.find(_BEGIN), text.find(_END)
    if start < 0 or end < 0:
        return None
    return text[start: end + len(_END)]
