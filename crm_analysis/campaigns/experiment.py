"""A randomised campaign: the table, response rates and uplift with confidence intervals.

A campaign test assigns customers at random to one or more treatments (e.g.
an e-mail) and a control group, and records outcomes per customer over a
fixed window: binary ones (visit, conversion) and money (spend). Because the
assignment is random, the difference between a treatment's and the
control's outcome is the campaign's causal effect, its *uplift* (Radcliffe
2007; Gutierrez & Gérardy 2017).

Intervals:

* a binary rate: Wilson score interval (Wilson 1927; Agresti & Coull 1998
  recommend it over the normal approximation);
* the uplift of a binary outcome (difference of two independent
  proportions): Newcombe's hybrid score interval (Newcombe 1998, method 10),
  which keeps its coverage near 0 and 1;
* a mean (spend per customer) and the difference of two means: normal
  interval with the groups' own variances (Welch), as the groups are large.

Both score intervals come from statsmodels
(``proportion_confint(method="wilson")``,
``confint_proportions_2indep(method="newcomb")``).
"""

from __future__ import annotations

from crm_analysis._validate import renamed_keywords as _renamed_keywords
from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import check_columns

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "CampaignInputError",
    "CampaignData",
    "HILLSTROM_FEATURES",
    "campaign_data",
    "load_hillstrom",
    "response_rates",
    "uplift_by_segment",
    "NO_SEGMENT",
]

#: Segment label of the customers whose ``by`` value is missing (they are kept, in a group of their own).
NO_SEGMENT = "(no segment)"


class CampaignInputError(InputError):
    """Input of a campaign function is unusable; the message names the column or parameter and the fix."""


#: Pre-campaign customer attributes of the Hillstrom data (features of an uplift model).
HILLSTROM_FEATURES: tuple[str, ...] = ("recency", "history", "mens", "womens", "zip_code", "newbie", "channel")


@dataclass
class CampaignData:
    """A randomised campaign, one row per customer.

    Attributes
    ----------
    table : pandas.DataFrame
        ``customer_id`` (string), ``group`` (string: a treatment or the control
        label), the outcome columns and any further columns (features,
        segments), in the input's row order.
    control : str
        Label of the control group.
    treatments : tuple of str
        Labels of the treatment groups, in order of first appearance.
    outcomes : tuple of str
        Outcome columns; binary ones hold 0/1.
    binary : dict
        ``{outcome: True}`` for 0/1 outcomes, False for money.
    notes : list of str
        How the table was read.
    """

    table: pd.DataFrame
    control: str
    treatments: tuple[str, ...]
    outcomes: tuple[str, ...]
    binary: dict[str, bool]
    notes: list[str] = field(default_factory=list)

    def pair(self, treatment: str) -> pd.DataFrame:
        """The rows of ``treatment`` and the control, with ``treated`` (0/1)."""
        if treatment not in self.treatments:
            raise CampaignInputError(f"unknown treatment {treatment!r}; the campaign has {list(self.treatments)}")
        t = self.table[self.table["group"].isin([treatment, self.control])].copy()
        t["treated"] = (t["group"] == treatment).astype("int64").to_numpy()
        return t.reset_index(drop=True)


@_renamed_keywords({"id_col": "customer_col"})  # fourth newcomer finding H17: one name per column role
def campaign_data(
    table: pd.DataFrame,
    *,
    group_col: str = "group",
    control: str = "control",
    outcomes: Sequence[str] = ("visit", "conversion", "spend"),
    customer_col: str | None = "customer_id",
    money: Sequence[str] | None = None,
) -> CampaignData:
    """Check a campaign table and put it in the package's form.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer: the group each was assigned to, the outcomes.
    group_col : str, default "group"
        Column of the assignment (treatment labels and the control label).
    control : str, default "control"
        Label of the control group (e.g. ``"No E-Mail"`` in the Hillstrom data).
        Labels are compared as text: a 0/1 or True/False assignment column
        takes ``control=0`` or ``control="0"`` alike.
    outcomes : sequence of str, or str
        Outcome columns: 0/1 (visit, conversion) or money (spend, >= 0); one
        name alone is one outcome.
    customer_col : str or None, default "customer_id"
        Customer id column; ``None`` numbers the rows (``"1"``, ``"2"``, ...).
    money : sequence of str, optional
        Outcomes that are money whatever their values (a spend that is 0 for
        everyone, or only 0 and 1, stays money: a mean with a normal
        interval, not a rate). Default: ``spend`` where it is an outcome.
        Every other outcome is 0/1 when it holds only 0 and 1, else a
        number per customer (a count, money).

    Returns
    -------
    CampaignData

    Raises
    ------
    CampaignInputError
        Missing columns, no control or no treatment rows, missing or
        duplicated ids, outcomes that are missing, negative, or not numbers.
    """
    if not isinstance(table, pd.DataFrame):
        raise CampaignInputError(f"the campaign must be a pandas DataFrame, got {type(table).__name__}")
    outcomes = (outcomes,) if isinstance(outcomes, str) else tuple(outcomes)
    if not outcomes:
        raise CampaignInputError("no outcome columns given (e.g. outcomes=['visit', 'conversion', 'spend'])")
    need = [group_col, *outcomes] + ([customer_col] if customer_col else [])
    check_columns(need, table.columns, table="the campaign table", error=CampaignInputError,
                  fix="Map your columns (group_col=, outcomes=, customer_col=)")
    out = table.reset_index(drop=True).copy()
    notes: list[str] = []
    if customer_col:
        ids = out[customer_col]
        if ids.isna().any():
            raise CampaignInputError(f"{int(ids.isna().sum())} row(s) have no {customer_col!r}")
        ids = ids.astype(str)
        dup = ids.duplicated()
        if dup.any():
            raise CampaignInputError(
                f"{int(dup.sum())} duplicated {customer_col!r} value(s), e.g. {ids[dup].unique()[:5].tolist()}: a campaign "
                "table has one row per customer"
            )
        out = out.drop(columns=[customer_col])
    else:
        ids = pd.Series(np.arange(1, len(out) + 1)).astype(str)
        notes.append("no customer id column: rows numbered 1..n")
    if out[group_col].isna().any():
        raise CampaignInputError(f"{int(out[group_col].isna().sum())} row(s) have no group in {group_col!r}")
    group = out[group_col].astype(str)
    labels = list(dict.fromkeys(group))
    control = _label(control)
    if control not in labels:
        raise CampaignInputError(f"control label {control!r} not found in {group_col!r}; its values are {labels}")
    treatments = tuple(x for x in labels if x != control)
    if not treatments:
        raise CampaignInputError(f"only the control group {control!r} in {group_col!r}: nothing to compare")
    money = [c for c in outcomes if c == "spend"] if money is None else \
        ([money] if isinstance(money, str) else list(money))
    stray = [c for c in money if c not in outcomes]
    if stray:
        raise CampaignInputError(f"money outcome(s) {stray} are not among the outcomes {list(outcomes)}")
    binary: dict[str, bool] = {}
    for col in outcomes:
        v = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isfinite(v)
        if bad.any():
            raise CampaignInputError(f"outcome {col!r} has {int(bad.sum())} missing or non-numeric value(s)")
        if (v < 0).any():
            raise CampaignInputError(f"outcome {col!r} has {int((v < 0).sum())} negative value(s)")
        binary[col] = col not in money and bool(np.isin(v, (0.0, 1.0)).all())
        out[col] = v.astype("int64") if binary[col] else v
    out = out.drop(columns=[group_col])
    out.insert(0, "group", pd.array(group.to_numpy(dtype=object), dtype="string"))
    out.insert(0, "customer_id", pd.array(ids.to_numpy(dtype=object), dtype="string"))
    return CampaignData(out, control, treatments, outcomes, binary, notes)


def _label(value: object) -> str:
    """A group label as the text the assignment column is compared in (``0`` and ``"0"`` alike)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def load_hillstrom(path: str | Path) -> CampaignData:
    """Kevin Hillstrom's MineThatData e-mail test (2008) as a :class:`CampaignData`.

    64,000 customers who bought in the last 12 months, assigned at random to a
    men's e-mail, a women's e-mail or no e-mail; outcomes over two weeks:
    ``visit``, ``conversion``, ``spend``. Customer ids are the row numbers
    (1-based); the features are :data:`HILLSTROM_FEATURES` and
    ``history_segment``.

    Parameters
    ----------
    path : str or Path
        ``hillstrom.csv`` or ``hillstrom.csv.gz``.

    Returns
    -------
    CampaignData
        Control ``"No E-Mail"``, treatments ``"Mens E-Mail"`` and ``"Womens E-Mail"``.

    Raises
    ------
    CampaignInputError
        The file lacks the Hillstrom columns.
    FileNotFoundError
        No such file.
    """
    raw = pd.read_csv(path)
    need = {*HILLSTROM_FEATURES, "history_segment", "segment", "visit", "conversion", "spend"}
    check_columns(sorted(need), raw.columns, table=str(path), error=CampaignInputError,
                  fix="It is not the Hillstrom file: pass the MineThatData E-Mail Analytics CSV")
    data = campaign_data(raw, group_col="segment", control="No E-Mail", customer_col=None)
    data.treatments = tuple(sorted(data.treatments))
    return data


def _wilson(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=1 - level, method="wilson")
    return np.asarray(lo, dtype="float64"), np.asarray(hi, dtype="float64")


def _check_level(level: float) -> float:
    if not (isinstance(level, (int, float)) and 0.5 <= level < 1.0):
        raise CampaignInputError(f"confidence level must lie in [0.5, 1), e.g. 0.95; got {shown(level)}")
    return float(level)


def response_rates(data: CampaignData, *, by: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Response rate (binary outcomes) or mean (money) of every group, with confidence intervals.

    Parameters
    ----------
    data : CampaignData
        The campaign.
    by : str, optional
        A column to split every group by (a segment). Customers without a
        value there form the segment :data:`NO_SEGMENT`.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per group (and segment) and outcome: ``group``, [``by``],
        ``outcome``, ``customers``, ``responses`` (sum of the outcome),
        ``rate`` (mean per customer), ``lower``, ``upper`` (Wilson for 0/1
        outcomes, normal for money), ``interval`` ("wilson" / "normal").

    Raises
    ------
    CampaignInputError
        ``by`` not a column, a bad level.
    """
    level = _check_level(level)
    t = data.table
    keys = ["group"] + ([by] if by else [])
    if by and by not in t.columns:
        raise CampaignInputError(f"no column {by!r} to split by; columns: {list(t.columns)}")
    order = {g: i for i, g in enumerate((*data.treatments, data.control))}
    seg_rank = _segment_rank(t[by]) if by else {}
    rows = []
    z = stats.norm.ppf(0.5 + level / 2)
    for key, part in t.groupby(keys, sort=True, observed=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        extra = {}
        if by:
            extra = {"_b": seg_rank.get(key[1], len(seg_rank))}
            key = (key[0], NO_SEGMENT if pd.isna(key[1]) else key[1])
        for col in data.outcomes:
            v = part[col].to_numpy(dtype="float64")
            n = v.size
            s = float(v.sum())
            if data.binary[col]:
                lo, hi = _wilson(np.array([s]), np.array([n]), level)
                lo, hi, kind = float(lo[0]), float(hi[0]), "wilson"
            else:
                se = float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
                lo, hi, kind = s / n - z * se, s / n + z * se, "normal"
            rows.append({**dict(zip(keys, key)), "outcome": col, "customers": n, "responses": s,
                         "rate": s / n, "lower": lo, "upper": hi, "interval": kind, **extra})
    out = pd.DataFrame(rows)
    out["_o"] = out["group"].map(order)
    out["_c"] = out["outcome"].map({c: i for i, c in enumerate(data.outcomes)})
    sort = ["_c", "_o"] + (["_b"] if by else [])
    return out.sort_values(sort, kind="stable").drop(columns=["_o", "_c", "_b"], errors="ignore") \
        .reset_index(drop=True)


def _segment_rank(values: pd.Series) -> dict[object, int]:
    """Sort position of each present segment value (missing ones go last)."""
    return {v: i for i, v in enumerate(sorted(pd.unique(values.dropna())))}


def uplift_by_segment(
    data: CampaignData, treatment: str, *, by: str | None = None, level: float = 0.95, min_customers: int = 30
) -> pd.DataFrame:
    """Uplift of ``treatment`` over the control (difference of rates or means) with confidence intervals.

    Parameters
    ----------
    data : CampaignData
        The campaign.
    treatment : str
        One of ``data.treatments``.
    by : str, optional
        A segment column; one row per segment and outcome (plus ``"all"``).
        Customers without a value there form the segment :data:`NO_SEGMENT`.
    level : float, default 0.95
        Confidence level.
    min_customers : int, default 30
        Segments with fewer customers in either group get no interval (NaN)
        and are flagged ``small``.

    Returns
    -------
    pandas.DataFrame
        ``segment`` (``"all"`` for the whole campaign), ``outcome``,
        ``treated``, ``control`` (customers), ``rate_treated``,
        ``rate_control``, ``uplift`` (treated minus control), ``lower``,
        ``upper`` (Newcombe for 0/1 outcomes, Welch normal for money),
        ``relative_uplift`` (uplift / control rate), ``significant`` (the
        interval excludes 0), ``small``.

    Raises
    ------
    CampaignInputError
        Unknown treatment or column, a bad level.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    level = _check_level(level)
    pair = data.pair(treatment)
    if by and by not in pair.columns:
        raise CampaignInputError(f"no column {by!r} to split by; columns: {list(pair.columns)}")
    z = stats.norm.ppf(0.5 + level / 2)
    parts: list[tuple[str, pd.DataFrame]] = [("all", pair)]
    if by:
        parts += [(NO_SEGMENT if pd.isna(k) else str(k), p)
                  for k, p in pair.groupby(by, sort=True, observed=True, dropna=False)]
    rows = []
    for name, part in parts:
        tr = part[part["treated"] == 1]
        co = part[part["treated"] == 0]
        n1, n0 = len(tr), len(co)
        small = min(n1, n0) < min_customers
        for col in data.outcomes:
            y1, y0 = tr[col].to_numpy(dtype="float64"), co[col].to_numpy(dtype="float64")
            m1 = y1.mean() if n1 else np.nan
            m0 = y0.mean() if n0 else np.nan
            lo = hi = np.nan
            if not small:
                if data.binary[col]:
                    lo, hi = confint_proportions_2indep(y1.sum(), n1, y0.sum(), n0, method="newcomb",
                                                        compare="diff", alpha=1 - level)
                else:
                    se = math.sqrt(y1.var(ddof=1) / n1 + y0.var(ddof=1) / n0)
                    lo, hi = m1 - m0 - z * se, m1 - m0 + z * se
            rows.append({"segment": name, "outcome": col, "treated": n1, "control": n0, "rate_treated": m1,
                         "rate_control": m0, "uplift": m1 - m0, "lower": float(lo), "upper": float(hi),
                         "relative_uplift": (m1 - m0) / m0 if m0 else np.nan,
                         "significant": bool(lo > 0 or hi < 0), "small": small})
    out = pd.DataFrame(rows)
    out["_c"] = out["outcome"].map({c: i for i, c in enumerate(data.outcomes)})
    return out.sort_values(["_c"], kind="stable").drop(columns="_c").reset_index(drop=True)
