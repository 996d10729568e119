"""Benchmark: RFM summary (DuckDB) and CLV model fits on synthetic data.

For each size (number of customers) the script generates synthetic
transactions (:func:`crm_analysis.synthetic.generate_transactions`), then
times, in this process:

* ``rfm_summary`` from the DataFrame and from a Parquet file (DuckDB SQL),
* a plain-pandas groupby implementation of the same summary (baseline,
  checked to give the same numbers),
* the BG/NBD, Pareto/NBD and Gamma-Gamma fits on the summary.

Optionally the same steps with lifetimes 0.11.3 (``summary_data_from_transaction_data``
and its fitters), either in this process when ``lifetimes`` is importable or in
a separate interpreter given by ``--lifetimes-python`` (lifetimes needs
pandas < 2; see benchmarks/README.md).

Usage::

    .venv/bin/python benchmarks/bench_rfm_clv.py                      # 10,000 customers
    .venv/bin/python benchmarks/bench_rfm_clv.py --sizes 10000 100000 1000000
    .venv/bin/python benchmarks/bench_rfm_clv.py --sizes 10000 100000 --lifetimes-python /tmp/lt/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from crm_analysis.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from crm_analysis.rfm import rfm_summary
from crm_analysis.synthetic import generate_transactions

START, END, ACQ_END = "2023-01-01", "2024-12-31", "2023-12-31"


def pandas_rfm_summary(tx: pd.DataFrame, observation_end: str, unit_days: float = 7.0) -> pd.DataFrame:
    """Plain-pandas baseline of :func:`crm_analysis.rfm.rfm_summary` (same conventions)."""
    end = pd.Timestamp(observation_end)
    day = tx["timestamp"].dt.normalize()
    keep = day <= end
    daily = (
        pd.DataFrame({"customer_id": tx.loc[keep, "customer_id"], "day": day[keep], "amount": tx.loc[keep, "amount"]})
        .groupby(["customer_id", "day"], sort=True)["amount"]
        .sum()
        .reset_index()
    )
    g = daily.groupby("customer_id", sort=True)
    out = g.agg(n=("day", "size"), first=("day", "min"), last=("day", "max"), revenue=("amount", "sum"), first_amount=("amount", "first"))
    freq = out["n"] - 1
    return pd.DataFrame(
        {
            "frequency": freq,
            "recency": (out["last"] - out["first"]).dt.days / unit_days,
            "T": (end - out["first"]).dt.days / unit_days,
            "monetary_value": ((out["revenue"] - out["first_amount"]) / freq.where(freq > 0)).fillna(0.0),
            "revenue": out["revenue"],
        }
    )


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


LIFETIMES_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data
    path, end, fit_max = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tx = pd.read_csv(path, parse_dates=["timestamp"], dtype={"customer_id": str})
    res = {}
    t = time.perf_counter()
    s = summary_data_from_transaction_data(tx, "customer_id", "timestamp", "amount",
                                           observation_period_end=end, freq="D", freq_multiplier=7)
    res["summary"] = time.perf_counter() - t
    if len(s) <= fit_max:
        t = time.perf_counter(); BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"]); res["bgnbd"] = time.perf_counter() - t
        t = time.perf_counter(); ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"]); res["paretonbd"] = time.perf_counter() - t
        r = s[s["frequency"] > 0]
        t = time.perf_counter(); GammaGammaFitter().fit(r["frequency"], r["monetary_value"]); res["gamma_gamma"] = time.perf_counter() - t
    print(json.dumps(res))
    """
)


def run_lifetimes(python: str, tx: pd.DataFrame, fit_max: int, workdir: Path) -> dict[str, float]:
    """Time lifetimes 0.11.3 in a separate interpreter (reading a CSV is not timed)."""
    path = workdir / "tx_lifetimes.csv"
    tx[["customer_id", "timestamp", "amount"]].to_csv(path, index=False)
    script = workdir / "lifetimes_bench.py"
    script.write_text(LIFETIMES_SCRIPT)
    out = subprocess.run(
        [python, str(script), str(path), END, str(fit_max)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def in_process_lifetimes() -> bool:
    try:
        import lifetimes  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000], help="numbers of customers (default 10000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--fit-max", type=int, default=1_000_000, help="skip model fits above this many customers")
    ap.add_argument("--skip-pareto", action="store_true", help="skip the (slower) Pareto/NBD fit")
    ap.add_argument("--lifetimes-python", help="interpreter of a venv with lifetimes 0.11.3 (see README)")
    ap.add_argument("--lifetimes-fit-max", type=int, default=100_000, help="largest size for lifetimes fits")
    args = ap.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_rfm_clv_") as tmp:
        tmpdir = Path(tmp)
        for n in args.sizes:
            data, t_gen = timed(
                generate_transactions, n_customers=n, start=START, end=END, acquisition_end=ACQ_END, seed=args.seed
            )
            tx = data.transactions[["customer_id", "timestamp", "amount"]]
            pq = tmpdir / f"tx_{n}.parquet"
            tx.to_parquet(pq, index=False)
            print(f"\n== {n:,} customers, {len(tx):,} transactions (generated in {t_gen:.1f} s)", flush=True)
            res: dict[str, float] = {}
            rfm_summary(tx.head(100), observation_end=END)  # warm-up: DuckDB connection and code paths
            summary, res["rfm_summary (DuckDB, DataFrame)"] = timed(rfm_summary, tx, observation_end=END)
            _, res["rfm_summary (DuckDB, Parquet file)"] = timed(rfm_summary, pq, observation_end=END)
            base, res["pandas groupby baseline"] = timed(pandas_rfm_summary, tx, END)
            base = base.loc[summary.index]
            for col in ["frequency", "recency", "T", "monetary_value", "revenue"]:
                np.testing.assert_allclose(summary[col].to_numpy(float), base[col].to_numpy(float), rtol=1e-9, atol=1e-9)
            if n <= args.fit_max:
                fs = summary[["frequency", "recency", "T"]]
                _, res["BG/NBD fit"] = timed(BetaGeoModel().fit, fs)
                if not args.skip_pareto:
                    _, res["Pareto/NBD fit"] = timed(ParetoNBDModel().fit, fs)
                rep = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0), ["frequency", "monetary_value"]]
                _, res["Gamma-Gamma fit"] = timed(GammaGammaModel().fit, rep)
            lt: dict[str, float] = {}
            if args.lifetimes_python:
                lt = run_lifetimes(args.lifetimes_python, tx, args.lifetimes_fit_max, tmpdir)
            elif in_process_lifetimes():  # pragma: no cover - lifetimes needs pandas < 2
                from lifetimes import BetaGeoFitter
                from lifetimes.utils import summary_data_from_transaction_data

                s, lt["summary"] = timed(
                    summary_data_from_transaction_data, tx, "customer_id", "timestamp", "amount",
                    observation_period_end=END, freq="D", freq_multiplier=7,
                )
                _, lt["bgnbd"] = timed(BetaGeoFitter().fit, s["frequency"], s["recency"], s["T"])
            lt_names = {
                "rfm_summary (DuckDB, DataFrame)": "summary",
                "BG/NBD fit": "bgnbd",
                "Pareto/NBD fit": "paretonbd",
                "Gamma-Gamma fit": "gamma_gamma",
            }
            t_base = res["pandas groupby baseline"]
            print(f"{'step':38s} {'seconds':>9s} {'vs pandas':>10s} {'lifetimes':>10s} {'lt/ours':>8s}")
            for step, sec in res.items():
                ratio = f"{t_base / sec:9.1f}x" if step.startswith("rfm_summary") else ""
                lts = lt.get(lt_names.get(step, ""), None)
                lt_txt = f"{lts:10.2f}" if lts is not None else ""
                lt_ratio = f"{lts / sec:7.1f}x" if lts is not None else ""
                print(f"{step:38s} {sec:9.2f} {ratio:>10s} {lt_txt:>10s} {lt_ratio:>8s}", flush=True)
                rows.append({"customers": n, "transactions": len(tx), "step": step, "seconds": sec, "lifetimes_seconds": lts})
    print("\nratios: 'vs pandas' = pandas baseline time / DuckDB time; 'lt/ours' = lifetimes time / crm_analysis time")


if __name__ == "__main__":
    main(sys.argv[1:])
