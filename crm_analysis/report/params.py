"""Parameters declared by the notebooks of the chain (their ``parameters`` cell)."""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_analysis.report.config import RESERVED_PARAMETERS, ConfigError, ReportConfig

__all__ = ["NotebookParameter", "notebook_parameters", "check_parameters", "format_parameters"]


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter of a notebook's ``parameters`` cell.

    Parameters
    ----------
    name : str
        Variable name.
    type : str
        Type inferred by papermill from the annotation or default (``"None"``
        when unknown).
    default : str
        Default value as written in the cell.
    help : str
        Inline comment of the parameter, if any.
    """

    name: str
    type: str
    default: str
    help: str = ""


def _type_name(info: dict[str, Any]) -> str:
    """Papermill's type (from an annotation), else the type of the literal default."""
    declared = str(info.get("inferred_type_name", "None"))
    if declared not in ("None", ""):
        return declared
    try:
        value = ast.literal_eval(str(info.get("default", "")))
    except (ValueError, SyntaxError):
        return "?"
    return "None" if value is None else type(value).__name__


def notebook_parameters(path: str | Path) -> dict[str, NotebookParameter]:
    """The parameters declared in the notebook at ``path``.

    Uses :func:`papermill.inspect_notebook` (no kernel is started).

    Raises
    ------
    ConfigError
        When the notebook cannot be read or has no cell tagged ``parameters``.
    """
    import papermill

    path = Path(path)
    # papermill logs a warning for notebooks without a parameters cell; we raise instead.
    pm_log = logging.getLogger("papermill")
    level = pm_log.level
    pm_log.setLevel(logging.ERROR)
    try:
        raw = papermill.inspect_notebook(str(path))
    except Exception as exc:  # papermill raises several types for unreadable notebooks
        raise ConfigError(f"cannot read the parameters of notebook {path}: {type(exc).__name__}: {exc}") from None
    finally:
        pm_log.setLevel(level)
    if not raw:
        import nbformat

        nb = nbformat.read(path, as_version=4)
        if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
            raise ConfigError(f"notebook {path} has no cell tagged 'parameters'")
    return {
        name: NotebookParameter(
            name=name,
            type=_type_name(info),
            default=str(info.get("default", "")),
            help=str(info.get("help", "") or ""),
        )
        for name, info in raw.items()
    }


def check_parameters(config: ReportConfig, *, enabled_only: bool = True) -> dict[str, dict[str, NotebookParameter]]:
    """Check that every configured parameter is declared by its notebook.

    Papermill would inject an undeclared parameter silently; a typo in the
    configuration would then have no effect. This check makes it an error.

    Parameters
    ----------
    config : ReportConfig
        The configuration.
    enabled_only : bool, default True
        Check only the notebooks that run.

    Returns
    -------
    dict
        ``{notebook name: {parameter name: NotebookParameter}}``.

    Raises
    ------
    ConfigError
        Naming the notebook and the undeclared parameter, or a notebook that
        lacks ``run_dir``/``seed``/``as_of``.
    """
    out: dict[str, dict[str, NotebookParameter]] = {}
    for i, nb in enumerate(config.notebooks):
        if enabled_only and not nb.enabled:
            continue
        declared = notebook_parameters(nb.path)
        missing = [p for p in RESERVED_PARAMETERS if p not in declared]
        if missing:
            raise ConfigError(
                f"notebooks[{i}] ({nb.name}): {nb.path.name} does not declare {missing} in its parameters cell"
            )
        for p in nb.parameters:
            if p not in declared:
                raise ConfigError(
                    f"notebooks[{i}] ({nb.name}).parameters.{p}: not a parameter of {nb.path.name}; "
                    f"it declares {sorted(declared)}"
                )
        out[nb.name] = declared
    return out


def format_parameters(
    name: str, params: dict[str, NotebookParameter], configured: dict[str, Any] | None = None
) -> str:
    """Human-readable listing of a notebook's parameters.

    Parameters
    ----------
    name : str
        Heading (notebook name and path).
    params : dict
        As returned by :func:`notebook_parameters`.
    configured : dict, optional
        Values the chain passes (shown as ``<- value``).
    """
    configured = configured or {}
    lines = [name]
    if not params:
        lines.append("  (no parameters)")
    width = max((len(p.name) for p in params.values()), default=0)
    twidth = max((len(p.type) for p in params.values()), default=0)
    for p in params.values():
        line = f"  {p.name:<{width}}  {p.type:<{twidth}}  default {p.default}"
        if p.name in configured:
            line += f"  <- {configured[p.name]!r}"
        if p.help:
            line += f"  # {p.help}"
        lines.append(line)
    return "\n".join(lines)
