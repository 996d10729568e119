"""The rfm_clv step of the report chain: parameters, pipeline function, result.

:func:`run_rfm_clv` is the one function that turns cleaned transactions into
the step's hand-over files (``rfm_summary.parquet``, ``clv.parquet``,
``clv_params.json``, see :mod:`crm_analysis.contracts`) and its headline
figures. The notebook ``10_rfm_clv.ipynb`` builds :class:`RfmClvParams` from
its parameters cell and calls it; a notebook run on its own that needs
``clv.parquet`` (segmentation) calls it too, with the same defaults
(:mod:`crm_analysis.steps`).

The function:

1. summarises the transactions up to ``as_of`` (:func:`crm_analysis.rfm.rfm_summary`);
2. fits the candidate purchase models on the calibration period and checks
   them on the holdout up to ``as_of``, choosing one
   (:func:`crm_analysis.clv.compare_models`), and fits Gamma-Gamma there;
3. refits the compared models on the whole period, values every customer
   with the chosen one (:class:`crm_analysis.clv.CLVAnalysis`);
4. computes P(alive) per model, the BG/NBD dropout probability ``a/(a+b)``
   (Fader, Hardie and Lee 2005, "Counting your customers the easy way",
   Marketing Science 24(2): the probability of dropping out after a repeat
   purchase) and the share of CLV held by the top 20% of customers.
"""

from __future__ import annotations

from crm_analysis.exceptions import CRMAnalysisWarning, InputError, OperationError, SpendCorrelationWarning, shown

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from crm_analysis import _json as strict_json
from crm_analysis._dates import parse_date
from crm_analysis._validate import check_flag, check_name, check_number, check_probability, check_seed
from crm_analysis.contracts import TimeUnit, headline_labels

from .diagnostics import frequency_histogram, tracking
from .pipeline import CLV_COLUMNS, CLVAnalysis, fit_clv_models
from .selection import (
    PURCHASE_MODELS,
    SELECTION_CRITERIA,
    ModelComparison,
    _key,
    available_purchase_models,
    compare_models,
    refit_purchase_models,
    purchase_model_class,
    purchase_model_label,
    purchase_model_name,
)
from .value import SPEND_NONPOSITIVE, fit_spend_model

__all__ = ["RfmClvParams", "RfmClvResult", "run_rfm_clv", "top_share"]

#: Purchase models whose fits ``clv_params.json`` records (``null`` when not fitted).
_RECORDED = ("bgnbd", "mbgnbd", "paretonbd")


@dataclass(frozen=True, kw_only=True)
class RfmClvParams:
    """Parameters of the rfm_clv step (the parameters cell of ``10_rfm_clv.ipynb``).

    Parameters
    ----------
    as_of : str, default "2024-12-31"
        Observation end (ISO date).
    calibration_end : str, optional
        End of the calibration period (ISO calendar date, before ``as_of``);
        the purchase models are checked on the holdout after it. ``None``:
        six months before ``as_of`` (2024-06-30 for the default ``as_of``,
        the notebook's default).
    time_unit : {"D", "W"}, default "W"
        Time unit of recency, T and ``horizon``.
    horizon : int, default 52
        CLV horizon in time units.
    margin : float, default 0.3
        Profit margin.
    discount_rate : float, default 0.1
        Annual discount rate.
    purchase_model : str, default "auto"
        ``"auto"`` (chosen by ``selection_criterion``) or a candidate model
        name; or a boundary limit (``"nbd"``, ``"geometricnbd"``,
        ``"modifiedgeometricnbd"``, ``"exponentialnbd"``,
        ``"twopointgeometricnbd"``, ``"zeroinflatednbd"``), which is never a
        candidate by default (why: :data:`crm_analysis.clv.LIMIT_MODELS_NOTE`)
        and is fitted beside the candidates and used when forced.
    selection_criterion : str, default "holdout_rmse"
        One of :data:`crm_analysis.clv.SELECTION_CRITERIA`.
    p_alive_info_threshold : float, default 0.01
        BG/NBD dropout probability below which P(alive) is reported as
        carrying little information.
    p_alive_near_one : float, default 0.9
        P(alive) above which a customer counts as "near 1" in the report's
        reading of an uninformative P(alive)
        (:meth:`RfmClvResult.p_alive_near_one_share`), in (0, 1).
    fit_paretonbd : bool, default True
        Include the Pareto/NBD among the candidates. Where the data show no
        dropout it is fitted as its NBD limit in milliseconds; near, but not
        on, that boundary its full fit can take seconds to minutes
        (``benchmarks/README.md``).
    seed : int, default 42
        Seed of the CLV interval simulation.
    cohort_frequency : {"M", "Q"}, default "M"
        Acquisition cohorts by calendar month or quarter (``cohorts.parquet``).
    interval_level : float, default 0.9
        Nominal level of the prediction intervals of the purchases and CLV
        per customer and of the CLV total, in (0, 1).
    interval_draws : int, default 200
        Simulated futures per customer for those intervals (at least 20;
        200 adds about 1.5 s on the built-in data, the quantiles to a few %).
    covariates : sequence of str, default ()
        Customer covariates taken from the first purchase: transaction
        columns (``channel``, ``country``, ...) or ``first_purchase_month`` /
        ``first_purchase_quarter``. When set, the covariate version of the
        chosen purchase model is fitted and tested against the model without
        them (:func:`crm_analysis.clv.report_extras.fit_covariate_effects`);
        empty: no covariate model.
    reference_estimates : dict, default {}
        Published (or otherwise known) estimates to set the calibration fits
        beside, ``{model: {parameter: value}}`` with ``model`` a purchase
        model's name (``"bgnbd"``, ``"mbgnbd"``, ``"paretonbd"``) or
        ``"gamma_gamma"`` and its parameter names (``r, alpha, a, b``;
        ``r, alpha, s, beta``; ``p, q, v``), e.g. the CDNOW sample's
        ``{"bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}}``
        (Fader, Hardie & Lee 2005). Shown by
        :meth:`RfmClvResult.reference_table` and recorded in
        ``clv_params.json``; empty (default): none.
    reference_source : str, default ""
        Where ``reference_estimates`` come from (required with them), e.g.
        ``"Fader, Hardie & Lee (2005), Marketing Science 24(2)"``.

    Raises
    ------
    ValueError
        A date that is not an ISO date, ``calibration_end`` not before
        ``as_of``, a time unit the CLV discounting does not take, an unknown
        or excluded purchase model, an unknown criterion, a cohort frequency
        other than M or Q, an interval level outside (0, 1), fewer than 20
        draws, covariates that are not a list of distinct column names (and,
        in :func:`run_rfm_clv`, a covariate that is not a column of the
        transactions), reference estimates of an unknown model or parameter,
        or not positive finite numbers, or without ``reference_source``; each
        message names the parameter, the value and the fix.
    """

    as_of: str = "2024-12-31"
    calibration_end: str | None = None
    time_unit: str = "W"
    horizon: int = 52
    margin: float = 0.3
    discount_rate: float = 0.1
    purchase_model: str = "auto"
    selection_criterion: str = "holdout_rmse"
    p_alive_info_threshold: float = 0.01
    p_alive_near_one: float = 0.9
    fit_paretonbd: bool = True
    seed: int = 42
    cohort_frequency: str = "M"
    interval_level: float = 0.9
    interval_draws: int = 200
    covariates: tuple[str, ...] = ()
    reference_estimates: dict[str, dict[str, float]] = field(default_factory=dict)
    reference_source: str = ""

    def __post_init__(self) -> None:
        as_of = parse_date(self.as_of, "as_of", tz="strip", time="keep")
        if self.calibration_end is None:
            object.__setattr__(self, "calibration_end", self.default_calibration_end(as_of))
        self.check_calibration_end(self.calibration_end, as_of)
        self.check_time_unit(self.time_unit)
        self.check_purchase_model(self.purchase_model, fit_paretonbd=self.fit_paretonbd)
        self.check_selection_criterion(self.selection_criterion)
        for name in ("margin", "discount_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"{name} must be a finite number, got {shown(value)}")
        self.check_horizon(self.horizon)
        self.check_p_alive_info_threshold(self.p_alive_info_threshold)
        check_flag(self.fit_paretonbd, "fit_paretonbd")
        check_seed(self.seed)
        self.check_money(self.margin, self.discount_rate)
        self.check_p_alive_near_one(self.p_alive_near_one)
        self.check_cohort_frequency(self.cohort_frequency)
        self.check_intervals(self.interval_level, self.interval_draws)
        object.__setattr__(self, "covariates", self.check_covariates(self.covariates))
        object.__setattr__(self, "reference_estimates",
                           self.check_reference_estimates(
            self.reference_estimates, source=self.reference_source, fit_paretonbd=self.fit_paretonbd,
            purchase_model=self.purchase_model))

    @staticmethod
    def default_calibration_end(as_of: Any) -> str:
        """The ``calibration_end`` of ``calibration_end=None``: six months before ``as_of``, an ISO date.

        The notebook's default is ``None`` too, so moving ``as_of`` alone moves it in the chain as in a
        stand-alone run (newcomer finding G1).
        """
        end = parse_date(as_of, "as_of", tz="strip", time="keep")
        return (end - pd.DateOffset(months=6)).date().isoformat()

    # the checks, one per parameter; the report's pre-flight calls them too
    @staticmethod
    def check_horizon(value: Any) -> float:
        """A number of time units > 0 (the check of :func:`crm_analysis.clv.customer_lifetime_value`)."""
        return check_number(value, "horizon", minimum=0, low_open=True,
                            fix="the CLV horizon in time units, e.g. 52 weeks")

    @staticmethod
    def check_p_alive_info_threshold(value: Any) -> float:
        """A dropout probability in (0, 1): 5 (a percentage?) is refused."""
        return check_probability(value, "p_alive_info_threshold", one=False)

    @staticmethod
    def check_p_alive_near_one(value: Any) -> None:
        """A probability in (0, 1): 90 (a percentage) is refused."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
            raise InputError(f"p_alive_near_one must be a probability in (0, 1) (the P(alive) above which a "
                             f"customer counts as near-certainly alive, e.g. 0.9), got {shown(value)}")

    @staticmethod
    def check_money(margin: Any, discount_rate: Any) -> None:
        """``margin`` a share of revenue in (0, 1], ``discount_rate`` an annual rate in [0, 1): 30 or 10 (percentages) are refused."""
        from ._validation import check_discount_rate, check_margin

        check_margin(margin)
        check_discount_rate(discount_rate, per="year")

    @staticmethod
    def check_calibration_end(value: Any, as_of: Any) -> pd.Timestamp:
        """An ISO calendar date before ``as_of`` (as ``rfm.calibration_and_holdout`` requires); returned parsed."""
        cal = parse_date(value, "calibration_end", tz="strip", time="reject")
        end = parse_date(as_of, "as_of", tz="strip", time="keep")
        if cal >= end:
            raise InputError(
                f"calibration_end {cal:%Y-%m-%d} must be before as_of {end:%Y-%m-%d}: the models are fitted on the "
                "purchases up to calibration_end and checked on those after it, up to as_of; set calibration_end "
                "before as_of (a quarter before is a good start)"
            )
        return cal

    @staticmethod
    def check_time_unit(value: Any) -> TimeUnit:
        """A unit both the RFM summary and the CLV discounting take: the text ``"D"`` or ``"W"`` (any case).

        The one check of :attr:`time_unit` (the object, the pre-flight and so :func:`run_rfm_clv`): a number
        of days is refused, also 1 and 7, because the notebook's parameter is text (the pre-flight's type
        check) and other numbers fail the CLV (findings_13d H3); the message names the text to write.

        Raises
        ------
        crm_analysis.exceptions.InputError
            Naming ``time_unit``, the value and the fix.
        """
        from .value import step_discount_rate

        need = "the chain's RFM summary and CLV need 'D' (days) or 'W' (weeks)"
        if not isinstance(value, str):
            try:
                code = TimeUnit.parse(value).code
            except ValueError:
                code = None
            fix = f": write {code!r}" if code is not None else ""
            raise InputError(f"time_unit must be the text 'D' or 'W', got {shown(value)}; {need}{fix}")
        try:
            unit = TimeUnit.parse(value)  # rfm_summary / calibration_and_holdout
            step_discount_rate(0.1, value, 1.0)  # CLVAnalysis passes the text unit on to customer_lifetime_value
        except ValueError:  # (the general parser's text offers numbers of days, which this check refuses)
            raise InputError(f"time_unit must be the text 'D' or 'W', got {shown(value)}; {need}") from None
        return unit

    @staticmethod
    def candidates_for(fit_paretonbd: bool) -> list[str]:
        """The candidate purchase models: every available one, the Pareto/NBD only with ``fit_paretonbd``."""
        return [m for m in available_purchase_models() if fit_paretonbd or m != "paretonbd"]

    @classmethod
    def check_purchase_model(cls, value: Any, *, fit_paretonbd: bool = True) -> None:
        """``auto`` or a purchase model ``compare_models`` can force: known, installed, among the candidates.

        A boundary limit (``nbd``, ``geometricnbd``, ``exponentialnbd``, ...,
        :data:`crm_analysis.clv.LIMIT_MODELS_NOTE`) is never a default
        candidate; forced, it is added to the candidates.
        """
        check_name(value, "purchase_model", what="'auto' or a purchase model name")
        if _key(value) == "auto":
            return
        name = purchase_model_name(value)
        purchase_model_class(name)  # registered but not in this version of the package
        if not PURCHASE_MODELS[name].candidate:
            return
        candidates = cls.candidates_for(fit_paretonbd)
        if name not in candidates:
            raise InputError(f"purchase_model = {shown(value)} is not among the candidate models {candidates}; set "
                             "fit_paretonbd: true to include the Pareto/NBD, or purchase_model: auto")

    @staticmethod
    def check_selection_criterion(value: Any) -> None:
        """One of :data:`crm_analysis.clv.SELECTION_CRITERIA`."""
        if not isinstance(value, str) or value not in SELECTION_CRITERIA:
            raise InputError(f"unknown criterion {shown(value)}: use one of {list(SELECTION_CRITERIA)} "
                             "(selection_criterion)")

    @staticmethod
    def check_cohort_frequency(value: Any) -> None:
        """``"M"`` (months) or ``"Q"`` (quarters), as :func:`crm_analysis.rfm.cohort_table` takes."""
        if value not in ("M", "Q"):
            raise InputError(f"cohort_frequency = {shown(value)}: use 'M' (acquisition month) or 'Q' (acquisition quarter)")

    @staticmethod
    def check_intervals(level: Any, draws: Any) -> None:
        """``interval_level`` in (0, 1) and ``interval_draws`` an integer >= 20."""
        if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
            raise InputError(f"interval_level = {shown(level)} must be in (0, 1), e.g. 0.9 for 90% intervals")
        if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 20:
            raise InputError(f"interval_draws = {draws!r} must be an integer >= 20 (200 is the default; more draws "
                             "give steadier quantiles and take longer)")

    #: the models :attr:`reference_estimates` may name besides the purchase models, by name -> class name
    _REFERENCE_SPEND_MODELS = {"gamma_gamma": "GammaGammaModel"}

    @classmethod
    def check_reference_estimates(cls, value: Any, *, source: Any = "", fit_paretonbd: Any = True,
                                  purchase_model: Any = "auto") -> dict[str, dict[str, float]]:
        """``{model: {parameter: value}}`` of known models and parameters, positive finite numbers; returned as plain dicts.

        Parameters
        ----------
        value : dict or None
            :attr:`reference_estimates`; ``None`` or empty: none.
        source : str
            :attr:`reference_source`: required (not blank) when ``value`` is given.
        fit_paretonbd, purchase_model
            The run's: a model the run does not fit (the Pareto/NBD without
            ``fit_paretonbd``, a boundary limit not forced) is refused.

        Returns
        -------
        dict
            Model name (canonical, e.g. ``"paretonbd"`` for ``"Pareto/NBD"``) -> parameter -> float.

        Raises
        ------
        crm_analysis.exceptions.InputError
            Not a mapping of mappings; an unknown model (listing the names), one
            named twice, or one the run does not fit; a parameter the model does
            not have (listing its parameters); a value that is not a positive
            finite number; no ``reference_source``.
        """
        from crm_analysis import clv

        if not isinstance(source, str):
            raise InputError(f"reference_source = {shown(source)} must be text: where reference_estimates come "
                             "from, e.g. 'Fader, Hardie & Lee (2005), Marketing Science 24(2)'")
        if value is None or (isinstance(value, dict) and not value):
            return {}
        example = "e.g. {'bgnbd': {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}}"
        if not isinstance(value, dict):
            raise InputError(f"reference_estimates = {shown(value)} must be a mapping model -> "
                             f"{{parameter: value}}, {example}")
        if not source.strip():
            raise InputError(f"reference_estimates are given but reference_source = {shown(source)} does not say "
                             "where they come from: set it to the publication or run they are taken from, e.g. "
                             "'Fader, Hardie & Lee (2005), Marketing Science 24(2)'")
        known = {**{n: PURCHASE_MODELS[n].class_name for n in available_purchase_models(include_limits=True)},
                 **cls._REFERENCE_SPEND_MODELS}
        out: dict[str, dict[str, float]] = {}
        for model, values in value.items():
            name = model if model in cls._REFERENCE_SPEND_MODELS else None
            if name is None:
                try:
                    name = purchase_model_name(str(model))
                except ValueError:
                    name = None
            if name not in known:
                raise InputError(f"reference_estimates names the model {model!r}, which is not one of "
                                 f"{sorted(known)}; use one of those names")
            forced = None
            if isinstance(purchase_model, str) and _key(purchase_model) != "auto":
                try:
                    forced = purchase_model_name(purchase_model)
                except ValueError:
                    forced = None
            fitted = [*cls.candidates_for(bool(fit_paretonbd)), *([forced] if forced else []), "gamma_gamma"]
            if name not in fitted:
                raise InputError(f"reference_estimates names the {name!r} model, which this run does not fit (it "
                                 f"fits {fitted}): " + ("set fit_paretonbd: true or leave its estimates out"
                                 if name == "paretonbd" else "a boundary limit is fitted only when purchase_model "
                                 "forces it; leave its estimates out or force it"))
            if name in out:
                raise InputError(f"reference_estimates names the {name!r} model twice ({model!r} and an earlier "
                                 "spelling of it): give each model's parameters under one name")
            if not isinstance(values, dict) or not values:
                raise InputError(f"reference_estimates[{model!r}] = {shown(values)} must be a non-empty mapping "
                                 f"parameter -> value, {example}")
            names = tuple(getattr(clv, known[name])._param_names)
            row: dict[str, float] = {}
            for par, v in values.items():
                if par not in names:
                    raise InputError(f"reference_estimates[{model!r}] names the parameter {par!r}; the "
                                     f"{purchase_model_label(name) if name in PURCHASE_MODELS else 'Gamma-Gamma'} "
                                     f"model's parameters are {list(names)}")
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                    hint = ""
                    if isinstance(v, str):
                        try:
                            float(v)
                            hint = (": it is text (YAML reads 1e3 without a dot, or a quoted number, as text); "
                                    "write it as a number, e.g. 1000 or 1.0e3")
                        except ValueError:
                            pass
                    raise InputError(f"reference_estimates[{model!r}][{par!r}] = {shown(v)} must be a positive "
                                     f"finite number (the model's parameters are all positive){hint}")
                row[str(par)] = float(v)
            out[name] = row
        return out

    @staticmethod
    def check_covariates(value: Any, *, columns: Any = None) -> tuple[str, ...]:
        """A list of distinct covariate names; with ``columns`` (the transactions'), each one available.

        Returns
        -------
        tuple of str

        Raises
        ------
        ValueError
            A bare string, a non-string or empty entry, a repeated name, or
            (with ``columns``) a name that is neither a column nor a derived
            covariate, listing the available ones.
        """
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise InputError(f"covariates = {shown(value)} must be a list of column names, e.g. ['channel']")
        names = tuple(value)
        bad = [v for v in names if not isinstance(v, str) or not v.strip()]
        if bad:
            raise InputError(f"covariates = {list(names)!r}: {bad!r} are not column names")
        dup = sorted({v for v in names if names.count(v) > 1})
        if dup:
            raise InputError(f"covariates = {list(names)!r} names {dup} more than once")
        if columns is not None:
            from .report_extras import available_covariates

            avail = available_covariates(list(columns))
            unknown = [v for v in names if v not in avail]
            if unknown:
                near = {v: a for v in unknown for a in avail if a.lower() == v.lower()}
                hint = "".join(f"; {shown(v)}: did you mean {a!r}? (the column mapping gives the transactions their "
                               "canonical names)" for v, a in near.items())
                raise InputError(f"covariates {unknown} are not available: the transactions' columns and derived "
                                 f"covariates are {avail}; set covariates to some of them, or [] for none{hint}")
        return names

    @property
    def unit(self) -> TimeUnit:
        """The time unit as a :class:`~crm_analysis.contracts.TimeUnit`."""
        return TimeUnit.parse(self.time_unit)

    @property
    def candidates(self) -> list[str]:
        """The candidate purchase models of this run."""
        return self.candidates_for(self.fit_paretonbd)

    def replace(self, **changes: Any) -> "RfmClvParams":
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)


def top_share(values: Any, *, fraction: float = 0.2) -> float:
    """Share of the total held by the largest ``fraction`` of the values.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        E.g. CLV per customer.
    fraction : float, default 0.2
        Share of the values counted as the top (at least one value).

    Returns
    -------
    float
        ``sum(top round(fraction * n) values) / sum(values)``; NaN for an
        empty array or a zero total.
    """
    raw = np.asarray(values, dtype=float)
    total = raw.sum()
    v = np.sort(raw)[::-1]
    if len(v) == 0 or total == 0:
        return float("nan")
    n_top = max(1, int(round(fraction * len(v))))
    return float(v[:n_top].sum() / total)


def _mean_dropout(m: Any) -> float:
    """Mean dropout probability of a fitted BG/NBD, ``a / (a + b)``; at a boundary its limit's value.

    ``p`` of a common-dropout fit (``a = b = inf``), ``pi`` of a two-point
    fit (``a = b = 0``), 0 at the no-dropout limit (``a = 0, b = inf``).
    """
    limit = m._common_limit()
    if limit is not None:
        return float(limit.params_["p" if "p" in limit.params_.index else "pi"])
    a, b = (float(v) for v in m.params_[["a", "b"]])
    return 0.0 if a == 0.0 else float(a / (a + b))


#: What :func:`_mean_dropout` is, by the limit the fitted BG/NBD sits at (``boundary_kind()``; ``None``: interior):
#: a limit's own parameter with its name, never a formula of its infinite or zero ``a, b`` (findings_12z, index.html
#: said "a/(a+b) 17.1%" at ``a = b = inf``)
_DROPOUT_WORDS: dict[str | None, str] = {
    None: "a/(a+b)",
    "common_dropout": "p of its common-dropout limit, one probability for every customer",
    "two_point_dropout": "pi of its two-point-dropout limit, the share who drop out at their first repeat purchase",
    "no_dropout": "0 at its no-dropout limit, the NBD",
}


def _dropout_words(m: Any) -> str:
    """What the number of :func:`_mean_dropout` of the fitted BG/NBD ``m`` is (:data:`_DROPOUT_WORDS`)."""
    return _DROPOUT_WORDS.get(m.boundary_kind(), _DROPOUT_WORDS[None])


def _fitted(m: Any) -> dict[str, Any] | None:
    """Parameters, log-likelihood and standard errors of a fitted model, as ``clv_params.json`` records them."""
    if m is None:
        return None
    out: dict[str, Any] = {"params": m.params_.to_dict(), "log_likelihood": float(m.log_likelihood_)}
    if hasattr(m, "boundary_kind"):  # which limit infinite or zero parameters stand for (None: the full model)
        out["boundary"] = m.boundary_kind()
    limit = getattr(m, "limit_model_", None)
    if limit is not None:  # the limit's own parameters (its dropout p or mu has no place among a, b or s, beta)
        out["limit_model"] = {"model": type(limit).__name__, "params": limit.params_.to_dict(),
                              "log_likelihood": float(limit.log_likelihood_)}
    if getattr(m, "standard_errors_", None) is not None:
        out["std_errors"] = pd.Series(m.standard_errors_, index=m.params_.index).to_dict()
    return out


@dataclass
class RfmClvResult:
    """Everything the rfm_clv step computes (:func:`run_rfm_clv`).

    Attributes
    ----------
    params : RfmClvParams
    n_transactions : int
        Transaction lines read.
    n_after_as_of : int
        Of these, lines dated after ``as_of`` (by day): left out of the summary and every fit (the chain's data step
        cuts at ``as_of``, so 0 there; a stand-alone or API call on longer data counts them here).
    summary : DataFrame
        RFM summary up to ``as_of`` (index ``customer_id``; ``attrs`` carry the time unit).
    cal_hold : DataFrame
        Calibration summary with the holdout purchases.
    comparison : ModelComparison
        The purchase models compared on the holdout and the one chosen.
    gamma_gamma : GammaGammaModel
        Gamma-Gamma fitted on the calibration period.
    whole : dict
        The compared purchase models refitted on the whole period, by name.
    whole_failed : dict
        Models that failed on the whole period, name -> message.
    analysis : CLVAnalysis
        The chosen model and Gamma-Gamma on the whole period.
    clv : DataFrame
        The ``clv.parquet`` table (contract :data:`crm_analysis.contracts.CLV`).
    p_alive : dict
        P(alive) per customer, shape (n_customers,), by model label, whole period.
    cohorts : CohortTable or None
        Acquisition cohorts by periods since acquisition
        (:func:`crm_analysis.rfm.cohort_table`; ``cohorts.parquet``).
    intervals : PredictionIntervals or None
        Prediction intervals of the purchases and CLV per customer and in
        total over the horizon
        (:func:`crm_analysis.clv.report_extras.clv_prediction_intervals`).
    covariate_effects : CovariateEffects or None
        With ``params.covariates``: the covariate model's coefficients and the
        likelihood-ratio test (:func:`crm_analysis.clv.report_extras.fit_covariate_effects`).
    dropout : dict
        BG/NBD dropout probability ``a/(a+b)`` on the ``calibration`` and
        ``whole_period`` fits (NaN when the BG/NBD is not fitted).
    whole_notes : DataFrame
        Notes on the whole-period refits (:meth:`PurchaseModelRefit.notes_table
        <crm_analysis.clv.PurchaseModelRefit.notes_table>`): ``model`` (label)
        and ``note``: every typed warning of each refit (e.g. an
        ``IdentificationWarning``), boundary-status changes and failed refits.
        The report shows them; ``clv_params.json`` keeps them under
        ``whole_period.notes``. The whole-period Gamma-Gamma fit's warnings
        are among them (``model`` "Gamma-Gamma").
    spend_notes : DataFrame
        The typed warnings of the Gamma-Gamma fits as notes (not printed):
        ``period`` ("calibration" or "whole period") and ``note``
        (``"<category>: <message>"``, e.g. an ``IdentificationWarning`` when
        the spend scale does not vary between customers). The
        ``SpendCorrelationWarning`` is not among them: the report shows the
        correlation in its spend section.
    """

    params: RfmClvParams
    n_transactions: int
    summary: pd.DataFrame
    cal_hold: pd.DataFrame
    comparison: ModelComparison
    gamma_gamma: Any
    whole: dict[str, Any]
    whole_failed: dict[str, str]
    analysis: CLVAnalysis
    clv: pd.DataFrame
    p_alive: dict[str, np.ndarray]
    dropout: dict[str, float] = field(default_factory=dict)
    whole_notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["model", "note"]))
    spend_notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["period", "note"]))
    _transactions: pd.DataFrame | None = field(default=None, repr=False)
    cohorts: Any = None
    intervals: Any = None
    covariate_effects: Any = None
    n_after_as_of: int = 0

    @property
    def models(self) -> dict[str, Any]:
        """The calibration-period purchase models by label."""
        return {self.comparison.label(name): m for name, m in self.comparison.models.items()}

    @property
    def rfm_summary_table(self) -> pd.DataFrame:
        """The ``rfm_summary.parquet`` table (contract :data:`crm_analysis.contracts.RFM_SUMMARY`)."""
        return self.summary.reset_index()

    @property
    def cohorts_table(self) -> pd.DataFrame:
        """The ``cohorts.parquet`` table (contract :data:`crm_analysis.contracts.COHORTS`)."""
        if self.cohorts is None:
            raise InputError("no cohort table in this result: run run_rfm_clv")
        return self.cohorts.table

    def models_without_covariance(self) -> list[str]:
        """Labels of the whole-period models used for CLV without usable standard errors.

        The purchase model used downstream and the Gamma-Gamma model, where a
        singular Hessian or parameters not identified (``not_identified_``)
        leave no covariance to draw parameters from: the prediction intervals
        then hold process uncertainty only, and the notes on the whole-period
        fits (:attr:`whole_notes`) say why.

        Returns
        -------
        list of str
            E.g. ``["Gamma-Gamma"]``; empty when both have standard errors.
        """
        from .report_extras import _has_covariance

        models = {self.analysis.model_label: self.analysis.transaction_model, "Gamma-Gamma": self.analysis.spend_model}
        return [label for label, m in models.items() if m is not None and not _has_covariance(m)]

    def top_customers(self, *, n: int = 20) -> pd.DataFrame:
        """The ``n`` customers with the highest CLV, with their prediction intervals.

        Returns
        -------
        DataFrame, shape (n, ...)
            Index ``customer_id``; the ``clv.parquet`` columns (without
            ``p_alive_model``) and, with intervals, ``purchases_lower``,
            ``purchases_upper`` (beside ``expected_purchases``) and
            ``clv_lower``, ``clv_upper`` (beside ``clv``) of level
            ``params.interval_level``.
        """
        top = self.clv.drop(columns=["p_alive_model", "clv_lower", "clv_upper"], errors="ignore")
        top = top.sort_values("clv", ascending=False).head(n).set_index("customer_id")
        if self.intervals is None:
            return top
        iv = self.intervals.customers
        iv = iv.set_axis(iv.index.astype(str)).reindex(top.index)
        cols = list(top.columns)
        out = top.join(iv[["purchases_lower", "purchases_upper", "clv_lower", "clv_upper"]])
        order = []
        for c in cols:
            order.append(c)
            if c == "expected_purchases":
                order += ["purchases_lower", "purchases_upper"]
            if c == "clv":
                order += ["clv_lower", "clv_upper"]
        return out[order]

    @property
    def clv_above_interval(self) -> int:
        """Customers whose expected CLV lies above the upper end of their prediction interval (0 without intervals).

        The interval (``clv_lower``, ``clv_upper`` of ``clv.parquet``) is of the
        realised CLV; a customer unlikely to buy again within the horizon has
        ``clv_upper`` 0 and a positive expected CLV.
        """
        if "clv_upper" not in self.clv.columns:
            return 0
        return int((self.clv["clv"] > self.clv["clv_upper"]).sum())

    @property
    def top20_clv_share(self) -> float:
        """Share of the total CLV held by the top 20% of customers (:func:`top_share`)."""
        return top_share(self.clv["clv"])

    @property
    def p_alive_uninformative(self) -> bool:
        """The whole-period BG/NBD dropout probability is below ``p_alive_info_threshold``."""
        d = self.dropout.get("whole_period", float("nan"))
        return bool(d < self.params.p_alive_info_threshold)

    def clv_basis_text(self) -> str:
        """The assumptions the CLV figures rest on, in one sentence for the report (findings_12c B2: never shown).

        Returns
        -------
        str
            E.g. ``"CLV here: 30% margin on the expected spend, discounted at 10% a year, over the next 52 weeks."``
            (:class:`RfmClvParams` ``margin``, ``discount_rate``, ``horizon`` and the time unit).
        """
        p = self.params
        return (f"CLV here: {100 * p.margin:g}% margin on the expected spend, discounted at "
                f"{100 * p.discount_rate:g}% a year, over the next {p.horizon:g} {p.unit.label}.")

    def dropout_text(self, period: str) -> str:
        """What the BG/NBD dropout probability of ``period`` is and the parameters it comes from, for the report.

        Parameters
        ----------
        period : {"whole_period", "calibration"}
            Which fit of the BG/NBD.

        Returns
        -------
        str
            E.g. ``"a/(a+b), a = 0.79, b = 2.4"``, or at a limit its own parameter by name
            (``"p of its common-dropout limit, one probability for every customer"``), never a formula of
            infinite ``a, b``; ``""`` when the BG/NBD was not fitted.

        Raises
        ------
        InputError
            ``period`` is neither.
        """
        if period not in ("whole_period", "calibration"):
            raise InputError(f"period must be 'whole_period' or 'calibration', got {shown(period)}")
        m = (self.whole if period == "whole_period" else self.comparison.models).get("bgnbd")
        if m is None:
            return ""
        if m.boundary_kind() is None:
            a, b = (float(v) for v in m.params_[["a", "b"]])
            return f"{_DROPOUT_WORDS[None]}, a = {a:.4g}, b = {b:.4g}"
        return _dropout_words(m)

    def p_alive_near_one_share(self, model: str) -> float:
        """Share of the customers whose P(alive) under ``model`` is above ``params.p_alive_near_one``.

        Parameters
        ----------
        model : str
            A label of :attr:`p_alive` (``"BG/NBD"``, ``"Pareto/NBD"``, ...).

        Returns
        -------
        float
            In [0, 1]; the report reads a high share with
            :attr:`p_alive_uninformative` as "P(alive) carries little information".

        Raises
        ------
        InputError
            ``model`` is not a label of :attr:`p_alive` (the message lists them).
        """
        if model not in self.p_alive:
            raise InputError(f"model={model!r} has no P(alive) in this result; use one of {list(self.p_alive)}")
        return float((np.asarray(self.p_alive[model], dtype=float) > self.params.p_alive_near_one).mean())

    @cached_property
    def diagnostics(self) -> dict[str, dict[str, Any]]:
        """Fit and holdout diagnostics of the calibration models, by label.

        Returns
        -------
        dict
            ``{"histogram": {label: FrequencyHistogram}, "conditional":
            {label: ConditionalExpectations}, "tracking": {label: Tracking}}``.
        """
        if self._transactions is None:
            raise InputError("the tracking diagnostics need the transactions: run run_rfm_clv with keep_transactions")
        models = self.models
        return {
            "histogram": {k: frequency_histogram(m, self.cal_hold) for k, m in models.items()},
            "conditional": {self.comparison.label(k): ce for k, ce in self.comparison.conditional.items()},
            "tracking": {k: tracking(m, self._transactions, self.cal_hold) for k, m in models.items()},
        }

    def diagnostics_table(self) -> pd.DataFrame:
        """Histogram, conditional-expectation and tracking errors, one column per model."""
        d, unit = self.diagnostics, self.params.unit
        return pd.DataFrame(
            {
                "Histogram MAE (customers)": {k: r.mae for k, r in d["histogram"].items()},
                "Histogram chi-square": {k: r.chi2 for k, r in d["histogram"].items()},
                "Cond. expectations MAE": {k: r.mae for k, r in d["conditional"].items()},
                "Cond. expectations RMSE": {k: r.rmse for k, r in d["conditional"].items()},
                f"Tracking MAE (per {unit.singular})": {k: r.mae for k, r in d["tracking"].items()},
                "Tracking RMSE": {k: r.rmse for k, r in d["tracking"].items()},
                "Cumulative error at end (%)": {k: r.cumulative_error_pct for k, r in d["tracking"].items()},
            }
        ).T

    def p_alive_table(self) -> pd.DataFrame:
        """Distribution of P(alive) per model: mean, quantiles, shares above 0.9 and below 0.5."""
        return pd.DataFrame(
            {
                name: {
                    "mean": pa.mean(), "10th percentile": np.quantile(pa, 0.1), "median": np.median(pa),
                    "90th percentile": np.quantile(pa, 0.9), "share above 0.9": (pa > 0.9).mean(),
                    "share below 0.5": (pa < 0.5).mean(),
                }
                for name, pa in self.p_alive.items()
            }
        ).T

    def reference_table(self) -> pd.DataFrame:
        """The calibration-period estimates beside ``params.reference_estimates`` (e.g. the published ones).

        Returns
        -------
        DataFrame, one row per configured (model, parameter)
            Columns ``model`` (report label), ``parameter``, ``estimate`` (the
            calibration fit's; NaN where the model was not fitted in this run),
            ``reference``, ``relative_difference`` (``estimate / reference - 1``),
            ``rounds_to_reference`` (the estimate rounded to as many decimals as
            the reference is written with equals it, e.g. 0.2426 to 0.243: a
            published figure is rounded; ``False`` without an estimate) and
            ``note`` (the limit a fit sits at, or why there is no estimate).
            Empty (these columns) without reference estimates.
        """
        cols = ["model", "parameter", "estimate", "reference", "relative_difference", "rounds_to_reference", "note"]
        rows = []
        for name, ref in (self.params.reference_estimates or {}).items():
            model = self.gamma_gamma if name == "gamma_gamma" else self.comparison.models.get(name)
            label = "Gamma-Gamma" if name == "gamma_gamma" else purchase_model_label(name)
            kind = model.boundary_kind() if model is not None and hasattr(model, "boundary_kind") else None
            note = ("not fitted in this run" if model is None
                    else f"the fit sits at its {kind.replace('_', '-')} limit" if kind else "")
            for par, value in ref.items():
                est = float(model.params_[par]) if model is not None and par in model.params_.index else float("nan")
                with np.errstate(invalid="ignore", divide="ignore"):
                    rel = est / value - 1.0
                rows.append((label, par, est, value, rel, _rounds_to(est, value), note))
        return pd.DataFrame(rows, columns=cols)

    def reference_text(self) -> str:
        """One sentence on :meth:`reference_table` for the report: the source and the largest relative difference; ``""`` without references."""
        table = self.reference_table()
        if table.empty:
            return ""
        src = self.params.reference_source
        fitted = table.dropna(subset=["relative_difference"])
        if fitted.empty:
            return f"None of the models with reference estimates ({src}) was fitted in this run."
        worst = fitted.loc[fitted["relative_difference"].abs().idxmax()]
        missing = sorted(set(table.loc[table["estimate"].isna(), "model"]))
        off = fitted.loc[~fitted["rounds_to_reference"]]
        rounding = (f"all {len(fitted)} estimates round to the reference values" if off.empty else
                    f"{len(off)} of {len(fitted)} estimates do not round to the reference values ("
                    + ", ".join(f"{m} {p}" for m, p in zip(off["model"], off["parameter"])) + ")")
        return (f"Calibration estimates against {src}: {rounding}; the largest relative difference is "
                f"{abs(worst['relative_difference']):.2%} ({worst['parameter']} of the {worst['model']}: "
                f"{worst['estimate']:.4g} vs {worst['reference']:.4g})"
                + (f"; not fitted in this run: {', '.join(missing)}" if missing else "") + ".")

    def clv_params(self) -> dict[str, Any]:
        """The ``clv_params.json`` record (keys of its contract)."""
        p, cal = self.params, self.cal_hold
        names = [n for n in _RECORDED if n in available_purchase_models()]
        names += [n for n in self.comparison.models if n not in names]  # a forced boundary limit
        return {
            "time_unit": p.time_unit, "calibration_end": p.calibration_end, "as_of": p.as_of,
            "clv_model": self.analysis.model, "p_alive_model": self.analysis.p_alive_label,
            "purchase_model_choice": self.comparison.to_dict(),
            "calibration": {"n_customers": len(cal), "n_repeat_buyers": int(self.gamma_gamma.n_customers_),
                            **{n: _fitted(self.comparison.models.get(n)) for n in names},
                            "gamma_gamma": _fitted(self.gamma_gamma), "spend_excluded": self.gamma_gamma.exclusions_},
            "whole_period": {"n_customers": len(self.summary), **{n: _fitted(self.whole.get(n)) for n in names},
                             "gamma_gamma": _fitted(self.analysis.spend_model),
                             "spend_excluded": self.analysis.spend_excluded,
                             "notes": [f"{m}: {t}" for m, t in self.whole_notes.itertuples(index=False)]},
            "bgnbd_dropout_probability": dict(self.dropout),
            "mean_p_alive": {name: float(pa.mean()) for name, pa in self.p_alive.items()},
            "prediction_intervals": None if self.intervals is None else {
                "level": self.intervals.level, "n_draws": self.intervals.n_draws, "horizon": self.intervals.horizon,
                "total": {k: {c: float(v) for c, v in row.items()} for k, row in self.intervals.total.iterrows()},
            },
            "reference_estimates": None if not self.params.reference_estimates else {
                "source": self.params.reference_source,
                "rows": strict_json.jsonable(self.reference_table().to_dict(orient="records")),
            },
            "covariate_effects": None if self.covariate_effects is None else {
                "model": self.covariate_effects.label, "covariates": list(self.covariate_effects.covariates),
                "coefficients": {k: {c: float(v) for c, v in row.items() if c not in ("process", "covariate")}
                                 for k, row in self.covariate_effects.coefficients.iterrows()},
                "lr_test": {k: float(v) for k, v in self.covariate_effects.lr_test.items()},
                "levels": self.covariate_effects.levels, "notes": list(self.covariate_effects.notes),
            },
        }

    def headlines(self) -> dict[str, Any]:
        """Headline figures (keys declared in :data:`crm_analysis.contracts.HEADLINES` for ``rfm_clv``)."""
        clv, comp = self.clv, self.comparison
        return {
            "customers": int(len(clv)),
            "total_clv": float(clv["clv"].sum()),
            "mean_clv": float(clv["clv"].mean()),
            "top20_clv_share": self.top20_clv_share,
            "bgnbd_holdout_mae": float(comp.table.loc["bgnbd", "conditional_mae"]) if "bgnbd" in comp.models
            else float("nan"),
            "bgnbd_dropout_probability": self.dropout["whole_period"],
            "mean_p_alive": float(clv["p_alive"].mean()),
            "spend_nonpositive_customers": int(self.analysis.spend_excluded[SPEND_NONPOSITIVE]),
            **comp.headlines(),
            # the whole-period fit's name with the limit it sits at, as P(alive) and the action pages name it
            "purchase_model": self.analysis.p_alive_label,
            **({} if self.intervals is None else {
                "total_clv_lower": float(self.intervals.total.loc["clv", "lower"]),
                "total_clv_upper": float(self.intervals.total.loc["clv", "upper"]),
            }),
        }

    def headline_labels(self) -> dict[str, str]:
        """Labels of :meth:`headlines`, their fields filled in."""
        labels = headline_labels("rfm_clv")
        unit = self.params.unit.label
        bg = self.whole.get("bgnbd")
        return {k: labels[k].format(horizon=self.params.horizon, unit=unit, model=self.analysis.p_alive_label,
                                    dropout=_DROPOUT_WORDS[None] if bg is None else _dropout_words(bg),
                                    level=f"{self.params.interval_level:.0%}")
                for k in self.headlines()}


def run_rfm_clv(transactions: pd.DataFrame, params: RfmClvParams | None = None) -> RfmClvResult:
    """Run the rfm_clv step: RFM summary, purchase-model choice, CLV per customer, cohorts, intervals, covariates.

    Parameters
    ----------
    transactions : DataFrame
        Cleaned canonical transactions (``transactions.parquet``).
    params : RfmClvParams, optional
        Default: the notebook's defaults.

    Returns
    -------
    RfmClvResult
        ``rfm_summary_table``, ``clv`` and ``cohorts_table`` keep their
        contracts (:mod:`crm_analysis.contracts`); :meth:`RfmClvResult.clv_params`
        and :meth:`RfmClvResult.headlines` are the other hand-overs. Besides
        the models and the CLV table: the acquisition cohorts
        (:func:`crm_analysis.rfm.cohort_table`, ``params.cohort_frequency``),
        the prediction intervals of the purchases and CLV per customer and in
        total (``params.interval_level``, ``params.interval_draws``, seeded by
        ``params.seed``) and, with ``params.covariates``, the covariate
        effects of the chosen purchase model.

    Raises
    ------
    ValueError
        The errors of the steps (no purchase before ``calibration_end``, every
        model failing, ...); a covariate that is not a column of the
        transactions (before any fit, listing the available ones).
    """
    p = params if params is not None else RfmClvParams()
    if p.covariates:  # before any fit: an unknown covariate is named with the available ones
        p.check_covariates(p.covariates, columns=transactions.columns)
    from crm_analysis.rfm import cohort_table

    from .report_extras import clv_prediction_intervals, fit_covariate_effects

    result = _fit_and_value(transactions, p)
    analysis, summary = result.analysis, result.summary
    result.cohorts = cohort_table(transactions, observation_end=p.as_of, frequency=p.cohort_frequency)
    result.intervals = clv_prediction_intervals(
        analysis.transaction_model, analysis.spend_model, summary, horizon=p.horizon, time_unit=p.unit.code,
        margin=p.margin, discount_rate=p.discount_rate, level=p.interval_level, n_draws=p.interval_draws, seed=p.seed,
    )
    result.clv = _with_intervals(result.clv, result.intervals)
    if p.covariates:
        result.covariate_effects = fit_covariate_effects(summary, transactions, p.covariates,
                                                         model=result.comparison.chosen, as_of=p.as_of)
    return result


def _with_intervals(clv: pd.DataFrame, intervals: Any) -> pd.DataFrame:
    """The clv table with ``clv_lower`` and ``clv_upper``, the prediction interval of each customer's CLV (F5).

    Raises
    ------
    OperationError
        When a customer of the table has no interval (an internal fault: both
        come from the same summary).
    """
    iv = intervals.customers
    iv = iv.set_axis(iv.index.astype(str))
    ends = iv[["clv_lower", "clv_upper"]].reindex(clv["customer_id"].astype(str))
    missing = int(ends.isna().any(axis=1).sum())
    if missing:
        raise OperationError(f"{missing:,} customer(s) of the clv table have no prediction interval of their CLV")
    return clv.assign(clv_lower=ends["clv_lower"].to_numpy(float), clv_upper=ends["clv_upper"].to_numpy(float))


def _fit_and_value(transactions: pd.DataFrame, params: RfmClvParams | None = None) -> RfmClvResult:
    """The models and the CLV table of the rfm_clv step (:func:`run_rfm_clv` before the report's additions).

    Parameters
    ----------
    transactions : DataFrame
        Cleaned canonical transactions (``transactions.parquet``).
    params : RfmClvParams, optional
        Default: the notebook's defaults.

    Returns
    -------
    RfmClvResult
        ``rfm_summary_table`` and ``clv`` keep their contracts
        (:mod:`crm_analysis.contracts`); :meth:`RfmClvResult.clv_params` and
        :meth:`RfmClvResult.headlines` are the other hand-overs.

    Raises
    ------
    ValueError
        The errors of the steps (no purchase before ``calibration_end``, every
        model failing, ...).
    """
    p = params if params is not None else RfmClvParams()
    from crm_analysis.rfm import calibration_and_holdout, rfm_summary

    summary = rfm_summary(transactions, observation_end=p.as_of, time_unit=p.time_unit)
    cal_hold = calibration_and_holdout(
        transactions, calibration_end=p.calibration_end, observation_end=p.as_of, time_unit=p.time_unit
    )
    comparison = compare_models(cal_hold, models=p.candidates, purchase_model=p.purchase_model,
                                criterion=p.selection_criterion)
    # the spend fits' typed warnings are kept as notes for the report, as the purchase models' are
    gamma_gamma, cal_spend_notes = _with_notes(fit_spend_model, cal_hold[["frequency", "recency", "T", "monetary_value"]])
    refit = refit_purchase_models(summary, comparison)  # every warning of the refits kept as a note
    whole, whole_failed = refit.models, refit.failed
    analysis, whole_spend_notes = _with_notes(
        fit_clv_models, summary, model=comparison.chosen, transaction_model=whole.get(comparison.chosen)
    )
    spend_notes = pd.DataFrame(
        [("calibration", t) for t in cal_spend_notes] + [("whole period", t) for t in whole_spend_notes],
        columns=["period", "note"],
    )
    whole_notes = refit.notes_table()
    if whole_spend_notes:
        whole_notes = pd.concat(
            [whole_notes, pd.DataFrame({"model": "Gamma-Gamma", "note": whole_spend_notes})], ignore_index=True
        )
    clv = analysis.value_table(horizon=p.horizon, margin=p.margin, discount_rate=p.discount_rate, seed=p.seed)
    clv = clv[CLV_COLUMNS]
    p_alive = {comparison.label(name): np.asarray(m.probability_alive(summary[["frequency", "recency", "T"]]),
                                                  dtype=float)
               for name, m in whole.items()}
    dropout = {"calibration": float("nan"), "whole_period": float("nan")}
    if "bgnbd" in whole and "bgnbd" in comparison.models:
        dropout = {"calibration": _mean_dropout(comparison.models["bgnbd"]),
                   "whole_period": _mean_dropout(whole["bgnbd"])}
    return RfmClvResult(
        params=p, n_transactions=len(transactions), summary=summary, cal_hold=cal_hold, comparison=comparison,
        gamma_gamma=gamma_gamma, whole=whole, whole_failed=whole_failed, analysis=analysis, clv=clv,
        p_alive=p_alive, dropout=dropout, whole_notes=whole_notes, spend_notes=spend_notes, _transactions=transactions,
        n_after_as_of=_lines_after(transactions, p.as_of),
    )


def _rounds_to(estimate: float, reference: float) -> bool:
    """Whether ``estimate`` rounded to the decimals ``reference`` is written with (its shortest repr) equals it.

    ``0.2426`` to ``0.243`` (3 decimals): True; ``3.7442`` to ``3.74``: True; ``0.25`` to ``0.243``: False.
    A reference in exponent notation (``1e-05``) is compared to its significant digits. NaN: False.
    """
    if not math.isfinite(estimate):
        return False
    text = repr(float(reference))
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.partition(".")[2].rstrip("0")) - (int(exponent) if exponent else 0)
    return abs(estimate - reference) <= 0.5 * 10.0 ** (-decimals) * (1.0 + 1e-9)


def _with_notes(fit: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """``fit(*args, **kwargs)`` and its typed warnings as notes ``"<category>: <message>"``, not printed.

    The package's result warnings (:class:`~crm_analysis.exceptions.CRMAnalysisWarning`) become notes, once each,
    except the :class:`~crm_analysis.exceptions.SpendCorrelationWarning`, which the report shows in its spend
    section (``correlation_``) and which is issued again; any other warning is issued again as it was.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fit(*args, **kwargs)
    notes: list[str] = []
    for w in caught:
        if issubclass(w.category, CRMAnalysisWarning) and not issubclass(w.category, SpendCorrelationWarning):
            text = f"{w.category.__name__}: {w.message}"
            if text not in notes:
                notes.append(text)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return out, notes


def _lines_after(transactions: pd.DataFrame, as_of: Any) -> int:
    """Transaction lines dated after ``as_of`` by day (the rule of rfm_summary's observation end): counted, as they
    are left out (fifth newcomer finding I4)."""
    ts = pd.to_datetime(transactions["timestamp"])
    if ts.dt.tz is not None:
        ts = ts.dt.tz_localize(None)
    end = pd.Timestamp(as_of)
    end = (end.tz_localize(None) if end.tzinfo is not None else end).normalize()
    return int((ts.dt.normalize() > end).sum())
