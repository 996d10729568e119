"""Price elasticity of demand with seasonal controls - and its honest caveat.

:func:`price_elasticity` fits the log-log regression

    log(quantity) = a + e * log(price) + weekday FE + month FE + u

by OLS (``statsmodels.formula.api.ols``) with heteroskedasticity-robust (HC3)
or clustered standard errors, per segment where there are at least
``min_obs`` observations, plus a pooled row (with segment fixed effects).
``e`` is the elasticity: the % change of demand for a 1 % change of price.

**Caveat.** The regression is causal only when price moves independently of
the demand shock ``u``. In a yield-managed business (hotels, airlines) prices
are *set by demand*: rates go up on days that are going to be full. Then the
naive estimate is biased upward, often positive - it measures how managers
price busy days, not how guests respond to price. Estimates above 0 (or below
``plausible[0]``) are therefore **not reported as elasticities**: the
``elasticity`` column is NaN, ``estimate`` keeps the coefficient, ``valid`` is
False and ``caveat`` says "not a causal price response".

With ``instrument=`` (a column that moves price but not demand, e.g. a cost
shifter or a rate change decided in advance) the elasticity is estimated by
two-stage least squares, implemented here with numpy (``linearmodels`` is not a
dependency), with robust (HC0 with small-sample correction) or clustered
standard errors and the first-stage F statistic (weak instrument below 10,
Staiger & Stock 1997).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._common import require_columns
from .series import booking_series

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ElasticityResult", "price_elasticity", "price_demand_frame", "CAVEAT", "NOT_CAUSAL"]

#: Label of estimates that cannot be read as a price response.
NOT_CAUSAL = "not a causal price response"

#: General caveat of the naive (OLS) estimate.
CAVEAT = (
    "Naive log-log OLS with weekday and month fixed effects. Where prices are set by demand "
    "(yield management: higher rates on busy days) the estimate is biased upward and can be "
    "positive; such estimates are flagged '" + NOT_CAUSAL + "' and not reported as elasticities. "
    "A causal elasticity needs exogenous price variation (an experiment or an instrument)."
)

_TABLE_COLUMNS = [
    "segment", "elasticity", "estimate", "std_error", "ci_lower", "ci_upper", "p_value", "n", "r2",
    "method", "valid", "caveat",
]


@dataclass
class ElasticityResult:
    """Result of :func:`price_elasticity`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per segment (and a pooled row): ``segment``, ``elasticity``
        (NaN where not valid), ``estimate`` (the raw coefficient),
        ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value``, ``n``, ``r2``,
        ``method``, ``valid``, ``caveat``; 2SLS adds ``first_stage_f``.
    caveat : str
        The general caveat of the method.
    level : float
        Confidence level of the intervals.
    excluded : dict
        Rows left out, by reason.
    notes : list of str
    """

    table: pd.DataFrame
    caveat: str
    level: float
    excluded: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Estimates with confidence intervals; invalid ones grey and labelled.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        t = self.table.dropna(subset=["estimate"])
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * max(len(t), 1)))
        else:
            fig = ax.figure
        y = np.arange(len(t))
        for i, (_, row) in enumerate(t.iterrows()):
            color = "C0" if row["valid"] else "grey"
            ax.errorbar(row["estimate"], i, xerr=[[row["estimate"] - row["ci_lower"]], [row["ci_upper"] - row["estimate"]]],
                        fmt="o", color=color, capsize=3)
            if not row["valid"]:
                ax.annotate(NOT_CAUSAL if row["estimate"] > 0 else "flagged", (row["ci_upper"], i),
                            xytext=(4, 0), textcoords="offset points", va="center", fontsize=7, color="grey")
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y)
        ax.set_yticklabels(t["segment"])
        ax.set_xlabel(f"log-log coefficient of price ({self.level:.0%} CI)")
        ax.set_ylabel("segment")
        ax.set_title("Price coefficient by segment (grey: not a price elasticity)")
        fig.tight_layout()
        return fig


def price_demand_frame(
    bookings: pd.DataFrame,
    *,
    by: str | None = "segment",
    start: object = None,
    end: object = None,
) -> pd.DataFrame:
    """Daily demand and average price per group, for :func:`price_elasticity`.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (non-cancelled ones are used).
    by : str or None, default "segment"
        Group column; ``None`` for the total.
    start, end : date-like, optional
        Calendar bounds.

    Returns
    -------
    pandas.DataFrame
        ``date``, ``segment`` (the group, or ``"all"``), ``quantity``
        (room-nights by stay date) and ``price`` (revenue / room-nights: the
        room-night-weighted average rate). Days with 0 room-nights have no
        price and are left out.
    """
    rn = booking_series(bookings, measure="room_nights", by=by, start=start, end=end)
    rev = booking_series(bookings, measure="revenue", by=by, start=rn.start, end=rn.end)
    q, r = rn.values, rev.values
    if isinstance(q, pd.Series):
        q, r = q.to_frame("all"), r.to_frame("all")
    q = q.rename_axis(index="date", columns="segment").stack().rename("quantity")
    r = r.rename_axis(index="date", columns="segment").stack().rename("revenue")
    out = pd.concat([q, r], axis=1).reset_index()
    out = out.loc[out["quantity"] > 0].copy()
    out["price"] = out["revenue"] / out["quantity"]
    return out[["date", "segment", "quantity", "price"]].reset_index(drop=True)


def _design(df: pd.DataFrame, fixed_effects: Sequence[str], extra: Sequence[str]) -> pd.DataFrame:
    """Dummy matrix (drop-first) of the fixed effects and extra exogenous columns, with a constant."""
    parts = [pd.Series(1.0, index=df.index, name="const")]
    for fe in fixed_effects:
        d = pd.get_dummies(df[fe].astype(str), prefix=fe, drop_first=True, dtype=float)
        parts.append(d)
    for col in extra:
        parts.append(df[col].astype(float))
    return pd.concat(parts, axis=1)


def _tsls(
    y: np.ndarray, x_endog: np.ndarray, w: np.ndarray, z: np.ndarray, groups: np.ndarray | None
) -> tuple[float, float, float, float]:
    """2SLS coefficient of the endogenous regressor; (beta, se, r2, first-stage F)."""
    n = len(y)
    X = np.column_stack([x_endog, w])
    Z = np.column_stack([z, w])
    # first stage: fitted endogenous regressor
    pi, *_ = np.linalg.lstsq(Z, x_endog, rcond=None)
    xhat = Z @ pi
    Xh = np.column_stack([xhat, w])
    XtX_inv = np.linalg.pinv(Xh.T @ Xh)
    beta = XtX_inv @ Xh.T @ y
    u = y - X @ beta
    k = X.shape[1]
    if groups is None:
        meat = (Xh * u[:, None] ** 2).T @ Xh
        V = XtX_inv @ meat @ XtX_inv * n / (n - k)
    else:
        codes, uniq = pd.factorize(groups)
        G = len(uniq)
        sc = np.zeros((G, k))
        np.add.at(sc, codes, Xh * u[:, None])
        V = XtX_inv @ (sc.T @ sc) @ XtX_inv * (G / (G - 1)) * ((n - 1) / (n - k))
    se = float(np.sqrt(max(V[0, 0], 0.0)))
    r2 = float(1 - np.sum(u**2) / np.sum((y - y.mean()) ** 2))
    # first-stage F of the excluded instruments (robust Wald / q)
    import statsmodels.api as sm

    fs = sm.OLS(x_endog, Z).fit(
        cov_type="cluster" if groups is not None else "HC0",
        cov_kwds={"groups": pd.factorize(groups)[0]} if groups is not None else None,
    )
    q = z.shape[1]
    R = np.zeros((q, Z.shape[1]))
    R[:, :q] = np.eye(q)
    f = float(np.squeeze(fs.f_test(R).fvalue))
    return float(beta[0]), se, r2, f


def price_elasticity(
    data: pd.DataFrame,
    *,
    quantity: str = "quantity",
    price: str = "price",
    date: str = "date",
    segment: str | None = "segment",
    fixed_effects: Sequence[str] = ("weekday", "month"),
    cov_type: Literal["HC3", "cluster"] = "HC3",
    cluster: str = "week",
    min_obs: int = 30,
    level: float = 0.95,
    plausible: tuple[float, float] = (-10.0, 0.0),
    instrument: str | Sequence[str] | None = None,
    pooled: bool = True,
) -> ElasticityResult:
    """Log-log price elasticity of demand with weekday and month fixed effects.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per period (and segment): demand, price and date, e.g. from
        :func:`price_demand_frame`.
    quantity, price, date : str
        Column names.
    segment : str or None, default "segment"
        Estimate per value of this column (plus a pooled row with segment
        fixed effects); ``None``: one pooled estimate.
    fixed_effects : sequence of {"weekday", "month", "year"} or column names
        Seasonal controls (dummies, first level dropped); ``"weekday"``,
        ``"month"`` and ``"year"`` are derived from ``date``.
    cov_type : {"HC3", "cluster"}, default "HC3"
        Robust (HC3) or clustered standard errors (2SLS: HC0 with n/(n-k)
        correction instead of HC3).
    cluster : str, default "week"
        Clusters for ``cov_type="cluster"``: ``"week"``, ``"month"`` (of
        ``date``) or a column name.
    min_obs : int, default 30
        Fewest rows for an estimate; smaller segments get a row saying so.
    level : float, default 0.95
        Confidence level.
    plausible : (float, float), default (-10, 0)
        Range of estimates reported as elasticities; outside it they are
        flagged (above the upper bound: "not a causal price response").
    instrument : str or sequence of str, optional
        Excluded instrument column(s) for 2SLS.
    pooled : bool, default True
        Add a pooled row over all segments (with segment fixed effects).

    Returns
    -------
    ElasticityResult

    Raises
    ------
    ValueError
        Missing columns or no row with positive quantity and price.
    """
    import statsmodels.formula.api as smf

    cols = [quantity, price, date] + ([segment] if segment else [])
    instruments = [instrument] if isinstance(instrument, str) else list(instrument or [])
    require_columns(data, cols + instruments, "data")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if cov_type not in ("HC3", "cluster"):
        raise InputError(f"cov_type must be 'HC3' or 'cluster', got {shown(cov_type)}")
    excluded: dict[str, int] = {}
    notes: list[str] = []
    df = pd.DataFrame(
        {
            "q": pd.to_numeric(data[quantity]).astype(float).to_numpy(),
            "p": pd.to_numeric(data[price]).astype(float).to_numpy(),
            "date": pd.to_datetime(data[date]).to_numpy(),
        }
    )
    df["segment"] = data[segment].astype(str).to_numpy() if segment else "all"
    for i, col in enumerate(instruments):
        df[f"z{i}"] = pd.to_numeric(data[col]).astype(float).to_numpy()
    bad = ~(np.isfinite(df["q"]) & np.isfinite(df["p"]) & df["date"].notna())
    nonpos = ~bad & ((df["q"] <= 0) | (df["p"] <= 0))
    if instruments:
        bad |= ~np.isfinite(df[[f"z{i}" for i in range(len(instruments))]]).all(axis=1)
    if bad.any():
        excluded["missing value"] = int(bad.sum())
    if nonpos.any():
        excluded["quantity or price <= 0 (no logarithm)"] = int(nonpos.sum())
        notes.append(f"{int(nonpos.sum())} row(s) with quantity or price <= 0 left out (log-log model)")
    df = df.loc[~(bad | nonpos)].reset_index(drop=True)
    if df.empty:
        raise InputError("no row with positive quantity and price")
    df["log_q"] = np.log(df["q"])
    df["log_p"] = np.log(df["p"])
    idx = pd.DatetimeIndex(df["date"])
    df["weekday"] = np.asarray(idx.day_of_week)
    df["month"] = np.asarray(idx.month)
    df["year"] = np.asarray(idx.year)
    df["week"] = np.asarray((idx - pd.to_timedelta(np.asarray(idx.day_of_week), unit="D")).strftime("%Y-%m-%d"))
    df["month_key"] = np.asarray(idx.strftime("%Y-%m"))
    for fe in fixed_effects:
        if fe not in df.columns:
            require_columns(data, [fe], "data")
            df[fe] = data[fe].to_numpy()[~(bad | nonpos).to_numpy()]
    cluster_col = {"week": "week", "month": "month_key"}.get(cluster, cluster)
    if cov_type == "cluster" and cluster_col not in df.columns:
        require_columns(data, [cluster], "data")
        df[cluster_col] = data[cluster].to_numpy()[~(bad | nonpos).to_numpy()]

    alpha = 1 - level
    zcrit = stats.norm.ppf(1 - alpha / 2)
    method = ("2SLS" if instruments else "OLS") + f" ({cov_type})"
    rows = []
    subsets: list[tuple[str, pd.DataFrame, list[str]]] = []
    if segment:
        for seg, sub in df.groupby("segment", sort=True):
            subsets.append((str(seg), sub, list(fixed_effects)))
        if pooled and df["segment"].nunique() > 1:
            subsets.append(("all segments (pooled)", df, list(fixed_effects) + ["segment"]))
    else:
        subsets.append(("all", df, list(fixed_effects)))

    for name, sub, fes in subsets:
        n = len(sub)
        row: dict[str, object] = {"segment": name, "n": n, "method": method}
        fes = [fe for fe in fes if sub[fe].nunique() > 1]
        if n < min_obs:
            row.update(valid=False, caveat=f"too few observations (n={n} < min_obs={min_obs}): not estimated")
            rows.append(row)
            continue
        if sub["log_p"].std() == 0:
            row.update(valid=False, caveat="price does not vary: elasticity not identified")
            rows.append(row)
            continue
        groups = sub[cluster_col].to_numpy() if cov_type == "cluster" else None
        if instruments:
            w = _design(sub, fes, []).to_numpy()
            z = sub[[f"z{i}" for i in range(len(instruments))]].to_numpy()
            beta, se, r2, f = _tsls(sub["log_q"].to_numpy(), sub["log_p"].to_numpy(), w, z, groups)
            dof_p = 2 * stats.norm.sf(abs(beta / se)) if se > 0 else np.nan
            row.update(estimate=beta, std_error=se, ci_lower=beta - zcrit * se, ci_upper=beta + zcrit * se,
                       p_value=dof_p, r2=r2, first_stage_f=f)
        else:
            formula = "log_q ~ log_p" + "".join(f" + C({fe})" for fe in fes)
            kw = {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(groups)[0]}} if groups is not None else {"cov_type": "HC3"}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = smf.ols(formula, data=sub).fit(**kw)
            ci = res.conf_int(alpha).loc["log_p"]
            row.update(estimate=float(res.params["log_p"]), std_error=float(res.bse["log_p"]),
                       ci_lower=float(ci.iloc[0]), ci_upper=float(ci.iloc[1]),
                       p_value=float(res.pvalues["log_p"]), r2=float(res.rsquared))
        est = float(row["estimate"])
        problems = []
        if est > plausible[1]:
            problems.append(
                f"{NOT_CAUSAL}: estimate {est:+.2f} > {plausible[1]:g} - prices move with demand "
                "(yield management), the regression measures pricing of busy days, not guests' response"
            )
        elif est < plausible[0]:
            problems.append(f"implausibly large estimate {est:.1f} < {plausible[0]:g}: {NOT_CAUSAL}")
        valid = not problems
        caveat = "; ".join(problems)
        if valid:
            msgs = []
            if row["ci_upper"] >= 0:  # type: ignore[operator]
                msgs.append(f"not distinguishable from 0 at {level:.0%}")
            if instruments:
                if row["first_stage_f"] < 10:  # type: ignore[operator]
                    msgs.append(f"weak instrument (first-stage F = {row['first_stage_f']:.1f} < 10)")
            else:
                msgs.append("naive OLS: biased upward where prices respond to demand")
            caveat = "; ".join(msgs)
        row.update(elasticity=est if valid else np.nan, valid=valid, caveat=caveat)
        rows.append(row)

    table = pd.DataFrame(rows)
    columns = _TABLE_COLUMNS + (["first_stage_f"] if instruments else [])
    table = table.reindex(columns=columns)
    table["valid"] = table["valid"].astype(bool)
    table["n"] = table["n"].astype(int)
    flagged = int((~table["valid"]).sum())
    if flagged:
        notes.append(f"{flagged} row(s) flagged and not reported as elasticities (see caveat)")
    caveat = CAVEAT if not instruments else (
        "Two-stage least squares: causal only if the instrument moves price and affects demand through "
        "price alone; check the first-stage F (weak below 10). " + CAVEAT.split(". ", 1)[1]
    )
    return ElasticityResult(table=table, caveat=caveat, level=level, excluded=excluded, notes=notes)
