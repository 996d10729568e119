"""Benchmark: Pareto/NBD fits on zero-inflated data against lifetimes 0.11.3, side by side in one run.

Zero-inflated customers (:func:`crm_analysis.clv.simulate_two_point_nbd` with
``dropout_at_first=True``: a share ``pi`` who never buy again, the rest NBD
buyers with ``r = 0.5``, ``alpha = 10``; ``T`` uniform on 1-39 rounded to
whole periods) are the data on which the full Pareto/NBD fit used to take
0.6-12 s (issue 12): its optimiser ran for 40-45 iterations towards the
no-dropout limit, in the region where the tail integrals were costly. For each
size, share and seed the script times ``ParetoNBDModel().fit`` here and
lifetimes 0.11.3's ``ParetoNBDFitter`` on the same summary in a subprocess of
``--lifetimes-python`` (fit calls only timed, best of ``--repeat`` runs per
side, fewer (at least 3) once ``--max-seconds`` of runs; as
``bench_clv_fits.py``). Printed: both times, the ratio (lifetimes / ours),
our result (the kind of boundary limit or ``interior``) and log-likelihood,
and lifetimes' estimates' log-likelihood under our likelihood (``lt LL``;
its Nelder-Mead often stops below the maximum).

Usage::

    .venv/bin/python benchmarks/bench_pnbd_zero_inflated.py --lifetimes-python /tmp/lt3/bin/python
    .venv/bin/python benchmarks/bench_pnbd_zero_inflated.py --sizes 2000 --shares 0.5 --seeds 0 1   # ours only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_clv_fits import MIN_RUNS, _best, run_lifetimes  # noqa: E402

from crm_analysis.clv import ParetoNBDModel, simulate_two_point_nbd  # noqa: E402

__all__ = ["main", "zero_inflated"]


def zero_inflated(n: int, pi: float, seed: int) -> pd.DataFrame:
    """``n`` customers, a share ``pi`` who never buy again, the rest NBD buyers (r = 0.5, alpha = 10), T ~ U(1, 39)."""
    rng = np.random.default_rng(1000 + seed)
    T = np.round(rng.uniform(1, 39, n))
    return simulate_two_point_nbd(0.5, 10.0, pi, n_customers=n, T=T, dropout_at_first=True, seed=seed)


def _loglik(params: dict[str, float], d: pd.DataFrame) -> float:
    """Our Pareto/NBD log-likelihood at given parameters."""
    m = ParetoNBDModel()
    arrays = m._prepare(*(d[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    lp = np.log([params[k] for k in ("r", "alpha", "s", "beta")])
    return float(m._loglik(lp, arrays)[0].sum())


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark and print the table; returns its rows."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[500, 2000, 5000])
    ap.add_argument("--shares", nargs="+", type=float, default=[0.3, 0.5, 0.7], help="shares pi of certain dropouts")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each fit per side (best time kept)")
    ap.add_argument("--max-seconds", type=float, default=20.0,
                    help=f"fewer runs (at least {MIN_RUNS}) of a fit once its runs on one side took this long")
    ap.add_argument("--lifetimes-python", help="interpreter of a venv with lifetimes 0.11.3 (benchmarks/README.md)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args(argv)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    cases = {(n, pi, seed): zero_inflated(n, pi, seed) for n in args.sizes for pi in args.shares for seed in args.seeds}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench_pnbd_zi_") as tmp:
        tmpdir = Path(tmp)
        lt: dict[str, Any] = {}
        if args.lifetimes_python:
            jobs = []
            for (n, pi, seed), d in cases.items():
                path = tmpdir / f"zi_{n}_{pi}_{seed}.csv"
                d.assign(monetary_value=1.0)[["frequency", "recency", "T", "monetary_value"]].to_csv(path, index=False)
                jobs.append((f"{n}|{pi}|{seed}", str(path), ["paretonbd"]))
            lt = run_lifetimes(args.lifetimes_python, jobs, args.repeat, tmpdir, args.max_seconds)
        print(f"{'n':>5s} {'pi':>4s} {'seed':>4s} {'ours s':>7s} {'lt s':>7s} {'ratio':>7s} | {'ours cpu':>8s} {'lt cpu':>7s}"
              f" {'ratio':>7s}  {'result':18s} {'our LL':>12s} {'lt LL':>12s}")
        for (n, pi, seed), d in cases.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the boundary findings are in the table
                fitted, wall, cpu, err = _best(lambda d=d: ParetoNBDModel().fit(d), args.repeat, args.max_seconds)
            theirs = lt.get(f"{n}|{pi}|{seed}|paretonbd")
            bw, bc = (theirs["wall"], theirs["cpu"]) if theirs else (None, None)
            lt_ll = _loglik(theirs["params"], d) if theirs and theirs.get("params") else None
            kind = (fitted.boundary_kind() or "interior") if fitted is not None else f"ours: {err}"
            ll = fitted.log_likelihood_ if fitted is not None else float("nan")
            ratio = lambda b, o: f"{b / o:6.1f}x" if b is not None and o > 0 else "      -"  # noqa: E731
            fmt = lambda v, w=7: f"{v:{w}.3f}" if v is not None else " " * (w - 1) + "-"  # noqa: E731
            print(f"{n:5d} {pi:4.2f} {seed:4d} {fmt(wall)} {fmt(bw)} {ratio(bw, wall)} | {fmt(cpu, 8)} {fmt(bc)} "
                  f"{ratio(bc, cpu)}  {kind:18s} {ll:12.4f} {lt_ll if lt_ll is not None else float('nan'):12.4f}", flush=True)
            rows.append({"n": n, "pi": pi, "seed": seed, "ours_wall": wall, "ours_cpu": cpu, "lifetimes_wall": bw,
                         "lifetimes_cpu": bc, "result": kind, "log_likelihood": ll, "lifetimes_log_likelihood": lt_ll})
    print(f"\nload average {os.getloadavg()[0]:.1f} at end. Times: best of {args.repeat} runs per side (at least "
          f"{min(MIN_RUNS, args.repeat)} where {args.max_seconds:g} s of runs did not allow more); ratio = lifetimes / ours.")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
