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
3. **Parameter values** (:data:`~crm_analysis.report.parameter_checks.PARAMETER_CHECKS`,
   one entry per parameter):
   every date parameter read by :func:`crm_analysis._dates.parse_date` (ISO
   dates only), ``calibration_end`` before ``as_of`` and not before the first
   purchase when the data's first date is known, ``time_unit`` by the RFM and
   CLV functions, weekday names by the seasonality helpers, model names and
   other choices against the package's own lists, the cleaning policies.
   Each check calls the package function that the notebook calls with the
   value, so that it cannot disagree with the run. A parameter that is not
   configured is checked with its default (a default ``calibration_end``
   after a configured ``as_of`` fails the run just the same).
   Then the step's parameters object is built with the values (fields refused above put back to their
   defaults), so that every bad field of a step is listed in the same round. A warning of those
   checks (a deprecated key such as the campaign's ``id_col``) is given once, naming the
   configuration key and file. The IDIC ``campaign`` file (csv / parquet) is checked from its
   header for the columns its spec names (``idic.check_campaign_file``); a parameter file found
   nowhere (``ReportConfig.problems``) is listed with the other problems of the round.
4. **Cross-step values**: a given group arrival of the yield step whose stay leaves the seasonality step's
   forecast nights (``as_of + 1`` .. ``as_of + horizon_days``); a data spec given as a notebook parameter
   (``bookings_source``: the data sources have one place, ``data:``; :func:`load_config` refuses it too).
5. **Hand-over files**: a notebook of the standard chain whose input
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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import warnings

import pandas as pd

from crm_analysis.report.config import SOURCE_PARAMETERS, ConfigError, NotebookSpec, ReportConfig
from crm_analysis.report.parameter_checks import PARAMETER_CHECKS, CheckContext, literal_defaults
from crm_analysis.report.params import NotebookParameter, parameter_problems, type_problem

__all__ = ["PreflightError", "Preflight", "CheckContext", "preflight", "PARAMETER_CHECKS", "NOTEBOOK_INPUTS"]

#: Hand-over files of the standard chain: ``{notebook: ((input notebook, artefact), ...)}``
#: (see docs/architecture.md). Checked only for notebooks of these names.
NOTEBOOK_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "rfm_clv": (("data_quality", "transactions.parquet"),),
    "segmentation": (("rfm_clv", "clv.parquet"),),
    "seasonality": (("data_quality", "transactions.parquet / bookings.parquet"),),
    "yield": (("seasonality", "forecasts.parquet"), ("data_quality", "bookings.parquet")),
    "booking_horizon": (("data_quality", "bookings.parquet"),),
}


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
    columns: Mapping[str, Any] | None = None,
) -> list[str]:
    """The problems of :data:`PARAMETER_CHECKS` over the effective values of the notebooks that run."""
    problems: list[str] = []
    index = {nb.name: i for i, nb in enumerate(config.notebooks)}
    for nb in runnable:
        with warnings.catch_warnings(record=True) as caught:  # the checks build the parameters objects: their
            warnings.simplefilter("always")  # warnings (a deprecated key) are the configuration's, said once below
            problems += _notebook_value_problems(config, nb, declared, first_dates, columns, index)
        _warn_once(config, f"notebooks[{index[nb.name]}] ({nb.name}).parameters", caught)
    return problems


def _warn_once(config: ReportConfig, where: str, caught: list[warnings.WarningMessage]) -> None:
    """Re-issue the warnings of a notebook's checks once each, naming the configuration key and file."""
    seen: set[tuple[type, str]] = set()
    for w in caught:
        text = str(w.message)
        if (w.category, text) in seen:
            continue
        seen.add((w.category, text))
        # "campaign: the key 'id_col' is deprecated" -> "notebooks[3] (idic).parameters.campaign: ..."
        warnings.warn_explicit(f"{where}.{text}" if not text.startswith(" ") else f"{where}:{text}", w.category,
                               filename=str(config.source) if config.source is not None else "<configuration>",
                               lineno=0)


def _notebook_value_problems(
    config: ReportConfig,
    nb: NotebookSpec,
    declared: Mapping[str, Mapping[str, NotebookParameter]],
    first_dates: Mapping[str, pd.Timestamp],
    columns: Mapping[str, Any] | None,
    index: Mapping[str, int],
) -> list[str]:
    """The problems of :data:`PARAMETER_CHECKS` and of the parameters object over one notebook's values."""
    problems: list[str] = []
    params = declared.get(nb.name, {})
    values = {**literal_defaults(params), **nb.parameters}
    ctx = CheckContext(config, nb, values, first_dates, dict(columns or {}))
    # fields already refused (wrong type, a PARAMETER_CHECKS entry): left at their default when the
    # parameters object is built below, so that its refusals of the other fields are listed in the same round
    refused = {k for k, v in nb.parameters.items() if k in params and type_problem(params[k], v) is not None}
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
            refused.add(pname)
    kept = {k: v for k, v in values.items() if k not in refused}
    for field_name, problem in _params_problems(config, nb, kept):
        if not field_name and refused:
            continue  # a cross-field rule over a default put back: the refused field is listed already
        where = f".{field_name}" if field_name else ""
        problems.append(f"notebooks[{index[nb.name]}] ({nb.name}).parameters{where}: {problem}")
    return problems


def _params_problems(config: ReportConfig, nb: NotebookSpec, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Build the step's parameters object (:mod:`crm_analysis.steps`) as the notebook does; its refusals.

    The parameters object is the single source of the notebook's value
    rules (every field is checked in its ``__post_init__``); this catches
    those without an entry in :data:`PARAMETER_CHECKS` (e.g. ``bins``,
    ``service_level``, ``horizon``). The object stops at its first bad
    field: that field (named at the start of the message) is put back to
    its default and the object built again, so every bad field is listed
    at once. Notebooks that are not steps of the standard chain, and
    values that are not literals, are left to the run.

    Returns
    -------
    list of (str, str)
        ``(field, message)``; ``field`` is ``""`` where the message names no
        configured field (a cross-field rule).
    """
    import dataclasses
    import importlib

    from crm_analysis.steps import step_of

    step = step_of(nb.name, nb.path)
    if step is None:
        return []
    module, _, name = step.params.rpartition(".")
    cls = importlib.import_module(module).__dict__[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in values.items() if k in fields}
    kwargs.update({k: v for k, v in (("as_of", str(config.as_of)), ("seed", config.seed)) if k in fields})
    out: list[tuple[str, str]] = []
    for _ in range(len(kwargs) + 1):
        try:
            cls(**kwargs)
        except (TypeError, ValueError) as exc:
            message = str(exc)
            # the field the message is about: the longest configured name it starts with ("horizon_days" before
            # "horizon"); a run-wide value (as_of, seed) is the configuration's, not the notebook's
            named = [k for k in nb.parameters if k in kwargs and message.startswith(k)]
            field_name = max(named, key=len) if named else ""
            out.append((field_name, message))
            if not field_name:
                break
            del kwargs[field_name]  # its default, to find the next bad field
            continue
        break
    return out


def _capacity_problems(
    config: ReportConfig, runnable: list[NotebookSpec], declared: Mapping[str, Mapping[str, NotebookParameter]]
) -> list[str]:
    """Notebooks that would use the built-in hotel's rooms for bookings of another hotel.

    ``capacity: None`` means the built-in hotel's capacity; with bookings
    from any other source it would find sold-out nights, unconstrain and
    control capacity against a number of rooms the data do not have (the
    City Hotel at 120 instead of 226 rooms: 81 % of nights "full" instead of
    19 %). The seasonality notebook needs it only when it unconstrains.
    """
    spec = config.data.get("bookings")
    if spec is None or spec.loader in ("synthetic", "none"):
        return []
    index = {nb.name: i for i, nb in enumerate(config.notebooks)}
    out = []
    for nb in runnable:
        params = declared.get(nb.name, {})
        if "capacity" not in params or nb.parameters.get("capacity") is not None:
            continue
        if "capacity" not in nb.parameters and params["capacity"].default.strip() not in ("None", ""):
            continue  # the notebook's own default is a number
        if "unconstrain" in params and not nb.parameters.get("unconstrain", params["unconstrain"].default.strip() == "True"):
            continue  # capacity unused
        out.append(
            f"notebooks[{index[nb.name]}] ({nb.name}).parameters.capacity: not set, and the bookings come from "
            f"loader {spec.loader!r}, not the built-in hotel; the built-in hotel's rooms would be taken as this "
            "hotel's capacity. Set `capacity:` to the hotel's number of rooms (see config/hotels.yaml)"
        )
    return out


def _source_parameter_problems(config: ReportConfig, runnable: list[NotebookSpec]) -> list[str]:
    """A data spec given as a notebook parameter (``bookings_source``) instead of in ``data:``.

    :func:`~crm_analysis.report.config.load_config` refuses it; this covers a configuration built in code. Such
    a spec would reach the notebook unprobed, and the capacity rule would read ``data:`` (findings_13d H1).
    """
    index = {nb.name: i for i, nb in enumerate(config.notebooks)}
    return [f"notebooks[{index[nb.name]}] ({nb.name}).parameters.{p}: the data sources have one place, the top-level "
            f"`data:`; set data.{kind} instead" for nb in runnable for p, kind in SOURCE_PARAMETERS.items()
            if p in nb.parameters]


def _group_stay_problems(
    config: ReportConfig, runnable: list[NotebookSpec], declared: Mapping[str, Mapping[str, NotebookParameter]]
) -> list[str]:
    """A group arrival of the yield step whose stay leaves the seasonality step's forecast nights.

    The forecasts cover ``as_of + 1`` to ``as_of + horizon_days`` (:class:`DemandForecaster`); both are known
    here, so :meth:`YieldParams.check_group_stays` runs before the chain (findings_13d H14). The group fields
    (``group_nights`` and each arrival) are checked on their own, so a bad arrival is listed in the same round
    as a bad other yield field (findings_13e I3); a group field the parameters object refuses is listed by the
    other checks.
    """
    from crm_analysis.yield_management.step import YieldParams

    names = {nb.name for nb in runnable}
    if not {"yield", "seasonality"} <= names:
        return []
    index = {nb.name: i for i, nb in enumerate(config.notebooks)}
    by_name = {nb.name: nb for nb in runnable}
    season = {**literal_defaults(declared.get("seasonality", {})), **by_name["seasonality"].parameters}
    values = {**literal_defaults(declared.get("yield", {})), **by_name["yield"].parameters}

    def group_params(**fields: Any) -> YieldParams:
        return YieldParams(as_of=str(config.as_of), **fields)

    try:
        horizon = int(season["horizon_days"])
        as_of = pd.Timestamp(str(config.as_of)).normalize()
        fields = {k: values[k] for k in ("group_nights",) if k in values}
        group_params(**fields)
    except (KeyError, TypeError, ValueError):
        return []  # refused elsewhere, or not literals: left to the run
    for name in ("group_arrival_peak", "group_arrival_low"):
        if name in values:
            try:
                group_params(**fields, **{name: values[name]})
            except (TypeError, ValueError):
                continue  # the date itself is refused by the other checks
            fields[name] = values[name]
    nights = pd.date_range(as_of + pd.Timedelta(days=1), periods=max(horizon, 0), freq="D")
    source = f"as_of {as_of:%Y-%m-%d} + the seasonality step's horizon_days {horizon}"
    return [f"notebooks[{index['yield']}] (yield).parameters.{field_name}: {message}"
            for field_name, message in group_params(**fields).group_stay_problems(nights, source=source)]


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
    problems = list(config.problems) + list(problems)  # read with the configuration (a parameter file found nowhere)
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
    columns: dict[str, list[str]] = {}
    if any(_loads_data(nb, declared.get(nb.name, {})) for nb in runnable):
        from crm_analysis.data.sources import probe_source

        for kind, spec in config.data.items():
            if spec.loader == "none":
                continue
            checked = probe_source(spec.to_dict(), kind, base_dir=config.project_root,  # type: ignore[arg-type]
                                   as_of=config.as_of)
            sources[kind] = checked
            # a relative path found nowhere: every folder tried, not only the first
            not_found = spec.not_found(key="database" if spec.loader == "duckdb" else "path")
            problems += [f"data.{kind} ({spec.loader}): "
                         + (not_found if not_found is not None and msg.startswith("file not found") else msg)
                         for msg in checked.problems]
            if checked.deferred is not None:
                notes.append(f"data.{kind} ({spec.loader}): {checked.deferred}")
            if checked.first_date is not None:
                first_dates[kind] = checked.first_date
            if checked.columns is not None:
                columns[kind] = list(checked.columns)
    problems += _value_problems(config, runnable, declared, first_dates, columns)
    problems += _capacity_problems(config, runnable, declared)
    problems += _group_stay_problems(config, runnable, declared)
    problems += _source_parameter_problems(config, runnable)
    if problems:
        raise PreflightError(problems)
    return Preflight(declared=declared, skipped=skipped, sources=sources, notes=notes)
