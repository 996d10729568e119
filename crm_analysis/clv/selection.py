"""Choosing the purchase model: BG/NBD, MBG/NBD and Pareto/NBD side by side.

:func:`compare_models` fits every candidate purchase (transaction) model on the
calibration period of a :func:`crm_analysis.rfm.calibration_and_holdout` table
and reports, per model:

* the maximised log-likelihood ``LL`` and ``k`` estimated parameters (a
  boundary fit's limits, e.g. ``a = 0, b = inf``, are not counted), from the
  model's :class:`~crm_analysis.clv.results.FitResult`;
* ``AIC = 2 k - 2 LL`` and ``BIC = k ln(n) - 2 LL`` with ``n`` the number of
  customers in the calibration period (Akaike 1974; Schwarz 1978);
* holdout errors of the forecast ``E[X(t*) | x, t_x, T]`` of each customer's
  purchases in the holdout period (length ``t*``) against the actual count
  ``x*``: ``holdout_rmse`` = root mean squared error over customers,
  ``holdout_mae`` = mean absolute error over customers,
  ``holdout_total_error_pct`` = error of the total holdout purchases in % of
  the actual total, and ``conditional_mae`` = the MAE over calibration
  frequency bins of :func:`crm_analysis.clv.conditional_expectations`
  (Fader, Hardie & Lee 2005, Figure 4).

**Choice.** Unless a model is forced (``purchase_model``), the model with the
lowest ``criterion`` is used downstream; the default criterion is the
per-customer holdout RMSE. The models forecast *conditional means*, and the
squared error is the loss under which the conditional mean is the best point
forecast (Gneiting 2011, "Making and evaluating point forecasts", JASA 106),
whereas the absolute error rewards the conditional median, which for count data
where most customers buy nothing in the holdout is 0. Differences below
``1e-6`` relative count as ties: where the data show no dropout, every model
runs to the same boundary (the NBD model without dropout) and their errors then
differ only in the last digits the optimisers reach (measured on UCI Online
Retail: 2e-9 relative between BG/NBD and Pareto/NBD). A tie is reported as a
tie (:attr:`ModelComparison.tied`, the explanation and the headlines), and
broken by the rule :data:`TIE_RULE`: the fewest estimated parameters (a
boundary fit, the NBD limit, counts 2), then the registry order (BG/NBD,
MBG/NBD, Pareto/NBD).

**Whole-period refit.** :func:`refit_purchase_models` refits the compared
models on all data for P(alive) and CLV, collecting every fit's warnings as
notes. A model that was the no-dropout limit on the calibration period stays
that limit unless the whole period shows dropout significantly (a
likelihood-ratio test at 5%, ``boundary_test_level``): otherwise P(alive)
could come from a whole-period fit with unidentified dropout parameters while
the model was chosen as the NBD limit. Differences of boundary status between
the periods are noted.

Candidates come from the registry :data:`PURCHASE_MODELS` (name -> class
name in :mod:`crm_analysis.clv`): a model whose class is not in the installed
package (e.g. MBG/NBD before it lands) is simply not available, and adding a
model is one entry.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError
from crm_analysis._validate import check_columns

from crm_analysis import _json as strict_json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from crm_analysis.contracts import MODEL_CHOICE_HEADLINES, TimeUnit

from ._validation import as_frame, check_unique_columns
from .base import ModelFitError

__all__ = [
    "PurchaseModelSpec",
    "PURCHASE_MODELS",
    "LIMIT_MODELS_NOTE",
    "SELECTION_CRITERIA",
    "MODEL_CHOICE_HEADLINES",
    "ModelComparison",
    "available_purchase_models",
    "purchase_model_name",
    "purchase_model_class",
    "purchase_model_label",
    "fit_purchase_models",
    "compare_models",
    "refit_purchase_models",
    "PurchaseModelRefit",
    "TIE_RULE",
]


@dataclass(frozen=True)
class PurchaseModelSpec:
    """One entry of the purchase-model registry.

    Attributes
    ----------
    name : str
        Canonical name (``"bgnbd"``), used in configuration and artefacts.
    label : str
        Name shown in reports (``"BG/NBD"``).
    class_name : str
        Class in :mod:`crm_analysis.clv`.
    reference : str
        Published source of the model.
    aliases : tuple of str
        Further accepted spellings (compared after lower-casing and removing
        ``-``, ``_`` and spaces).
    candidate : bool, default True
        Compared by default (:func:`available_purchase_models`). ``False``
        for the boundary limits of the three models (NBD, common-dropout
        and two-point-dropout limits): they are used only when the
        configuration forces one (``purchase_model``); see
        :data:`LIMIT_MODELS_NOTE`.
    """

    name: str
    label: str
    class_name: str
    reference: str
    aliases: tuple[str, ...] = ()
    candidate: bool = True


#: Registry of purchase models, in the order they are compared and tie-broken.
PURCHASE_MODELS: dict[str, PurchaseModelSpec] = {
    spec.name: spec
    for spec in (
        PurchaseModelSpec(
            "bgnbd", "BG/NBD", "BetaGeoModel",
            "Fader, Hardie & Lee (2005), Marketing Science 24(2), 275-284", ("bg/nbd", "betageo"),
        ),
        PurchaseModelSpec(
            "mbgnbd", "MBG/NBD", "ModifiedBetaGeoModel",
            "Batislam, Denizel & Filiztekin (2007), IJRM 24(3), 201-209", ("mbg/nbd", "modifiedbetageo"),
        ),
        PurchaseModelSpec(
            "paretonbd", "Pareto/NBD", "ParetoNBDModel",
            "Schmittlein, Morrison & Colombo (1987), Management Science 33(1), 1-24", ("pareto/nbd", "pnbd"),
        ),
        # the boundary limits of the three models: selectable by forcing only (LIMIT_MODELS_NOTE)
        PurchaseModelSpec(
            "nbd", "NBD (no dropout)", "NBDModel",
            "Ehrenberg (1959), JRSS C 8(1), 26-41; the no-dropout limit of BG/NBD, MBG/NBD and Pareto/NBD",
            ("nbdmodel",), candidate=False,
        ),
        PurchaseModelSpec(
            "geometricnbd", "Geometric/NBD (common dropout)", "GeometricNBDModel",
            "the BG/NBD's limit a, b -> inf (one dropout probability for everyone)", ("geometric/nbd",),
            candidate=False,
        ),
        PurchaseModelSpec(
            "modifiedgeometricnbd", "Modified Geometric/NBD (common dropout)", "ModifiedGeometricNBDModel",
            "the MBG/NBD's limit a, b -> inf (one dropout probability for everyone)", ("modifiedgeometric/nbd",),
            candidate=False,
        ),
        PurchaseModelSpec(
            "exponentialnbd", "Exponential/NBD (common dropout)", "ExponentialNBDModel",
            "the Pareto/NBD's limit s, beta -> inf (one dropout rate for everyone)", ("exponential/nbd",),
            candidate=False,
        ),
        PurchaseModelSpec(
            "twopointgeometricnbd", "Two-point Geometric/NBD (two-point dropout)", "TwoPointGeometricNBDModel",
            "the BG/NBD's limit a, b -> 0 (a share drops out at its first repeat purchase, the rest never)",
            ("twopointgeometric/nbd",), candidate=False,
        ),
        PurchaseModelSpec(
            "zeroinflatednbd", "Zero-inflated NBD (two-point dropout)", "ZeroInflatedNBDModel",
            "Morrison (1969), JMR 6(2), 210-215 (NBD with hard-core non-buyers); the MBG/NBD's limit a, b -> 0 and "
            "the Pareto/NBD's s, beta -> 0", ("zinbd", "zeroinflated/nbd"), candidate=False,
        ),
    )
}

#: Why the limit models are not compared by default (they can be forced with ``purchase_model``).
LIMIT_MODELS_NOTE = (
    "The NBD, common-dropout (Geometric/NBD, Modified Geometric/NBD, Exponential/NBD) and two-point-dropout "
    "(Two-point Geometric/NBD, zero-inflated NBD) models are limits of BG/NBD, MBG/NBD and Pareto/NBD on the "
    "boundary of their parameter space, and each full model already becomes its limit when the likelihood says "
    "so (boundary_kind(), with a likelihood-ratio test where the whole period is refitted). As separate "
    "candidates they would duplicate those fits, and the holdout error, which does not penalise the full models' "
    "extra parameters and is noisy on short holdouts, would often pick a limit the likelihood rejects: e.g. the "
    "NBD, whose P(alive) is 1 for every customer, which switches off the lapsed-customer rules of the "
    "segmentation. So they are not candidates by default; purchase_model can force one (it is then fitted "
    "beside the candidates, shown in the comparison and used downstream)."
)

#: Selection criteria (column of :attr:`ModelComparison.table`; lower is better).
SELECTION_CRITERIA: dict[str, str] = {
    "holdout_rmse": "root mean squared error of each customer's holdout purchases",
    "holdout_mae": "mean absolute error of each customer's holdout purchases",
    "holdout_total_error": "absolute error of the total holdout purchases (%)",
    "conditional_mae": "mean absolute error of the mean holdout purchases by calibration frequency",
    "aic": "Akaike information criterion on the calibration period",
    "bic": "Bayesian information criterion on the calibration period",
}

_CRITERION_COLUMN = {"holdout_total_error": "holdout_total_error_pct"}
#: How a tie on the criterion is broken (see the module notes).
TIE_RULE = "fewest estimated parameters (a boundary fit counts 2), then registry order (BG/NBD, MBG/NBD, Pareto/NBD)"
_TIE_RTOL = 1e-6  # relative difference of the criterion below which two models tie
#: relative difference of a holdout criterion below which the explanation says the choice is a close call
_CLOSE_CALL_RTOL = 0.01
#: holdout total error (%) beyond which, when every compared model errs the same way, the explanation says so
_SHARED_BIAS_PCT = 10.0


def _key(name: Any) -> str:
    return str(name).strip().lower().replace("-", "").replace("_", "").replace(" ", "")


def purchase_model_name(name: str) -> str:
    """Canonical registry name of a purchase model.

    Parameters
    ----------
    name : str
        A canonical name or alias, e.g. ``"pareto_nbd"``, ``"Pareto/NBD"``.

    Returns
    -------
    str
        ``"bgnbd"``, ``"mbgnbd"`` or ``"paretonbd"``.

    Raises
    ------
    ValueError
        For an unknown name (the accepted names are listed).
    """
    key = _key(name)
    for spec in PURCHASE_MODELS.values():
        if key == _key(spec.name) or key in {_key(a) for a in spec.aliases}:
            return spec.name
    cands = [n for n, spec in PURCHASE_MODELS.items() if spec.candidate]
    limits = [n for n, spec in PURCHASE_MODELS.items() if not spec.candidate]
    import difflib

    close = difflib.get_close_matches(key, [_key(n) for n in PURCHASE_MODELS], n=1, cutoff=0.6)
    raise InputError(
        f"unknown transaction (purchase) model {name!r}: use one of {cands} "
        "(also accepted: 'bg/nbd', 'mbg/nbd', 'pareto_nbd', 'pareto/nbd'), or force one of the boundary limits "
        f"{limits}" + (f"; did you mean {close[0]!r}?" if close else "")
    )


def purchase_model_class(name: str) -> type:
    """Class of a registered purchase model.

    Raises
    ------
    ValueError
        For an unknown name, or a model whose class is not in this version
        of the package.
    """
    spec = PURCHASE_MODELS[purchase_model_name(name)]
    from crm_analysis import clv

    cls = getattr(clv, spec.class_name, None)
    if cls is None:
        raise InputError(
            f"the {spec.label} model ({spec.class_name}) is not available in this version of crm_analysis; "
            f"available: {available_purchase_models()}"
        )
    return cls


def purchase_model_label(name: str) -> str:
    """Report label of a purchase model (``"bgnbd"`` -> ``"BG/NBD"``); unknown names are returned unchanged."""
    try:
        return PURCHASE_MODELS[purchase_model_name(name)].label
    except ValueError:
        return str(name)


#: How the reports name the limit a fitted full model sits at (``boundary_kind()`` -> the words after its label).
_LIMIT_WORDS: dict[str, str] = {
    "no_dropout": "at its no-dropout limit (NBD)",
    "common_dropout": "at its common-dropout limit",
    "two_point_dropout": "at its two-point-dropout limit",
}


def _fitted_model_label(label: str, model: Any) -> str:
    """``label`` followed by the limit the fitted ``model`` sits at, if any (e.g. ``"BG/NBD at its common-dropout limit"``).

    The descriptive name of the P(alive) a reader sees (``p_alive_model`` of ``clv.parquet``, the segmentation
    and action pages); a model without ``boundary_kind`` or at no limit keeps ``label`` unchanged.
    """
    kind = model.boundary_kind() if hasattr(model, "boundary_kind") else None
    return f"{label} {_LIMIT_WORDS[kind]}" if kind in _LIMIT_WORDS else label


def available_purchase_models(*, include_limits: bool = False) -> list[str]:
    """Registered purchase models whose class exists in the installed package, in registry order.

    Parameters
    ----------
    include_limits : bool, default False
        Also the boundary limits (NBD, common- and two-point-dropout models),
        which are not candidates by default (:data:`LIMIT_MODELS_NOTE`).

    Returns
    -------
    list of str
        Canonical names.
    """
    from crm_analysis import clv

    return [name for name, spec in PURCHASE_MODELS.items()
            if hasattr(clv, spec.class_name) and (spec.candidate or include_limits)]


def _candidates(models: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Name -> unfitted model instance."""
    if models is None:
        models = available_purchase_models()
    out: dict[str, Any] = {}
    if isinstance(models, Mapping):
        for name, m in models.items():
            inst = m() if isinstance(m, type) else m
            if not hasattr(inst, "fit") or not hasattr(inst, "expected_purchases"):
                raise InputError(f"candidate {name!r} is not a purchase model (needs fit and expected_purchases)")
            try:
                key = purchase_model_name(name)
            except ValueError:
                key = str(name)
            out[key] = inst
    else:
        if isinstance(models, str):
            raise InputError(f"models must be a list of names, got the string {models!r}")
        for name in models:
            key = purchase_model_name(name)
            if key in out:
                raise InputError(f"purchase model {name!r} is listed twice")
            out[key] = purchase_model_class(key)()
    if not out:
        raise InputError("no candidate purchase model given")
    return out


def _fit_one(model: Any, data: pd.DataFrame) -> tuple[Any, list[str]]:
    """Fit, returning the model and the warnings it raised (as notes, not printed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(data[["frequency", "recency", "T"]])
    notes = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in notes:
            notes.append(text)
    return model, notes


def fit_purchase_models(
    summary: pd.DataFrame, *, models: Sequence[str] | Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str], dict[str, list[str]]]:
    """Fit several purchase models on one summary, keeping going when one fails.

    Parameters
    ----------
    summary : pandas.DataFrame
        Customer summary with ``frequency``, ``recency`` and ``T``.
    models : list of names or mapping name -> model (class or unfitted instance), optional
        Default: :func:`available_purchase_models`.

    Returns
    -------
    (dict, dict, dict)
        The fitted models by name; the models that failed, name -> error
        message; the warnings of each fit (e.g. a parameter at the bound),
        name -> list of messages.

    Raises
    ------
    ValueError
        Unknown names, or a data problem shared by all models (e.g. no
        repeat buyer): when every model fails, the first error is raised.
    """
    summary = as_frame(summary, what="summary", columns=("frequency", "recency", "T"))
    check_columns({"frequency column": "frequency", "recency column": "recency", "T column": "T"}, summary.columns,
                  table="summary")
    cands = _candidates(models)
    fitted: dict[str, Any] = {}
    failed: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    first_error: Exception | None = None
    for name, model in cands.items():
        try:
            fitted[name], notes[name] = _fit_one(model, summary)
        except (ModelFitError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
            first_error = first_error or exc
    if not fitted:
        assert first_error is not None
        raise first_error
    return fitted, failed, notes


@dataclass
class ModelComparison:
    """Purchase models fitted on a calibration period and checked on its holdout.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate (index: canonical name, registry order):
        ``label``, ``parameters`` (k), ``log_likelihood``, ``aic``, ``bic``,
        ``holdout_rmse``, ``holdout_mae``, ``holdout_total_error_pct``,
        ``conditional_mae``, ``chosen`` (bool) and ``note`` (fit warnings,
        or the error of a model that failed; its figures are NaN).
    models : dict
        Fitted models by name (calibration period).
    chosen : str
        Name of the model used downstream.
    chosen_by : str
        ``"criterion"`` (lowest :attr:`criterion`) or ``"configuration"``
        (forced with ``purchase_model``).
    criterion : str
        Column of ``table`` the choice minimises (one of :data:`SELECTION_CRITERIA`).
    n_customers : int
        Customers in the calibration period (the ``n`` of BIC).
    holdout_duration : float
        Length of the holdout period in time units.
    time_unit : str, float or None
        Time unit of the summary (``None`` when the table does not say; the
        plot then says "time units").
    conditional : dict
        :class:`crm_analysis.clv.ConditionalExpectations` by model name.
    failed : dict
        Models that could not be fitted, name -> error message.
    tied : list of str
        Models whose criterion is within ``1e-6`` relative of the lowest
        (the chosen one among them); one name when there is no tie, empty
        when the model was forced.
    tie_rule : str
        How a tie was broken (:data:`TIE_RULE`); empty without a tie.
    """

    table: pd.DataFrame
    models: dict[str, Any]
    chosen: str
    chosen_by: str
    criterion: str
    n_customers: int
    holdout_duration: float
    time_unit: Any = None
    conditional: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    tied: list[str] = field(default_factory=list)
    tie_rule: str = ""

    @property
    def is_tie(self) -> bool:
        """Whether several models share the lowest criterion (within ``1e-6`` relative)."""
        return self.chosen_by == "criterion" and len(self.tied) > 1

    @property
    def chosen_label(self) -> str:
        """Report label of the chosen model."""
        return str(self.table.loc[self.chosen, "label"])

    @property
    def chosen_model(self) -> Any:
        """The chosen model, fitted on the calibration period."""
        return self.models[self.chosen]

    def label(self, name: str) -> str:
        """Report label of candidate ``name``."""
        return str(self.table.loc[name, "label"])

    def explanation(self) -> str:
        """One sentence saying which model is used and why."""
        row = self.table.loc[self.chosen]
        col = _CRITERION_COLUMN.get(self.criterion, self.criterion)
        if self.chosen_by == "configuration":
            return (
                f"{row['label']} is used downstream because the configuration forces it "
                f"(purchase_model = {self.chosen!r}); its {self.criterion} is {row[col]:.4g}."
            )
        ranked = self.table[col].dropna().abs().sort_values(kind="stable")
        if self.is_tie:
            names = ", ".join(self.label(n) for n in self.tied)
            others = ", ".join(f"{self.label(n)} {v:.4g}" for n, v in ranked.items() if n not in self.tied)
            k = self.table.loc[self.chosen, "parameters"]
            return (
                f"{names} tie on {self.criterion} ({SELECTION_CRITERIA[self.criterion]}): {abs(row[col]):.4g} "
                f"(equal within 1e-6 relative)"
                + (f"; others: {others}" if others else "")
                + f". No model is better here: {row['label']} ({k} estimated parameters) is used downstream by the "
                f"tie rule: {self.tie_rule}."
            )
        others = ", ".join(f"{self.label(n)} {v:.4g}" for n, v in ranked.items() if n != self.chosen)
        return (
            f"{row['label']} is used downstream: it has the lowest {self.criterion} "
            f"({SELECTION_CRITERIA[self.criterion]}): {abs(row[col]):.4g}"
            + (f" (others: {others})." if others else " (the only model fitted).")
            + self._close_call_note(ranked)
            + self._shared_bias_note()
        )

    def _shared_bias_note(self) -> str:
        """A sentence where every compared model misses the holdout total by more than :data:`_SHARED_BIAS_PCT` % the same way, else ``""``.

        The models assume a purchase rate constant in time per customer; a holdout with a seasonal peak (Online
        Retail's calibration to 2011-09-09: the holdout holds the Christmas trade, every model 20-25% under,
        findings_12c) or a trend is missed by all alike, which no choice between them mends.
        """
        if "holdout_total_error_pct" not in self.table.columns:
            return ""
        errors = self.table.loc[list(self.models), "holdout_total_error_pct"].astype(float).dropna()
        if errors.empty or not (np.all(errors > _SHARED_BIAS_PCT) or np.all(errors < -_SHARED_BIAS_PCT)):
            return ""
        way = "under" if float(errors.iloc[0]) < 0 else "over"
        listed = ", ".join(f"{self.label(n)} {v:+.1f}%" for n, v in errors.items())
        return (f" Every model {way}-forecasts the holdout's total purchases ({listed}): the models assume each "
                "customer's purchase rate is constant in time, so a seasonal peak or low in the holdout period (a "
                "seasonality analysis of the purchases shows whether it has one) or a trend in purchasing is missed "
                "by all of them alike; the choice between them does not mend it, and their forecasts of such a "
                "period need that correction.")

    def _close_call_note(self, ranked: pd.Series) -> str:
        """A sentence where the runner-up's holdout error is within :data:`_CLOSE_CALL_RTOL` of the chosen model's, else ``""``.

        A reader should not take a 0.3% lower error (CDNOW: holdout RMSE 1.603 vs 1.607 and 1.608, findings_12c B4)
        for a better model. Holdout criteria only: AIC and BIC are read by their differences, not their ratios.
        """
        if self.criterion in ("aic", "bic") or len(ranked) < 2:
            return ""
        best, runner = float(ranked.iloc[0]), float(ranked.iloc[1])
        if not (best > 0 and runner <= best * (1.0 + _CLOSE_CALL_RTOL)):
            return ""
        return (f" The next, {self.label(str(ranked.index[1]))}, is only {100.0 * (runner / best - 1.0):.1f}% higher: on this "
                f"holdout the models forecast about equally well, and the choice matters little.")

    def headlines(self) -> dict[str, Any]:
        """Headline figures, keys of :data:`MODEL_CHOICE_HEADLINES`."""
        row = self.table.loc[self.chosen]
        return {
            "purchase_model": str(row["label"]),
            "purchase_model_name": str(row["label"]),
            "purchase_model_chosen_by": (
                "configuration" if self.chosen_by != "criterion"
                else f"tie on lowest {self.criterion} ({', '.join(self.label(n) for n in self.tied)}), broken by "
                f"{self.tie_rule}" if self.is_tie else f"lowest {self.criterion}"
            ),
            "purchase_model_holdout_rmse": float(row["holdout_rmse"]),
            "purchase_model_holdout_total_error_pct": float(row["holdout_total_error_pct"]),
            "purchase_models_compared": ", ".join(self.table.loc[list(self.models), "label"]),
            "purchase_models_tied": ", ".join(self.label(n) for n in self.tied) if self.is_tie else "",
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly record (for ``clv_params.json``)."""
        # plain, strict JSON types: NaN -> None, +-inf -> "Infinity" / "-Infinity" (pandas' to_json wrote inf as null)
        table = strict_json.jsonable(self.table.to_dict(orient="index"))
        return {
            "chosen": self.chosen,
            "chosen_label": self.chosen_label,
            "chosen_by": self.chosen_by,
            "criterion": self.criterion,
            "n_customers": int(self.n_customers),
            "holdout_duration": float(self.holdout_duration),
            "table": table,
            "failed": dict(self.failed),
            "tied": list(self.tied),
            "tie_rule": self.tie_rule,
        }

    def plot(self, axes: Sequence[Axes] | None = None) -> Figure:
        """Two panels: mean holdout purchases by calibration frequency (actual and each model), holdout errors.

        Parameters
        ----------
        axes : two matplotlib Axes, optional
            Axes to draw on; a new figure otherwise.

        Returns
        -------
        matplotlib.figure.Figure
        """
        if axes is None:
            fig = Figure(figsize=(12.0, 4.2), layout="constrained")
            axes = fig.subplots(1, 2)
        else:
            fig = axes[0].figure
        ax = axes[0]
        first = next(iter(self.conditional.values()), None)
        unit = TimeUnit.parse(self.time_unit).label if self.time_unit is not None else "time units"
        if first is not None:
            x = np.arange(len(first.table))
            ax.plot(x, first.table["actual"], marker="o", color="black", label="Actual")
            for i, (name, ce) in enumerate(self.conditional.items()):
                style = "-" if name == self.chosen else "--"
                ax.plot(x, ce.table["predicted"].reindex(first.table.index), marker="s", linestyle=style,
                        color=f"C{i}", label=self.label(name) + (" (chosen)" if name == self.chosen else ""))
            ax.set_xticks(x, list(first.table.index))
            ax.legend(frameon=False)
        ax.set_xlabel("Repeat purchases in the calibration period")
        ax.set_ylabel(f"Mean purchases in the holdout ({self.holdout_duration:.1f} {unit})")
        ax.set_title("Holdout purchases by calibration frequency")
        ax = axes[1]
        fitted = self.table.loc[list(self.models)]
        y = np.arange(len(fitted))
        h = 0.38
        ax.barh(y + h / 2, fitted["holdout_rmse"], h, label="RMSE per customer")
        ax.barh(y - h / 2, fitted["holdout_mae"], h, label="MAE per customer")
        ax.set_yticks(y, [lab + (" (chosen)" if n == self.chosen else "") for n, lab in fitted["label"].items()])
        ax.invert_yaxis()
        top = float(np.nanmax(fitted[["holdout_rmse", "holdout_mae"]].to_numpy(dtype=float), initial=0.0))
        ax.set_xlim(0, 1.45 * top if top > 0 else 1.0)  # room for the legend right of the bars
        ax.set_xlabel("Error of holdout purchases per customer")
        ax.set_ylabel("Purchase model")
        ax.set_title("Holdout errors (lower is better)")
        ax.legend(frameon=False, loc="upper right")
        return fig


def compare_models(
    cal_hold: pd.DataFrame,
    *,
    models: Sequence[str] | Mapping[str, Any] | None = None,
    purchase_model: str = "auto",
    criterion: str = "holdout_rmse",
    max_frequency: int = 7,
) -> ModelComparison:
    """Fit the candidate purchase models on the calibration period, compare them, choose one.

    Parameters
    ----------
    cal_hold : pandas.DataFrame
        Output of :func:`crm_analysis.rfm.calibration_and_holdout`: columns
        ``frequency``, ``recency``, ``T`` (calibration) and
        ``frequency_holdout``, ``duration_holdout`` (one common holdout length).
    models : list of names or mapping name -> model (class or unfitted instance), optional
        Candidates; default :func:`available_purchase_models` (BG/NBD, MBG/NBD
        where available, Pareto/NBD).
    purchase_model : str, default "auto"
        ``"auto"`` chooses by ``criterion``; a model name (``"bgnbd"``,
        ``"mbgnbd"``, ``"pareto_nbd"``, ...) forces that model (it must be
        among the candidates and fit). A boundary limit (``"nbd"``,
        ``"geometricnbd"``, ``"exponentialnbd"``, ...; never a candidate by
        default, :data:`LIMIT_MODELS_NOTE`) is added to the candidates when
        forced.
    criterion : str, default "holdout_rmse"
        One of :data:`SELECTION_CRITERIA`; lower is better.
    max_frequency : int, default 7
        Frequency bins of ``conditional_mae`` (larger frequencies pooled).

    Returns
    -------
    ModelComparison

    Raises
    ------
    ValueError
        Missing columns, no holdout period, an unknown criterion or model
        name, a forced model that is not a candidate or failed to fit, or
        every candidate failing.
    """
    from .diagnostics import conditional_expectations

    needed = ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")
    cal_hold = as_frame(cal_hold, what="cal_hold", columns=needed)
    check_unique_columns(cal_hold, needed, table="cal_hold")
    check_columns(("frequency", "recency", "T", "frequency_holdout", "duration_holdout"), cal_hold.columns,
                  table="cal_hold", fix="compare_models needs a calibration/holdout table: build it with "
                                        "crm_analysis.rfm.calibration_and_holdout")
    if len(cal_hold) == 0:
        raise InputError("cal_hold has no customers")
    if criterion not in SELECTION_CRITERIA:
        raise InputError(f"unknown criterion {criterion!r}: use one of {list(SELECTION_CRITERIA)}")
    durations = pd.unique(cal_hold["duration_holdout"])
    if len(durations) != 1 or not float(durations[0]) > 0:
        raise InputError(
            f"compare_models needs one positive holdout length, got duration_holdout values {list(durations)[:5]}"
        )
    duration = float(durations[0])
    forced = None if _key(purchase_model) == "auto" else purchase_model_name(purchase_model)
    cands = _candidates(models)
    if forced is not None and forced not in cands and not PURCHASE_MODELS[forced].candidate:
        cands[forced] = purchase_model_class(forced)()  # a boundary limit, forced: fitted beside the candidates
    if forced is not None and forced not in cands:
        raise InputError(
            f"purchase_model = {purchase_model!r} is not among the candidate models {list(cands)}; "
            "add it to the candidates (in the rfm_clv notebook: fit_paretonbd = true for Pareto/NBD) "
            "or use purchase_model = 'auto'"
        )
    fitted, failed, notes = fit_purchase_models(cal_hold, models=cands)
    if forced is not None and forced in failed:
        raise InputError(f"the forced purchase model {forced!r} could not be fitted: {failed[forced]}")

    n = int(len(cal_hold))
    data = cal_hold[["frequency", "recency", "T"]]
    actual = cal_hold["frequency_holdout"].to_numpy(dtype=float)
    rows, conditional = {}, {}
    for name in cands:
        label = PURCHASE_MODELS[name].label if name in PURCHASE_MODELS else name
        if name not in fitted:
            rows[name] = {"label": label, "note": failed[name]}
            continue
        m = fitted[name]
        fit = m.fit_result_  # k counts estimated parameters: a boundary fit's limits (a = 0, b = inf) are not
        k, ll = fit.n_params, float(fit.log_likelihood)
        pred = np.asarray(m.expected_purchases(duration, data), dtype=float).reshape(-1)
        diff = pred - actual
        total = float(actual.sum())
        ce = conditional_expectations(m, cal_hold, max_frequency=max_frequency)
        conditional[name] = ce
        rows[name] = {
            "label": label,
            "parameters": k,
            "log_likelihood": ll,
            "aic": fit.aic,
            "bic": fit.bic,
            "holdout_rmse": float(np.sqrt(np.mean(diff**2))),
            "holdout_mae": float(np.mean(np.abs(diff))),
            "holdout_total_error_pct": 100.0 * float(diff.sum()) / total if total > 0 else float("nan"),
            "conditional_mae": float(ce.mae),
            "note": "; ".join(notes.get(name, [])),
        }
    cols = ["label", "parameters", "log_likelihood", "aic", "bic", "holdout_rmse", "holdout_mae",
            "holdout_total_error_pct", "conditional_mae", "note"]
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=cols)
    table.index.name = "model"
    table["parameters"] = table["parameters"].astype("Int64")
    tied: list[str] = []
    tie_rule = ""
    if forced is not None:
        chosen, chosen_by = forced, "configuration"
    else:
        col = _CRITERION_COLUMN.get(criterion, criterion)
        score = table.loc[list(fitted), col].astype(float)
        if criterion == "holdout_total_error":
            score = score.abs()
        if score.isna().all():
            raise InputError(f"criterion {criterion!r} is undefined for every model (e.g. no holdout purchase)")
        best = float(score.min())
        tol = _TIE_RTOL * max(1.0, abs(best))
        tied = [name for name in fitted if score[name] <= best + tol]  # registry order
        # a tie is broken by the fewest estimated parameters (the NBD limit counts 2), then registry order
        chosen = min(tied, key=lambda n: (int(table.loc[n, "parameters"]), tied.index(n)))
        chosen_by = "criterion"
        tie_rule = TIE_RULE if len(tied) > 1 else ""
    table.insert(len(cols) - 1, "chosen", table.index == chosen)
    return ModelComparison(
        table=table,
        models=fitted,
        chosen=chosen,
        chosen_by=chosen_by,
        criterion=criterion,
        n_customers=n,
        holdout_duration=duration,
        time_unit=cal_hold.attrs.get("time_unit"),
        conditional=conditional,
        failed=failed,
        tied=tied,
        tie_rule=tie_rule,
    )


@dataclass
class PurchaseModelRefit:
    """The compared purchase models refitted on the whole period (for P(alive) and CLV).

    Attributes
    ----------
    models : dict
        Fitted models by name (registry order of the comparison).
    failed : dict
        Models that could not be refitted, name -> error message.
    notes : dict
        Per model, every typed warning of its whole-period fit
        (``"<category>: <message>"``, e.g. an ``IdentificationWarning``) and
        notes on its boundary status compared with the calibration fit.
    chosen : str
        The model used downstream (the comparison's choice).
    """

    models: dict[str, Any]
    failed: dict[str, str]
    notes: dict[str, list[str]]
    chosen: str

    @property
    def chosen_model(self) -> Any:
        """The chosen model, refitted on the whole period.

        Raises
        ------
        ValueError
            The chosen model could not be refitted (see :attr:`failed`).
        """
        if self.chosen not in self.models:
            raise InputError(
                f"the chosen purchase model {self.chosen!r} could not be refitted on the whole period: "
                f"{self.failed.get(self.chosen, 'not among the refitted models')}"
            )
        return self.models[self.chosen]

    def notes_table(self) -> pd.DataFrame:
        """One row per note: ``model`` (report label), ``note``; failed refits included (for the report)."""
        rows = [(purchase_model_label(n), t) for n, texts in self.notes.items() for t in texts]
        rows += [(purchase_model_label(n), f"not refitted: {msg}") for n, msg in self.failed.items()]
        return pd.DataFrame(rows, columns=["model", "note"])

    def all_notes(self) -> list[str]:
        """Every note as one line ``"<label>: <note>"`` (e.g. for a run's notes list)."""
        return [f"{m}: {t}" for m, t in self.notes_table().itertuples(index=False)]


def refit_purchase_models(
    summary: pd.DataFrame,
    comparison: ModelComparison,
    *,
    boundary_test_level: float | None = 0.05,
) -> PurchaseModelRefit:
    """Refit the compared purchase models on the whole period, keeping every fit's warnings as notes.

    Each model is refitted with its calibration settings. A model that was
    the no-dropout limit (the NBD model) on the calibration period is
    refitted with ``boundary_test_level``: it stays the limit unless the
    whole period shows dropout significantly (likelihood-ratio test, see
    :class:`~crm_analysis.clv.BetaGeoModel`), so that the P(alive) used
    downstream does not come from a whole-period fit with unidentified
    dropout parameters while the model was chosen as the NBD limit (UCI
    Online Retail: BG/NBD a = 0.0034, log-scale SE 3.0, 0.12 log-likelihood
    above the limit). Any remaining difference of boundary status between
    the periods is noted.

    Parameters
    ----------
    summary : pandas.DataFrame
        Whole-period customer summary (``frequency``, ``recency``, ``T``).
    comparison : ModelComparison
        The comparison on the calibration period (:func:`compare_models`).
    boundary_test_level : float or None, default 0.05
        Level of the test above; ``None`` refits without it.

    Returns
    -------
    PurchaseModelRefit

    Raises
    ------
    ValueError
        Every model failing with the same data problem (see
        :func:`fit_purchase_models`).
    """
    cands: dict[str, Any] = {}
    for name, cal_model in comparison.models.items():
        model = type(cal_model)(**cal_model.get_params())
        if boundary_test_level is not None and getattr(cal_model, "boundary_", None) and "boundary_test_level" in model.get_params():
            model.set_params(boundary_test_level=boundary_test_level)
        cands[name] = model
    models, failed, notes = fit_purchase_models(summary, models=cands)
    for name, model in models.items():
        cal_model = comparison.models[name]
        # the no-dropout limit only (a common-dropout fit, boundary_kind() "common_dropout", has dropout)
        cal_limit = bool(getattr(cal_model, "boundary_", None)) and cal_model.boundary_kind() == "no_dropout"
        whole_limit = bool(getattr(model, "boundary_", None)) and model.boundary_kind() == "no_dropout"
        if cal_limit and not whole_limit:
            why = (f"shows dropout significantly (likelihood-ratio test at {boundary_test_level:g})"
                   if boundary_test_level is not None and "boundary_test_level" in model.get_params()
                   else "is fitted with dropout")
            notes[name].append(
                f"Boundary: the no-dropout limit (NBD) on the calibration period, but the whole period {why}: "
                f"{_dropout_params(model)}; P(alive) comes from this fit"
            )
        elif whole_limit and not cal_limit:
            notes[name].append(
                f"Boundary: dropout on the calibration period ({_dropout_params(cal_model)}), but the whole-period "
                "fit is the no-dropout limit (NBD): P(alive) = 1 for every customer"
            )
    return PurchaseModelRefit(models=models, failed=failed, notes=notes, chosen=comparison.chosen)


def _dropout_params(model: Any) -> str:
    names = [n for n in model.params_.index if n not in ("r", "alpha")]
    text = ", ".join(f"{n} = {float(model.params_[n]):.4g}" for n in names)
    limit = model._common_limit() if hasattr(model, "_common_limit") else None
    if limit is not None:  # a = b = inf or 0 stand for the limit's dropout (p, mu or pi)
        extra = [n for n in limit.params_.index if n not in ("r", "alpha")]
        text += " (" + ", ".join(f"{n} = {float(limit.params_[n]):.4g}" for n in extra) + f", {model.boundary_kind()})"
    return text
