"""Inputs of the yield notebook: seasons from forecasts, fares from bookings.

The forecasts artefact (``forecasts.parquet``, written by the seasonality
notebook) has one row per ``date`` and ``fare_class`` with the forecast
``mean`` and ``std`` of that night's demand. Yield decisions are made per
*season*: dates are grouped into low / shoulder / peak by their total
forecast demand, and a season's demand per class is that of a night drawn at
random from the season (a mixture over its dates).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crm_analysis.data.errors import refuse_infinite

__all__ = ["assign_seasons", "season_demand", "fares_from_bookings", "allocation_inputs"]

SEASON_LABELS: tuple[str, ...] = ("low", "shoulder", "peak")


def _check_forecasts(forecasts: pd.DataFrame) -> None:
    missing = {"date", "fare_class", "mean", "std"} - set(forecasts.columns)
    if missing:
        raise InputError(f"forecasts lack columns {sorted(missing)}")
    if (forecasts["mean"] < 0).any() or (forecasts["std"] < 0).any():
        raise InputError("forecast means and stds must be >= 0")


def assign_seasons(
    forecasts: pd.DataFrame,
    *,
    method: str = "tercile",
    labels: Sequence[str] = SEASON_LABELS,
) -> pd.Series:
    """Season of each forecast date, by total forecast demand.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        Columns ``date``, ``fare_class``, ``mean``, ``std``.
    method : {"tercile", "month"}
        ``"tercile"``: each date by the quantile group (equal counts, ties
        broken by date order) of its total mean demand over the fare classes.
        ``"month"``: calendar months ranked by their mean daily total demand
        and split into equal-count groups of months, so a month is one season.
    labels : sequence of str
        Season names from lowest to highest demand; their number sets the
        number of groups.

    Returns
    -------
    pandas.Series
        Ordered categorical season, indexed by date.
    """
    _check_forecasts(forecasts)
    k = len(labels)
    total = forecasts.groupby("date")["mean"].sum().sort_index()
    if method == "tercile":
        if len(total) < k:
            raise InputError(f"need at least {k} forecast dates to form {k} seasons, got {len(total)}")
        codes = pd.qcut(total.rank(method="first"), k, labels=False).to_numpy(dtype=int)
    elif method == "month":
        month = pd.to_datetime(pd.Series(total.index, index=total.index)).dt.to_period("M")
        level = total.groupby(month).mean()
        if len(level) < k:
            raise InputError(f"need at least {k} months to form {k} seasons, got {len(level)}")
        rank = level.rank(method="first").to_numpy() - 1  # 0..n_months-1
        month_code = pd.Series((rank * k // len(level)).astype(int), index=level.index)
        codes = month.map(month_code).to_numpy(dtype=int)
    else:
        raise InputError(f"method must be 'tercile' or 'month', got {shown(method)}")
    cat = pd.Categorical.from_codes(codes, categories=list(labels), ordered=True)
    return pd.Series(cat, index=total.index, name="season")


def season_demand(forecasts: pd.DataFrame, seasons: pd.Series) -> pd.DataFrame:
    """Demand per season and fare class of a night drawn at random from the season.

    By the law of total variance the mixture over the season's dates has mean
    ``mean_s = avg_t mean_t`` and variance ``avg_t std_t**2 + var_t(mean_t)``
    (population variance over the dates).

    Parameters
    ----------
    forecasts : pandas.DataFrame
        Columns ``date``, ``fare_class``, ``mean``, ``std``.
    seasons : pandas.Series
        Season by date (from :func:`assign_seasons`).

    Returns
    -------
    pandas.DataFrame
        Index ``(season, fare_class)``; columns ``mean``, ``std``, ``n_dates``.
    """
    _check_forecasts(forecasts)
    df = forecasts[["date", "fare_class", "mean", "std"]].copy()
    df["season"] = df["date"].map(seasons)
    if df["season"].isna().any():
        raise InputError(f"{int(df['season'].isna().sum())} forecast rows have a date without a season")
    g = df.groupby(["season", "fare_class"], observed=True)
    out = pd.DataFrame(
        {
            "mean": g["mean"].mean(),
            "std": np.sqrt(g["std"].apply(lambda s: float(np.mean(s**2))) + g["mean"].var(ddof=0).fillna(0.0)),
            "n_dates": g["date"].nunique(),
        }
    )
    return out


def fares_from_bookings(bookings: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Fare of each class: mean nightly rate of stayed bookings, per room-night.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``rate``, ``nights``, ``status``; optional ``units``).
    by : str, optional
        Class column; default ``fare_class`` when present, else ``segment``.

    Returns
    -------
    pandas.DataFrame
        Index: class; columns ``fare`` (room-night weighted mean of ``rate``
        over stayed bookings), ``room_nights``, ``bookings``; sorted by fare,
        highest first. Bookings with ``nights <= 0`` carry no weight.

    Raises
    ------
    ValueError
        Missing columns, no stayed booking; an infinite rate of a stayed booking
        (:class:`~crm_analysis.data.DataValidationError`,
        :func:`crm_analysis.data.errors.raise_on_infinite`).
    """
    if by is None:
        by = "fare_class" if "fare_class" in bookings.columns else "segment"
    missing = {by, "rate", "nights", "status"} - set(bookings.columns)
    if missing:
        raise InputError(f"bookings lack columns {sorted(missing)}")
    st = bookings[bookings["status"] == "stayed"]
    if st.empty:
        raise InputError("no stayed bookings to compute fares from")
    # the package's one rule for infinite money values (an inf fare would be the class's mean fare)
    refuse_infinite(pd.to_numeric(st["rate"]).to_numpy(dtype=np.float64, na_value=np.nan), "rate", kind="rate")
    units = st["units"].astype(float) if "units" in st.columns else 1.0
    w = st["nights"].clip(lower=0).astype(float) * units
    df = pd.DataFrame({"cls": st[by].to_numpy(), "w": np.asarray(w), "wr": np.asarray(w * st["rate"].astype(float))})
    g = df.groupby("cls")
    out = pd.DataFrame({"fare": g["wr"].sum() / g["w"].sum(), "room_nights": g["w"].sum(), "bookings": g.size()})
    out.index.name = by
    return out.sort_values("fare", ascending=False)


def allocation_inputs(
    fares: pd.Series, demand: pd.DataFrame
) -> tuple[list[str], np.ndarray, list[tuple[float, float]]]:
    """Classes, strictly decreasing fares and ``(mean, std)`` demand specs of one season.

    Parameters
    ----------
    fares : pandas.Series
        Fare by class.
    demand : pandas.DataFrame
        ``mean`` and ``std`` by class (one season of :func:`season_demand`).

    Returns
    -------
    classes, fares, demand specs
        Ordered by fare, highest first; only classes present in both inputs.

    Raises
    ------
    ValueError
        When no class is common or two classes have the same fare.
    """
    common = [c for c in fares.sort_values(ascending=False).index if c in demand.index]
    if not common:
        raise InputError(f"no fare class in both fares {list(fares.index)} and demand {list(demand.index)}")
    f = fares.loc[common].to_numpy(dtype=float)
    if np.any(np.diff(f) >= 0):
        raise InputError(f"classes {common} do not have strictly decreasing fares {f.tolist()}")
    specs = [(float(demand.loc[c, "mean"]), float(demand.loc[c, "std"])) for c in common]
    return [str(c) for c in common], f, specs
