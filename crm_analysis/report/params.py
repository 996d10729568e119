"""Parameters declared by the notebooks of the chain (their ``parameters`` cell).

The parameters cell is read with Python's own parser (:mod:`ast`): every
top-level assignment ``name = default`` or ``name: "annotation" = default``
is a parameter, and its trailing comment is its help text. The type a
configured value must have comes from the annotation where there is one
(write it as a string, e.g. ``capacity: "Optional[int]" = None``, so that
papermill recognises the line too), else from the default: ``52`` wants an
``int``, ``0.3`` a ``float`` (an ``int`` will do), ``"W"`` a ``str``, ``[7,
365]`` a list of ``int``, ``{}`` a mapping, ``True`` a ``bool``; a default of
``None`` without annotation accepts anything. No parameter takes NaN or an
infinite number.
"""

from __future__ import annotations

from crm_analysis.exceptions import shown

import ast
import datetime as _dt
import io
import logging
import math
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_analysis.report.config import RESERVED_PARAMETERS, ConfigError, ReportConfig

__all__ = [
    "NotebookParameter",
    "notebook_parameters",
    "check_parameters",
    "parameter_problems",
    "type_problem",
    "format_parameters",
]


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
    annotation : str
        The annotation as written (``"Optional[int]"``), if any.
    """

    name: str
    type: str
    default: str
    help: str = ""
    annotation: str = ""


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


def _literal_type(default: str) -> str:
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError):
        return "?"
    return "None" if value is None else type(value).__name__


def _parse_cell(source: str) -> dict[str, NotebookParameter] | None:
    """Parameters of a ``parameters`` cell by :mod:`ast`; ``None`` when it is not plain Python."""
    try:
        tree = ast.parse(source)
        comments = {
            tok.start[0]: tok.string.lstrip("#").strip()
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT
        }
    except (SyntaxError, tokenize.TokenError, IndentationError):
        return None
    out: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, ann, value = node.targets[0].id, None, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, ann, value = node.target.id, node.annotation, node.value
        else:
            continue
        default = ast.get_source_segment(source, value) or ast.unparse(value)
        if ann is None:
            annotation = ""
        elif isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            annotation = ann.value
        else:
            annotation = ast.unparse(ann)
        out[name] = NotebookParameter(
            name=name,
            type=annotation or _literal_type(default),
            default=default,
            help=comments.get(node.end_lineno or node.lineno, ""),
            annotation=annotation,
        )
    return out


def notebook_parameters(path: str | Path) -> dict[str, NotebookParameter]:
    """The parameters declared in the notebook at ``path``.

    The cell tagged ``parameters`` is parsed with :mod:`ast` (see the module
    docstring); a cell that is not plain Python (e.g. with IPython magics)
    falls back to :func:`papermill.inspect_notebook`. No kernel is started.

    Raises
    ------
    ConfigError
        When the notebook cannot be read or has no cell tagged ``parameters``.
    """
    import nbformat
    import papermill

    path = Path(path)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several types for unreadable notebooks
        raise ConfigError(f"cannot read the parameters of notebook {path}: {type(exc).__name__}: {exc}") from None
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ConfigError(f"notebook {path} has no cell tagged 'parameters'")
    parsed = _parse_cell(cells[0].source)
    if parsed is not None:
        return parsed
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
    return {
        name: NotebookParameter(
            name=name,
            type=_type_name(info),
            default=str(info.get("default", "")),
            help=str(info.get("help", "") or ""),
        )
        for name, info in raw.items()
    }


# ------------------------------------------------------------------ types
_Check = Callable[[Any], bool]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_float(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_SIMPLE: dict[str, tuple[str, _Check]] = {
    "int": ("int", _is_int),
    "float": ("float", _is_float),
    "str": ("str", lambda v: isinstance(v, str)),
    "bool": ("bool", lambda v: isinstance(v, bool)),
    "list": ("list", lambda v: isinstance(v, (list, tuple))),
    "List": ("list", lambda v: isinstance(v, (list, tuple))),
    "Sequence": ("list", lambda v: isinstance(v, (list, tuple))),
    "tuple": ("list", lambda v: isinstance(v, (list, tuple))),
    "dict": ("mapping", lambda v: isinstance(v, Mapping)),
    "Dict": ("mapping", lambda v: isinstance(v, Mapping)),
    "Mapping": ("mapping", lambda v: isinstance(v, Mapping)),
    "None": ("None", lambda v: v is None),
}
_ANY = ("anything", lambda v: True)


def _spec(node: ast.expr) -> tuple[str, _Check]:
    """(description, check) of an annotation expression; unknown forms accept anything."""
    if isinstance(node, ast.Constant) and node.value is None:
        return _SIMPLE["None"]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _spec(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return _ANY
    if isinstance(node, ast.Name):
        return _SIMPLE.get(node.id, _ANY)
    if isinstance(node, ast.Attribute):  # typing.Optional -> Optional
        return _SIMPLE.get(node.attr, _ANY)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_spec(node.left), _spec(node.right)])
    if isinstance(node, ast.Subscript):
        outer = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer == "Optional":
            return _union([_spec(args[0]), _SIMPLE["None"]])
        if outer == "Union":
            return _union([_spec(a) for a in args])
        if outer in ("list", "List", "Sequence", "tuple") and len(args) == 1:
            desc, check = _spec(args[0])
            if desc == "anything":
                return _SIMPLE["list"]
            return (f"list of {desc}",
                    lambda v, c=check: isinstance(v, (list, tuple)) and all(c(x) for x in v))
        if outer in _SIMPLE:
            return _SIMPLE[outer]
    return _ANY


def _union(parts: list[tuple[str, _Check]]) -> tuple[str, _Check]:
    if any(p[0] == "anything" for p in parts):
        return _ANY
    checks = [p[1] for p in parts]
    return " or ".join(p[0] for p in parts), lambda v: any(c(v) for c in checks)


def _expected(param: NotebookParameter) -> tuple[str, _Check]:
    """What a configured value of ``param`` must be: from its annotation, else its default."""
    if param.annotation:
        try:
            return _spec(ast.parse(param.annotation, mode="eval").body)
        except SyntaxError:
            return _ANY
    try:
        default = ast.literal_eval(param.default)
    except (ValueError, SyntaxError):
        return _ANY
    if default is None:
        return _ANY
    if isinstance(default, bool):
        return _SIMPLE["bool"]
    if isinstance(default, (list, tuple)) and default:
        kinds = {type(x) for x in default}
        if len(kinds) == 1 and (kind := kinds.pop().__name__) in ("int", "float", "str"):
            desc, check = _SIMPLE[kind]
            return (f"list of {desc}",
                    lambda v, c=check: isinstance(v, (list, tuple)) and all(c(x) for x in v))
    return _SIMPLE.get(type(default).__name__, _ANY)


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_non_finite(v) for v in value)
    return False


def type_problem(param: NotebookParameter, value: Any) -> str | None:
    """Why ``value`` does not suit ``param``, or ``None`` when it does.

    Parameters
    ----------
    param : NotebookParameter
        The declared parameter (annotation and default).
    value : object
        The configured value (as read from YAML).

    Returns
    -------
    str or None
        E.g. ``"got str 'fifty-two', expected int (default 52)"``.

    Examples
    --------
    >>> type_problem(NotebookParameter("horizon", "int", "52"), "fifty-two")
    "got str 'fifty-two', expected int (default 52)"
    >>> type_problem(NotebookParameter("margin", "float", "0.3"), 1) is None
    True
    """
    desc, check = _expected(param)
    if _non_finite(value):
        return f"got {shown(value)}: parameters must be finite numbers (no NaN or infinity)"
    if check(value):
        return None
    msg = f"got {type(value).__name__} {shown(value)}, expected {desc} (default {param.default})"
    if isinstance(value, (_dt.date, _dt.datetime)) and "str" in desc:
        msg += f"; YAML read an unquoted date: quote it, e.g. '{value.isoformat()[:10]}'"
    return msg


def parameter_problems(
    config: ReportConfig, *, enabled_only: bool = True
) -> tuple[dict[str, dict[str, NotebookParameter]], list[str]]:
    """Every problem of the configured notebook parameters, without raising.

    Parameters
    ----------
    config : ReportConfig
        The configuration.
    enabled_only : bool, default True
        Check only the notebooks that are enabled.

    Returns
    -------
    declared : dict
        ``{notebook name: {parameter name: NotebookParameter}}``.
    problems : list of str
        One message per problem, naming the notebook, the parameter, the
        value and what is expected.
    """
    out: dict[str, dict[str, NotebookParameter]] = {}
    problems: list[str] = []
    for i, nb in enumerate(config.notebooks):
        if enabled_only and not nb.enabled:
            continue
        declared = notebook_parameters(nb.path)
        out[nb.name] = declared
        missing = [p for p in RESERVED_PARAMETERS if p not in declared]
        if missing:
            problems.append(
                f"notebooks[{i}] ({nb.name}): {nb.path.name} does not declare {missing} in its parameters cell"
            )
        for p, value in nb.parameters.items():
            if p not in declared:
                problems.append(
                    f"notebooks[{i}] ({nb.name}).parameters.{p}: not a parameter of {nb.path.name}; "
                    f"it declares {sorted(declared)}"
                )
                continue
            why = type_problem(declared[p], value)
            if why is not None:
                problems.append(f"notebooks[{i}] ({nb.name}).parameters.{p}: {why} in {nb.path.name}")
    return out, problems


def check_parameters(config: ReportConfig, *, enabled_only: bool = True) -> dict[str, dict[str, NotebookParameter]]:
    """Check that every configured parameter is declared by its notebook, with the type it declares.

    Papermill would inject an undeclared parameter silently; a typo in the
    configuration would then have no effect. A value of the wrong type
    (``horizon: "fifty-two"``) would fail deep inside the notebook. This
    check makes both errors that name the notebook and the parameter.

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
        Listing every undeclared parameter, value of the wrong type, and
        notebook that lacks ``run_dir``/``seed``/``as_of``.
    """
    declared, problems = parameter_problems(config, enabled_only=enabled_only)
    if problems:
        raise ConfigError("; ".join(problems) if len(problems) == 1 else
                          f"{len(problems)} parameter problems:\n  - " + "\n  - ".join(problems))
    return declared


def format_parameters(
    name: str, params: dict[str, NotebookParameter], *, configured: dict[str, Any] | None = None
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
