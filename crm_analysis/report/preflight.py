"""Pre-flight: everything about a run that can be checked before a notebook starts.

:func:`run_chain` calls :func:`preflight` before it makes the run folder; a
problem stops the run there (``crm-analysis report`` exits with code 2, no
run folder is made, the published report is untouched). Every problem found
is listed at once, so that one round of fixes suffices.

What is checked
---------------
1. **Notebook parameters** (:func:`crm_analysis.report.params.parameter_problems`):
   every configured parameter is declared in its notebook's parameters cell
   and has the declared type (``horizon: "fifty-two"`` is refused by name, not
   a ``TypeError`` in a late cell); no NaN or infinite numbers.
2. **Data sources** that this run loads
   (:func:`crm_analysis.data.sources.probe_source`): loader and keys, the
   file exists, its header / schema has the mapped and the required columns;
   then a file up to 256 MiB (workbooks: 32 MiB) is **loaded whole with the
   loader the data-quality notebook calls**, so that whatever that loader
   refuses (dates it cannot read, a header without rows, bytes that do not
   decode, decimal commas, ...) is a problem here, in the loader's own
   words; ``as_of`` is not before all the data. What could not be checked
   (a larger file, a DuckDB or SQL source: their rows are read by the
   notebook) is listed in :attr:`Preflight.notes`.
3. **Parameter values** (:data:`PARAMETER_CHECKS`, one entry per parameter):
   every date parameter read by :func:`crm_analysis._dates.parse_date` (ISO
   dates only), ``calibration_end`` before ``as_of`` and not before the first
   purchase when the data's first date is known, ``time_unit`` by the RFM and
   CLV functions, weekday names by the seasonality helpers, model names and
   other choices against the package's own lists, the cleaning policies.
   Each check calls the package function that the notebook calls with the
   value, so that it cannot disagree with the run. A parameter that is not
   configured is checked with its default (a default ``calibration_end``
   after a configured ``as_of`` fails the run just the same).
4. **Hand-over files**: a notebook of the standard chain whose input
   notebook (:data:`NOTEBOOK_INPUTS`) does not run in this chain (disabled,
   not in ``--only``, or later in the chain) would fail on the missing
   artefact; that is refused here.

Two kinds of absent data
------------------------
* A data source that **is configured but cannot be read** (the file is
  missing, a mapped column is not in it): a pre-flight error. The user asked
  for that data; running without it would publish a report on nothing.
* A data kind configured as **``{loader: none}``** (the data set has no
  bookings, say): the notebooks that need it are **skipped**, each with the
  reason, shown in the run's index and log (:meth:`ReportConfig.data_skips`);
  the rest of the chain runs. This is not a problem.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crm_analysis.report.config import SOURCE_PARAMETERS, ConfigError, NotebookSpec, ReportConfig
from crm_analysis.report.params import NotebookParameter, parameter_problems, type_problem

__all__ = ["PreflightError", "Preflight", "CheckContext", "preflight", "PARAMETER_CHECKS", "NOTEBOOK_INPUTS"]

#: Hand-over files of the standard chain: ``{notebook: ((input notebook, artefact), ...)}``
#: (see docs/architecture.md). Checked only for notebooks of these names.
NOTEBOOK_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "rfm_clv": (("data_quality", "transactions.parquet"),),
    "segmentation": (("rfm_clv", "clv.parquet"),),
    "seasonality": (("data_quality", "transactions.parquet / bookings.parquet"),),
    "yield": (("seasonality", "forecasts.parquet"), ("data_quality", "bookings.parquet")),
}


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
    """

    config: ReportConfig
    notebook: NotebookSpec
    values: Mapping[str, Any] = field(default_factory=dict)
    first_dates: Mapping[str, pd.Timestamp] = field(default_factory=dict)

    @property
    def as_of(self) -> pd.Timestamp:
        """The run's ``as_of`` as a timestamp."""
        return pd.Timestamp(self.config.as_of)

    def has(self, kind: str) -> bool:
        """Whether the run has data of ``kind`` (its loader is not ``none``)."""
        spec = self.config.data.get(kind)
        return spec is not None and spec.loader != "none"


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
    """An ISO date before ``as_of`` (as ``rfm.calibration_and_holdout`` requires), not before the first purchase."""
    from crm_analysis._dates import parse_date

    # as rfm.calibration_and_holdout reads it: a calendar date (purchases are merged by day)
    cal = parse_date(value, "calibration_end", tz="strip", time="reject")
    end = ctx.as_of
    if cal >= end:
        raise ValueError(
            f"calibration_end {cal:%Y-%m-%d} must be before as_of {end:%Y-%m-%d}: the models are fitted on the "
            "purchases up to calibration_end and checked on those after it, up to as_of; set calibration_end "
            "before as_of (a quarter before is a good start)"
        )
    first = ctx.first_dates.get("transactions")
    if first is not None and cal.normalize() < first.normalize():
        raise ValueError(
            f"calibration_end {cal:%Y-%m-%d} is before the first purchase in the data ({first:%Y-%m-%d}), so no "
            f"customer would be in the calibration period and no model could be fitted; set calibration_end "
            f"between {first:%Y-%m-%d} and as_of {end:%Y-%m-%d}"
        )


def _time_unit(value: Any, ctx: CheckContext) -> None:
    """A unit both the RFM summary (``rfm.time_unit_days``) and the CLV discounting take."""
    from crm_analysis.clv.value import step_discount_rate
    from crm_analysis.rfm import time_unit_days

    try:
        time_unit_days(value)  # rfm_summary / calibration_and_holdout
        if isinstance(value, str):  # CLVAnalysis passes a text unit on to customer_lifetime_value
            step_discount_rate(0.1, value, 1.0)
    except ValueError as exc:
        raise ValueError(f"{exc}; the chain's RFM summary and CLV need 'D' (days) or 'W' (weeks)") from None


def _purchase_model(value: Any, ctx: CheckContext) -> None:
    """``auto`` or a purchase model ``clv.compare_models`` can force: known, installed, among the candidates."""
    from crm_analysis.clv import available_purchase_models, purchase_model_name
    from crm_analysis.clv.selection import _key, purchase_model_class  # as compare_models reads the name

    if _key(value) == "auto":
        return
    name = purchase_model_name(value)
    purchase_model_class(name)  # registered but not in this version of the package
    # the notebook's candidates: every available model, the Pareto/NBD only with fit_paretonbd
    candidates = [m for m in available_purchase_models() if ctx.values.get("fit_paretonbd", True) or m != "paretonbd"]
    if name not in candidates:
        raise ValueError(f"purchase_model = {value!r} is not among the candidate models {candidates}; set "
                         "fit_paretonbd: true to include the Pareto/NBD, or purchase_model: auto")


def _selection_criterion(value: Any, ctx: CheckContext) -> None:
    """One of ``clv.SELECTION_CRITERIA`` (what ``compare_models`` accepts)."""
    from crm_analysis.clv import SELECTION_CRITERIA

    if value not in SELECTION_CRITERIA:
        raise ValueError(f"unknown criterion {value!r}: use one of {list(SELECTION_CRITERIA)}")


def _tx_fill(value: Any, ctx: CheckContext) -> None:
    """One of ``seasonality.transaction_series``'s fills; closed days only with ``closed``."""
    import typing

    from crm_analysis.seasonality.series import Fill

    if not ctx.has("transactions"):
        return  # the notebook does not build the purchase series
    choices = typing.get_args(Fill)
    if value not in choices:
        raise ValueError(f"tx_fill={value!r} is not one of {list(choices)} (zero: a day without purchases was open "
                         "and nobody bought; closed: it carries no observation)")
    declared = [k for k in ("closed_weekdays", "closed_dates") if ctx.values.get(k) is not None]
    if value == "zero" and declared:
        raise ValueError(f"{' and '.join(declared)} are set but tx_fill is 'zero': closed days need "
                         "tx_fill: closed (transaction_series would refuse it)")


#: English weekday names, Monday first (pandas' names, independent of the locale).
_WEEKDAYS = tuple((pd.Timestamp("2024-01-01") + pd.Timedelta(days=i)).day_name() for i in range(7))


def _closed_weekdays(value: Any, ctx: CheckContext) -> None:
    """Each weekday read by the seasonality helper the series calls (``Sunday``, ``Sun``, ``6``).

    Stricter than the helper, which reads only the first three letters: a
    text must also be the start of the weekday's name (``Sund``), so that a
    typo such as ``Sundayy`` or ``Monkey`` is not taken silently for a day.
    """
    from crm_analysis.seasonality._common import weekday_number  # what transaction_series calls

    if value is None or not ctx.has("transactions"):
        return
    for i, day in enumerate(value):
        try:
            number = weekday_number(day)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"closed_weekdays[{i}]: {exc}") from None
        if isinstance(day, str) and not _WEEKDAYS[number].lower().startswith(day.strip().lower()):
            raise ValueError(f"closed_weekdays[{i}]: {day!r} is not a weekday name; use {', '.join(_WEEKDAYS)} "
                             "(or their first three letters), or 0=Monday..6=Sunday")


def _closed_dates(value: Any, ctx: CheckContext) -> None:
    """Each an ISO date, read by the seasonality helper the series calls."""
    from crm_analysis.seasonality._common import to_timestamp  # parse_date, as transaction_series reads them

    if value is None or not ctx.has("transactions"):
        return
    for i, day in enumerate(value):
        to_timestamp(day, f"closed_dates[{i}]")


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
    ("seasonality", "tx_fill"): _tx_fill,
    ("seasonality", "closed_weekdays"): _closed_weekdays,
    ("seasonality", "closed_dates"): _closed_dates,
    ("yield", "group_arrival_peak"): _date("group_arrival_peak", allow_none=True),
    ("yield", "group_arrival_low"): _date("group_arrival_low", allow_none=True),
}


def _defaults(declared: Mapping[str, NotebookParameter]) -> dict[str, Any]:
    """The literal defaults of a parameters cell (others are left out)."""
    out: dict[str, Any] = {}
    for name, param in declared.items():
        try:
            out[name] = ast.literal_eval(param.default)
        except (ValueError, SyntaxError, TypeError):
            continue
    return out


class PreflightError(ConfigError):
    """The pre-flight check found problems; nothing was run.

    Attributes
    ----------
    problems : list of str
        One message per problem, each naming the key (``data.transactions``,
        ``notebooks[1] (rfm_clv).parameters.horizon``, ...), the value and the fix.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = f"pre-flight check found {len(problems)} problem(s); nothing was run"
        super().__init__(head + ":\n  - " + "\n  - ".join(self.problems))


@dataclass
class Preflight:
    """Outcome of a successful :func:`preflight`.

    Attributes
    ----------
    declared : dict
        ``{notebook name: {parameter name: NotebookParameter}}`` of the notebooks that run.
    skipped : dict
        ``{notebook name: reason}`` of the enabled notebooks skipped because
        their data is ``none``.
    sources : dict
        ``{kind: SourceCheck}`` of the data sources checked.
    notes : list of str
        What was checked only in part, and why (e.g. ``"data.transactions
        (csv): orders.csv is 1,024 MiB, more than the 256 MiB the check loads
        whole: only its header was read; ..."``); shown by ``crm-analysis
        preflight`` and logged in ``run.log``.
    """

    declared: dict[str, dict[str, NotebookParameter]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _loads_data(nb: NotebookSpec, declared: Mapping[str, NotebookParameter]) -> bool:
    return nb.name == "data_quality" or any(p in declared for p in SOURCE_PARAMETERS)


def _why_not_running(nb: NotebookSpec, skipped: Mapping[str, str]) -> str:
    if not nb.enabled:
        return "it is disabled or not in --only"
    return f"it is skipped: {skipped[nb.name]}"


def _value_problems(
    config: ReportConfig,
    runnable: list[NotebookSpec],
    declared: Mapping[str, Mapping[str, NotebookParameter]],
    first_dates: Mapping[str, pd.Timestamp],
) -> list[str]:
    """The problems of :data:`PARAMETER_CHECKS` over the effective values of the notebooks that run."""
    problems: list[str] = []
    index = {nb.name: i for i, nb in enumerate(config.notebooks)}
    for nb in runnable:
        params = declared.get(nb.name, {})
        values = {**_defaults(params), **nb.parameters}
        ctx = CheckContext(config, nb, values, first_dates)
        for pname, param in params.items():
            check = PARAMETER_CHECKS.get((nb.name, pname))
            if check is None:
                continue
            configured = pname in nb.parameters
            if not configured and pname not in values:
                continue  # a default that is not a literal: nothing to check before the run
            value = values[pname]
            if configured and type_problem(param, value) is not None:
                continue  # reported by the type check
            try:
                check(value, ctx)
            except (TypeError, ValueError) as exc:
                where = f"notebooks[{index[nb.name]}] ({nb.name}).parameters.{pname}"
                if not configured:
                    where += f" (not configured: the default {param.default} of {nb.path.name})"
                problems.append(f"{where}: {exc}")
    return problems


def preflight(config: ReportConfig) -> Preflight:
    """Check a run before any notebook starts (see the module docstring).

    Parameters
    ----------
    config : ReportConfig
        The resolved configuration (overrides applied).

    Returns
    -------
    Preflight
        The declared parameters of the notebooks that run, the notebooks
        skipped for want of data, what was learned about each data source,
        and notes on what was left to the run.

    Raises
    ------
    PreflightError
        Listing every problem found.
    ConfigError
        When no notebook would run (none enabled, or all skipped).
    """
    skipped = config.data_skips()
    runnable = [nb for nb in config.notebooks if nb.enabled and nb.name not in skipped]
    if not runnable:
        if skipped:
            raise ConfigError("no notebook would run: " + "; ".join(f"{k} {v}" for k, v in skipped.items()))
        raise ConfigError("no notebook is enabled; nothing to run")
    only = config.replace(notebooks=tuple(
        NotebookSpec(nb.name, nb.path, nb.parameters, nb in runnable, nb.timeout) for nb in config.notebooks
    ))
    declared, problems = parameter_problems(only)
    by_name = {nb.name: nb for nb in config.notebooks}
    position = {nb.name: i for i, nb in enumerate(runnable)}
    for nb in runnable:
        for producer, artefact in NOTEBOOK_INPUTS.get(nb.name, ()):
            src = by_name.get(producer)
            if src is None:
                continue  # not the standard chain
            if producer not in position:
                problems.append(
                    f"{nb.name} reads {artefact} written by {producer}, which does not run "
                    f"({_why_not_running(src, skipped)}); enable it or add it to --only"
                )
            elif position[producer] > position[nb.name]:
                problems.append(f"{nb.name} reads {artefact} written by {producer}, which comes later in the "
                                "chain; move it before")
    sources: dict[str, Any] = {}
    notes: list[str] = []
    first_dates: dict[str, pd.Timestamp] = {}
    if any(_loads_data(nb, declared.get(nb.name, {})) for nb in runnable):
        from crm_analysis.data.sources import probe_source

        for kind, spec in config.data.items():
            if spec.loader == "none":
                continue
            checked = probe_source(spec.to_dict(), kind, base_dir=config.project_root,  # type: ignore[arg-type]
                                   as_of=config.as_of)
            sources[kind] = checked
            problems += [f"data.{kind} ({spec.loader}): {msg}" for msg in checked.problems]
            if checked.deferred is not None:
                notes.append(f"data.{kind} ({spec.loader}): {checked.deferred}")
            if checked.first_date is not None:
                first_dates[kind] = checked.first_date
    problems += _value_problems(config, runnable, declared, first_dates)
    if problems:
        raise PreflightError(problems)
    return Preflight(declared=declared, skipped=skipped, sources=sources, notes=notes)
