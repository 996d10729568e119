"""The IDIC step of the report chain: profit, campaign response and next-best products per customer.

Inputs (run-directory artefacts): ``transactions`` (cleaned purchases),
``returns`` (the return lines the data-quality step dropped; optional),
``clv`` and ``segments``. :func:`run_idic` computes

1. **profit per customer** from :class:`IdicParams`' cost drivers
   (:mod:`crm_analysis.profitability`), the whale curve and profit deciles;
   when costs are configured (:attr:`IdicParams.costs_configured`) profit
   replaces revenue as the current value of the value grid and the win-back
   rule looks at the profit index;
2. **campaign response and uplift** when a campaign is configured
   (:mod:`crm_analysis.campaigns`): rates, uplift, uplift models on a
   held-out split and, for the chain's customers, the expected profit of a
   contact (``campaign_eligible``);
3. **next-best products** (:mod:`crm_analysis.recommend`) when the
   transactions name products: top-k unseen products per customer, their
   hit rate on a time holdout against the popularity baseline, and the
   strongest associations per segment.

Its artefacts' schemas are here (:data:`CUSTOMER_PROFIT_SCHEMA`,
:data:`NEXT_BEST_PRODUCTS_SCHEMA`, :data:`CAMPAIGN_TARGETING_SCHEMA`; their
contracts are :data:`crm_analysis.contracts.CUSTOMER_PROFIT` etc.,
:data:`CUSTOMER_ACTIONS_IDIC`) and its headline figures in
:data:`IDIC_HEADLINES`.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, SourceNotFoundError, shown
from crm_analysis._validate import check_columns, check_seed, renamed_keys, renamed_names

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis.campaigns import (CampaignAnalysis, CampaignData, CampaignInputError, analyse_campaign, campaign_data,
                                    load_hillstrom)
from crm_analysis import contracts as _contracts
from crm_analysis.data import return_mask
from crm_analysis.data.schema import Schema
from crm_analysis.profitability import (
    CostDrivers,
    ProfitTable,
    WhaleCurve,
    customer_profitability,
    profit_deciles,
    whale_curve,
)
from crm_analysis.recommend import (
    AssociationRuleRecommender,
    HoldoutResult,
    ItemSimilarityRecommender,
    PopularityRecommender,
    association_rules,
    evaluate_holdout,
    rules_by_segment,
)
from crm_analysis.segmentation import LapsePolicy, SegmentSummary, ValueGrid, default_action_rules, value_grid
from crm_analysis.segmentation.actions import segment_summary

__all__ = [
    "IdicParams",
    "check_campaign_file",
    "IdicResult",
    "IDIC_HEADLINES",
    "CUSTOMER_PROFIT_SCHEMA",
    "NEXT_BEST_PRODUCTS_SCHEMA",
    "CAMPAIGN_TARGETING_SCHEMA",
    "CUSTOMER_ACTIONS_IDIC",
    "RECOMMENDERS",
    "CAMPAIGN_LOADERS",
    "run_idic",
]

#: Recommenders the step can use for the next-best products, by name.
RECOMMENDERS: dict[str, type] = {
    "item_similarity": ItemSimilarityRecommender,
    "association_rules": AssociationRuleRecommender,
    "popularity": PopularityRecommender,
}
#: Campaign sources: ``synthetic`` (a simulated test on the run's customers), ``hillstrom``, ``csv``, ``parquet``.
CAMPAIGN_LOADERS: tuple[str, ...] = ("synthetic", "hillstrom", "csv", "parquet")
_CAMPAIGN_KEYS = {"loader", "path", "group_col", "control", "outcomes", "customer_col", "treatment", "outcome",
                  "features", "by", "value_col", "value_per_response"}
#: Renamed keys of the campaign spec, taken with a FutureWarning (findings_13e I8: one name per column role).
_CAMPAIGN_RENAMED = {"id_col": "customer_col"}
#: Chain columns an uplift model may use as features (joined by customer id).
CHAIN_FEATURES: tuple[str, ...] = ("frequency", "recency", "T", "monetary_value", "p_alive", "clv", "profit",
                                   "return_rate")

# The artefacts of this step are declared once, with the other hand-over files, in crm_analysis.contracts
# (contracts.CUSTOMER_PROFIT is the TableContract; these are its schema, named *_SCHEMA as the others).
CUSTOMER_PROFIT_SCHEMA: Schema = _contracts.CUSTOMER_PROFIT.schema
NEXT_BEST_PRODUCTS_SCHEMA: Schema = _contracts.NEXT_BEST_PRODUCTS.schema
CAMPAIGN_TARGETING_SCHEMA: Schema = _contracts.CAMPAIGN_TARGETING.schema
#: Old names of the three schemas (fourth newcomer finding H16: crm_analysis.contracts has TableContracts of the
#: same names); served with a FutureWarning.
_RENAMED = {"CUSTOMER_PROFIT": "CUSTOMER_PROFIT_SCHEMA", "NEXT_BEST_PRODUCTS": "NEXT_BEST_PRODUCTS_SCHEMA",
            "CAMPAIGN_TARGETING": "CAMPAIGN_TARGETING_SCHEMA"}
_WHY = "crm_analysis.contracts.CUSTOMER_PROFIT (etc.) is the artefact's TableContract; this is its schema"
#: Columns ``customer_actions_idic.csv`` adds to those of the segmentation's ``customer_actions.csv``.
CUSTOMER_ACTIONS_IDIC: Schema = _contracts.CUSTOMER_ACTIONS_IDIC

#: Headline figures of the IDIC report (key -> label), see :meth:`IdicResult.headlines`;
#: declared in :data:`crm_analysis.contracts.HEADLINES`.
IDIC_HEADLINES: dict[str, str] = _contracts.headline_labels("idic")


def _num(name: str, value: Any, lo: float, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name} must be a number, got {shown(value)}")
    if not lo <= value <= hi:
        raise InputError(f"{name} must lie in [{lo:g}, {hi:g}], got {shown(value)}")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class IdicParams:
    """Parameters of the IDIC step (the notebook's parameters cell, validated).

    Parameters
    ----------
    gross_margin, margin_by_product, cost_per_order, cost_per_line, cost_per_return
        Cost drivers (:class:`~crm_analysis.profitability.CostDrivers`);
        defaults cost nothing (profit = net revenue).
    top_k : int, default 10
        Next-best products per customer.
    recommender : {"item_similarity", "association_rules", "popularity"}
        Model of the next-best products.
    holdout_days : int, default 60
        Days before ``as_of`` held out to evaluate the recommenders (0: no evaluation).
    rules_min_support, rules_min_confidence : float
        Thresholds of the association rules shown (share of orders, P(B | A)).
    rules_per_segment : int, default 3
    exclude_products : list of str, optional
        Product codes that are not merchandise (postage, fees, manual
        adjustments, e.g. ``POST``, ``DOT``, ``M`` of UCI Online Retail): left
        out of the next-best products and the rules (neither recommended nor
        evidence), counted in the notes. Profit is unchanged.
    campaign : dict, optional
        Campaign source: ``{"loader": "synthetic"}`` (a simulated test on the
        run's customers), ``{"loader": "hillstrom", "path": ...}``, or
        ``{"loader": "csv" | "parquet", "path": ..., "group_col", "control",
        "outcomes", "customer_col"}`` (the customer id column; the old key
        ``id_col`` is taken with a ``FutureWarning``); optional ``treatment`` (default the first),
        ``outcome`` (the 0/1 outcome the models predict, default
        ``"conversion"``), ``value_col`` (the money outcome, default
        ``"spend"`` when there is one), ``value_per_response`` (revenue of
        one extra response; default the treated responders' mean
        ``value_col``; needed without a money outcome), ``features``
        (default: the file's other columns, or the chain's customer figures
        when it has none), ``by`` (segment column of the uplift table).
    contact_cost : float, default 0.0
        Cost of one campaign contact.
    campaign_margin : float, optional
        Margin on campaign revenue; default ``gross_margin``.
    campaign_test_size : float, default 0.3
        Held-out share of the campaign.
    lapsed_days : float, default 365
        A customer is lapsed after this many days without a purchase ...
    lapsed_p_alive : float, default 0.5
        ... or with P(alive) below this (:class:`~crm_analysis.segmentation.LapsePolicy`,
        as in the segmentation step).
    new_customer_days : float, default 90
        Onboarding only for active customers whose first purchase is this
        recent (the segmentation step's default action rules).
    as_of : str, default "2024-12-31"
        Observation end (ISO date, no time of day); the recommenders' holdout ends here.
    seed : int, default 42
        Seed of the campaign model's split and fits.

    Raises
    ------
    ValueError
        Any value outside its range, an unknown recommender or campaign loader or key,
        ``as_of`` not an ISO date.
    """

    gross_margin: float = 1.0
    margin_by_product: Mapping[str, float] | None = None
    cost_per_order: float = 0.0
    cost_per_line: float = 0.0
    cost_per_return: float = 0.0
    top_k: int = 10
    recommender: str = "item_similarity"
    holdout_days: int = 60
    rules_min_support: float = 0.01
    rules_min_confidence: float = 0.1
    rules_per_segment: int = 3
    exclude_products: Sequence[str] | None = None
    campaign: Mapping[str, Any] | None = None
    contact_cost: float = 0.0
    campaign_margin: float | None = None
    campaign_test_size: float = 0.3
    lapsed_days: float = 365.0
    lapsed_p_alive: float = 0.5
    new_customer_days: float = 90.0
    as_of: str = "2024-12-31"
    seed: int = 42

    def __post_init__(self) -> None:
        from crm_analysis._dates import parse_date

        parse_date(self.as_of, "as_of", tz="strip", time="reject")
        check_seed(self.seed)
        self.drivers  # validates the cost drivers  # noqa: B018
        self.lapse  # LapsePolicy checks  # noqa: B018
        default_action_rules(new_customer_days=self.new_customer_days)  # its checks
        for name, lo in (("top_k", 1), ("holdout_days", 0), ("rules_per_segment", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise InputError(f"{name} must be a whole number >= {lo}, got {shown(v)}")
        if self.exclude_products is not None and (
                isinstance(self.exclude_products, (str, bytes, Mapping))
                or not isinstance(self.exclude_products, (list, tuple))
                or not all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in self.exclude_products)):
            raise InputError(f"exclude_products must be a list of product codes, e.g. [POST, DOT], got "
                             f"{self.exclude_products!r}")
        if not isinstance(self.recommender, str) or self.recommender not in RECOMMENDERS:
            raise InputError(f"recommender {self.recommender!r} is not one of {list(RECOMMENDERS)}")
        _num("rules_min_support", self.rules_min_support, 1e-9, 1.0)
        _num("rules_min_confidence", self.rules_min_confidence, 0.0, 1.0)
        _num("contact_cost", self.contact_cost, 0.0)
        _num("campaign_test_size", self.campaign_test_size, 0.05, 0.95)
        if self.campaign_margin is not None:
            _num("campaign_margin", self.campaign_margin, 0.0, 1.0)
        if self.campaign is not None:
            if not isinstance(self.campaign, Mapping):
                raise InputError(f"campaign must be a mapping like {{loader: synthetic}}, got {shown(self.campaign)}")
            object.__setattr__(self, "campaign", renamed_keys(self.campaign, _CAMPAIGN_RENAMED, owner="campaign",
                                                              stacklevel=4))
            unknown = sorted(set(self.campaign) - _CAMPAIGN_KEYS)
            if unknown:
                raise InputError(f"campaign: unknown key(s) {unknown}; known: {sorted(_CAMPAIGN_KEYS)}")
            loader = self.campaign.get("loader")
            if loader not in CAMPAIGN_LOADERS:
                raise InputError(f"campaign.loader must be one of {list(CAMPAIGN_LOADERS)}, got {shown(loader)}")
            if loader != "synthetic" and not self.campaign.get("path"):
                raise InputError(f"campaign.loader {loader!r} needs campaign.path (the campaign file)")
            if self.campaign.get("value_per_response") is not None:
                _num("campaign.value_per_response", self.campaign["value_per_response"], 0.0)
            for key in ("outcome", "value_col", "treatment", "by", "group_col", "customer_col"):
                v = self.campaign.get(key)
                if v is not None and not isinstance(v, str):
                    raise InputError(f"campaign.{key} must be a column name or label (text), got {shown(v)}")

    @property
    def drivers(self) -> CostDrivers:
        """The cost drivers."""
        return CostDrivers(gross_margin=self.gross_margin, margin_by_product=self.margin_by_product,
                           cost_per_order=self.cost_per_order, cost_per_line=self.cost_per_line,
                           cost_per_return=self.cost_per_return)

    @property
    def lapse(self) -> LapsePolicy:
        """The :class:`~crm_analysis.segmentation.LapsePolicy` of ``lapsed_days`` and ``lapsed_p_alive``."""
        return LapsePolicy(lapsed_days=self.lapsed_days, lapsed_p_alive=self.lapsed_p_alive)

    @property
    def costs_configured(self) -> bool:
        """Whether profit (not revenue) is the customers' current value."""
        return self.drivers.configured


@dataclass
class IdicResult:
    """Everything the IDIC step computed (see :func:`run_idic`).

    Attributes
    ----------
    params : IdicParams
    profit : ProfitTable
    customer_profit : pandas.DataFrame
        The ``customer_profit`` artefact (:data:`CUSTOMER_PROFIT_SCHEMA`).
    whale : WhaleCurve
    deciles : pandas.DataFrame
    grid : ValueGrid
        Current value (profit, or net revenue without costs) against CLV.
    summary : SegmentSummary
        Actions from the customers' state and profit index.
    recommendations : pandas.DataFrame or None
        The ``next_best_products`` artefact; None without products.
    holdout : HoldoutResult or None
    rules : pandas.DataFrame or None
        Strongest association rules over all orders.
    segment_rules : pandas.DataFrame or None
    campaign : CampaignAnalysis or None
    targeting : pandas.DataFrame or None
        The ``campaign_targeting`` artefact (the chain's customers when the
        model uses their figures, else the campaign's customers).
    customer_actions : pandas.DataFrame
        ``customer_actions_idic.csv`` (this step's file; the segmentation's
        ``customer_actions.csv`` is left as it wrote it): the segmentation's
        columns, then :data:`CUSTOMER_ACTIONS_IDIC`.
    notes : list of str
    """

    params: IdicParams
    profit: ProfitTable
    customer_profit: pd.DataFrame
    whale: WhaleCurve
    deciles: pd.DataFrame
    grid: ValueGrid
    summary: SegmentSummary
    recommendations: pd.DataFrame | None
    holdout: HoldoutResult | None
    rules: pd.DataFrame | None
    segment_rules: pd.DataFrame | None
    campaign: CampaignAnalysis | None
    targeting: pd.DataFrame | None
    customer_actions: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def headlines(self) -> dict[str, float | str | None]:
        """Headline figures (keys of :data:`IDIC_HEADLINES`; None where the part did not run)."""
        w = self.whale.summary()
        tot = self.profit.totals()
        out: dict[str, float | str | None] = {
            "total_profit": tot["profit"],
            "costs_configured": bool(self.params.costs_configured),
            "unprofitable_customer_share": w["unprofitable_share"],
            "whale_peak_share": w["peak_share"],
            "top20_profit_share": w["top20_share"],
            "bottom20_profit_share": w["bottom20_share"],
            "returned_revenue_share": tot["returned_revenue"] / tot["gross_revenue"] if tot["gross_revenue"] else None,
            "recommendation_hit_rate": None, "popularity_hit_rate": None,
            "campaign_uplift": None, "qini_coefficient": None, "campaign_eligible_share": None,
            "campaign_model_beats_random": None,
        }
        if self.holdout is not None:
            out["recommendation_hit_rate"] = float(self.holdout.metrics.loc[self.params.recommender, "hit_rate"])
            out["popularity_hit_rate"] = float(self.holdout.metrics.loc["popularity", "hit_rate"])
        if self.campaign is not None:
            h = self.campaign.headlines()
            out["campaign_uplift"] = h["campaign_uplift"]
            out["qini_coefficient"] = h["qini_coefficient"]
            out["campaign_model_beats_random"] = self.campaign.beats_random
        eligible = self.customer_actions["campaign_eligible"]
        if self.targeting is not None and eligible.notna().any():
            # a share of the run's customers; a targeting table of the campaign file's own customers is not one
            out["campaign_eligible_share"] = float(eligible.astype("boolean").fillna(False).mean())
        return out


def _load_campaign(spec: Mapping[str, Any], customers: pd.DataFrame, seed: int, base_dir: Path) -> CampaignData:
    loader = spec["loader"]
    if loader == "synthetic":
        from crm_analysis.synthetic import simulate_campaign

        sim = simulate_campaign(customers=customers[["customer_id", "p_alive", "frequency"]], seed=seed)
        return campaign_data(sim.table, control="control")
    path = Path(spec["path"])
    path = path if path.is_absolute() else base_dir / path
    if not path.exists():
        raise SourceNotFoundError(f"campaign file {path} not found (campaign.path, relative to {base_dir})")
    if loader == "hillstrom":
        return load_hillstrom(path)
    raw = pd.read_parquet(path) if loader == "parquet" else pd.read_csv(path)
    outcomes = _campaign_outcomes(spec)
    value_col = spec.get("value_col")
    money = [c for c in outcomes if c == "spend"] + ([value_col] if value_col and value_col != "spend" else [])
    return campaign_data(raw, group_col=spec.get("group_col", "group"), control=spec.get("control", "control"),
                         outcomes=outcomes, customer_col=spec.get("customer_col", "customer_id"),
                         money=[c for c in money if c in outcomes])


def _campaign_outcomes(spec: Mapping[str, Any]) -> list[str]:
    outcomes = spec.get("outcomes", ("visit", "conversion", "spend"))
    return [outcomes] if isinstance(outcomes, str) else list(outcomes)


def check_campaign_file(spec: Mapping[str, Any], *, base_dir: str | Path = ".") -> None:
    """Check a campaign file's columns against its spec from the header only (the report's pre-flight).

    The columns the IDIC step reads from a ``csv`` / ``parquet`` campaign file
    (``group_col``, ``customer_col``, ``outcomes``, with their defaults
    ``group``, ``customer_id``, ``visit`` / ``conversion`` / ``spend``) must be
    in it; :func:`crm_analysis.campaigns.campaign_data` checks them the same
    way on the whole table when the step runs. Nothing is read for the
    ``synthetic`` and ``hillstrom`` loaders (their columns are the loader's).

    Parameters
    ----------
    spec : mapping
        The campaign spec (``IdicParams.campaign``, deprecated keys already renamed).
    base_dir : str or path, default "."
        Folder a relative ``path`` is read from.

    Raises
    ------
    crm_analysis.exceptions.SourceNotFoundError
        The file does not exist.
    crm_analysis.campaigns.CampaignInputError
        Columns missing (naming them, the file's columns and the keys that map them).
    """
    loader = spec.get("loader")
    if loader not in ("csv", "parquet"):
        return
    path = Path(spec["path"])
    path = path if path.is_absolute() else Path(base_dir) / path
    if not path.exists():
        raise SourceNotFoundError(f"campaign file {path} not found (campaign.path)")
    if loader == "parquet":
        import pyarrow.parquet as pq

        columns = list(pq.read_schema(path).names)
    else:
        columns = list(pd.read_csv(path, nrows=0).columns)
    customer_col = spec.get("customer_col", "customer_id")
    need = [spec.get("group_col", "group"), *_campaign_outcomes(spec)] + ([customer_col] if customer_col else [])
    check_columns(need, columns, table=f"the campaign file {path.name}", error=CampaignInputError,
                  fix="Map your columns (group_col=, outcomes=, customer_col=) in campaign")


def _campaign(params: IdicParams, customers: pd.DataFrame, seed: int, base_dir: Path,
              notes: list[str]) -> tuple[CampaignAnalysis | None, pd.DataFrame | None, pd.DataFrame | None]:
    spec = dict(params.campaign or {})
    data = _load_campaign(spec, customers, seed, base_dir)
    own = [c for c in data.table.columns if c not in ("customer_id", "group", *data.outcomes)]
    features = list(spec.get("features") or own or [c for c in CHAIN_FEATURES if c in customers.columns])
    chain_cols = [c for c in features if c not in own]
    by = spec.get("by")
    if chain_cols or by == "segment":
        join = customers.set_index("customer_id")
        check_columns(chain_cols, join.columns, table="the chain's customer table (campaign features the "
                      "campaign file does not have)",
                      fix=f"Name features of the campaign file or of the chain "
                          f"{[c for c in CHAIN_FEATURES if c in join.columns]} (campaign.features)")
        ids = data.table["customer_id"].astype(str)
        known = ids.isin(join.index)
        if not known.any():
            raise InputError("no customer of the campaign file is a customer of the run: its features cannot come "
                             "from the chain; give features from the file (campaign.features)")
        if (~known).any():
            notes.append(f"{int((~known).sum()):,} campaign customer(s) are not customers of the run: left out "
                         "(their features come from the chain)")
        extra = [c for c in dict.fromkeys(chain_cols + (["segment"] if by == "segment" else [])) if c not in own]
        tab = data.table[known.to_numpy()].reset_index(drop=True)
        tab = tab.join(join[extra], on="customer_id")
        data = CampaignData(tab, data.control, data.treatments, data.outcomes, data.binary, data.notes)
    treatment = spec.get("treatment", data.treatments[0])
    if treatment not in data.treatments:
        raise InputError(f"campaign.treatment {treatment!r} is not a treatment of the campaign; its treatments are "
                         f"{list(data.treatments)} (control {data.control!r})")
    if "treatment" not in spec and len(data.treatments) > 1:
        notes.append(f"the campaign has {len(data.treatments)} treatments {list(data.treatments)}: the analysis is of "
                     f"{treatment!r} against {data.control!r} (campaign.treatment picks another)")
    binary = [c for c in data.outcomes if data.binary[c]]
    outcome = spec.get("outcome", "conversion")
    if outcome not in binary:
        default = "" if "outcome" in spec else " (the default)"
        raise InputError(f"campaign.outcome {outcome!r}{default} is not a 0/1 outcome of the campaign; its 0/1 "
                         f"outcomes are {binary}: set campaign.outcome to the response the uplift models predict")
    value_col = spec.get("value_col", "spend" if "spend" in data.outcomes else None)
    if value_col is not None and (value_col not in data.outcomes or data.binary[value_col]):
        raise InputError(f"campaign.value_col {value_col!r} is not a money outcome of the campaign; its money "
                         f"outcomes are {[c for c in data.outcomes if not data.binary[c]]}")
    value_per_response = spec.get("value_per_response")
    if value_col is None and value_per_response is None:
        raise InputError(f"the campaign has no money outcome ('spend') among its outcomes {list(data.outcomes)}: set "
                         "campaign.value_col to the file's money outcome, or campaign.value_per_response (revenue "
                         "of one extra response) for the targeting")
    margin = params.campaign_margin if params.campaign_margin is not None else params.gross_margin
    analysis = analyse_campaign(
        data, treatment, features=features, outcome=outcome, value_col=value_col,
        value_per_response=None if value_per_response is None else float(value_per_response), by=by,
        test_size=params.campaign_test_size, seed=seed, contact_cost=params.contact_cost, margin=margin,
    )
    if not chain_cols:
        notes.append("the uplift model uses the campaign file's own attributes: the targeting table lists the "
                     "campaign's customers, and customer_actions_idic.csv gets no campaign eligibility")
        return analysis, analysis.targeting(), None
    scoring = customers[["customer_id", *chain_cols]]
    targeting = analysis.targeting(scoring)
    return analysis, targeting, targeting


def run_idic(
    transactions: pd.DataFrame,
    clv: pd.DataFrame,
    segments: pd.DataFrame,
    params: IdicParams | None = None,
    *,
    returns: pd.DataFrame | None = None,
    as_of: str | None = None,
    seed: int | None = None,
    base_dir: str | Path | None = None,
    lapse: LapsePolicy | None = None,
    new_customer_days: float | None = None,
) -> IdicResult:
    """Profit, campaign response and next-best products of the chain's customers.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Cleaned canonical transactions (``transactions.parquet``).
    clv : pandas.DataFrame
        ``clv.parquet`` (customer_id, revenue, clv, p_alive, recency, T, ...; attrs with the time unit).
    segments : pandas.DataFrame
        ``segments.parquet``.
    params : IdicParams, optional
        Default ``IdicParams()``.
    returns : pandas.DataFrame, optional
        ``returns.parquet``: the return lines the cleaning dropped.
    as_of : str, optional
        Deprecated here (a ``DeprecationWarning``): ``params.as_of``. When given it
        replaces ``params.as_of``, as before the field existed.
    seed : int, optional
        Deprecated here (a ``DeprecationWarning``): ``params.seed``. When given it
        replaces ``params.seed``.
    base_dir : str or Path, optional
        Folder that relative campaign paths are read from (default: the current folder).
    lapse : LapsePolicy, optional
        As in the segmentation step; default ``params.lapse`` (its
        ``lapsed_days`` and ``lapsed_p_alive``).
    new_customer_days : float, optional
        As in the segmentation step's default rules; default
        ``params.new_customer_days``.

    Returns
    -------
    IdicResult

    Raises
    ------
    ValueError
        Customers of ``segments`` missing from ``clv`` or the other way
        round; bad inputs of the parts (their errors name the column).
    """
    from crm_analysis._dates import parse_date

    params = params or IdicParams()
    for name, value in (("as_of", as_of), ("seed", seed)):
        if value is not None:
            warnings.warn(f"run_idic({name}=...) is deprecated: set {name} in IdicParams (run_idic(transactions, "
                          f"clv, segments, params)); the keyword replaces params.{name}", DeprecationWarning,
                          stacklevel=2)
    as_of = params.as_of if as_of is None else as_of
    seed = params.seed if seed is None else seed
    lapse = params.lapse if lapse is None else lapse
    new_customer_days = params.new_customer_days if new_customer_days is None else new_customer_days
    notes: list[str] = []
    as_of_ts = parse_date(as_of, "as_of", tz="strip", time="reject")
    clv = clv.copy()
    clv["customer_id"] = clv["customer_id"].astype("string")
    seg = segments.copy()
    seg["customer_id"] = seg["customer_id"].astype("string")
    if set(seg["customer_id"]) != set(clv["customer_id"]):
        raise InputError("segments.parquet and clv.parquet list different customers: run the chain's segmentation "
                         "on this clv table")
    # 1. profit
    prof = customer_profitability(transactions, drivers=params.drivers, returns=returns, customers=clv["customer_id"])
    notes += prof.notes
    table = prof.table.copy()
    table["profit_decile"] = _deciles_of(table)
    deciles = profit_deciles(table, n_groups=min(10, len(table)))
    whale = whale_curve(table["profit"], table["customer_id"])
    customers = clv.merge(seg[["customer_id", "segment"]], on="customer_id").merge(
        table[["customer_id", "net_revenue", "returned_revenue", "cost_to_serve", "profit", "return_rate"]],
        on="customer_id", how="left")
    customers.attrs = dict(clv.attrs)
    customers["return_rate"] = customers["return_rate"].fillna(0.0)
    basis = "profit" if params.costs_configured else "revenue"
    current = "profit" if basis == "profit" else "net_revenue"
    grid = value_grid(customers, current, "clv", n=3)
    rules = default_action_rules(new_customer_days=new_customer_days,
                                 value_index="profit_index" if basis == "profit" else "revenue_index")
    summary = segment_summary(customers, action_rules=rules, policy=lapse,
                              profit_col="profit" if basis == "profit" else None)
    # 2. next-best products
    recs = holdout = all_rules = seg_rules = None
    if "product" in transactions.columns and transactions["product"].notna().all():
        if params.exclude_products:
            codes = {str(p) for p in params.exclude_products}
            excluded = transactions["product"].astype(str).isin(codes).to_numpy()
            present = sorted(set(transactions.loc[excluded, "product"].astype(str)))
            notes.append(f"{int(excluded.sum()):,} line(s) of {len(present)} non-merchandise product code(s) "
                         f"{present} left out of the recommendations and the rules (exclude_products; "
                         f"{len(codes) - len(present)} listed code(s) not in the data)")
            transactions = transactions[~excluded]
        returned = return_mask(transactions)
        if returned.any():
            notes.append(f"{int(returned.sum()):,} return line(s) in the transactions left out of the "
                         "recommendations (a return is not a purchase)")
            transactions = transactions[~returned]
        model = RECOMMENDERS[params.recommender]()
        recs = model.fit(transactions).recommend(clv["customer_id"], k=params.top_k)
        per = recs.groupby("customer_id").size().reindex(clv["customer_id"], fill_value=0)
        short = int((per < params.top_k).sum())
        if short:
            notes.append(f"{short:,} customer(s) got fewer than {params.top_k} next-best products (none: "
                         f"{int((per == 0).sum()):,}): they bought nearly all of the "
                         f"{transactions['product'].nunique():,} product(s)")
        if params.holdout_days:
            cutoff = (as_of_ts - pd.Timedelta(days=params.holdout_days)).date().isoformat()
            models = {"popularity": PopularityRecommender()}
            models[params.recommender] = RECOMMENDERS[params.recommender]()
            try:
                holdout = evaluate_holdout(transactions, models, cutoff=cutoff, k=params.top_k)
            except ValueError as exc:
                notes.append(f"recommendations not evaluated: {exc}")
        basket = _basket(transactions, notes)
        all_rules = association_rules(transactions, basket=basket, min_support=params.rules_min_support,
                                      min_confidence=params.rules_min_confidence)
        seg_rules = rules_by_segment(transactions, seg, basket=basket, top=params.rules_per_segment,
                                     min_support=params.rules_min_support,
                                     min_confidence=params.rules_min_confidence)
    else:
        notes.append("the transactions name no product for every line: no next-best products")
    # 3. campaign
    campaign = targeting = chain_targeting = None
    if params.campaign is not None:
        campaign, targeting, chain_targeting = _campaign(params, customers, seed, Path(base_dir or Path.cwd()), notes)
    actions = _customer_actions(seg, summary, grid, table, recs, chain_targeting, basis)
    return IdicResult(params=params, profit=prof, customer_profit=table, whale=whale, deciles=deciles, grid=grid,
                      summary=summary, recommendations=recs, holdout=holdout, rules=all_rules,
                      segment_rules=seg_rules, campaign=campaign, targeting=targeting,
                      customer_actions=actions, notes=notes)


def _basket(transactions: pd.DataFrame, notes: list[str]) -> str:
    """Orders as baskets when they hold several products on average (>= 1.5 lines), else customers."""
    if "order_id" in transactions.columns and transactions["order_id"].notna().all():
        per_order = len(transactions) / max(transactions["order_id"].nunique(), 1)
        if per_order >= 1.5:
            return "order_id"
        notes.append(f"orders hold {per_order:.2f} line(s) on average: association rules over each customer's "
                     "products (customer baskets), not over orders")
    return "customer_id"


def _deciles_of(table: pd.DataFrame) -> np.ndarray:
    n = len(table)
    groups = min(10, n)
    p = table["profit"].to_numpy(dtype="float64")
    ids = table["customer_id"].astype(str).to_numpy()
    order = np.lexsort((ids, -p))
    pos = np.empty(n, dtype="int64")
    pos[order] = np.arange(n)
    return pos * groups // n + 1


def _customer_actions(seg: pd.DataFrame, summary: SegmentSummary, grid: ValueGrid, profit: pd.DataFrame,
                      recs: pd.DataFrame | None, targeting: pd.DataFrame | None, basis: str) -> pd.DataFrame:
    cust = summary.customers.set_index("customer_id")
    out = seg.drop(columns=["value_tier", "action"]).copy()
    out = out.join(grid.table.set_index("customer_id")["value_tier"], on="customer_id")
    cols = ["action", "offer", "intent", "state", "days_since_last", "p_alive", "p_alive_model"]
    out = out.join(cust[cols], on="customer_id")
    out["value_basis"] = basis
    out = out.join(profit.set_index("customer_id")[["net_revenue", "returned_revenue", "cost_to_serve", "profit",
                                                    "profit_decile"]], on="customer_id")
    if recs is not None:
        lists = recs.sort_values(["customer_id", "rank"]).groupby("customer_id")["product"].agg(
            lambda s: "; ".join(map(str, s)))
        out["next_best_products"] = out["customer_id"].map(lists).astype("string")
    else:
        out["next_best_products"] = pd.array([pd.NA] * len(out), dtype="string")
    if targeting is not None:
        t = targeting.set_index("customer_id")
        out["campaign_uplift"] = out["customer_id"].map(t["uplift"])
        out["campaign_expected_profit"] = out["customer_id"].map(t["expected_profit"])
        out["campaign_eligible"] = out["customer_id"].map(t["contact"]).astype("boolean")
    else:
        out["campaign_uplift"] = np.nan
        out["campaign_expected_profit"] = np.nan
        out["campaign_eligible"] = pd.array([pd.NA] * len(out), dtype="boolean")
    return out.reset_index(drop=True)


__getattr__ = renamed_names(__name__, _RENAMED, globals(), why=_WHY)
