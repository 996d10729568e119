"""The ``crm-analysis`` command line.

Commands
--------
``crm-analysis report [--config PATH] [--reports-dir DIR] [--seed N] [--as-of DATE] [--only NAME ...] [--jobs N] [--keep N] [--quiet]``
    Run the notebook chain and publish ``<reports>/index.html`` (``--jobs N``:
    up to N notebooks that do not depend on each other at once; default 2); with
    ``--keep N`` delete all but the N newest run folders afterwards (never
    the published one, nor the run just made).
``crm-analysis check-report [REPORTS_DIR] [--screenshot PNG] [--no-browser] [--depth N]``
    Check the published reports: every local link and image (in Python), and
    every page linked from the index in headless Chromium (no network request,
    no broken image, no JavaScript error); screenshot of the index (default
    ``<reports>/index.png``). Exit 1 when a problem was found, 3 when
    Chromium could not be run.
``crm-analysis rerender [REPORTS_DIR]``
    Render the HTML reports and indexes of every run again from the executed
    notebooks (runs made by older versions); executes nothing.
``crm-analysis params [NOTEBOOK] [--config PATH]``
    List the parameters (type, default, value set by the chain) of every
    notebook of the chain, or of one (a chain name or an ``.ipynb`` path).
``crm-analysis notebooks [--config PATH]``
    List the chain.
``crm-analysis preflight [--config PATH] [--as-of DATE] [--only NAME ...]``
    Run only the pre-flight check of ``report`` (parameters and their values,
    data sources loaded as the data-quality notebook loads them, hand-over
    files; see :mod:`crm_analysis.report.preflight`): print what would run,
    what would be skipped and what could not be checked before the run, or
    every problem (exit 2).

Without ``--config`` the configuration shipped in the package is used (the
same as ``config/default.yaml``).

Exit codes (for schedulers)
---------------------------
0
    Success.
1
    A notebook failed; the message names the notebook, the cell and the
    failing statement. The run folder keeps the executed notebook; the
    published report is unchanged.
2
    Bad configuration or usage, or the pre-flight check found problems
    (every one is listed); nothing was run and no run folder was made.
3
    Any other error (e.g. the reports folder cannot be written, or every
    notebook ran but publishing failed: recorded in ``run.json`` and
    ``run.log``).
130, 143
    Stopped by SIGINT (Ctrl-C) or SIGTERM (128 + the signal number): the run
    is recorded as ``interrupted`` and the published report is unchanged.

Log lines go to stderr and, for ``report``, to ``<run>/run.log``.
"""

from __future__ import annotations

from crm_analysis.exceptions import shown

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from crm_analysis._secrets import redact_secrets
from crm_analysis.report.config import ConfigError, ReportConfig, load_config

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_NOTEBOOK_FAILED", "EXIT_CONFIG", "EXIT_OTHER"]

EXIT_OK = 0
EXIT_NOTEBOOK_FAILED = 1
EXIT_CONFIG = 2
EXIT_OTHER = 3

_log = logging.getLogger("crm_analysis.report")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``crm-analysis``."""
    parser = argparse.ArgumentParser(
        prog="crm-analysis",
        description="Run the crm_analysis notebook chain into HTML reports.",
        epilog="Exit codes: 0 ok, 1 a notebook failed, 2 bad config/usage or pre-flight problems, 3 other error, "
               "128+N stopped by signal N (130 SIGINT, 143 SIGTERM).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    cfg_help = "YAML configuration (default: the one shipped in the package, same as config/default.yaml)"

    rep = sub.add_parser("report", help="run the notebook chain and publish the HTML reports")
    rep.add_argument("--config", type=Path, help=cfg_help)
    rep.add_argument("--reports-dir", type=Path, help="reports folder (overrides reports_dir of the config)")
    rep.add_argument("--seed", type=int, help="seed of all randomness (overrides the config)")
    rep.add_argument("--as-of", help="observation end, YYYY-MM-DD (overrides the config)")
    rep.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these notebooks (include the ones writing their inputs, e.g. data_quality)",
    )
    rep.add_argument(
        "--jobs",
        type=_positive_int,
        metavar="N",
        help="run up to N notebooks that do not read each other's results at the same time "
        "(default: 2, or 1 on a one-core machine; 1 runs them in the configuration's order)",
    )
    rep.add_argument(
        "--keep",
        type=_positive_int,
        metavar="N",
        help="afterwards delete all but the N newest run folders (never the published one)",
    )
    rep.add_argument("--quiet", action="store_true", help="no progress lines; warnings and errors only")

    chk = sub.add_parser(
        "check-report",
        help="check the reports: links, images, offline safety, headless Chromium, screenshot",
    )
    from crm_analysis.report.browser import build_parser as _check_parser

    _check_parser(chk)

    rer = sub.add_parser("rerender", help="render the HTML of every run again from its executed notebooks")
    rer.add_argument("reports_dir", nargs="?", type=Path, default=Path("reports"),
                     help="reports folder (default: reports)")

    par = sub.add_parser("params", help="list the parameters of the notebooks")
    par.add_argument("notebook", nargs="?", help="a notebook name of the chain or a path to an .ipynb")
    par.add_argument("--config", type=Path, help=cfg_help)

    nbs = sub.add_parser("notebooks", help="list the notebooks of the chain")
    nbs.add_argument("--config", type=Path, help=cfg_help)

    pre = sub.add_parser("preflight", help="check configuration, parameters and data sources without running")
    pre.add_argument("--config", type=Path, help=cfg_help)
    pre.add_argument("--as-of", help="observation end, YYYY-MM-DD (overrides the config)")
    pre.add_argument("--only", nargs="+", metavar="NAME", help="check as if only these notebooks ran")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {shown(text)}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _cmd_report(args: argparse.Namespace) -> int:
    from crm_analysis.report.publish import prune_runs
    from crm_analysis.report.runner import NotebookFailed, RunInterrupted, run_chain

    cfg = load_config(args.config).with_overrides(
        seed=args.seed, as_of=args.as_of, reports_dir=args.reports_dir, only=args.only
    )
    try:
        result = run_chain(cfg, progress=not args.quiet, jobs=args.jobs)
    except NotebookFailed as exc:  # already logged by the runner
        if exc.html_path is not None:
            _log.warning("report of the failed notebook: %s", exc.html_path)
        if args.keep and exc.run_dir is not None:
            prune_runs(cfg.reports_dir, args.keep, protect=[exc.run_dir])
        return EXIT_NOTEBOOK_FAILED
    except RunInterrupted as exc:  # recorded by the runner; no pruning after an interrupt
        print(f"crm-analysis: {exc}; run recorded as interrupted", file=sys.stderr)
        return 128 + exc.signum
    if args.keep:
        removed = prune_runs(result.reports_dir, args.keep, protect=[result.run_dir])
        if removed:
            _log.info("pruned %d old run(s), kept the %d newest", len(removed), args.keep)
    if args.quiet:
        return EXIT_OK
    print(result.index_path)
    return EXIT_OK


def _cmd_check_report(args: argparse.Namespace) -> int:
    from crm_analysis.report.browser import run_check

    return run_check(args)


def _cmd_rerender(args: argparse.Namespace) -> int:
    from crm_analysis.report.publish import rerender_runs

    if not (args.reports_dir / "runs").is_dir():
        raise ConfigError(f"no runs under {args.reports_dir}")
    written = rerender_runs(args.reports_dir)
    print(f"rendered {len(written)} page(s) under {args.reports_dir}")
    return EXIT_OK


def _cmd_params(args: argparse.Namespace) -> int:
    from crm_analysis.report.params import format_parameters, notebook_parameters

    if args.notebook and args.notebook.endswith(".ipynb"):
        path = Path(args.notebook)
        if not path.is_file():
            raise ConfigError(f"notebook not found: {path}")
        print(format_parameters(str(path), notebook_parameters(path)))
        return EXIT_OK
    cfg = load_config(args.config)
    specs = [cfg.notebook(args.notebook)] if args.notebook else list(cfg.notebooks)
    blocks = []
    for nb in specs:
        params = notebook_parameters(nb.path)
        configured = cfg.parameters_for(nb, "<run folder>", declared=params)
        head = f"{nb.name} ({_rel(nb.path, cfg.project_root)})" + ("" if nb.enabled else " [disabled]")
        blocks.append(format_parameters(head, params, configured=configured))
    print("\n\n".join(blocks))
    return EXIT_OK


def _cmd_preflight(args: argparse.Namespace) -> int:
    from crm_analysis.report.preflight import preflight

    cfg = load_config(args.config).with_overrides(as_of=args.as_of, only=args.only)
    checked = preflight(cfg)  # raises PreflightError (exit 2) listing every problem
    runs = [nb.name for nb in cfg.notebooks if nb.enabled and nb.name not in checked.skipped]
    print(f"OK: {len(runs)} notebook(s) would run: {', '.join(runs)}")
    for name, why in checked.skipped.items():
        print(f"  {name} would be skipped: {why}")
    for kind, source in checked.sources.items():
        if source.loaded:
            first = f", first date {source.first_date:%Y-%m-%d}" if source.first_date is not None else ""
            print(f"  data.{kind}: loaded whole as the data-quality notebook will load it{first}")
    for note in checked.notes:
        print(f"  not checked before the run: {note}")
    return EXIT_OK


def _cmd_notebooks(args: argparse.Namespace) -> int:
    cfg: ReportConfig = load_config(args.config)
    print(f"{cfg.title}  (project root {cfg.project_root}; reports {cfg.reports_dir})")
    width = max(len(nb.name) for nb in cfg.notebooks)
    for i, nb in enumerate(cfg.notebooks, 1):
        flag = "" if nb.enabled else "  [disabled]"
        params = f"  {nb.parameters}" if nb.parameters else ""
        print(f"{i:>2}. {nb.name:<{width}}  {_rel(nb.path, cfg.project_root)}{flag}{params}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``crm-analysis``; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 ok, 1 a notebook failed, 2 bad configuration/usage, 3 other error.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage error (2) or --help (0)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_CONFIG

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    _log.addHandler(handler)
    try:
        command = {
            "report": _cmd_report,
            "params": _cmd_params,
            "notebooks": _cmd_notebooks,
            "check-report": _cmd_check_report,
            "rerender": _cmd_rerender,
            "preflight": _cmd_preflight,
        }[args.command]
        return command(args)
    except ConfigError as exc:
        print(redact_secrets(f"crm-analysis: configuration error: {exc}"), file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:
        print(redact_secrets(f"crm-analysis: error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_OTHER
    finally:
        _log.removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
