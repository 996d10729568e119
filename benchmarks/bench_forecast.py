"""Benchmark: the package's demand forecaster against statsforecast's automatic models.

Same rolling-origin backtests for every method: for each data set and each
backtest end ``E`` the cutoff is ``E - 56`` days; every method sees the daily
series known at the cutoff (for hotels: room-nights by stay date from the
bookings made by the cutoff) and forecasts the 56 days after it, which are
compared with the series known at ``E``. Closed days (Online Retail) are left
out of every score.

Methods

* ``package``: :class:`crm_analysis.seasonality.DemandForecaster` with its
  default settings. Hotels: fitted on the bookings per fare class, reconciled
  (MinT), scored on the total (the sum of the classes, what capacity control
  sees). Online Retail: the daily revenue series with the holiday calendar of
  ``config/online_retail.yaml`` (GB/ENG bank holidays and Saturdays closed,
  Christmas closure).
* statsforecast 2.1 (``--sf-python``, its own venv, see benchmarks/README.md):
  ``AutoETS``, ``AutoARIMA``, ``AutoTheta`` (season length 7), ``MSTL``
  (season lengths 7 and 365 with more than two years of history, else 7;
  AutoETS trend model, its default) and ``SeasonalNaive(7)``, fitted on the
  total series (closed days interpolated as the package does).
* ``seasonal_naive``: computed here (last week repeated), also without
  statsforecast.

Scores (open days of the 56): MAPE (%, days with actual > 0), MASE (mean
absolute error over the in-sample MAE of the lag-7 seasonal naive forecast on
the history at the cutoff, Hyndman & Koehler 2006) and bias (%: sum of
forecast minus actual over sum of actual).

Usage::

    .venv/bin/python benchmarks/bench_forecast.py                              # package + seasonal naive
    .venv/bin/python benchmarks/bench_forecast.py --sf-python /tmp/sf/bin/python
    .venv/bin/python benchmarks/bench_forecast.py --datasets builtin --json /tmp/bench.json
    .venv/bin/python benchmarks/bench_forecast.py --cases holdout --sf-python /tmp/sf/bin/python   # held out
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crm_analysis.seasonality import DemandForecaster, HolidayCalendar, backtest, booking_series, transaction_series

__all__ = ["main", "BACKTESTS"]

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HORIZON = 56
#: Backtest ends per data set (cutoff = end - 56 days).
BACKTESTS: dict[str, list[str]] = {
    "builtin": ["2024-06-30", "2024-09-30", "2024-12-31"],
    "city": ["2016-12-31", "2017-03-31", "2017-05-31", "2017-08-31"],
    "retail": ["2011-09-30", "2011-10-31", "2011-12-09"],
}
#: Held-out backtests (``--cases holdout``): other ends of the same data, and the built-in hotel with two
#: other seeds at the main ends. Settings are chosen on ``BACKTESTS`` *and* checked here, so that a
#: change that only fits the main windows shows up.
HOLDOUT: dict[str, list[str]] = {
    "builtin": ["2024-04-30", "2024-08-15", "2024-11-15"],
    "builtin_s7": ["2024-06-30", "2024-09-30", "2024-12-31"],
    "builtin_s3": ["2024-06-30", "2024-09-30", "2024-12-31"],
    "city": ["2016-10-31", "2017-02-15", "2017-04-30", "2017-07-15"],
    "retail": ["2011-08-15", "2011-08-31", "2011-11-15"],
}
DATASETS = ("builtin", "builtin_s7", "builtin_s3", "city", "retail")
RETAIL_CALENDAR = {  # config/online_retail.yaml
    "country": "GB", "subdiv": "ENG", "holidays_closed": True, "closed_weekdays": ["Saturday"],
    "closed_dates": ["2010-12-24", "2010-12-29", "2010-12-30", "2010-12-31", "2011-01-02", "2011-04-24"],
}
HOTEL_CALENDARS = {"city": {"country": "PT", "subdiv": "11"}}

SF_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, MSTL, SeasonalNaive
    df = pd.read_csv(sys.argv[1], parse_dates=["ds"])
    h = int(sys.argv[3])
    out = []
    for uid, g in df.groupby("unique_id", sort=False):
        n = len(g)
        seasons = [7, 365] if n > 2 * 365 else [7]
        models = [AutoETS(season_length=7), AutoARIMA(season_length=7), AutoTheta(season_length=7),
                  MSTL(season_length=seasons, alias="MSTL"), SeasonalNaive(season_length=7)]
        t = time.perf_counter()
        fc = StatsForecast(models=models, freq="D", n_jobs=1).forecast(df=g, h=h)
        fc["seconds"] = time.perf_counter() - t
        fc["unique_id"] = uid
        out.append(fc)
    pd.concat(out).to_csv(sys.argv[2], index=False)
    """
)


def _load(name: str):
    """(history object for the package, calendar spec, function end -> total series known at end)."""
    if name.startswith("builtin"):
        from crm_analysis.synthetic import default_bookings

        b = default_bookings(seed=int(name.partition("_s")[2] or 42))
        return b, None, lambda end: booking_series(b, measure="room_nights", end=end, booked_by=end).values
    if name == "city":
        from crm_analysis.data import load_hotels

        b = load_hotels(SHARED / "hotels" / "hotels.csv.gz")
        b = b[b["property"] == "City Hotel"].reset_index(drop=True)
        return b, HOTEL_CALENDARS["city"], lambda end: booking_series(b, measure="room_nights", end=end, booked_by=end).values
    if name == "retail":
        from crm_analysis.data import CleaningPolicy, clean_transactions, load_online_retail

        tx = load_online_retail(SHARED / "online_retail" / "online_retail.parquet")
        tx = clean_transactions(tx, policy=CleaningPolicy(observation_end="2011-12-09")).data
        cal = HolidayCalendar.from_config(RETAIL_CALENDAR)
        closed = cal.closed_days("2010-12-01", "2011-12-09")
        s = transaction_series(tx, measure="revenue", end="2011-12-09", fill="closed",
                               closed_weekdays=list(cal.closed_weekdays), closed_dates=list(closed))
        return s, RETAIL_CALENDAR, lambda end: s.values.loc[:end]
    raise ValueError(f"unknown data set {name!r}; choose from {list(DATASETS)}")


def _scores(actual: np.ndarray, fc: np.ndarray, scale: float) -> dict[str, float]:
    e = fc - actual
    pos = actual > 0
    return {"mape": float(100 * np.mean(np.abs(e[pos]) / actual[pos])), "mase": float(np.mean(np.abs(e)) / scale),
            "bias_pct": float(100 * e.sum() / actual.sum())}


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Run the benchmark and print the table; returns it."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--cases", choices=["main", "holdout", "all"], default="main",
                    help="the benchmark's backtests (main), the held-out ones, or both")
    ap.add_argument("--sf-python", help="python of a venv with statsforecast 2.1 (benchmarks/README.md)")
    ap.add_argument("--sf-csv", help="statsforecast forecasts: written here after --sf-python, read from here without it")
    ap.add_argument("--settings", default="{}", help="DemandForecaster settings other than the defaults, as JSON")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args(argv)
    rows, sf_input = [], []
    cases = {}
    sets = {"main": [BACKTESTS], "holdout": [HOLDOUT], "all": [BACKTESTS, HOLDOUT]}[args.cases]
    for name in args.datasets:
        ends = sorted({e for d in sets for e in d.get(name, [])})
        if not ends:
            continue
        if not name.startswith("builtin") and not SHARED.is_dir():
            print(f"{name}: {SHARED} not found, skipped", file=sys.stderr)
            continue
        hist, cal, series_at = _load(name)
        for end in ends:
            end_ts = pd.Timestamp(end)
            cutoff = end_ts - pd.Timedelta(days=HORIZON)
            y_cut = series_at(cutoff)
            y_cut = y_cut.sum(axis=1) if isinstance(y_cut, pd.DataFrame) else y_cut
            y_end = series_at(end_ts)
            y_end = y_end.sum(axis=1) if isinstance(y_end, pd.DataFrame) else y_end
            dates = pd.date_range(cutoff + pd.Timedelta(days=1), end_ts, freq="D")
            closed = set()
            if cal is not None and cal.get("holidays_closed") is not None:
                closed = set(HolidayCalendar.from_config(cal).closed_days(y_cut.index.min(), end_ts))
            open_ = np.array([d not in closed for d in dates])
            hist_open = np.array([d not in closed for d in y_cut.index])
            v = y_cut.to_numpy(float)
            d7 = np.abs(v[7:] - v[:-7])[hist_open[7:] & hist_open[:-7]]
            scale = float(d7.mean())
            actual = y_end.reindex(dates).to_numpy(float)
            cases[(name, end)] = (actual, open_, scale)
            # package, default settings
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = DemandForecaster(holidays=cal, **json.loads(args.settings))
                bt = backtest(f, hist, cutoffs=[cutoff], horizon=HORIZON, as_of=end_ts)
            secs = time.perf_counter() - t
            tot = bt.predictions.groupby("date")["mean"].sum().reindex(dates).fillna(0.0).to_numpy()
            rows.append({"data": name, "end": end, "method": "package", **_scores(actual[open_], tot[open_], scale),
                         "seconds": secs, "models": bt.by_cutoff["models"].iloc[0]})
            snaive = v[len(v) - 7 + (np.arange(HORIZON) % 7)]
            rows.append({"data": name, "end": end, "method": "seasonal_naive",
                         **_scores(actual[open_], snaive[open_], scale), "seconds": 0.0, "models": ""})
            sf_input.append(pd.DataFrame({"unique_id": f"{name}|{end}", "ds": y_cut.index, "y": v}))
            print(f"{name} {end}: package MASE {rows[-2]['mase']:.3f} ({secs:.1f} s)", file=sys.stderr)
    out = None
    if args.sf_python and sf_input:
        with tempfile.TemporaryDirectory() as tmp:
            src, dst, script = Path(tmp) / "in.csv", Path(tmp) / "out.csv", Path(tmp) / "sf.py"
            pd.concat(sf_input).to_csv(src, index=False)
            script.write_text(SF_SCRIPT)
            subprocess.run([args.sf_python, str(script), str(src), str(dst), str(HORIZON)], check=True)
            out = pd.read_csv(dst, parse_dates=["ds"])
        if args.sf_csv:
            out.to_csv(args.sf_csv, index=False)
    elif args.sf_csv:
        out = pd.read_csv(args.sf_csv, parse_dates=["ds"])
    for uid, g in ([] if out is None else out.groupby("unique_id", sort=False)):
        if tuple(uid.split("|")) not in cases:
            continue
        name, end = uid.split("|")
        actual, open_, scale = cases[(name, end)]
        for m in ["AutoETS", "AutoARIMA", "AutoTheta", "MSTL"]:
            rows.append({"data": name, "end": end, "method": f"sf {m}",
                         **_scores(actual[open_], g[m].to_numpy(float)[open_], scale),
                         "seconds": float(g["seconds"].iloc[0]), "models": ""})
    tab = pd.DataFrame(rows)
    order = {"package": 0, "seasonal_naive": 1}
    tab = tab.sort_values(["data", "end", "method"], key=lambda c: c.map(order).fillna(2) if c.name == "method" else c)
    pd.set_option("display.width", 200)
    print(tab.drop(columns=["models", "seconds"]).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    sf = tab[tab["method"].str.startswith("sf ")]
    if len(sf):
        best = sf.loc[sf.groupby(["data", "end"])["mase"].idxmin()].set_index(["data", "end"])
        pk = tab[tab["method"] == "package"].set_index(["data", "end"])
        cmp_ = pd.DataFrame({"package_mase": pk["mase"], "best_sf": best["method"], "best_sf_mase": best["mase"]})
        cmp_["package_at_least_as_good"] = cmp_["package_mase"] <= cmp_["best_sf_mase"]
        print("\nPackage vs the best single statsforecast model (MASE):")
        print(cmp_.to_string(float_format=lambda x: f"{x:.3f}"))
    pk = tab[tab["method"] == "package"]
    for name, g in pk.groupby("data"):
        print(f"{name}: package mean bias over the backtests {g['bias_pct'].mean():+.2f} %")
    if args.json:
        Path(args.json).write_text(json.dumps(tab.to_dict(orient="records"), indent=1, default=str))
    return tab


if __name__ == "__main__":
    main()
