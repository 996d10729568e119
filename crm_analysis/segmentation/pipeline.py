"""The segmentation step of the report chain: CLV table in, ``segments`` table out.

:func:`run_segmentation` runs every part on a CLV table (columns of
``clv.parquet``: customer_id, frequency, recency, T, monetary_value, revenue,
p_alive, expected_purchases, expected_spend, clv) and keeps the intermediate
results for the report; :func:`segment_customers` returns only the
``segments.parquet`` columns::

    customer_id, r_score, f_score, m_score, segment, value_tier, cluster, action

with exactly one row per customer and no missing segment. The ``action`` is the
customer's own (from the customer's state: days since the last purchase and
P(alive) of the purchase model named in the CLV table; see
:mod:`crm_analysis.segmentation.actions`).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, InputTypeError, OperationError, shown
from crm_analysis._validate import check_seed

from collections.abc import Sequence
import inspect
import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crm_analysis.contracts import CLV, SEGMENTS, headline_labels
from crm_analysis.segmentation._common import SegmentationInputError, customer_ids, require_columns
from crm_analysis.segmentation.actions import (
    NEW_CUSTOMER_INTENTS,
    ActionRule,
    LapsePolicy,
    SegmentSummary,
    _unit_days,
    default_action_rules,
    segment_summary,
)
from crm_analysis.segmentation.clustering import BehaviouralClustering
from crm_analysis.segmentation.pareto import ParetoResult, pareto_analysis
from crm_analysis.segmentation.rfm_scores import SegmentRule, default_segment_rules, rfm_scores, rfm_segments
from crm_analysis.segmentation.value import ValueGrid, current_profit, value_grid

__all__ = [
    "SegmentationParams",
    "SEGMENTS_COLUMNS",
    "SEGMENTATION_HEADLINES",
    "SegmentationResult",
    "run_segmentation",
    "segment_customers",
]

#: Columns of ``segments.parquet``: its contract (:data:`crm_analysis.contracts.SEGMENTS`).
SEGMENTS_COLUMNS: tuple[str, ...] = SEGMENTS.names
#: Columns of the ``clv.parquet`` contract (:data:`crm_analysis.contracts.CLV`) this step reads.
_CLV_INPUT: tuple[str, ...] = tuple(
    c for c in CLV.required if c in ("customer_id", "frequency", "recency", "T", "monetary_value", "revenue",
                                     "p_alive", "clv")
)

#: Headline figures of the segmentation report (key -> label), see :meth:`SegmentationResult.headlines`;
#: declared in :data:`crm_analysis.contracts.HEADLINES`.
SEGMENTATION_HEADLINES: dict[str, str] = headline_labels("segmentation")


@dataclass(frozen=True, kw_only=True)
class SegmentationParams:
    """Parameters of the segmentation step (the parameters cell of ``20_segmentation.ipynb``).

    The notebook builds it from its parameters cell and calls
    ``run_segmentation(clv, params)``; a notebook run on its own
    that needs ``segments.parquet`` does the same with the defaults
    (:mod:`crm_analysis.steps`).

    Parameters
    ----------
    bins : int, default 5
        RFM score levels (2 or more).
    n_clusters : int, optional
        Behavioural clusters; ``None``: chosen by silhouette.
    cost_rate : float, default 0.6
        Variable cost as a fraction of revenue, for current profit.
    lapsed_days : float, default 365
        A customer is lapsed after this many days without a purchase ...
    lapsed_p_alive : float, default 0.5
        ... or with P(alive) below this (:class:`LapsePolicy`).
    new_customer_days : float, default 90
        Onboarding only for active customers whose first purchase is this recent.
    seed : int, default 42
        Seed of the clustering.

    Raises
    ------
    ValueError
        A value the step would refuse (naming the parameter): ``bins`` or
        ``n_clusters`` below 2, ``cost_rate`` outside [0, 1], the
        :class:`LapsePolicy` and :func:`default_action_rules` checks.
    """

    bins: int = 5
    n_clusters: int | None = None
    cost_rate: float = 0.6
    lapsed_days: float = 365.0
    lapsed_p_alive: float = 0.5
    new_customer_days: float = 90.0
    seed: int = 42

    def __post_init__(self) -> None:
        if isinstance(self.bins, bool) or not isinstance(self.bins, int) or self.bins < 2:
            raise InputError(f"bins must be an integer of at least 2, got {shown(self.bins)}")
        if self.n_clusters is not None and (
            isinstance(self.n_clusters, bool) or not isinstance(self.n_clusters, int) or self.n_clusters < 2
        ):
            raise InputError(f"n_clusters must be None (chosen by silhouette) or an integer of at least 2, "
                             f"got {shown(self.n_clusters)}")
        if isinstance(self.cost_rate, bool) or not isinstance(self.cost_rate, (int, float)) \
                or not 0.0 <= self.cost_rate <= 1.0:
            raise InputError(f"cost_rate must be a fraction of revenue in [0, 1], got {shown(self.cost_rate)}")
        self.lapse  # LapsePolicy checks
        self.action_rules  # default_action_rules checks
        check_seed(self.seed)

    @property
    def lapse(self) -> LapsePolicy:
        """The :class:`LapsePolicy` of ``lapsed_days`` and ``lapsed_p_alive``."""
        return LapsePolicy(lapsed_days=self.lapsed_days, lapsed_p_alive=self.lapsed_p_alive)

    @property
    def action_rules(self) -> list[Any]:
        """The default action rules with ``new_customer_days``."""
        return default_action_rules(new_customer_days=self.new_customer_days)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`run_segmentation` for these parameters."""
        return {"bins": self.bins, "n_clusters": self.n_clusters, "seed": self.seed, "cost_rate": self.cost_rate,
                "lapse": self.lapse, "action_rules": self.action_rules}


@dataclass
class SegmentationResult:
    """Everything the segmentation step computed.

    Attributes
    ----------
    segments : pandas.DataFrame
        The ``segments.parquet`` table (:data:`SEGMENTS_COLUMNS`).
    customers : pandas.DataFrame
        The CLV table with scores, profit, segment, value tier, cluster, action and offer.
    scores : pandas.DataFrame
        Output of :func:`~crm_analysis.segmentation.rfm_scores.rfm_scores`.
    pareto_revenue, pareto_clv : ParetoResult
        Concentration of revenue and of CLV.
    grid : ValueGrid
        Current profit vs CLV grid.
    clustering : BehaviouralClustering
        The fitted clustering.
    summary : SegmentSummary
        Per-segment figures and actions.
    """

    segments: pd.DataFrame
    customers: pd.DataFrame
    scores: pd.DataFrame
    pareto_revenue: ParetoResult
    pareto_clv: ParetoResult
    grid: ValueGrid
    clustering: BehaviouralClustering
    summary: SegmentSummary

    @property
    def segment_actions(self) -> pd.DataFrame:
        """The ``segment_actions.parquet`` table (contract :data:`crm_analysis.contracts.SEGMENT_ACTIONS`)."""
        return self.summary.table.reset_index()

    def headlines(self) -> dict[str, float | int | str]:
        """Headline figures of the step (keys of :data:`SEGMENTATION_HEADLINES`)."""
        t = self.summary.table
        c = self.summary.customers
        return {
            "top20_revenue_share": self.pareto_revenue.share_of_top(0.2),
            "gini_revenue": self.pareto_revenue.gini,
            "customers_for_80pct_revenue": self.pareto_revenue.customers_for_share(share=0.8),
            "n_segments": int(len(t)),
            "largest_segment": str(t["customers"].idxmax()),
            "n_clusters": int(self.clustering.n_clusters_),
            "cluster_stability_ari": float(self.clustering.stability_),
            "p_alive_model": self.summary.p_alive_model,
            "lapsed_customer_share": float((c["state"] == "lapsed").mean()),
            "onboarding_customers": int(c["intent"].isin(list(NEW_CUSTOMER_INTENTS)).sum()),
        }


def _run_segmentation(
    clv_table: pd.DataFrame,
    *,
    bins: int = 5,
    n_clusters: int | None = None,
    seed: int = 42,
    rules: Sequence[SegmentRule] | None = None,
    action_rules: Sequence[ActionRule] | None = None,
    cost_rate: float = 0.0,
    cost_per_order: float = 0.0,
    tiers: int = 3,
    features: Sequence[str] = ("recency", "frequency", "monetary_value", "clv"),
    k_range: tuple[int, int] = (2, 8),
    n_stability: int = 5,
    negative: str = "clip",
    lapse: LapsePolicy | None = None,
    unit_days: float | None = None,
    p_alive_model: str | None = None,
) -> SegmentationResult:
    """:func:`run_segmentation` with its options as keywords (see there)."""
    require_columns(clv_table, list(_CLV_INPUT) + [f for f in features if f not in _CLV_INPUT], "CLV table")
    if len(clv_table) < 2:
        raise SegmentationInputError(f"segmentation needs at least 2 customers, got {len(clv_table)}")
    ids = customer_ids(clv_table)
    if unit_days is None and not {"days_since_last", "age_days"} <= set(clv_table.columns):
        unit_days = _unit_days(clv_table, None)
    customers = clv_table.reset_index(drop=True).copy()
    customers["customer_id"] = ids.to_numpy()
    customers["customer_id"] = customers["customer_id"].astype("string")
    scores = rfm_scores(customers, bins=bins)
    customers[["r_score", "f_score", "m_score", "fm_score"]] = scores[["r_score", "f_score", "m_score", "fm_score"]]
    customers["segment"] = rfm_segments(scores, rules=rules, bins=bins).to_numpy()
    customers["current_profit"] = current_profit(
        customers, cost_rate=cost_rate, cost_per_order=cost_per_order
    ).to_numpy()
    referral = "referrals" if "referrals" in customers.columns else None
    grid = value_grid(customers, "current_profit", "clv", n=tiers, referral_col=referral)
    customers["value_tier"] = grid.table["value_tier"].to_numpy()
    clus = BehaviouralClustering(
        n_clusters=n_clusters, k_range=k_range, features=features, seed=seed, n_stability=n_stability
    ).fit(customers)
    customers["cluster"] = clus.labels_
    summary = segment_summary(
        customers, action_rules=action_rules, policy=lapse, unit_days=unit_days, p_alive_model=p_alive_model,
        segment_names=[r.name for r in (rules if rules is not None else default_segment_rules(bins=bins))],
    )
    acts = summary.customers
    for col in ("days_since_last", "state", "action", "offer", "intent", "p_alive_model"):
        customers[col] = acts[col].to_numpy()
    segments = customers[list(SEGMENTS_COLUMNS)].copy()
    segments = segments.astype(
        {"customer_id": "string", "r_score": "int64", "f_score": "int64", "m_score": "int64",
         "segment": "string", "value_tier": "string", "cluster": "int64", "action": "string"}
    )
    if segments[["segment", "value_tier", "action"]].isna().any().any():  # pragma: no cover - guarded above
        raise OperationError("internal error: a customer has no segment, value tier or action")
    return SegmentationResult(
        segments=segments,
        customers=customers,
        scores=scores,
        pareto_revenue=pareto_analysis(customers["revenue"], negative=negative, label="revenue"),
        pareto_clv=pareto_analysis(customers["clv"], negative=negative, label="CLV"),
        grid=grid,
        clustering=clus,
        summary=summary,
    )


#: Options of :func:`run_segmentation` that are fields of :class:`SegmentationParams`; as keywords they are
#: deprecated (the former calling form ``run_segmentation(clv, bins=..., ...)``).
_PARAMS_FIELDS = ("bins", "n_clusters", "seed", "cost_rate")


def run_segmentation(
    clv_table: pd.DataFrame,
    params: SegmentationParams | None = None,
    *,
    rules: Sequence[SegmentRule] | None = None,
    action_rules: Sequence[ActionRule] | None = None,
    lapse: LapsePolicy | None = None,
    cost_per_order: float = 0.0,
    tiers: int = 3,
    features: Sequence[str] = ("recency", "frequency", "monetary_value", "clv"),
    k_range: tuple[int, int] = (2, 8),
    n_stability: int = 5,
    negative: str = "clip",
    unit_days: float | None = None,
    p_alive_model: str | None = None,
    **deprecated: Any,
) -> SegmentationResult:
    """Run RFM scoring, named segments, Pareto analysis, value tiers, clustering and actions.

    One calling form, as every step: ``run_segmentation(clv, params)``.

    Parameters
    ----------
    clv_table : pandas.DataFrame
        One row per customer, columns of ``clv.parquet`` (at least customer_id,
        frequency, recency, T, monetary_value, revenue, p_alive, clv).
    params : SegmentationParams, optional
        The step's parameters (``bins``, ``n_clusters``, ``seed``,
        ``cost_rate``, the lapse policy and the action rules' onboarding
        window); default ``SegmentationParams()``, the notebook's defaults
        (``cost_rate`` 0.6).
    rules : sequence of SegmentRule, optional
        RFM segment rules; default the eleven-segment map.
    action_rules : sequence of ActionRule, optional
        Action rules instead of ``params.action_rules`` (the defaults with
        ``params.new_customer_days``).
    lapse : LapsePolicy, optional
        Lapse policy instead of ``params.lapse`` (e.g. other
        ``lapsed_segments``).
    cost_per_order : float, default 0.0
        Cost per order, for current profit (orders = frequency + 1).
    tiers : int, default 3
        Size of the current-vs-future value grid (2 or 3).
    features : sequence of str
        Clustering features.
    k_range : tuple of int, default (2, 8)
        k tried when ``params.n_clusters`` is None.
    n_stability : int, default 5
        Clustering refits for the stability ARI.
    negative : {"clip", "raise"}, default "clip"
        Negative revenue / CLV values in the Pareto analysis: set to 0 and
        count (reported in the results), or raise.
    unit_days : float, optional
        Days per time unit of ``recency``/``T``; default from
        ``clv_table.attrs`` (``unit_days`` / ``time_unit``, kept in
        ``clv.parquet``).
    p_alive_model : str, optional
        Name of the purchase model of ``p_alive``; default from the
        ``p_alive_model`` column or ``attrs["model"]`` of ``clv_table``.
    **deprecated
        ``bins``, ``n_clusters``, ``seed``, ``cost_rate`` as keywords (the
        former calling form): they replace the values of ``params`` (of
        ``SegmentationParams()`` without it), with a ``FutureWarning``
        naming the new form. The defaults are those of
        :class:`SegmentationParams` in both forms (``cost_rate`` was 0.0 in
        the keyword form before issue #13).

    Returns
    -------
    SegmentationResult

    Raises
    ------
    InputTypeError
        An option given both in ``params`` and as a keyword, an unknown
        keyword, or ``params`` not a :class:`SegmentationParams`.
    SegmentationInputError
        Missing columns, bad values, fewer than 2 customers, unknown time unit.
    ValueError
        A refused action rule set (see
        :func:`~crm_analysis.segmentation.actions.validate_action_rules`); a
        deprecated keyword with a value :class:`SegmentationParams` refuses.

    Warns
    -----
    FutureWarning
        For the deprecated keywords.
    """
    given = params is not None
    if params is None:
        params = SegmentationParams()
    elif not isinstance(params, SegmentationParams):
        raise InputTypeError(f"params must be a SegmentationParams, got {type(params).__name__}: "
                             "run_segmentation(clv, SegmentationParams(bins=5, ...))")
    unknown = sorted(set(deprecated) - set(_PARAMS_FIELDS))
    if unknown:
        raise InputTypeError(f"run_segmentation: got an unexpected keyword argument {unknown[0]!r}; its options are "
                             f"{list(inspect.signature(run_segmentation).parameters)[1:-1]} (and the fields of "
                             "SegmentationParams in params)")
    if deprecated:
        if given:
            raise InputTypeError(f"run_segmentation got {sorted(deprecated)} both in params and as keywords: set "
                                 "them in SegmentationParams")
        import warnings

        fields = ", ".join(f"{k}={shown(v)}" for k, v in deprecated.items())
        warnings.warn(f"run_segmentation(clv, {fields}) is deprecated: use run_segmentation(clv, "
                      f"SegmentationParams({fields})); the defaults are SegmentationParams' (cost_rate 0.6)",
                      FutureWarning, stacklevel=2)
        params = dataclasses.replace(params, **deprecated)
    options = params.kwargs()
    if lapse is not None:
        options["lapse"] = lapse
    if action_rules is not None:
        options["action_rules"] = action_rules
    return _run_segmentation(clv_table, rules=rules, cost_per_order=cost_per_order, tiers=tiers, features=features,
                             k_range=k_range, n_stability=n_stability, negative=negative, unit_days=unit_days,
                             p_alive_model=p_alive_model, **options)


def segment_customers(
    clv_table: pd.DataFrame,
    params: SegmentationParams | None = None,
    **options: Any,
) -> pd.DataFrame:
    """The ``segments.parquet`` table: one row per customer of ``clv_table``.

    Parameters
    ----------
    clv_table : pandas.DataFrame
        One row per customer, columns of ``clv.parquet``.
    params : SegmentationParams, optional
        The step's parameters; default ``SegmentationParams()``.
    **options
        Further options of :func:`run_segmentation` (``rules``, ``n_stability``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SEGMENTS_COLUMNS`, in the row order of ``clv_table``.
    """
    return run_segmentation(clv_table, params, **options).segments
