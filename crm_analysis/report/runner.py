"""Run the chain of notebooks with papermill and publish the HTML reports.

Layout of the reports folder::

    reports/
      index.html                 -> index of the last successful run (+ run history)
      latest -> runs/<id>        symlink to the last successful run
      runs/<YYYYmmddTHHMMSS>-<hash>/
        config.yaml              resolved configuration (absolute paths; re-runnable)
        run.json                 status, parameters, times, versions, data sources
        run.log                  log of the run
        <notebook>.ipynb         executed notebooks (with code and outputs)
        html/<notebook>.html     reports without code cells
        artifacts/               hand-over files (see docs/architecture.md)
        index.html               index of this run

``<hash>`` is a short hash of the resolved configuration, so runs of the same
configuration share it. Before the run folder is made, the pre-flight check
(:mod:`crm_analysis.report.preflight`) checks the parameters and the data
sources; a problem stops the run with nothing written. A failing notebook
stops the chain: the run folder keeps the executed notebook (and its HTML),
``run.json`` says ``failed``, and ``index.html`` / ``latest`` stay as they
were. Publication happens only after every notebook succeeded, atomically
(``os.replace`` of a temporary symlink and of a temporary index file).

Run records
-----------
``run.json`` has the ``status`` of the run: ``running`` while it runs, then
``ok``, ``failed`` (a notebook failed, or publishing failed: ``error.stage``
says which), ``interrupted`` (stopped by SIGTERM or SIGINT; ``error`` names
the signal) or ``abandoned``. A process killed outright (SIGKILL, power
loss) cannot write anything; its record stays ``running`` until the next run
(or :func:`mark_abandoned`) finds that the process recorded in it (``host``,
``pid``, ``pid_started``) is gone and marks it ``abandoned``. A record from
another host is taken to be abandoned too, as a restarted container has a new
host name: two machines must not run into the same reports folder at once.
Pruning (:func:`crm_analysis.report.publish.prune_runs`) never deletes a run whose process is alive (see
:mod:`crm_analysis.report.records`).
Notebooks skipped because their data is ``none`` have status ``skipped`` and
a ``note`` with the reason, shown in the index.
"""

from __future__ import annotations

from crm_analysis.exceptions import CRMAnalysisError, InputTypeError, OperationError

import ast
import contextlib
import datetime as _dt
import hashlib
from crm_analysis import _json as strict_json
import logging
import os
import platform
import re
import signal
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_analysis._secrets import redact_secrets
from crm_analysis.report.config import ConfigError, NotebookSpec, ReportConfig, _check_int, load_config, parse_config
from crm_analysis.report.index import (
    render_index,
    report_findings,
    write_glossary,
    write_text_atomic,
)
from crm_analysis.report.preflight import preflight
from crm_analysis.report.publish import publish
from crm_analysis.report.records import mark_abandoned, process_identity
from crm_analysis.report.render import notebook_to_html

__all__ = [
    "run_chain",
    "RunResult",
    "NotebookRun",
    "NotebookFailed",
    "RunInterrupted",
    "PublishFailed",
    "KERNEL_NAME",
    "failing_statement",
    "default_jobs",
    "notebook_dependencies",
]

#: Jupyter kernel the notebooks run in.
KERNEL_NAME = "python3"
#: Environment of the kernel: inline figures even when the caller sets MPLBACKEND=Agg.
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}

log = logging.getLogger("crm_analysis.report")


def _now() -> str:
    # Wall-clock time of the run, for the record only (not used in any analysis).
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGTERM or SIGINT) and recorded as ``interrupted``.

    A subclass of :class:`KeyboardInterrupt`, so that it passes through the
    event loop that drives the kernel, as Ctrl-C does.

    Attributes
    ----------
    signum : int
        The signal number (``signal.SIGTERM``, ``signal.SIGINT``).
    result : RunResult or None
        The run (set by :func:`run_chain`).
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.result: RunResult | None = None
        super().__init__(f"stopped by {self.signal_name}")

    @property
    def signal_name(self) -> str:
        """``"SIGTERM"``, ``"SIGINT"``, ..."""
        try:
            return signal.Signals(self.signum).name
        except ValueError:  # pragma: no cover
            return f"signal {self.signum}"


class PublishFailed(CRMAnalysisError, RuntimeError):
    """Every notebook ran, but the report could not be published; recorded in ``run.json`` and ``run.log``.

    Attributes
    ----------
    result : RunResult or None
        The run (``published`` is false).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.result: RunResult | None = None


class NotebookFailed(CRMAnalysisError, RuntimeError):
    """A notebook of the chain failed; names the notebook and the failing cell.

    Attributes
    ----------
    notebook : str
        Name of the notebook in the chain.
    cell_index : int or None
        Index of the failing cell in the executed notebook (``None`` when the
        failure was not in a cell, e.g. the kernel died or did not start).
    exec_count : int or None
        Execution count of the failing cell (``In [n]``).
    cell_source : str
        First line of the failing cell's source.
    statement : str
        The failing statement of the cell, from the traceback (the whole
        top-level statement, on one line); ``""`` when unknown.
    line : int or None
        Line of the failure in the cell (1-based), from the traceback.
    ename, evalue : str
        Exception name and message.
    output_path : Path or None
        The executed notebook kept for debugging.
    html_path : Path or None
        Its HTML rendering, where it could be rendered.
    run_dir : Path or None
        The run folder.
    result : RunResult or None
        The run (set by :func:`run_chain`).
    """

    def __init__(
        self,
        notebook: str,
        *,
        ename: str,
        evalue: str,
        cell_index: int | None = None,
        exec_count: int | None = None,
        cell_source: str = "",
        statement: str = "",
        line: int | None = None,
        output_path: Path | None = None,
        html_path: Path | None = None,
        run_dir: Path | None = None,
    ) -> None:
        self.notebook = notebook
        self.ename = ename
        self.evalue = evalue
        self.cell_index = cell_index
        self.exec_count = exec_count
        self.cell_source = cell_source
        self.statement = statement
        self.line = line
        self.output_path = output_path
        self.html_path = html_path
        self.run_dir = run_dir
        self.result: RunResult | None = None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One-paragraph description: notebook, cell, failing statement, exception, kept files."""
        if self.cell_index is not None:
            where = f"cell {self.cell_index}"
            if self.exec_count is not None:
                where += f" (In [{self.exec_count}])"
            if self.statement:
                where += (f", line {self.line}" if self.line is not None else "") + f" `{self.statement}`"
            elif self.cell_source:
                where += f" `{self.cell_source}`"
        else:
            where = "outside any cell"
        msg = f"notebook {self.notebook!r} failed at {where}: {self.ename}: {self.evalue}"
        if self.output_path is not None:
            msg += f"; executed notebook kept at {self.output_path}"
        return msg

    def to_dict(self) -> dict[str, Any]:
        """The failure as a JSON-ready mapping (stored in ``run.json``)."""
        return {
            "notebook": self.notebook,
            "cell_index": self.cell_index,
            "exec_count": self.exec_count,
            "cell_source": self.cell_source,
            "statement": self.statement,
            "line": self.line,
            "ename": self.ename,
            "evalue": self.evalue,
            "message": self.message,
        }


@dataclass
class NotebookRun:
    """Record of one notebook in a run."""

    name: str
    source: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"  # pending | running | ok | failed | skipped | interrupted
    note: str | None = None  # why a notebook was skipped
    output: Path | None = None
    html: Path | None = None
    started: str | None = None
    finished: str | None = None
    duration_s: float | None = None
    error: dict[str, Any] | None = None

    def to_dict(self, run_dir: Path) -> dict[str, Any]:
        """JSON-ready mapping; file paths relative to ``run_dir``."""

        def rel(p: Path | None) -> str | None:
            return None if p is None else os.path.relpath(p, run_dir).replace(os.sep, "/")

        return {
            "name": self.name,
            "source": str(self.source),
            "status": self.status,
            "note": self.note,
            "output": rel(self.output),
            "html": rel(self.html),
            "started": self.started,
            "finished": self.finished,
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "parameters": self.parameters,
            "error": self.error,
        }


@dataclass
class RunResult:
    """Outcome of :func:`run_chain`.

    Attributes
    ----------
    run_id : str
        Name of the run folder.
    run_dir : Path
        The run folder.
    reports_dir : Path
        The reports folder.
    status : str
        ``"ok"``, ``"failed"`` or ``"interrupted"``.
    notebooks : list of NotebookRun
        One record per notebook of the chain (skipped ones included).
    published : bool
        Whether ``index.html`` and ``latest`` now show this run.
    index_path : Path or None
        ``<reports>/index.html`` when published.
    error : NotebookFailed or None
        The failing notebook.
    failure : dict or None
        A failure of the run itself (``stage`` ``"interrupted"`` or
        ``"publish"``, ``ename``, ``evalue``, ``message``).
    abandoned : list of str
        Runs this run found ``running`` without a live process and marked ``abandoned``.
    """

    run_id: str
    run_dir: Path
    reports_dir: Path
    status: str = "running"
    notebooks: list[NotebookRun] = field(default_factory=list)
    started: str | None = None
    finished: str | None = None
    duration_s: float | None = None
    published: bool = False
    index_path: Path | None = None
    error: NotebookFailed | None = None
    failure: dict[str, Any] | None = None
    abandoned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every notebook that ran succeeded."""
        return self.status == "ok"


# ------------------------------------------------------------------ helpers
def _as_config(config: ReportConfig | str | Path | Mapping[str, Any] | None) -> ReportConfig:
    if isinstance(config, ReportConfig):
        return config
    if config is None or isinstance(config, (str, Path)):
        return load_config(config)
    if isinstance(config, Mapping):
        return parse_config(config, project_root=Path.cwd())
    raise InputTypeError(f"config must be a ReportConfig, a path or a mapping, got {type(config).__name__}")


def _new_run_dir(runs: Path, cfg: ReportConfig) -> tuple[str, Path]:
    digest = hashlib.sha1(cfg.to_yaml().encode("utf-8")).hexdigest()[:8]
    stamp = time.strftime("%Y%m%dT%H%M%S")  # names the folder only
    base = f"{stamp}-{digest}"
    for k in range(1, 1000):
        run_id = base if k == 1 else f"{base}-{k}"
        path = runs / run_id
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        return run_id, path
    raise OperationError(f"could not create a run folder under {runs}")  # pragma: no cover


def _output_names(notebooks: list[NotebookSpec]) -> dict[str, str]:
    stems = [nb.path.stem for nb in notebooks]
    return {
        nb.name: (nb.path.stem if stems.count(nb.path.stem) == 1 else f"{nb.path.stem}-{nb.name}")
        for nb in notebooks
    }


def _kernel_manager_class(stderr_path: Path) -> type:
    """A kernel manager whose kernel gets :data:`KERNEL_ENV` and writes its stderr to ``stderr_path``.

    Kernel start-up and shut-down chatter (and crash tracebacks) thus land in
    the run's log instead of the caller's terminal.
    """
    from jupyter_client import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):  # type: ignore[misc]
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            env = dict(kw.get("env") or os.environ)
            env.update(KERNEL_ENV)
            kw["env"] = env
            _KERNELS.add(self)
            if kw.get("stderr") is None:
                with open(stderr_path, "ab") as fh:
                    kw["stderr"] = fh
                    await super()._async_launch_kernel(kernel_cmd, **kw)
            else:  # pragma: no cover - a caller chose its own stderr
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return RunKernelManager


# Kernel managers started by this process's runs (to stop their kernels on an interrupt).
_KERNELS: "weakref.WeakSet[Any]" = weakref.WeakSet()


def _stop_kernels(timeout: float = 5.0) -> None:
    """Terminate (then kill) the kernel processes this process started and that still run."""
    for km in list(_KERNELS):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is None or proc.poll() is not None:
            continue
        try:
            proc.terminate()
            proc.wait(timeout)
        except Exception:  # noqa: BLE001 - already gone, or does not stop: kill it
            with contextlib.suppress(Exception):
                proc.kill()


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn the first SIGTERM / SIGINT into :class:`RunInterrupted`; ignore later ones until the run is recorded.

    Only in the main thread (elsewhere signals cannot be handled); the
    previous handlers are restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"fired": False}

    def handler(signum: int, frame: Any) -> None:
        if state["fired"]:
            return  # the run is being recorded; a second signal must not cut that short
        state["fired"] = True
        raise RunInterrupted(signum)

    sigs = [signal.SIGTERM, signal.SIGINT]
    previous = {sig: signal.getsignal(sig) for sig in sigs}
    for sig in sigs:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# --------------------------------------------------------------- tracebacks
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(  # IPython >= 8.5: "Cell In[3], line 2"; before: "Input In [3], in <cell line: 2>()"
    r"^\s*(?:Cell In\s?\[(?P<count>\d*)\], line (?P<line>\d+)(?P<rest>.*)"
    r"|Input In \[(?P<count2>\d*)\], in <cell line: (?P<line2>\d+)>\(\))\s*$"
)


def failing_statement(traceback: Iterable[str], source: str, *, exec_count: int | None = None) -> tuple[int | None, str]:
    r"""The line and the statement of a cell that raised, from the kernel's traceback.

    Parameters
    ----------
    traceback : iterable of str
        The ``traceback`` of the error output (IPython's frames, with colour codes).
    source : str
        The source of the failing cell.
    exec_count : int, optional
        Its execution count (``In [n]``), to pick the cell's own frame.

    Returns
    -------
    line : int or None
        1-based line of the cell at which the exception was raised (in the
        cell's own code, not in a function it called).
    statement : str
        The whole top-level statement containing that line, on one line
        (cut at 200 characters); the raw line when the cell is not plain
        Python; ``""`` when the traceback has no frame of the cell.

    Examples
    --------
    >>> tb = ["ValueError  Traceback (most recent call last)",
    ...       "Cell In[2], line 2\n      1 x = 1\n----> 2 raise ValueError(x)\n", "ValueError: 1"]
    >>> failing_statement(tb, "x = 1\nraise ValueError(x)", exec_count=2)
    (2, 'raise ValueError(x)')
    """
    line_no = None
    for chunk in traceback:
        first = _ANSI.sub("", str(chunk)).splitlines()[:1]
        m = _CELL_FRAME.match(first[0]) if first else None
        if m is None or (m.group("rest") or "").strip().startswith(", in "):
            continue  # not a frame of a cell, or a function defined in a cell
        count = m.group("count") or m.group("count2")
        if exec_count is not None and count and int(count) != exec_count:
            continue
        line_no = int(m.group("line") or m.group("line2"))
        break
    if line_no is None:
        return None, ""
    lines = source.splitlines()
    text = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in tree.body:
            if node.lineno <= line_no <= (node.end_lineno or node.lineno):
                if isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.FunctionDef,
                                     ast.AsyncFunctionDef, ast.ClassDef, ast.AsyncFor, ast.AsyncWith)):
                    break  # a compound statement: its failing line says more than its header
                text = ast.get_source_segment(source, node) or text
                break
    text = " ".join(text.split())
    return line_no, text if len(text) <= 200 else text[:197] + "..."


@contextlib.contextmanager
def _logging(run_dir: Path, progress: bool) -> Iterator[None]:
    file_handler = logging.FileHandler(run_dir / "run.log", encoding="utf-8")
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    pm_log = logging.getLogger("papermill")
    pm_handler = logging.FileHandler(run_dir / "run.log", encoding="utf-8")
    pm_handler.setLevel(logging.WARNING)
    pm_handler.setFormatter(file_handler.formatter)
    added: list[logging.Handler] = []
    if progress and not log.handlers:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.INFO)
        stream.setFormatter(logging.Formatter("%(message)s"))
        added.append(stream)
    old_level = log.level
    log.setLevel(logging.INFO)
    log.addHandler(file_handler)
    pm_log.addHandler(pm_handler)
    for h in added:
        log.addHandler(h)
    try:
        yield
    finally:
        for h in (file_handler, *added):
            log.removeHandler(h)
        pm_log.removeHandler(pm_handler)
        file_handler.close()
        pm_handler.close()
        log.setLevel(old_level)


def _first_line(source: str) -> str:
    for line in (source or "").splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 100 else line[:97] + "..."
    return ""


def _locate_error_cell(path: Path) -> tuple[int | None, str]:
    """Index and source of the first cell with an error output in the saved notebook.

    Papermill's ``cell_index`` counts cells before it inserts its own error
    markers into the saved notebook; this finds the cell in the file as saved.
    """
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # unreadable: keep papermill's index
        return None, ""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i, cell.source
    return None, ""


def _write_run_json(result: RunResult, cfg: ReportConfig, extra: dict[str, Any]) -> None:
    from crm_analysis import __version__

    error = result.error.to_dict() if result.error is not None else result.failure
    rec = {
        "run_id": result.run_id,
        "title": cfg.title,
        "status": result.status,
        "started": result.started,
        "finished": result.finished,
        "duration_s": None if result.duration_s is None else round(result.duration_s, 3),
        "published": result.published,
        **process_identity(),
        "seed": cfg.seed,
        "as_of": cfg.as_of,
        "package_version": __version__,
        "python_version": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "config_source": None if cfg.source is None else str(cfg.source),
        "project_root": str(cfg.project_root),
        "data_sources": {k: v.to_dict() for k, v in cfg.data.items()},
        # how each relative data path was resolved (project root, working directory or config folder)
        "data_paths": {f"{k}.{key}": info for k, v in cfg.data.items() for key, info in v.resolved.items()},
        "notebooks": [nb.to_dict(result.run_dir) for nb in result.notebooks],
        "error": error,
        "abandoned_runs_marked": result.abandoned,
        **extra,
    }
    write_text_atomic(result.run_dir / "run.json", strict_json.dumps(rec, indent=2))  # NaN -> null


# ------------------------------------------------------------------- runner
def _record_failure(result: RunResult, cfg: ReportConfig, exc: BaseException, t_run: float) -> None:
    """Record a run that stopped early (notebook failure, signal, other error) in run.json and its index."""
    result.finished = _now()
    result.duration_s = time.perf_counter() - t_run
    if isinstance(exc, NotebookFailed):
        result.status = "failed"
        result.error = exc
        exc.result = result
        for rec in result.notebooks:
            if rec.status == "pending":
                rec.status, rec.note = "skipped", f"not run: notebook {exc.notebook!r} failed"
        log.error("%s", exc.message)
    elif isinstance(exc, RunInterrupted):
        result.status = "interrupted"
        exc.result = result
        result.failure = {"stage": "interrupted", "ename": "RunInterrupted", "evalue": str(exc),
                          "message": f"run interrupted: {exc} (the process was asked to stop)"}
        for rec in result.notebooks:
            if rec.status == "running":
                rec.status, rec.finished = "interrupted", result.finished
                rec.error = {"ename": "RunInterrupted", "evalue": str(exc), "message": f"interrupted: {exc}"}
            elif rec.status == "pending":
                rec.status, rec.note = "skipped", f"not run: the run was {exc}"
        log.error("run %s interrupted: %s", result.run_id, exc)
    else:
        result.status = "failed"
        text = redact_secrets(str(exc).strip())
        result.failure = {"stage": "run", "ename": type(exc).__name__, "evalue": text,
                          "message": f"run aborted: {type(exc).__name__}: {text}"}
        for rec in result.notebooks:
            if rec.status == "running":
                rec.status = "failed"
                rec.error = {"ename": type(exc).__name__, "evalue": text, "message": repr(exc)}
        log.error("run %s aborted: %r", result.run_id, exc)
    _write_run_json(result, cfg, {})
    try:  # an index inside the failed run folder, for browsing the history
        write_text_atomic(result.run_dir / "index.html", render_index(result.run_dir))
    except Exception as idx_exc:  # pragma: no cover - best effort only
        log.warning("could not write the index of the run: %s", idx_exc)
    log.info("run %s %s; the published report is unchanged; run folder kept: %s",
             result.run_id, result.status, result.run_dir)


def _execute(spec: NotebookSpec, rec: NotebookRun, out: Path, run_dir: Path, kernel_manager: type) -> NotebookFailed | None:
    """Run one notebook with papermill; the failure, if any (the kernel is not left running)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(spec.path),
            str(out),
            parameters=rec.parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(run_dir),
            progress_bar=False,
            log_output=False,
            execution_timeout=spec.timeout,
            kernel_manager_class=kernel_manager,
        )
    except PapermillExecutionError as exc:
        index, source = _locate_error_cell(out) if out.exists() else (None, "")
        cell_text = exc.source or source
        line, statement = failing_statement(exc.traceback or [], cell_text, exec_count=exc.exec_count)
        return NotebookFailed(
            spec.name,
            ename=str(exc.ename),
            evalue=redact_secrets(str(exc.evalue)),  # e.g. a database error quoting a URL from url_env
            cell_index=exc.cell_index if index is None else index,
            exec_count=exc.exec_count,
            cell_source=_first_line(cell_text),
            statement=statement,
            line=line,
            output_path=out if out.exists() else None,
            run_dir=run_dir,
        )
    except RunInterrupted:
        raise
    except Exception as exc:  # kernel died / did not start / timeout
        return NotebookFailed(
            spec.name,
            ename=type(exc).__name__,
            evalue=redact_secrets(str(exc).strip().splitlines()[0]) if str(exc).strip() else "",
            output_path=out if out.exists() else None,
            run_dir=run_dir,
        )
    return None



# ------------------------------------------------------------ scheduling
def default_jobs() -> int:
    """How many notebooks a run executes at the same time by default: 2, or 1 on a one-core machine."""
    return max(1, min(2, os.cpu_count() or 1))


def notebook_dependencies(notebooks: list[NotebookSpec]) -> dict[str, set[str]]:
    """Which of ``notebooks`` (in run order) each one waits for.

    A step of the standard chain (:data:`crm_analysis.steps.STEPS`, same
    name and notebook file) waits for the steps it ``requires`` and for every
    notebook before it that is not a step (a notebook of the user's own may
    write anything); any other notebook waits for every notebook before it.
    Only notebooks earlier in the list count, so the order of the
    configuration is always a valid order.

    Returns
    -------
    dict
        ``{name: {names it waits for}}``.
    """
    from crm_analysis.steps import step_of

    steps = {nb.name: step_of(nb.name, nb.path) for nb in notebooks}
    out: dict[str, set[str]] = {}
    for i, nb in enumerate(notebooks):
        earlier = {e.name for e in notebooks[:i]}
        step = steps[nb.name]
        if step is None:
            out[nb.name] = earlier
            continue
        own = {name for name in earlier if steps[name] is None}
        out[nb.name] = (set(step.requires) & earlier) | own
    return out


def _render(spec: NotebookSpec, rec: NotebookRun, failure: NotebookFailed | None, run_dir: Path,
            title: str) -> NotebookFailed | None:
    """The executed notebook to HTML (``rec.html``); a rendering error becomes the notebook's failure."""
    out = rec.output
    if out is None or not out.exists():
        return failure
    html = run_dir / "html" / f"{out.stem}.html"
    try:
        notebook_to_html(out, html, title=f"{title}: {spec.name}", index_href="../index.html",
                         findings=report_findings(run_dir, spec.name) if failure is None else ())
        rec.html = html
    except RunInterrupted:
        raise
    except Exception as exc:  # rendering must not hide the real failure
        if failure is None:
            return NotebookFailed(spec.name, ename=type(exc).__name__, evalue=f"rendering to HTML failed: {exc}",
                                  output_path=out, run_dir=run_dir)
        log.warning("%s: could not render the failed notebook to HTML: %s", spec.name, exc)
    return failure


def _run_notebooks(result: RunResult, cfg: ReportConfig, runnable: list[NotebookSpec], names: dict[str, str],
                   kernel_manager: type, jobs: int) -> None:
    """Execute the pending notebooks of ``result``, up to ``jobs`` at once, each after the ones it waits for.

    Only this (the main) thread changes the run records and writes
    ``run.json``; the worker threads only execute. On a failure no further
    notebook starts, the running ones finish, and the failure is raised.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    run_dir = result.run_dir
    waits = notebook_dependencies(runnable)
    specs = {nb.name: nb for nb in runnable}
    queue = [rec for rec in result.notebooks if rec.status == "pending"]
    done: set[str] = set()
    running: dict[Future, tuple[NotebookRun, str, float]] = {}
    failure: NotebookFailed | None = None
    started = 0
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="crm-notebook")
    try:
        while queue or running:
            while failure is None and len(running) < jobs:
                ready = next((r for r in queue if waits[r.name] <= done), None)
                if ready is None:
                    break
                queue.remove(ready)
                started += 1
                label = f"[{started}/{len(runnable)}] {ready.name}"
                out = run_dir / f"{names[ready.name]}.ipynb"
                ready.status, ready.started, ready.output = "running", _now(), out
                _write_run_json(result, cfg, {})
                log.info("%s ...", label)
                fut = pool.submit(_execute, specs[ready.name], ready, out, run_dir, kernel_manager)
                running[fut] = (ready, label, time.perf_counter())
            if not running:
                break  # a failure: nothing more starts
            finished, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)  # short: signals get through
            for fut in finished:
                rec, label, t0 = running.pop(fut)
                rec.duration_s, rec.finished = time.perf_counter() - t0, _now()
                failed = fut.result()
                if rec.output is not None and not rec.output.exists():
                    rec.output = None
                failed = _render(specs[rec.name], rec, failed, run_dir, cfg.title)
                if failed is not None:
                    failed.html_path = rec.html
                    rec.status, rec.error = "failed", failed.to_dict()
                    log.error("%s ... FAILED after %.1f s", label, rec.duration_s)
                    failure = failure or failed
                else:
                    rec.status = "ok"
                    done.add(rec.name)
                    log.info("%s ... done in %.1f s", label, rec.duration_s)
                _write_run_json(result, cfg, {})
    except BaseException:
        _stop_kernels()  # the worker threads return once their kernels are gone
        raise
    finally:
        pool.shutdown(wait=not running, cancel_futures=True)  # running: interrupted, their kernels are stopped
    if failure is not None:
        raise failure


def run_chain(
    config: ReportConfig | str | Path | Mapping[str, Any] | None,
    *,
    reports_dir: str | Path | None = None,
    progress: bool = True,
    jobs: int | None = None,
) -> RunResult:
    """Execute the enabled notebooks of the chain and publish the reports.

    A notebook starts once the notebooks it reads from have finished (the
    ``requires`` of its step in :data:`crm_analysis.steps.STEPS`; a notebook
    that is not a step of the standard chain waits for every notebook before
    it), so up to ``jobs`` independent notebooks run at the same time. The
    results do not depend on ``jobs``: every notebook has its own kernel and
    seed.

    Parameters
    ----------
    config : ReportConfig, path, mapping or None
        The configuration (``None``: the built-in default).
    reports_dir : str or Path, optional
        Reports folder; overrides the configuration's ``reports_dir``.
    progress : bool, default True
        Log a progress line per notebook (``[2/5] rfm_clv ... done in 12.3 s``)
        to stderr when the ``crm_analysis.report`` logger has no handler of
        its own. The run's ``run.log`` gets the log in any case.
    jobs : int, optional
        How many notebooks may run at the same time; default
        :func:`default_jobs` (2, or 1 on a one-core machine). ``1`` runs them
        one after the other in the configuration's order.

    Returns
    -------
    RunResult
        With ``status == "ok"`` and ``published`` true.

    Raises
    ------
    ConfigError
        When the configuration is invalid, or no notebook would run (nothing
        is run, no run folder is made).
    crm_analysis.report.preflight.PreflightError
        A subclass of ``ConfigError``: the pre-flight check found problems
        (listed); no run folder is made.
    NotebookFailed
        When a notebook fails; no further notebook starts (those already
        running finish and are recorded), the run folder keeps the
        executed notebook, ``run.json`` says ``failed`` and the published
        report is left untouched. ``exc.result`` is the :class:`RunResult`.
    RunInterrupted
        When the process got SIGTERM or SIGINT (in the main thread); the
        kernel is stopped, ``run.json`` says ``interrupted`` naming the
        signal, the published report is untouched.
    PublishFailed
        When every notebook ran but publishing failed; ``run.json`` says
        ``failed`` with ``error.stage == "publish"`` and the reason, which
        ``run.log`` has too.
    """
    cfg = _as_config(config)
    if reports_dir is not None:
        cfg = cfg.with_overrides(reports_dir=reports_dir)
    jobs = default_jobs() if jobs is None else _check_int(jobs, "jobs (notebooks run at the same time)", 1)
    checked = preflight(cfg)  # raises before anything is written
    declared, skipped = checked.declared, checked.skipped
    runnable = [nb for nb in cfg.notebooks if nb.enabled and nb.name not in skipped]
    reports = cfg.reports_dir
    names = _output_names(runnable)

    with _signals_raise():
        reports.mkdir(parents=True, exist_ok=True)
        run_id, run_dir = _new_run_dir(reports / "runs", cfg)
        result = RunResult(run_id=run_id, run_dir=run_dir, reports_dir=reports, started=_now())
        t_run = time.perf_counter()
        kernel_manager = _kernel_manager_class(run_dir / "run.log")
        with _logging(run_dir, progress):
            try:
                result.abandoned = mark_abandoned(reports, by=run_id)  # our own folder has no run.json yet
                (run_dir / "html").mkdir()
                (run_dir / "artifacts").mkdir()
                write_text_atomic(run_dir / "config.yaml", cfg.to_yaml())
                write_glossary(run_dir)
                for nb in cfg.notebooks:
                    if nb.enabled and nb.name not in skipped:
                        params = cfg.parameters_for(nb, run_dir, declared=declared.get(nb.name, {}))
                        result.notebooks.append(NotebookRun(nb.name, nb.path, params, "pending"))
                    else:
                        note = f"skipped: {skipped[nb.name]}" if nb.name in skipped else None
                        result.notebooks.append(NotebookRun(nb.name, nb.path, dict(nb.parameters), "skipped", note))
                _write_run_json(result, cfg, {})
                log.info("run %s: %d notebook(s), seed=%s, as_of=%s, folder %s",
                         run_id, len(runnable), cfg.seed, cfg.as_of, run_dir)
                for note in checked.notes:
                    log.info("not checked before the run: %s", note)
                for kind, data_spec in cfg.data.items():
                    for key, info in data_spec.resolved.items():
                        log.info("data.%s.%s %r resolved against %s: %s", kind, key, info["given"],
                                 info["against"], info["path"])
                _run_notebooks(result, cfg, runnable, names, kernel_manager, jobs)
                result.status = "ok"
                result.finished = _now()
                result.duration_s = time.perf_counter() - t_run
                _write_run_json(result, cfg, {})
                write_text_atomic(run_dir / "index.html", render_index(run_dir))
            except BaseException as exc:
                if isinstance(exc, RunInterrupted):
                    _stop_kernels()
                _record_failure(result, cfg, exc, t_run)
                raise
            try:
                result.index_path = publish(run_dir, reports)
            except RunInterrupted as exc:
                _record_failure(result, cfg, exc, t_run)
                raise
            except Exception as exc:
                result.status = "failed"
                text = f"{type(exc).__name__}: {exc}"
                result.failure = {"stage": "publish", "ename": type(exc).__name__, "evalue": str(exc),
                                  "message": f"every notebook ran, but publishing failed: {text}"}
                log.error("run %s: publishing failed: %s; the published report is unchanged; run folder kept: %s",
                          run_id, text, run_dir)
                _write_run_json(result, cfg, {})
                with contextlib.suppress(Exception):
                    write_text_atomic(run_dir / "index.html", render_index(run_dir))
                err = PublishFailed(f"run {run_id}: every notebook ran, but publishing failed: {text}; "
                                    f"run folder kept: {run_dir}")
                err.result = result
                raise err from exc
            result.published = True
            _write_run_json(result, cfg, {})
            log.info("run %s ok in %.1f s; published %s", run_id, result.duration_s, result.index_path)
    return result
