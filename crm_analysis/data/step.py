"""The data-quality step of the report chain: parameters, pipeline function, result.

:func:`run_data_quality` loads the configured sources, cleans them and
summarises the data (:mod:`crm_analysis.data.quality`); it produces
``transactions.parquet``, ``returns.parquet``, ``bookings.parquet`` and ``data_quality.json``
(:mod:`crm_analysis.contracts`). The notebook ``00_data_quality.ipynb`` builds
:class:`DataQualityParams` from its parameters cell and calls it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crm_analysis._dates import parse_date
from crm_analysis._validate import check_seed
from crm_analysis.exceptions import InputError, shown

from . import quality
from .cleaning import (
    BookingCleaningPolicy,
    CleaningPolicy,
    CleanResult,
    clean_bookings,
    clean_transactions,
    dropped_lines,
)
from .sources import load_source

__all__ = ["DataQualityParams", "DataQualityResult", "run_data_quality"]

_SYNTHETIC = {"loader": "synthetic"}


@dataclass(frozen=True, kw_only=True)
class DataQualityParams:
    """Parameters of the data-quality step (the parameters cell of ``00_data_quality.ipynb``).

    Parameters
    ----------
    as_of : str, default "2024-12-31"
        Observation end (ISO date); the transactions' cleaning policy ends there
        (a ``transactions_policy`` ``observation_end`` after it is refused).
    seed : int, default 42
        Seed of the synthetic data.
    transactions_source, bookings_source : dict, optional
        Data specs (:func:`crm_analysis.data.load_source`); ``None``: the
        synthetic default; ``{"loader": "none"}``: no data of that kind.
    transactions_policy : dict, default {}
        :class:`CleaningPolicy` fields (``observation_end`` defaults to ``as_of``).
    bookings_policy : dict, default {}
        :class:`BookingCleaningPolicy` fields.

    Raises
    ------
    ValueError, TypeError
        ``as_of`` not an ISO date, or a cleaning policy its class refuses
        (unknown field, bad value; the message names it); a
        ``transactions_policy`` ``observation_end`` after ``as_of``.
    """

    as_of: str = "2024-12-31"
    seed: int = 42
    transactions_source: Mapping[str, Any] | None = None
    bookings_source: Mapping[str, Any] | None = None
    transactions_policy: Mapping[str, Any] = field(default_factory=dict)
    bookings_policy: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parse_date(self.as_of, "as_of", tz="strip", time="keep")
        check_seed(self.seed)
        for name in ("transactions_source", "bookings_source", "transactions_policy", "bookings_policy"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):
                example = "{loader: csv, path: ...}" if name.endswith("source") else "{} (the defaults)"
                raise InputError(f"{name} must be a mapping such as {example}"
                                 + (" or None (the built-in data)" if name.endswith("source") else "")
                                 + f", got {type(value).__name__} {shown(value)}")
        for name in ("transactions_policy", "bookings_policy"):  # None (an empty YAML key): the defaults
            object.__setattr__(self, name, dict(getattr(self, name) or {}))
            policy = CleaningPolicy if name == "transactions_policy" else BookingCleaningPolicy
            allowed = sorted(f.name for f in dataclasses.fields(policy) if f.init)
            unknown = sorted(map(str, set(getattr(self, name)) - set(allowed)))
            if unknown:
                raise InputError(f"{name} has unknown key(s) {unknown}; the keys of {policy.__name__} are "
                                 f"{allowed}")
        object.__setattr__(self, "transactions_source", dict(self.transactions_source or _SYNTHETIC))
        object.__setattr__(self, "bookings_source", dict(self.bookings_source or _SYNTHETIC))
        end = self.transaction_cleaning.observation_end  # CleaningPolicy checks
        self.booking_cleaning  # BookingCleaningPolicy checks
        _check_observation_end(end, self.as_of)

    @property
    def transaction_cleaning(self) -> CleaningPolicy:
        """``CleaningPolicy(observation_end=as_of, **transactions_policy)``."""
        return CleaningPolicy(**{"observation_end": self.as_of, **dict(self.transactions_policy)})

    @property
    def booking_cleaning(self) -> BookingCleaningPolicy:
        """``BookingCleaningPolicy(**bookings_policy)``."""
        return BookingCleaningPolicy(**dict(self.bookings_policy))

    @property
    def has_transactions(self) -> bool:
        """The run has transactions (their source is not ``none``)."""
        return self.transactions_source.get("loader") != "none"  # type: ignore[union-attr]

    @property
    def has_bookings(self) -> bool:
        """The run has bookings (their source is not ``none``)."""
        return self.bookings_source.get("loader") != "none"  # type: ignore[union-attr]

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        """``{"transactions": spec, "bookings": spec}`` as recorded in ``data_quality.json``."""
        return {"transactions": dict(self.transactions_source or {}), "bookings": dict(self.bookings_source or {})}


def _check_observation_end(end: Any, as_of: str) -> None:
    """Refuse a transactions ``observation_end`` after ``as_of`` (days inclusive, as the cleaning reads them).

    The data step would hand over (and count in its headlines) purchases after ``as_of`` that the CLV step,
    whose summary ends at ``as_of``, leaves out without a word (findings_13d H15).
    """
    if end is None:
        return
    end_ts = parse_date(end, "observation_end", tz="strip", time="keep")
    as_of_ts = parse_date(as_of, "as_of", tz="strip", time="keep")

    def _close(ts: pd.Timestamp) -> pd.Timestamp:  # a day stands for its whole day
        return ts + pd.Timedelta(days=1) if ts == ts.normalize() else ts

    if _close(end_ts) > _close(as_of_ts):
        raise InputError(
            f"transactions_policy observation_end = {end} is after as_of = {as_of}: the data step would keep "
            "purchases after as_of that the CLV step leaves out; leave observation_end out (it is as_of) or set "
            "it on or before as_of")


@dataclass
class DataQualityResult:
    """What the data-quality step produces (:func:`run_data_quality`).

    Attributes
    ----------
    params : DataQualityParams
    transactions_clean, bookings_clean : CleanResult or None
        Cleaned data and the cleaning report by reason; ``None`` for an absent data set.
    record : dict
        The ``data_quality.json`` record (:func:`crm_analysis.data.quality.quality_record`).
    transactions_raw : DataFrame or None
        The transactions as loaded (before cleaning).
    """

    params: DataQualityParams
    transactions_clean: CleanResult | None
    bookings_clean: CleanResult | None
    record: dict[str, Any]
    transactions_raw: pd.DataFrame | None = None

    @property
    def transactions(self) -> pd.DataFrame | None:
        """The ``transactions.parquet`` table (cleaned), or ``None``."""
        return None if self.transactions_clean is None else self.transactions_clean.data

    @property
    def returns(self) -> pd.DataFrame | None:
        """The ``returns.parquet`` table: the return lines the cleaning dropped
        (:func:`crm_analysis.data.dropped_lines`), for the profit step; ``None`` without transactions."""
        if self.transactions_clean is None or self.transactions_raw is None:
            return None
        return dropped_lines(self.transactions_raw, self.transactions_clean, reason="return_or_cancellation")

    @property
    def bookings(self) -> pd.DataFrame | None:
        """The ``bookings.parquet`` table (cleaned), or ``None``."""
        return None if self.bookings_clean is None else self.bookings_clean.data

    def row_counts(self) -> pd.DataFrame:
        """Rows and amounts in, dropped and out, one row per data set."""
        return pd.DataFrame(
            [
                {"data set": r.kind, "rows in": r.rows_in, "rows dropped": r.rows_dropped, "rows out": r.rows_out,
                 "amount in": r.amount_in, "amount out": r.amount_out}
                for r in (x.report for x in (self.transactions_clean, self.bookings_clean) if x is not None)
            ]
        )

    def headlines(self) -> dict[str, Any]:
        """Headline figures ``{key: value}`` (keys declared in :data:`crm_analysis.contracts.HEADLINES`)."""
        return {k: v for k, v, _ in quality.headline_figures(self.record)}

    def headline_labels(self) -> dict[str, str]:
        """Labels of :meth:`headlines`."""
        return {k: label for k, _, label in quality.headline_figures(self.record)}


def run_data_quality(
    params: DataQualityParams | None = None, *, base_dir: str | os.PathLike[str] | None = None
) -> DataQualityResult:
    """Run the data-quality step: load, check ``as_of``, clean, summarise.

    Parameters
    ----------
    params : DataQualityParams, optional
        Default: the notebook's defaults (synthetic data).
    base_dir : path, optional
        Directory against which relative source paths are resolved (default:
        the current working directory).

    Returns
    -------
    DataQualityResult

    Raises
    ------
    ValueError
        ``as_of`` before all the data of a kind, nothing left after cleaning
        (naming the rules), the loaders' errors.
    """
    p = params if params is not None else DataQualityParams()
    tx_raw = load_source(p.transactions_source, "transactions", seed=p.seed, base_dir=base_dir)
    bk_raw = load_source(p.bookings_source, "bookings", seed=p.seed, base_dir=base_dir)
    quality.check_as_of(tx_raw, "transactions", p.as_of)
    quality.check_as_of(bk_raw, "bookings", p.as_of)
    tx_clean = clean_transactions(tx_raw, policy=p.transaction_cleaning) if p.has_transactions else None
    bk_clean = clean_bookings(bk_raw, policy=p.booking_cleaning) if p.has_bookings else None
    for cleaned in (tx_clean, bk_clean):
        if cleaned is not None:
            quality.check_cleaned(cleaned)
    record = quality.quality_record(
        None if tx_clean is None else tx_clean.data, None if bk_clean is None else bk_clean.data,
        None if tx_clean is None else tx_clean.report, None if bk_clean is None else bk_clean.report,
        sources=p.sources,
    )
    return DataQualityResult(params=p, transactions_clean=tx_clean, bookings_clean=bk_clean, record=record,
                             transactions_raw=tx_raw)
