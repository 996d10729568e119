"""Per-segment figures and recommended interactions (Interact, Customize).

:func:`segment_summary` computes for every segment its size, share of customers,
revenue share, CLV share, mean P(alive) and mean CLV, plus two indices that do
not depend on the data set's scale:

* ``revenue_index = revenue_share / share`` and
* ``clv_index = clv_share / share`` (1 = the segment's fair share; 2 = twice it).

A recommended interaction and an offer suggestion come from an ordered list of
:class:`ActionRule` (first match wins): each rule holds inclusive lower and
exclusive upper bounds on columns of that table. :func:`default_action_rules`
builds the default list from named thresholds::

    1 Retain and reward  mean_p_alive >= retain_p_alive  and clv_index >= retain_clv_index
    2 Win back           mean_p_alive <  winback_p_alive and revenue_index >= winback_revenue_index
    3 Grow               mean_p_alive >= grow_p_alive    and clv_index >= grow_clv_index
    4 Nurture            mean_p_alive >= nurture_p_alive
    5 Let go             (catch-all)

Nothing is specific to one data set: change a threshold (or pass your own rules)
and the recommendations change accordingly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crm_analysis.segmentation._common import (
    SegmentationInputError,
    customer_ids,
    require_columns,
    require_finite,
)

__all__ = [
    "ActionRule",
    "SegmentSummary",
    "default_action_rules",
    "assign_actions",
    "segment_summary",
    "export_action_table",
]

Bound = tuple[float | None, float | None]


@dataclass(frozen=True)
class ActionRule:
    """One ordered rule mapping segment figures to an interaction and an offer.

    Parameters
    ----------
    action : str
        Recommended interaction, e.g. "Retain and reward".
    offer : str
        Offer suggestion (Customize) for segments this rule matches.
    conditions : mapping of str to (low, high)
        Bounds on columns of the segment summary: ``low <= value < high``;
        ``None`` leaves a side open. An empty mapping matches every segment.
    description : str
        Why the rule recommends this.
    """

    action: str
    offer: str
    conditions: Mapping[str, Bound] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        for col, bound in self.conditions.items():
            if len(bound) != 2:
                raise ValueError(f"action rule {self.action!r}: condition on {col!r} must be (low, high)")
            lo, hi = bound
            if lo is not None and hi is not None and lo >= hi:
                raise ValueError(f"action rule {self.action!r}: empty range {bound} on {col!r}")

    def matches(self, table: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of ``table`` this rule matches."""
        missing = [c for c in self.conditions if c not in table.columns]
        if missing:
            raise ValueError(
                f"action rule {self.action!r} uses unknown column(s) {missing}; "
                f"available: {list(table.columns)}"
            )
        ok = np.ones(len(table), dtype=bool)
        for col, (lo, hi) in self.conditions.items():
            v = table[col].to_numpy(dtype="float64")
            if lo is not None:
                ok &= v >= lo
            if hi is not None:
                ok &= v < hi
        return ok

    def describe(self) -> str:
        """The rule's conditions in words."""
        parts = []
        for col, (lo, hi) in self.conditions.items():
            if lo is not None:
                parts.append(f"{col} >= {lo:g}")
            if hi is not None:
                parts.append(f"{col} < {hi:g}")
        return " and ".join(parts) if parts else "all other segments"


def default_action_rules(
    retain_p_alive: float = 0.5,
    retain_clv_index: float = 1.5,
    winback_p_alive: float = 0.5,
    winback_revenue_index: float = 0.75,
    grow_p_alive: float = 0.5,
    grow_clv_index: float = 0.75,
    nurture_p_alive: float = 0.4,
) -> list[ActionRule]:
    """The default ordered action rules, with their thresholds as parameters.

    Parameters
    ----------
    retain_p_alive, retain_clv_index : float
        Segments at least this likely alive and with at least this CLV index
        are retained and rewarded.
    winback_p_alive, winback_revenue_index : float
        Segments less likely alive than this, but with at least this revenue
        index (valuable in the past), are won back.
    grow_p_alive, grow_clv_index : float
        Active segments with at least this CLV index are grown.
    nurture_p_alive : float
        Remaining segments at least this likely alive are nurtured.

    Returns
    -------
    list of ActionRule
        Ending with the catch-all "Let go".
    """
    return [
        ActionRule(
            "Retain and reward",
            "Loyalty tier or VIP service, early access and thank-you gifts; no blanket discounts",
            {"mean_p_alive": (retain_p_alive, None), "clv_index": (retain_clv_index, None)},
            "active and worth far more than their share: protect the relationship",
        ),
        ActionRule(
            "Win back",
            "Personal reactivation contact with a time-limited incentive on their past favourite categories",
            {"mean_p_alive": (None, winback_p_alive), "revenue_index": (winback_revenue_index, None)},
            "valuable in the past but probably lapsing: worth a reactivation effort",
        ),
        ActionRule(
            "Grow",
            "Cross-sell and up-sell bundles, next-purchase incentive, membership invitation",
            {"mean_p_alive": (grow_p_alive, None), "clv_index": (grow_clv_index, None)},
            "active with fair future value: raise frequency and basket size",
        ),
        ActionRule(
            "Nurture",
            "Onboarding / welcome series and a second-purchase voucher",
            {"mean_p_alive": (nurture_p_alive, None)},
            "probably still active but low value so far: build the habit at low cost",
        ),
        ActionRule(
            "Let go",
            "Low-cost channels only (newsletter); no paid contact",
            {},
            "unlikely to return and of low value: do not spend on them",
        ),
    ]


def assign_actions(table: pd.DataFrame, rules: Sequence[ActionRule] | None = None) -> pd.DataFrame:
    """Action, offer and matching rule of every row of a segment summary table.

    Parameters
    ----------
    table : pandas.DataFrame
        Segment figures (columns used by the rules).
    rules : sequence of ActionRule, optional
        Ordered rules, first match wins; default :func:`default_action_rules`.

    Returns
    -------
    pandas.DataFrame
        ``action``, ``offer``, ``rule`` (the matched conditions in words), aligned with ``table``.

    Raises
    ------
    ValueError
        When a rule uses an unknown column or some rows match no rule (listed).
    """
    rules = list(default_action_rules() if rules is None else rules)
    if not rules:
        raise ValueError("no action rules given")
    n = len(table)
    action = np.full(n, None, dtype=object)
    offer = np.full(n, None, dtype=object)
    why = np.full(n, None, dtype=object)
    free = np.ones(n, dtype=bool)
    for rule in rules:
        if not isinstance(rule, ActionRule):
            raise ValueError(f"action rules must be ActionRule objects, got {type(rule).__name__}")
        hit = free & rule.matches(table)
        action[hit], offer[hit], why[hit] = rule.action, rule.offer, rule.describe()
        free &= ~hit
    if free.any():
        raise ValueError(
            f"no action rule matches {list(table.index[free])}; end the rules with a catch-all "
            "ActionRule(action, offer, conditions={})"
        )
    return pd.DataFrame({"action": action, "offer": offer, "rule": why}, index=table.index).astype("string")


@dataclass
class SegmentSummary:
    """Per-segment figures and recommended interactions.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per segment (index ``segment``): ``customers``, ``share``,
        ``revenue``, ``revenue_share``, ``clv_total``, ``clv_share``,
        ``mean_p_alive``, ``mean_clv``, ``revenue_index``, ``clv_index``,
        ``action``, ``offer``, ``rule``; sorted by CLV share, descending.
    rules : list of ActionRule
        The rules used.
    """

    table: pd.DataFrame
    rules: list[ActionRule]

    def export_action_table(self, path: str | Path, segments: pd.DataFrame | None = None) -> Path:
        """Write the action table as CSV for campaign tools; see :func:`export_action_table`."""
        return export_action_table(self, path, segments)

    def plot(self, axes: Sequence[plt.Axes] | None = None) -> Figure:
        """Bar charts: share of customers, revenue and CLV per segment; mean P(alive).

        Parameters
        ----------
        axes : two matplotlib Axes, optional
            Axes to draw on; a new figure otherwise.
        """
        own = axes is None
        if own:
            fig, axes = plt.subplots(1, 2, figsize=(12, 0.45 * len(self.table) + 2), sharey=True)
        else:
            fig = axes[0].figure
        t = self.table.iloc[::-1]
        y = np.arange(len(t))
        h = 0.27
        ax = axes[0]
        ax.barh(y + h, t["share"], h, label="customers")
        ax.barh(y, t["revenue_share"], h, label="revenue")
        ax.barh(y - h, t["clv_share"], h, label="CLV")
        ax.set_yticks(y, t.index)
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel("Share of total")
        ax.set_ylabel("Segment")
        ax.set_title("Segment shares of customers, revenue and CLV")
        ax.legend(fontsize="small")
        ax = axes[1]
        ax.barh(y, t["mean_p_alive"], color="C2")
        for yi, (a, p) in enumerate(zip(t["action"], t["mean_p_alive"])):
            ax.text(min(p, 1.0) + 0.01, yi, str(a), va="center", fontsize="small")
        ax.set_xlim(0, 1.45)
        ax.set_xlabel("Mean P(alive)")
        ax.set_title("Mean P(alive) and recommended action")
        if own:
            fig.tight_layout()
        return fig


def segment_summary(
    table: pd.DataFrame,
    segment_col: str = "segment",
    revenue_col: str = "revenue",
    clv_col: str = "clv",
    p_alive_col: str = "p_alive",
    action_rules: Sequence[ActionRule] | None = None,
    mean_cols: Sequence[str] = ("r_score", "f_score", "m_score"),
) -> SegmentSummary:
    """Figures and recommended interaction of every segment.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer with the segment, revenue, CLV and P(alive) columns.
    segment_col, revenue_col, clv_col, p_alive_col : str
        Column names.
    action_rules : sequence of ActionRule, optional
        Ordered rules (first match wins); default :func:`default_action_rules`.
    mean_cols : sequence of str, default ("r_score", "f_score", "m_score")
        Further columns whose segment mean is added as ``mean_<col>`` where
        present in ``table`` (usable in action rules).

    Returns
    -------
    SegmentSummary

    Raises
    ------
    SegmentationInputError
        Missing columns, NaN values or missing segments, or a non-positive
        revenue or CLV total (shares undefined).
    """
    require_columns(table, [segment_col, revenue_col, clv_col, p_alive_col], "customer table")
    if table[segment_col].isna().any():
        raise SegmentationInputError(f"{int(table[segment_col].isna().sum())} customer(s) have no segment")
    if len(table) == 0:
        raise SegmentationInputError("no customers")
    df = pd.DataFrame(
        {
            "segment": table[segment_col].astype("string").to_numpy(),
            "revenue": require_finite(table[revenue_col], revenue_col),
            "clv": require_finite(table[clv_col], clv_col),
            "p_alive": require_finite(table[p_alive_col], p_alive_col),
        }
    )
    for col in ("revenue", "clv"):
        if df[col].sum() <= 0:
            raise SegmentationInputError(f"total {col} is {df[col].sum():.4g}: shares are undefined")
    g = df.groupby("segment", observed=True, sort=True)
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "revenue": g["revenue"].sum(),
            "clv_total": g["clv"].sum(),
            "mean_p_alive": g["p_alive"].mean(),
            "mean_clv": g["clv"].mean(),
        }
    )
    out.insert(1, "share", out["customers"] / out["customers"].sum())
    out.insert(3, "revenue_share", out["revenue"] / df["revenue"].sum())
    out.insert(5, "clv_share", out["clv_total"] / df["clv"].sum())
    for col in mean_cols:
        if col in table.columns:
            out[f"mean_{col}"] = pd.Series(require_finite(table[col], col)).groupby(df["segment"]).mean()
    out["revenue_index"] = out["revenue_share"] / out["share"]
    out["clv_index"] = out["clv_share"] / out["share"]
    out = out.sort_values(["clv_share", "customers"], ascending=False, kind="stable")
    out.index.name = "segment"
    rules = list(default_action_rules() if action_rules is None else action_rules)
    out = out.join(assign_actions(out, rules))
    return SegmentSummary(table=out, rules=rules)


def export_action_table(
    summary: SegmentSummary | pd.DataFrame,
    path: str | Path,
    segments: pd.DataFrame | None = None,
    segment_col: str = "segment",
) -> Path:
    """Write the action table as CSV (UTF-8, comma separated) for campaign tools.

    Parameters
    ----------
    summary : SegmentSummary or DataFrame
        Output of :func:`segment_summary` (or its ``table``).
    path : str or Path
        CSV file to write (parent directories are created).
    segments : pandas.DataFrame, optional
        One row per customer with ``customer_id`` and ``segment_col``. When
        given, the file has one row per customer (``customer_id``, the
        customer's columns, ``action``, ``offer``); otherwise one row per segment.
    segment_col : str, default "segment"
        Segment column of ``segments``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    table = summary.table if isinstance(summary, SegmentSummary) else summary
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if segments is None:
        out = table.reset_index()
    else:
        require_columns(segments, [segment_col], "segments")
        ids = customer_ids(segments)
        out = segments.drop(columns=[c for c in ("action", "offer") if c in segments.columns])
        out = out.assign(customer_id=ids.to_numpy())
        unknown = set(out[segment_col].astype(str)) - set(table.index.astype(str))
        if unknown:
            raise ValueError(f"segments {sorted(unknown)} are not in the summary table")
        seg = out[segment_col].astype(str)
        for col in ("action", "offer"):
            out[col] = seg.map(dict(zip(table.index.astype(str), table[col].astype(str))))
    out.to_csv(path, index=False)
    return path
