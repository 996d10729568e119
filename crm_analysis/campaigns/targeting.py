"""From a campaign test to a contact list: uplift models on a held-out split, and whom to contact.

:func:`analyse_campaign` runs the whole analysis of one treatment against the
control: response rates and uplift with intervals (overall and by segment),
two uplift models fitted on a training split and compared on the held-out
customers by their Qini curves, a profile of the customers the campaign moves,
and a targeting rule.

Targeting. Contacting a customer costs ``contact_cost`` and brings, in
expectation, ``uplift(x) * value_per_response`` of extra revenue, of which
``margin`` is profit; contact when ::

    expected_profit(x) = margin * value_per_response * uplift(x) - contact_cost > 0

``value_per_response`` is the mean spend of a responder in the treated group
of the training split (spend / responses) unless given: the incremental
responders are assumed to spend like the treated responders. The held-out
check of the rule is the profit curve ``margin * U_spend(k) - contact_cost *
k`` (``U_spend`` the uplift curve of spend, customers ordered by the model):
what contacting the top ``k`` would have earned on customers the model did
not see.
"""

from __future__ import annotations

from crm_analysis.exceptions import shown

from crm_analysis._validate import renamed_keywords as _renamed_keywords
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crm_analysis.campaigns.experiment import (
    CampaignData,
    CampaignInputError,
    response_rates,
    uplift_by_segment,
)
from crm_analysis.campaigns.uplift import (
    ClassTransformationUplift,
    TwoModelUplift,
    UpliftCurve,
    plot_curves,
    prepare_features,
    qini_interval,
    uplift_curves,
)

__all__ = ["UPLIFT_MODELS", "CampaignAnalysis", "analyse_campaign", "targeting_table", "profile_movers"]

#: Uplift models :func:`analyse_campaign` can fit, by name.
UPLIFT_MODELS: dict[str, type] = {"two_model": TwoModelUplift, "class_transformation": ClassTransformationUplift}


def _check_money(name: str, value: object) -> float:
    """``value`` as a finite amount of money >= 0, else a :class:`CampaignInputError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(value) and value >= 0):
        raise CampaignInputError(f"{name} must be a finite amount of money >= 0, got {shown(value)}")
    return float(value)


def _check_margin(value: object, name: str = "margin") -> float:
    """``value`` as a fraction of revenue in [0, 1] (0.3 = 30 %), else a :class:`CampaignInputError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(value) and 0 <= value <= 1):
        raise CampaignInputError(f"{name} must be a fraction of revenue in [0, 1] (0.3 = 30 % of the revenue is "
                                 f"profit), got {shown(value)}")
    return float(value)



def targeting_table(
    customer_id: Sequence[str] | pd.Series,
    uplift: np.ndarray,
    *,
    contact_cost: float,
    margin: float,
    value_per_response: float,
) -> pd.DataFrame:
    """Whom to contact: expected profit of a contact per customer.

    Parameters
    ----------
    customer_id : sequence of str, shape (n,)
    uplift : array, shape (n,)
        Estimated uplift of the response probability.
    contact_cost : float
        Cost of one contact (money, >= 0).
    margin : float
        Share of the extra revenue that is profit, in [0, 1].
    value_per_response : float
        Revenue of one extra response (money, >= 0).

    Returns
    -------
    pandas.DataFrame
        Sorted by expected profit, highest first: ``customer_id``,
        ``uplift``, ``expected_revenue`` (uplift * value_per_response),
        ``expected_profit``, ``contact`` (bool: expected profit > 0), ``rank``
        (1 = contact first).

    Raises
    ------
    CampaignInputError
        A negative cost or value, a margin outside [0, 1], lengths that differ,
        a missing or infinite uplift.
    """
    _check_money("contact_cost", contact_cost)
    _check_money("value_per_response", value_per_response)
    _check_margin(margin)
    ids = pd.Series(customer_id).astype("string").to_numpy()
    u = np.asarray(uplift, dtype="float64")
    if u.shape != (ids.size,):
        raise CampaignInputError(f"{ids.size} customer ids for {u.size} uplift values")
    bad = ~np.isfinite(u)
    if bad.any():
        raise CampaignInputError(f"uplift has {int(bad.sum())} missing or infinite value(s), e.g. for customer(s) "
                                 f"{ids[bad][:5].tolist()}: every customer to rank needs an estimated uplift")
    rev = u * value_per_response
    profit = margin * rev - contact_cost
    out = pd.DataFrame({"customer_id": pd.array(ids, dtype="string"), "uplift": u, "expected_revenue": rev,
                        "expected_profit": profit, "contact": profit > 0})
    out = out.sort_values(["expected_profit", "customer_id"], ascending=[False, True], kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def profile_movers(table: pd.DataFrame, score: np.ndarray, features: Sequence[str], *, top: float = 0.2) -> pd.DataFrame:
    """Who the campaign moves: the customers with the highest scores against the rest.

    Parameters
    ----------
    table : pandas.DataFrame
        Customers (rows aligned with ``score``).
    score : array, shape (n,)
        Predicted uplift.
    features : sequence of str
        Columns to describe: numeric ones by their mean, text ones by the
        share of each value.
    top : float, default 0.2
        Share of customers counted as "moved most".

    Returns
    -------
    pandas.DataFrame
        One row per numeric feature or text feature value: ``feature``,
        ``value`` (the text value, empty for numbers), ``top`` (mean or share
        among the top), ``rest``, ``difference``.
    """
    if not 0 < top < 1:
        raise CampaignInputError(f"top must be a share in (0, 1), got {shown(top)}")
    s = np.asarray(score, dtype="float64")
    k = max(1, int(round(top * s.size)))
    is_top = np.zeros(s.size, dtype=bool)
    is_top[np.argsort(-s, kind="stable")[:k]] = True
    rows = []
    for c in features:
        col = table[c]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            v = col.to_numpy(dtype="float64")
            rows.append({"feature": c, "value": "", "top": v[is_top].mean(), "rest": v[~is_top].mean()})
        else:
            text = col.astype("string").fillna("(missing)").to_numpy(dtype=object)
            for val in sorted(set(text)):
                m = text == val
                rows.append({"feature": c, "value": str(val), "top": m[is_top].mean(), "rest": m[~is_top].mean()})
    out = pd.DataFrame(rows)
    out["difference"] = out["top"] - out["rest"]
    return out


@dataclass
class CampaignAnalysis:
    """Everything :func:`analyse_campaign` computed for one treatment.

    Attributes
    ----------
    data : CampaignData
    treatment : str
    outcome : str
        The 0/1 outcome the uplift models predict.
    rates : pandas.DataFrame
        :func:`~crm_analysis.campaigns.experiment.response_rates` of all groups.
    uplift : pandas.DataFrame
        :func:`~crm_analysis.campaigns.experiment.uplift_by_segment` (overall and by ``by``).
    features : list of str
    models : dict
        Fitted uplift models by name.
    curves : list of UpliftCurve
        Qini / uplift curves on the held-out customers, one per model.
    spend_curves : list of UpliftCurve
        The same on the spend (``value_col``), for the profit check; empty
        when there is no ``value_col``.
    best_model : str
        The model with the larger Qini coefficient on the held-out customers.
    test : pandas.DataFrame
        Held-out customers: ``customer_id``, ``treated``, the outcome, the value, one score per model.
    movers : pandas.DataFrame
        :func:`profile_movers` of the best model on the held-out customers.
    value_per_response : float
    contact_cost, margin : float
    notes : list of str
    value_col : str or None
        The money outcome of the profit check; None: the incremental revenue
        is the incremental responses times ``value_per_response``.
    qini_interval : (float, float) or None
        Bootstrap interval of the best model's held-out Qini coefficient
        (:func:`~crm_analysis.campaigns.uplift.qini_interval`); when it does
        not exclude 0 the model does not rank customers better than random
        targeting (said in ``notes``).
    """

    data: CampaignData
    treatment: str
    outcome: str
    rates: pd.DataFrame
    uplift: pd.DataFrame
    features: list[str]
    models: dict[str, object]
    curves: list[UpliftCurve]
    spend_curves: list[UpliftCurve]
    best_model: str
    test: pd.DataFrame
    movers: pd.DataFrame
    value_per_response: float
    contact_cost: float
    margin: float
    categories: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    value_col: str | None = None
    qini_interval: tuple[float, float] | None = None

    @property
    def beats_random(self) -> bool | None:
        """Whether the best model's held-out Qini interval lies above 0 (None when not computed)."""
        return None if self.qini_interval is None else bool(self.qini_interval[0] > 0)

    def predict_uplift(self, table: pd.DataFrame, *, model: str | None = None) -> np.ndarray:
        """Estimated uplift of the response probability for customers of ``table`` (the model's features needed)."""
        X, _ = prepare_features(table, self.features, categories=self.categories)
        return self.models[model or self.best_model].predict(X)

    @property
    def overall_uplift(self) -> float:
        """Uplift of the outcome over the whole campaign (treated minus control rate)."""
        u = self.uplift
        row = u[(u["segment"] == "all") & (u["outcome"] == self.outcome)]
        return float(row["uplift"].iloc[0])

    @_renamed_keywords({"id_col": "customer_col"})  # fourth newcomer finding H17: one name per column role
    def targeting(self, table: pd.DataFrame | None = None, *, customer_col: str = "customer_id",
                  per_customer: bool | None = None) -> pd.DataFrame:
        """:func:`targeting_table` for ``table`` (default: every customer of the campaign).

        Parameters
        ----------
        table : pandas.DataFrame, optional
            Customers with the model's features.
        customer_col : str, default "customer_id"
        per_customer : bool, optional
            Rank by the best model's per-customer uplifts. Default: only when
            the model ranks held-out customers better than random
            (:attr:`beats_random`); otherwise every customer gets the
            campaign's overall uplift (:attr:`overall_uplift`), so the
            contact decision is the same for all of them (contact everyone
            or no one) instead of following noise.

        Returns
        -------
        pandas.DataFrame
            As :func:`targeting_table`, plus ``uplift_source``
            (``"model"`` or ``"overall"``).
        """
        table = self.data.table if table is None else table
        if per_customer is None:
            per_customer = self.beats_random is not False
        if per_customer:
            uplift = self.predict_uplift(table)
        else:
            uplift = np.full(len(table), self.overall_uplift)
        out = targeting_table(table[customer_col], uplift, contact_cost=self.contact_cost, margin=self.margin,
                              value_per_response=self.value_per_response)
        out["uplift_source"] = pd.array(["model" if per_customer else "overall"] * len(out), dtype="string")
        return out

    def profit_curve(self, *, model: str | None = None) -> pd.DataFrame:
        """Held-out profit of contacting the top k by the model: ``margin * U_spend(k) - contact_cost * k``.

        ``U_spend`` is the uplift curve of ``value_col``; without a money
        outcome it is the uplift curve of the responses times
        ``value_per_response``.

        Parameters
        ----------
        model : str, optional
            Name of a fitted model (default the best).

        Returns
        -------
        pandas.DataFrame
            ``customers`` (k), ``share`` (k / N), ``incremental_spend``, ``profit``.

        Raises
        ------
        CampaignInputError
            An unknown model.
        """
        name = model or self.best_model
        source = self.spend_curves if self.spend_curves else self.curves
        c = next((c for c in source if c.label == name), None)
        if c is None:
            raise CampaignInputError(f"unknown model {name!r}; the analysis fitted {[c.label for c in self.curves]}")
        spend = c.uplift if self.spend_curves else c.uplift * self.value_per_response
        return pd.DataFrame({"customers": c.n, "share": c.fraction, "incremental_spend": spend,
                             "profit": self.margin * spend - self.contact_cost * c.n})

    def headlines(self) -> dict[str, float | str]:
        """Overall uplift of the outcome, best model and its Qini coefficient, held-out best profit share."""
        row = self.uplift[(self.uplift["segment"] == "all") & (self.uplift["outcome"] == self.outcome)].iloc[0]
        pc = self.profit_curve()
        best = pc.loc[pc["profit"].idxmax()]
        return {
            "campaign_treatment": self.treatment,
            "campaign_uplift": float(row["uplift"]),
            "campaign_uplift_lower": float(row["lower"]),
            "campaign_uplift_upper": float(row["upper"]),
            "uplift_model": self.best_model,
            "qini_coefficient": float(next(c for c in self.curves if c.label == self.best_model).qini_coefficient),
            "best_contact_share": float(best["share"]),
        }

    def plot(self) -> Figure:
        """Qini curves of the models and the held-out profit curve of the best model."""
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
        plot_curves(self.curves, kind="qini", ax=axes[0], outcome=f"{self.outcome}s")
        pc = self.profit_curve()
        ax = axes[1]
        ax.plot(pc["share"], pc["profit"], color="C2", label=f"{self.best_model}")
        ax.axhline(0, color="grey", lw=0.8)
        k = int(pc["profit"].idxmax())
        ax.plot([pc["share"].iloc[k]], [pc["profit"].iloc[k]], "o", color="C3",
                label=f"best: contact {pc['share'].iloc[k]:.0%}")
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel("Customers contacted, highest predicted uplift first (share)")
        ax.set_ylabel("Incremental profit on the held-out customers")
        ax.set_title(f"Profit of targeting (margin {self.margin:.0%}, contact cost {self.contact_cost:,.2f})")
        ax.legend(fontsize="small")
        return fig


def analyse_campaign(
    data: CampaignData,
    treatment: str,
    *,
    features: Sequence[str],
    outcome: str = "conversion",
    value_col: str | None = "spend",
    by: str | None = None,
    test_size: float = 0.3,
    seed: int = 42,
    contact_cost: float = 0.0,
    margin: float = 1.0,
    value_per_response: float | None = None,
    models: Sequence[str] = ("two_model", "class_transformation"),
    estimator: object | None = None,
    level: float = 0.95,
) -> CampaignAnalysis:
    """Response, uplift, uplift models on a held-out split and targeting for one treatment.

    Parameters
    ----------
    data : CampaignData
        The campaign.
    treatment : str
        One of ``data.treatments``.
    features : sequence of str
        Pre-campaign customer attributes for the uplift models.
    outcome : str, default "conversion"
        0/1 outcome the models predict.
    value_col : str or None, default "spend"
        Money outcome for the value per response and the profit check; None:
        no money outcome (then ``value_per_response`` must be given).
    by : str, optional
        Segment column for the uplift table.
    test_size : float, default 0.3
        Held-out share (split stratified by group and outcome).
    seed : int, default 42
        Seed of the split and the models.
    contact_cost, margin, value_per_response
        See :func:`targeting_table`; ``value_per_response`` defaults to the
        treated responders' mean ``value_col`` on the training split.
    models : sequence of str
        Names from :data:`UPLIFT_MODELS`.
    estimator : scikit-learn classifier, optional
        Base classifier of the models (default: small gradient-boosted trees).
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    CampaignAnalysis

    Raises
    ------
    CampaignInputError
        Unknown treatment, outcome, model or column; a non-binary outcome; a
        test share outside (0, 1); too few responders; a negative cost or
        value, a margin outside [0, 1]; no ``value_col`` and no
        ``value_per_response``; a feature that is an outcome, the group, the
        treatment flag or the customer id (not known before the campaign).

    Notes
    -----
    Customers with ``value_col`` > 0 but ``outcome`` = 0 (spend without a
    response) are counted in ``notes``: the value per response counts the
    responders' spend only, the held-out profit check all of it.
    """
    if outcome not in data.outcomes or not data.binary[outcome]:
        raise CampaignInputError(
            f"outcome {outcome!r} must be one of the campaign's 0/1 outcomes "
            f"{[c for c in data.outcomes if data.binary[c]]}"
        )
    if value_col is not None and value_col not in data.outcomes:
        raise CampaignInputError(f"value_col {value_col!r} is not an outcome of the campaign {list(data.outcomes)}")
    unknown = [m for m in models if m not in UPLIFT_MODELS]
    if unknown or not models:
        raise CampaignInputError(f"unknown uplift model(s) {unknown or models}; use some of {list(UPLIFT_MODELS)}")
    if not 0 < test_size < 1:
        raise CampaignInputError(f"test_size must be a share in (0, 1), got {shown(test_size)}")
    contact_cost = _check_money("contact_cost", contact_cost)
    margin = _check_margin(margin)
    if value_per_response is not None:
        value_per_response = _check_money("value_per_response", value_per_response)
    elif value_col is None:
        raise CampaignInputError("value_col is None (no money outcome): give value_per_response=, the revenue of one "
                                 "extra response, for the targeting and the held-out profit check")
    features = [features] if isinstance(features, str) else list(features)
    if not features:
        raise CampaignInputError("no features given: an uplift model needs customer attributes known before the "
                                 "campaign (features=[...])")
    reserved = {"customer_id": "the customer id", "group": "the assignment", "treated": "the treatment flag",
                **{o: "an outcome" for o in data.outcomes}}
    leak = [f for f in features if f in reserved]
    if leak:
        what = ", ".join(f"{f!r} is {reserved[f]}" for f in leak)
        raise CampaignInputError(f"feature(s) {leak} cannot describe customers before the campaign ({what}): drop "
                                 "them from features; an uplift model on them reads the result it should predict")
    from sklearn.model_selection import train_test_split

    pair = data.pair(treatment)
    strata = pair["treated"].astype(str) + "-" + pair[outcome].astype(str)
    train, test = train_test_split(pair, test_size=test_size, random_state=seed, stratify=strata)
    X_train, cats = prepare_features(train, features)
    X_test, _ = prepare_features(test, features, categories=cats)
    fitted: dict[str, object] = {}
    curves, spend_curves = [], []
    scores = {}
    from threadpoolctl import threadpool_limits

    for name in models:
        m = UPLIFT_MODELS[name](estimator=estimator, seed=seed)
        # one thread: the trees' OpenMP threads contend badly on a shared, busy machine (10x slower seen)
        with threadpool_limits(limits=1):
            m.fit(X_train, train[outcome].to_numpy(), train["treated"].to_numpy())
        fitted[name] = m
        scores[name] = m.predict(X_test)
        curves.append(uplift_curves(test[outcome].to_numpy(), test["treated"].to_numpy(), scores[name], label=name))
        if value_col:
            spend_curves.append(uplift_curves(test[value_col].to_numpy(), test["treated"].to_numpy(), scores[name],
                                              label=name))
    best = max(curves, key=lambda c: c.qini_coefficient).label
    notes = []
    best_curve = next(c for c in curves if c.label == best)
    q_int = qini_interval(test[outcome].to_numpy(), test["treated"].to_numpy(), scores[best], level=float(level),
                          seed=seed)
    if not q_int[0] > 0:
        notes.append(f"the best uplift model ({best}) does not rank the held-out customers better than random "
                     f"targeting: Qini coefficient {best_curve.qini_coefficient:.4f}, {level:.0%} bootstrap interval "
                     f"{q_int[0]:.4f} to {q_int[1]:.4f} includes 0; its per-customer uplifts, and a contact list "
                     "from them, rest on noise: the targeting uses the overall uplift for every customer "
                     "(contact everyone or no one)")
    if value_col:
        stray = int(((pair[value_col] > 0) & (pair[outcome] == 0)).sum())
        if stray:
            notes.append(f"{stray:,} customer(s) have {value_col} > 0 but {outcome} = 0: the value per response "
                         f"counts the responders' {value_col} only, the held-out profit check all of it")
    if value_per_response is None:
        resp = train[(train["treated"] == 1) & (train[outcome] == 1)]
        value_per_response = float(resp[value_col].mean()) if value_col and len(resp) else 0.0
        notes.append(f"value per response: mean {value_col} of the {len(resp):,} treated responders of the training "
                     f"split ({value_per_response:,.2f})")
    test_out = test[["customer_id", "treated", outcome] + ([value_col] if value_col else [])].copy()
    for name, s in scores.items():
        test_out[f"score_{name}"] = s
    return CampaignAnalysis(
        data=data, treatment=treatment, outcome=outcome,
        rates=response_rates(data, level=level),
        uplift=uplift_by_segment(data, treatment, by=by, level=level),
        features=features, models=fitted, curves=curves, spend_curves=spend_curves, best_model=best,
        test=test_out.reset_index(drop=True),
        movers=profile_movers(test.reset_index(drop=True), scores[best], features),
        value_per_response=float(value_per_response), contact_cost=float(contact_cost), margin=float(margin),
        categories=cats, notes=notes, value_col=value_col, qini_interval=q_int,
    )
