"""Benchmark: out-of-core RFM summary and daily demand in DuckDB against a bare GROUP BY.

For each size the script writes a synthetic transactions data set as a folder
of Parquet files, in chunks (:func:`crm_analysis.scale.write_synthetic_parquet`;
never all rows in memory): customers drawn uniformly from ``rows /
rows_per_customer`` ids, timestamps uniform over 2023-2024, gamma amounts.
It then times, each in its **own subprocess** (so that every measurement has its
own peak resident memory, ``resource.getrusage(RUSAGE_SELF).ru_maxrss``;
tracemalloc does not see DuckDB's allocations):

* ``baseline``: DuckDB's bare ``SELECT customer_id, count(*), sum(amount),
  min(timestamp), max(timestamp) FROM read_parquet(...) GROUP BY customer_id``,
  fetched into pandas (as rfm_summary's result is);
* ``rfm_summary``: :func:`crm_analysis.rfm.rfm_summary` on the Parquet glob;
* ``daily_demand``: :func:`crm_analysis.scale.daily_demand` on the glob.

Every measurement uses a connection from
:func:`crm_analysis.scale.connect_out_of_core` with ``memory_limit`` (default
1GB), ``temp_directory`` (under the data folder: DuckDB spills there instead
of failing) and ``threads``. Printed: wall seconds of the operation (imports
and connection excluded), rows per second, peak RSS of the subprocess (its
``ru_maxrss``: the whole process, Python, DuckDB and the pandas result), the
ratio to the baseline, and the target of issue 13: ``rfm_summary`` finishes
at ``memory_limit=1GB`` with a peak RSS under 2 GiB.

Usage::

    .venv/bin/python benchmarks/bench_scale.py                       # 1e7 rows
    .venv/bin/python benchmarks/bench_scale.py --rows 10000000 100000000
    .venv/bin/python benchmarks/bench_scale.py --rows 1000000 --keep  # keep benchmarks/_data/
    .venv/bin/python benchmarks/bench_scale.py --rows 1e8 --data-dir /tmp/bench --keep   # the 1 GB target

Data go to ``benchmarks/_data/`` (git-ignored) and are deleted afterwards unless
``--keep``; an existing data set of the same size and seed is reused.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OBSERVATION_END = "2024-12-31"
MEASUREMENTS = ("baseline", "rfm_summary", "daily_demand")
TARGET_PEAK_MIB = 2048  # issue 13: peak RSS under 2 GiB at memory_limit=1GB


# ----------------------------------------------------------------- child side
def _measure(args: argparse.Namespace) -> None:
    """Run one measurement in this (child) process and print a JSON line."""
    from crm_analysis.scale import connect_out_of_core, daily_demand
    from crm_analysis.rfm import rfm_summary

    con = connect_out_of_core(memory_limit=args.memory_limit, temp_directory=args.temp_dir, threads=args.threads)
    glob = args.glob
    if args.profile:
        con.execute("PRAGMA enable_profiling='json'")
        con.execute(f"PRAGMA profiling_output='{args.profile}'")
    t0 = time.perf_counter()
    if args.measure == "baseline":
        out = con.sql(
            "SELECT customer_id, count(*) AS n, sum(amount) AS amount, min(timestamp) AS first, "
            f"max(timestamp) AS last FROM read_parquet('{glob}') GROUP BY customer_id"
        ).df()
    elif args.measure == "rfm_summary":
        out = rfm_summary(glob, observation_end=OBSERVATION_END, time_unit="W", con=con)
    elif args.measure == "daily_demand":
        out = daily_demand(glob, con=con)
    else:
        raise ValueError(f"unknown measurement {args.measure!r}")
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "result_rows": len(out)}))


# ---------------------------------------------------------------- parent side
def _run_child(measure: str, glob: str, args: argparse.Namespace, temp_dir: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--_measure",
        measure,
        "--_glob",
        glob,
        "--memory-limit",
        args.memory_limit,
        "--threads",
        str(args.threads),
        "--_temp-dir",
        str(temp_dir),
    ]
    if args.profile:
        cmd += ["--_profile", str(temp_dir.parent / f"profile_{measure}.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        errors = [ln for ln in lines if "Exception" in ln or "Error" in ln]
        last = (errors or lines or [f"exit code {proc.returncode}"])[-1].strip()[:200]
        print(f"  {measure:<13} FAILED: {last}", flush=True)
        return {"seconds": float("nan"), "peak_mib": float("nan"), "result_rows": 0, "failed": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt_rows(n: int) -> str:
    return f"{n:,}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=float, nargs="+", default=[1e7], help="data set sizes (rows)")
    parser.add_argument("--rows-per-customer", type=float, default=10.0, help="rows / customers (default 10)")
    parser.add_argument("--rows-per-file", type=int, default=2_000_000)
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit (default 1GB)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the fastest is shown)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=HERE / "_data")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--profile", action="store_true", help="write DuckDB JSON profiles next to the data")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, default=list(MEASUREMENTS))
    parser.add_argument("--_measure", help=argparse.SUPPRESS)
    parser.add_argument("--_glob", help=argparse.SUPPRESS)
    parser.add_argument("--_temp-dir", dest="_temp_dir", help=argparse.SUPPRESS)
    parser.add_argument("--_profile", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._measure:
        args.measure, args.glob, args.temp_dir = args._measure, args._glob, args._temp_dir
        args.profile = args._profile
        _measure(args)
        return

    from crm_analysis.scale import write_synthetic_parquet

    rows_list = [int(r) for r in args.rows]
    table = []
    for n_rows in rows_list:
        n_customers = max(1, int(n_rows / args.rows_per_customer))
        folder = args.data_dir / f"tx_{n_rows}_{n_customers}_{args.rows_per_file}_{args.seed}"
        parts = folder / "parts"
        temp_dir = folder / "duckdb_tmp"
        if not (folder / "_complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            t0 = time.perf_counter()
            write_synthetic_parquet(
                parts, n_rows, n_customers=n_customers, rows_per_file=args.rows_per_file, seed=args.seed, progress=True
            )
            (folder / "_complete").write_text("ok\n")
            print(f"wrote {_fmt_rows(n_rows)} rows in {time.perf_counter() - t0:.1f} s", flush=True)
        size_mb = sum(p.stat().st_size for p in parts.glob("*.parquet")) / 2**20
        glob = str(parts / "*.parquet")
        print(f"{_fmt_rows(n_rows)} rows, {_fmt_rows(n_customers)} customer ids, {size_mb:,.0f} MiB Parquet", flush=True)
        results = {}
        for measure in args.only:
            runs = []
            for _ in range(args.repeat):
                shutil.rmtree(temp_dir, ignore_errors=True)
                runs.append(_run_child(measure, glob, args, temp_dir))
            if any("failed" in r for r in runs):
                results[measure] = next(r for r in runs if "failed" in r)
                continue
            best = min(runs, key=lambda r: r["seconds"])
            best["peak_mib"] = max(r["peak_mib"] for r in runs)
            results[measure] = best
            print(
                f"  {measure:<13} {best['seconds']:8.1f} s  {n_rows / best['seconds'] / 1e6:6.2f} M rows/s  "
                f"peak {best['peak_mib']:7.0f} MiB  ({_fmt_rows(best['result_rows'])} result rows)",
                flush=True,
            )
        base = results.get("baseline")
        for measure, r in results.items():
            ratio = r["seconds"] / base["seconds"] if base and base["seconds"] == base["seconds"] else float("nan")
            table.append((n_rows, size_mb, measure, r["seconds"], n_rows / r["seconds"], r["peak_mib"], ratio))
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if not args.keep and args.data_dir.exists() and not any(args.data_dir.iterdir()):
        args.data_dir.rmdir()

    print()
    for n_rows, size_mb, measure, sec, rps, peak, ratio in table:
        if measure == "rfm_summary":
            ok = sec == sec and peak < TARGET_PEAK_MIB and args.memory_limit.replace(" ", "").upper() == "1GB"
            print(f"target: rfm_summary at memory_limit=1GB finishes with peak RSS < 2 GiB ({_fmt_rows(n_rows)} rows, "
                  f"memory_limit={args.memory_limit}): peak {peak:,.0f} MiB, {sec:.1f} s -> {'met' if ok else 'NOT met'}")
    print(f"DuckDB memory_limit={args.memory_limit}, threads={args.threads}; peak = max RSS of the measuring subprocess")
    print("| rows | Parquet MiB | step | seconds | M rows/s | peak RSS MiB | vs baseline |")
    print("|---|---|---|---|---|---|---|")
    for n_rows, size_mb, measure, sec, rps, peak, ratio in table:
        if sec != sec:  # failed
            print(f"| {_fmt_rows(n_rows)} | {size_mb:,.0f} | {measure} | failed | | | |")
            continue
        rel = f"{ratio:.2f}x" if ratio == ratio else "-"
        print(f"| {_fmt_rows(n_rows)} | {size_mb:,.0f} | {measure} | {sec:.1f} | {rps / 1e6:.2f} | {peak:,.0f} | {rel} |")


if __name__ == "__main__":
    main()
