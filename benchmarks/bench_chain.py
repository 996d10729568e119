"""Wall time of the default report chain, notebooks in parallel (``--jobs``) against one after the other.

Runs ``crm_analysis.report.runner.run_chain`` on the built-in configuration
(``config/default.yaml``) into temporary reports folders, first with
``jobs=1`` (the baseline: every notebook after the previous one, as before
the scheduler), then with the default number of jobs (or ``--jobs N``), and
prints per notebook the time it took, the total wall time of each run, the
ratio baseline / parallel (> 1: parallel faster) and whether the default run
is within the chain's 60 s budget (README). Both runs must produce the same
headline figures (checked; the scheduler must not change results).

    .venv/bin/python benchmarks/bench_chain.py                 # ~2 minutes on 2 cores
    .venv/bin/python benchmarks/bench_chain.py --jobs 2 --only-parallel

The machine's load average is printed with the times: on a shared machine
the numbers move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from crm_analysis.report.config import load_config
from crm_analysis.report.runner import default_jobs, run_chain

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 60.0


def _run(jobs: int) -> tuple[float, dict[str, float], dict]:
    with tempfile.TemporaryDirectory(prefix="bench_chain_") as tmp:
        cfg = load_config(ROOT / "config" / "default.yaml")
        t0 = time.perf_counter()
        result = run_chain(cfg, reports_dir=tmp, progress=False, jobs=jobs)
        wall = time.perf_counter() - t0
        heads = json.loads((result.run_dir / "artifacts" / "headlines.json").read_text())
        return wall, {nb.name: nb.duration_s or 0.0 for nb in result.notebooks}, heads


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=default_jobs(), help="jobs of the parallel run (default: %(default)s)")
    ap.add_argument("--only-parallel", action="store_true", help="skip the jobs=1 baseline")
    args = ap.parse_args(argv)
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.1f}")
    runs = {}
    for jobs in ([] if args.only_parallel else [1]) + [args.jobs]:
        wall, per_nb, heads = _run(jobs)
        runs[jobs] = (wall, per_nb, heads)
        print(f"\njobs={jobs}: wall {wall:.1f} s (load average {os.getloadavg()[0]:.1f})")
        for name, s in per_nb.items():
            print(f"  {name:<16} {s:6.1f} s")
    if 1 in runs and args.jobs in runs and args.jobs != 1:
        base, par = runs[1][0], runs[args.jobs][0]
        print(f"\nratio jobs=1 / jobs={args.jobs}: {base / par:.2f}")
        same = runs[1][2] == runs[args.jobs][2]
        print(f"same headline figures in both runs: {'yes' if same else 'NO'}")
    wall = runs[args.jobs][0]
    print(f"default chain within the {BUDGET_S:.0f} s budget: {'met' if wall < BUDGET_S else 'NOT met'} ({wall:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
