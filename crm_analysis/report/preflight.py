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
2. **Parameter values** with a checker in :data:`PARAMETER_CHECKS` (e.g. the
   cleaning policies of ``data_quality``: field names and values).
3. **Data sources** that this run loads
   (:func:`crm_analysis.data.sources.check_source`): loader and keys, the file
   exists, its header / schema has the mapped and the required columns, and,
   where cheap and unambiguous, ``as_of`` is not before all the data (other
   sources are checked by the data-quality notebook when they are loaded,
   with a clear error; see :func:`crm_analysis.report.quality.check_as_of`).
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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_analysis.report.config import SOURCE_PARAMETERS, ConfigError, NotebookSpec, ReportConfig
from crm_analysis.report.params import NotebookParameter, parameter_problems

__all__ = ["PreflightError", "Preflight", "preflight", "PARAMETER_CHECKS", "NOTEBOOK_INPUTS"]

#: Hand-over files of the standard chain: ``{notebook: ((input notebook, artefact), ...)}``
#: (see docs/architecture.md). Checked only for notebooks of these names.
NOTEBOOK_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "rfm_clv": (("data_quality", "transactions.parquet"),),
    "segmentation": (("rfm_clv", "clv.parquet"),),
    "seasonality": (("data_quality", "transactions.parquet / bookings.parquet"),),
    "yield": (("seasonality", "forecasts.parquet"), ("data_quality", "bookings.parquet")),
}


def _transactions_policy(value: Any, config: ReportConfig) -> None:
    from crm_analysis.data import CleaningPolicy

    CleaningPolicy(**{"observation_end": config.as_of, **dict(value)})


def _bookings_policy(value: Any, config: ReportConfig) -> None:
    from crm_analysis.data import BookingCleaningPolicy

    BookingCleaningPolicy(**dict(value))


#: Value checks of notebook parameters: ``{(notebook, parameter): check(value, config)}``;
#: a check raises (``TypeError`` / ``ValueError``) with the reason. The checks build
#: what the notebook builds from the value, so they cannot disagree with it.
PARAMETER_CHECKS: dict[tuple[str, str], Callable[[Any, ReportConfig], None]] = {
    ("data_quality", "transactions_policy"): _transactions_policy,
    ("data_quality", "bookings_policy"): _bookings_policy,
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
    """

    declared: dict[str, dict[str, NotebookParameter]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _loads_data(nb: NotebookSpec, declared: Mapping[str, NotebookParameter]) -> bool:
    return nb.name == "data_quality" or any(p in declared for p in SOURCE_PARAMETERS)


def _why_not_running(nb: NotebookSpec, skipped: Mapping[str, str]) -> str:
    if not nb.enabled:
        return "it is disabled or not in --only"
    return f"it is skipped: {skipped[nb.name]}"


def preflight(config: ReportConfig) -> Preflight:
    """Check a run before any notebook starts (see the module docstring).

    Parameters
    ----------
    config : ReportConfig
        The resolved configuration (overrides applied).

    Returns
    -------
    Preflight
        The declared parameters of the notebooks that run and the notebooks
        skipped for want of data.

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
    index = {nb.name: i for i, nb in enumerate(config.notebooks)}
    for nb in runnable:
        for pname, value in nb.parameters.items():
            check = PARAMETER_CHECKS.get((nb.name, pname))
            if check is None or pname not in declared.get(nb.name, {}):
                continue
            try:
                check(value, config)
            except (TypeError, ValueError) as exc:
                problems.append(f"notebooks[{index[nb.name]}] ({nb.name}).parameters.{pname}: {exc}")
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
    if any(_loads_data(nb, declared.get(nb.name, {})) for nb in runnable):
        from crm_analysis.data.sources import check_source

        for kind, spec in config.data.items():
            if spec.loader == "none":
                continue
            for msg in check_source(spec.to_dict(), kind, base_dir=config.project_root,  # type: ignore[arg-type]
                                    as_of=config.as_of):
                problems.append(f"data.{kind} ({spec.loader}): {msg}")
    if problems:
        raise PreflightError(problems)
    return Preflight(declared=declared, skipped=skipped)
