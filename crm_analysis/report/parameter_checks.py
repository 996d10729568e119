"""Value checks of the notebooks' parameters, run by the pre-flight (:mod:`crm_analysis.report.preflight`).

:data:`PARAMETER_CHECKS` has one entry per parameter, ``{(notebook, parameter):
check(value, context)}``. A check raises ``ValueError`` (or ``TypeError``)
with the reason, and calls the check of the step's parameters object
(:class:`crm_analysis.clv.RfmClvParams`,
:class:`crm_analysis.seasonality.SeasonalityParams`, ...: the single source
of the rules, which the notebook's own parameters object applies), so that it does not
refuse what the run accepts, except where the run would take a value
silently in a way the user cannot have meant (a weekday typo such as
``Sundayy`` read as Sunday; closed days declared with ``tx_fill: zero``,
which the report ignores): those are refused too, saying so. In detail: every date parameter is read by
:func:`crm_analysis._dates.parse_date` (ISO dates only), ``calibration_end``
must lie before ``as_of`` and not before the first purchase when the data's
first date is known, ``time_unit`` must suit :func:`crm_analysis.rfm.time_unit_days`
and the CLV discounting, weekday names go through the seasonality helper and
the holiday calendar through ``HolidayCalendar.from_config``, model names and
criteria through the CLV selection registry, and the cleaning policies are
built as the data-quality notebook builds them. Every date
parameter of the notebooks has an entry (``tests/report/test_bad_inputs.py``
checks it).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import ast
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crm_analysis.report.config import NotebookSpec, ReportConfig
from crm_analysis.report.params import NotebookParameter

__all__ = ["CheckContext", "PARAMETER_CHECKS", "literal_defaults"]


@dataclass(frozen=True)
class CheckContext:
    """What a value check of :data:`PARAMETER_CHECKS` may look at besides the value.

    Attributes
    ----------
    config : ReportConfig
        The resolved configuration (``as_of``, the data specs).
    notebook : NotebookSpec
        The notebook whose parameter is checked.
    values : dict
        The notebook's effective parameter values: the defaults of its
        parameters cell (where they are literals) updated by the configured
        ones, e.g. to check ``model`` against ``fit_paretonbd``.
    first_dates : dict
        ``{"transactions": Timestamp, "bookings": Timestamp}``: the earliest
        date of the data as the loader reads it, where the pre-flight learned
        it (see :class:`crm_analysis.data.sources.SourceCheck`).
    columns : dict
        ``{"transactions": [...], "bookings": [...]}``: the canonical columns
        of the data as the loader returns them, where the pre-flight loaded
        the source (e.g. to check ``covariates``).
    """

    config: ReportConfig
    notebook: NotebookSpec
    values: Mapping[str, Any] = field(default_factory=dict)
    first_dates: Mapping[str, pd.Timestamp] = field(default_factory=dict)
    columns: Mapping[str, Any] = field(default_factory=dict)

    @property
    def as_of(self) -> pd.Timestamp:
        """The run's ``as_of`` as a timestamp."""
        return pd.Timestamp(self.config.as_of)

    def has(self, kind: str) -> bool:
        """Whether the run has data of ``kind`` (its loader is not ``none``)."""
        spec = self.config.data.get(kind)
        return spec is not None and spec.loader != "none"

    def known_columns(self, kind: str) -> list[str] | None:
        """The columns of the run's data of ``kind`` where they are known before the run, else ``None``.

        Known: the columns of a source the pre-flight loaded (:attr:`columns`), and those of the built-in
        synthetic data (its generator's, learned once per process). Not known: a DuckDB or SQL source,
        or a file too large to load whole (the notebook checks the column when it reads the data).
        """
        if kind in self.columns and self.columns[kind] is not None:
            return list(self.columns[kind])
        spec = self.config.data.get(kind)
        if spec is not None and spec.loader == "synthetic":
            return list(_builtin_columns(kind))
        return None


@functools.lru_cache(maxsize=None)
def _builtin_columns(kind: str) -> tuple[str, ...]:
    """The columns of the built-in synthetic data of ``kind`` (``transactions`` / ``bookings``)."""
    from crm_analysis.data.sources import load_source

    return tuple(map(str, load_source({"loader": "synthetic"}, kind).columns))


def _forecast_by(value: Any, ctx: CheckContext) -> None:
    """:meth:`SeasonalityParams.check_forecast_by` against the bookings' columns, where known before the run."""
    from crm_analysis.seasonality import SeasonalityParams

    columns = ctx.known_columns("bookings") if ctx.has("bookings") else None
    if columns is not None:
        SeasonalityParams.check_forecast_by(value, columns)


def _mix_by(value: Any, ctx: CheckContext) -> None:
    """:meth:`SeasonalityParams.check_mix_by` against the transactions' columns, where known before the run."""
    from crm_analysis.seasonality import SeasonalityParams

    columns = ctx.known_columns("transactions") if ctx.has("transactions") else None
    if columns is not None:
        SeasonalityParams.check_mix_by(value, columns)


def _date(name: str, *, allow_none: bool = False) -> Callable[[Any, CheckContext], None]:
    """A check that the value is a date as the package's date parameters take it (ISO only)."""

    def check(value: Any, ctx: CheckContext) -> None:
        from crm_analysis._dates import parse_date

        parse_date(value, name, allow_none=allow_none, tz="strip", time="keep")

    check.__doc__ = f"``{name}`` is an ISO date (:func:`crm_analysis._dates.parse_date`)."
    return check


def _transactions_policy(value: Any, ctx: CheckContext) -> None:
    """The cleaning policy the notebook builds: ``CleaningPolicy(observation_end=as_of, **value)``."""
    from crm_analysis.data import CleaningPolicy

    CleaningPolicy(**{"observation_end": ctx.config.as_of, **dict(value)})


def _bookings_policy(value: Any, ctx: CheckContext) -> None:
    """The cleaning policy the notebook builds: ``BookingCleaningPolicy(**value)``."""
    from crm_analysis.data import BookingCleaningPolicy

    BookingCleaningPolicy(**dict(value))


def _calibration_end(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_calibration_end`, and not before the first purchase when the data's first date is known.

    ``None`` (the default) is :meth:`RfmClvParams.default_calibration_end` of the run's ``as_of``.
    """
    from crm_analysis.clv import RfmClvParams

    if value is None:  # the notebook's and the object's default: six months before as_of
        value = RfmClvParams.default_calibration_end(ctx.config.as_of)
    cal = RfmClvParams.check_calibration_end(value, ctx.config.as_of)
    first = ctx.first_dates.get("transactions")
    if first is not None and cal.normalize() < first.normalize():
        raise InputError(
            f"calibration_end {cal:%Y-%m-%d} is before the first purchase in the data ({first:%Y-%m-%d}), so no "
            f"customer would be in the calibration period and no model could be fitted; set calibration_end "
            f"between {first:%Y-%m-%d} and as_of {ctx.as_of:%Y-%m-%d}"
        )


def _time_unit(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_time_unit`: a unit both the RFM summary and the CLV discounting take."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_time_unit(value)


def _purchase_model(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_purchase_model`, with the run's ``fit_paretonbd``."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_purchase_model(value, fit_paretonbd=ctx.values.get("fit_paretonbd", True))


def _selection_criterion(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_selection_criterion`."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_selection_criterion(value)


def _cohort_frequency(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_cohort_frequency`."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_cohort_frequency(value)


def _interval_level(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_intervals` of ``interval_level`` (in (0, 1))."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_intervals(value, 200)


def _interval_draws(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_intervals` of ``interval_draws`` (an integer >= 20)."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_intervals(0.9, value)


def _margin(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_money` of ``margin`` (a share of revenue in (0, 1])."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_money(value, 0.1)


def _discount_rate(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_money` of ``discount_rate`` (an annual rate in [0, 1))."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_money(0.3, value)


def _covariates(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_covariates`: a list of distinct names, columns of the transactions where the pre-flight loaded them."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_covariates(value, columns=ctx.columns.get("transactions"))


def _reference_estimates(value: Any, ctx: CheckContext) -> None:
    """:meth:`RfmClvParams.check_reference_estimates`, with the run's ``reference_source``, ``fit_paretonbd`` and ``purchase_model``."""
    from crm_analysis.clv import RfmClvParams

    RfmClvParams.check_reference_estimates(
        value, source=ctx.values.get("reference_source", ""), fit_paretonbd=ctx.values.get("fit_paretonbd", True),
        purchase_model=ctx.values.get("purchase_model", "auto"))


def _tx_fill(value: Any, ctx: CheckContext) -> None:
    """:meth:`SeasonalityParams.check_tx_fill` (only when the run has transactions)."""
    from crm_analysis.seasonality import SeasonalityParams

    if ctx.has("transactions"):  # else the notebook does not build the purchase series
        SeasonalityParams.check_tx_fill(value, closed_weekdays=ctx.values.get("closed_weekdays"),
                                        closed_dates=ctx.values.get("closed_dates"))


def _closed_weekdays(value: Any, ctx: CheckContext) -> None:
    """:meth:`SeasonalityParams.check_closed_weekdays` (only when the run has transactions)."""
    from crm_analysis.seasonality import SeasonalityParams

    if ctx.has("transactions"):
        SeasonalityParams.check_closed_weekdays(value)


def _calendar(value: Any, ctx: CheckContext) -> None:
    """:meth:`SeasonalityParams.check_calendar`: the holiday calendar the notebook builds."""
    from crm_analysis.seasonality import SeasonalityParams

    SeasonalityParams.check_calendar(value)


def _closed_dates(value: Any, ctx: CheckContext) -> None:
    """:meth:`SeasonalityParams.check_closed_dates` (only when the run has transactions)."""
    from crm_analysis.seasonality import SeasonalityParams

    if ctx.has("transactions"):
        SeasonalityParams.check_closed_dates(value)


def _idic(name: str) -> Callable[[Any, CheckContext], None]:
    """A check that builds the IDIC step's parameters object (``idic.IdicParams``) as the notebook does."""

    def check(value: Any, ctx: CheckContext) -> None:
        from crm_analysis.idic import IdicParams

        IdicParams(**{name: value})  # the notebook's own validation of this field (no field depends on another)

    check.__doc__ = f"``{name}``: the notebook's ``IdicParams`` accepts it."
    return check


def _campaign(value: Any, ctx: CheckContext) -> None:
    """``campaign``: the notebook's ``IdicParams`` accepts it, and a csv / parquet file has the columns it names
    (header only: ``idic.check_campaign_file``, the step's own column rule). A file found nowhere is the
    configuration's problem (``ReportConfig.problems``), listed once."""
    from pathlib import Path

    from crm_analysis.idic import IdicParams
    from crm_analysis.idic.pipeline import check_campaign_file

    spec = IdicParams(campaign=value).campaign
    if spec is not None and spec.get("path") and Path(str(spec["path"])).exists():
        check_campaign_file(spec, base_dir=ctx.config.project_root)


#: Parameters of the IDIC notebook checked through its parameters object.
_IDIC_PARAMETERS = (
    "gross_margin", "margin_by_product", "cost_per_order", "cost_per_line", "cost_per_return", "top_k",
    "recommender", "holdout_days", "rules_min_support", "rules_min_confidence", "rules_per_segment", "campaign",
    "contact_cost", "campaign_margin", "lapsed_days", "lapsed_p_alive", "new_customer_days",
)


def _horizon_cutoff(value: Any, ctx: CheckContext) -> None:
    """An ISO date before ``as_of`` (the first test night of the booking-horizon step)."""
    from crm_analysis._dates import parse_date

    if value is None:
        return
    cut = parse_date(value, "cutoff", tz="strip", time="keep")
    if pd.Timestamp(cut) >= ctx.as_of:
        raise InputError(f"cutoff={shown(value)} must lie before as_of ({ctx.as_of.date()}): the test nights run "
                         "from the cutoff to as_of")


#: Value checks of notebook parameters: ``{(notebook, parameter): check(value, context)}``, one
#: entry per parameter. A check raises (``TypeError`` / ``ValueError``) with the reason; it calls the
#: package function the notebook calls with the value (or the notebook's own rule), so it cannot
#: disagree with the run. Every date parameter of the notebooks has an entry (a test checks it).
PARAMETER_CHECKS: dict[tuple[str, str], Callable[[Any, CheckContext], None]] = {
    ("data_quality", "transactions_policy"): _transactions_policy,
    ("data_quality", "bookings_policy"): _bookings_policy,
    ("rfm_clv", "calibration_end"): _calibration_end,
    ("rfm_clv", "time_unit"): _time_unit,
    ("rfm_clv", "purchase_model"): _purchase_model,
    ("rfm_clv", "selection_criterion"): _selection_criterion,
    ("rfm_clv", "cohort_frequency"): _cohort_frequency,
    ("rfm_clv", "interval_level"): _interval_level,
    ("rfm_clv", "interval_draws"): _interval_draws,
    ("rfm_clv", "covariates"): _covariates,
    ("rfm_clv", "reference_estimates"): _reference_estimates,
    ("rfm_clv", "margin"): _margin,
    ("rfm_clv", "discount_rate"): _discount_rate,
    ("seasonality", "tx_fill"): _tx_fill,
    ("seasonality", "closed_weekdays"): _closed_weekdays,
    ("seasonality", "closed_dates"): _closed_dates,
    ("seasonality", "calendar"): _calendar,
    ("seasonality", "forecast_by"): _forecast_by,
    ("seasonality", "mix_by"): _mix_by,
    ("yield", "group_arrival_peak"): _date("group_arrival_peak", allow_none=True),
    ("yield", "group_arrival_low"): _date("group_arrival_low", allow_none=True),
    **{("idic", name): _idic(name) for name in _IDIC_PARAMETERS},
    ("idic", "campaign"): _campaign,
    ("booking_horizon", "cutoff"): _horizon_cutoff,
}


def literal_defaults(declared: Mapping[str, NotebookParameter]) -> dict[str, Any]:
    """The defaults of a parameters cell that are Python literals (the others are left out).

    Parameters
    ----------
    declared : mapping
        ``{name: NotebookParameter}`` of a notebook.

    Returns
    -------
    dict
        ``{name: value}``, e.g. ``{"time_unit": "W", "horizon": 52}``.
    """
    out: dict[str, Any] = {}
    for name, param in declared.items():
        try:
            out[name] = ast.literal_eval(param.default)
        except (ValueError, SyntaxError, TypeError):
            continue
    return out
