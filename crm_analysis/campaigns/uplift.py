"""Uplift models and their evaluation: who does the campaign move?

Models (scikit-learn estimators; ``fit(X, y, treatment)`` returns ``self``,
``predict(X)`` returns the estimated uplift ``P(y=1 | x, treated) - P(y=1 | x,
control)`` per customer):

* :class:`TwoModelUplift` -- one classifier on the treated, one on the
  control group; uplift = the difference of their probabilities (the
  "two-model" or T-learner approach; Radcliffe & Surry 2011 discuss its
  weakness: each model fits the response, not the difference).
* :class:`ClassTransformationUplift` -- Jaskowski & Jaroszewicz (2012): with
  ``z = 1`` for treated responders and control non-responders (``z = y * w
  + (1 - y)(1 - w)``), ``uplift(x) = 2 P(z = 1 | x) - 1`` when the
  treatment share is 1/2. Unequal groups are weighted to equal total weight
  (each treated row ``1 / (2 p)``, each control row ``1 / (2 (1 - p))``,
  ``p`` the treated share), which restores the condition.

Curves on held-out customers sorted by a score, highest first (ties kept
together: the curves are evaluated where the score changes). With ``n_t(k)``,
``n_c(k)`` treated / control customers and ``r_t(k)``, ``r_c(k)`` their
responses among the first ``k``:

* Qini curve (Radcliffe 2007): ``Q(k) = r_t(k) - r_c(k) n_t(k) / n_c(k)``,
  the incremental responses among the treated of the top ``k``;
* uplift curve (Rzepakowski & Jaroszewicz 2012): ``U(k) = (r_t(k)/n_t(k) -
  r_c(k)/n_c(k)) (n_t(k) + n_c(k))``;
* random targeting: the straight line from ``(0, 0)`` to ``(N, Q(N))``.

The Qini coefficient here is the area between the curve and the random line,
over ``N`` customers scaled to the unit square (x = k / N, y = Q(k) / N): 0
for a random order, positive when the score puts the movable customers first.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import NotFittedAttributes, check_columns, renamed_keyword

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from crm_analysis.campaigns.experiment import CampaignInputError

__all__ = [
    "TwoModelUplift",
    "ClassTransformationUplift",
    "UpliftCurve",
    "uplift_curves",
    "qini_interval",
    "default_classifier",
    "prepare_features",
    "plot_curves",
]


def default_classifier(*, seed: int | None = None, random_state: int | None = None) -> ClassifierMixin:
    """Gradient-boosted trees with native categorical columns, tuned small (fast, little overfitting).

    Parameters
    ----------
    seed : int, optional
        Seed (the classifier's ``random_state``).
    random_state : int, optional
        Deprecated name of ``seed`` (a ``FutureWarning``).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    seed = renamed_keyword(seed, random_state, new="seed", old="random_state", owner="default_classifier")
    return HistGradientBoostingClassifier(
        max_iter=80, learning_rate=0.07, max_leaf_nodes=15, min_samples_leaf=200, l2_regularization=1.0,
        categorical_features="from_dtype", random_state=seed,
    )


def prepare_features(table: pd.DataFrame, features: list[str] | tuple[str, ...],
                     *,
                     categories: dict[str, list[str]] | None = None) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The model matrix: numeric columns as float, text columns as pandas categoricals with fixed categories.

    Parameters
    ----------
    table : pandas.DataFrame
        Customers.
    features : sequence of str
        Feature columns.
    categories : dict, optional
        Categories of the text columns learned on the training data; values
        not among them become missing (the trees send them one way).

    Returns
    -------
    X : pandas.DataFrame
    categories : dict
        Categories of the text columns (to apply to new data).

    Raises
    ------
    CampaignInputError
        Missing feature columns, missing values in numeric features.
    """
    features = list(features)
    if not features:
        raise CampaignInputError("no feature columns for the uplift model")
    check_columns(features, table.columns, table="the table (feature columns)", error=CampaignInputError,
                  fix="Name feature columns the table has (features=)")
    cats = dict(categories or {})
    X = pd.DataFrame(index=table.index)
    for c in features:
        col = table[c]
        if pd.api.types.is_bool_dtype(col.dtype) or (pd.api.types.is_numeric_dtype(col.dtype) and c not in cats):
            v = col.to_numpy(dtype="float64", na_value=np.nan)
            if np.isnan(v).any():
                raise CampaignInputError(f"feature {c!r} has {int(np.isnan(v).sum())} missing value(s)")
            X[c] = v
        else:
            text = col.astype("string")
            if c not in cats:
                cats[c] = sorted(text.dropna().unique().tolist())
            X[c] = pd.Categorical(text.to_numpy(dtype=object, na_value=None), categories=cats[c])
    return X, cats


def _check_fit(X: pd.DataFrame, y: np.ndarray, treatment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    w = np.asarray(treatment)
    if y.shape != (len(X),) or w.shape != (len(X),):
        raise CampaignInputError(f"y and treatment must have one value per row of X ({len(X)})")
    if not np.isin(w, (0, 1)).all():
        raise CampaignInputError("treatment must be 0 (control) or 1 (treated)")
    if not np.isin(y, (0, 1)).all():
        raise CampaignInputError("the uplift models take a 0/1 outcome (visit, conversion)")
    for g, name in ((1, "treated"), (0, "control")):
        ys = y[w == g]
        if ys.size == 0 or ys.min() == ys.max():
            raise CampaignInputError(
                f"the {name} group has {'no customers' if ys.size == 0 else 'only one outcome value'}: "
                "an uplift model needs responders and non-responders in both groups"
            )
    return y.astype("int64"), w.astype("int64")


def _seed(model: BaseEstimator) -> int | None:
    """The model's seed, from the deprecated ``random_state`` where given (a ``FutureWarning``)."""
    return renamed_keyword(model.seed, model.random_state, new="seed", old="random_state", owner=type(model).__name__)


class TwoModelUplift(NotFittedAttributes, BaseEstimator):
    """Uplift as the difference of two response models, one per group.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Base classifier with ``predict_proba``; default :func:`default_classifier`.
    seed : int, optional
        Seed of the default classifier.
    random_state : int, optional
        Deprecated name of ``seed`` (a ``FutureWarning`` at ``fit``).

    Attributes
    ----------
    model_treated_, model_control_ : classifier
        The fitted response models.
    """

    def __init__(self, *, estimator: ClassifierMixin | None = None, seed: int | None = None,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.seed = seed
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: np.ndarray, treatment: np.ndarray) -> "TwoModelUplift":
        """Fit the two response models.

        Parameters
        ----------
        X : DataFrame, shape (n, p)
            Features.
        y : array, shape (n,)
            0/1 outcome.
        treatment : array, shape (n,)
            1 treated, 0 control.

        Returns
        -------
        self
        """
        y, w = _check_fit(X, y, treatment)
        base = self.estimator if self.estimator is not None else default_classifier(seed=_seed(self))
        self.model_treated_ = clone(base).fit(X[w == 1], y[w == 1])
        self.model_control_ = clone(base).fit(X[w == 0], y[w == 0])
        return self

    def predict_outcomes(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """P(y=1 | x) if treated and if not, shape (n,) each."""
        return self.model_treated_.predict_proba(X)[:, 1], self.model_control_.predict_proba(X)[:, 1]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Estimated uplift per customer, shape (n,), in [-1, 1]."""
        p1, p0 = self.predict_outcomes(X)
        return p1 - p0


class ClassTransformationUplift(NotFittedAttributes, BaseEstimator):
    """Uplift from one classifier of the transformed class (Jaskowski & Jaroszewicz 2012).

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Base classifier with ``predict_proba`` and ``sample_weight`` in
        ``fit``; default :func:`default_classifier`.
    seed : int, optional
        Seed of the default classifier.
    random_state : int, optional
        Deprecated name of ``seed`` (a ``FutureWarning`` at ``fit``).

    Attributes
    ----------
    model_ : classifier
        The classifier of ``z``.
    treated_share_ : float
        Share of treated rows in the training data (the weights equalise it).
    """

    def __init__(self, *, estimator: ClassifierMixin | None = None, seed: int | None = None,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.seed = seed
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: np.ndarray, treatment: np.ndarray) -> "ClassTransformationUplift":
        """Fit the classifier of ``z = y w + (1 - y)(1 - w)``, groups weighted to equal total weight.

        Parameters
        ----------
        X : DataFrame, shape (n, p)
        y : array, shape (n,)
            0/1 outcome.
        treatment : array, shape (n,)
            1 treated, 0 control.

        Returns
        -------
        self
        """
        y, w = _check_fit(X, y, treatment)
        p = float(w.mean())
        z = y * w + (1 - y) * (1 - w)
        weight = np.where(w == 1, 0.5 / p, 0.5 / (1 - p))
        base = self.estimator if self.estimator is not None else default_classifier(seed=_seed(self))
        from sklearn.pipeline import Pipeline

        model = clone(base)
        # a Pipeline routes the weights to its last step
        key = f"{model.steps[-1][0]}__sample_weight" if isinstance(model, Pipeline) else "sample_weight"
        self.model_ = model.fit(X, z, **{key: weight})
        self.treated_share_ = p
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Estimated uplift per customer ``2 P(z=1 | x) - 1``, shape (n,)."""
        return 2.0 * self.model_.predict_proba(X)[:, 1] - 1.0


@dataclass
class UpliftCurve:
    """Qini and uplift curves of one score on held-out customers.

    Attributes
    ----------
    label : str
        Name of the score.
    n : numpy.ndarray
        Customers targeted (0 .. N), at every change of the score.
    qini : numpy.ndarray
        ``Q(k)``: incremental responses among the treated of the top k.
    uplift : numpy.ndarray
        ``U(k)``: uplift of the top k times its size.
    total : int
        ``N``.
    """

    label: str
    n: np.ndarray
    qini: np.ndarray
    uplift: np.ndarray
    total: int

    @property
    def fraction(self) -> np.ndarray:
        """``n / N``."""
        return self.n / self.total

    def _area(self, y: np.ndarray) -> float:
        x = self.fraction
        yy = y / self.total
        random = x * yy[-1]
        diff = yy - random
        return float(np.sum((diff[1:] + diff[:-1]) * np.diff(x)) / 2)

    @property
    def qini_coefficient(self) -> float:
        """Area between the Qini curve and the random line (x, y scaled by N); 0 for a random order."""
        return self._area(self.qini)

    @property
    def auuc(self) -> float:
        """Area between the uplift curve and the random line (x, y scaled by N)."""
        return self._area(self.uplift)

    def at(self, fraction: float) -> float:
        """``Q`` at a share of the customers (linear between evaluation points)."""
        return float(np.interp(fraction, self.fraction, self.qini))


def uplift_curves(y: np.ndarray, treatment: np.ndarray, score: np.ndarray, *, label: str = "model") -> UpliftCurve:
    """Qini and uplift curves of ``score`` (higher: target first).

    Parameters
    ----------
    y : array, shape (n,)
        Outcome (0/1, or money for an incremental-spend curve).
    treatment : array, shape (n,)
        1 treated, 0 control.
    score : array, shape (n,)
        Targeting score, e.g. predicted uplift.
    label : str
        Name of the score.

    Returns
    -------
    UpliftCurve

    Raises
    ------
    CampaignInputError
        Arrays of different lengths, no treated or no control customers,
        non-finite scores.
    """
    y = np.asarray(y, dtype="float64")
    w = np.asarray(treatment)
    s = np.asarray(score, dtype="float64")
    if not (y.shape == w.shape == s.shape) or y.ndim != 1:
        raise CampaignInputError("y, treatment and score must be 1-d arrays of one length")
    if not np.isin(w, (0, 1)).all() or w.min() == w.max():
        raise CampaignInputError("treatment must hold 0 (control) and 1 (treated), both present")
    if not np.isfinite(s).all() or not np.isfinite(y).all():
        raise CampaignInputError("scores and outcomes must be finite")
    order = np.argsort(-s, kind="stable")
    s, y, w = s[order], y[order], w[order]
    nt = np.cumsum(w)
    nc = np.cumsum(1 - w)
    rt = np.cumsum(y * w)
    rc = np.cumsum(y * (1 - w))
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]  # end of every tie group
    nt, nc, rt, rc = nt[last], nc[last], rt[last], rc[last]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(nc > 0, rt - rc * nt / nc, rt)
        u = np.where((nt > 0) & (nc > 0), (rt / nt - rc / nc) * (nt + nc), 0.0)
    return UpliftCurve(label=label, n=np.r_[0, last + 1].astype("int64"), qini=np.r_[0.0, q],
                       uplift=np.r_[0.0, u], total=int(s.size))


def qini_interval(y: np.ndarray, treatment: np.ndarray, score: np.ndarray, *, level: float = 0.95,
                  n_boot: int = 200, seed: int | None = 0) -> tuple[float, float]:
    """Bootstrap interval of the Qini coefficient of ``score`` (percentile, customers resampled within each group).

    Whether a model ranks held-out customers better than random targeting:
    an interval that does not exclude 0 says it does not, and its
    per-customer uplifts are noise (Efron & Tibshirani 1993, ch. 13, for the
    percentile interval). When the model was chosen as the best of several
    on the same customers, the interval is optimistic.

    Parameters
    ----------
    y, treatment, score : array, shape (n,)
        As in :func:`uplift_curves`.
    level : float, default 0.95
        Confidence level, in (0.5, 1).
    n_boot : int, default 200
        Bootstrap samples (>= 50).
    seed : int, optional
        Seed of the resampling.

    Returns
    -------
    (float, float)
        Lower and upper bound.

    Raises
    ------
    CampaignInputError
        As :func:`uplift_curves`; a bad level or number of samples.
    """
    if not (isinstance(level, float) and 0.5 < level < 1):
        raise CampaignInputError(f"level must lie in (0.5, 1), e.g. 0.95; got {shown(level)}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 50:
        raise CampaignInputError(f"n_boot must be a whole number >= 50, got {shown(n_boot)}")
    y = np.asarray(y, dtype="float64")
    w = np.asarray(treatment)
    s = np.asarray(score, dtype="float64")
    uplift_curves(y, w, s)  # checks the inputs
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(w == g) for g in (0, 1)]
    coefs = np.empty(int(n_boot))
    for b in range(int(n_boot)):
        idx = np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        coefs[b] = uplift_curves(y[idx], w[idx], s[idx]).qini_coefficient
    alpha = (1 - level) / 2
    lo, hi = np.quantile(coefs, [alpha, 1 - alpha])
    return float(lo), float(hi)


def plot_curves(curves: list[UpliftCurve], *, kind: str = "qini", ax: Axes | None = None,
                outcome: str = "responses") -> Figure:
    """Qini (or uplift) curves of several scores with the random line.

    Parameters
    ----------
    curves : list of UpliftCurve
        Curves on the same customers.
    kind : {"qini", "uplift"}
        Which curve.
    ax : matplotlib Axes, optional
        Axes to draw on.
    outcome : str
        Name of the outcome for the axis label.
    """
    if kind not in ("qini", "uplift"):
        raise InputError(f"kind must be 'qini' or 'uplift', got {shown(kind)}")
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
    else:
        fig = ax.figure
    for i, c in enumerate(curves):
        y = c.qini if kind == "qini" else c.uplift
        coef = c.qini_coefficient if kind == "qini" else c.auuc
        ax.plot(c.fraction, y, color=f"C{i}", label=f"{c.label} ({'Qini' if kind == 'qini' else 'AUUC'} {coef:.4f})")
    if curves:
        c = curves[0]
        end = (c.qini if kind == "qini" else c.uplift)[-1]
        ax.plot([0, 1], [0, end], color="grey", ls="--", label="random targeting")
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("Customers targeted, highest score first (share)")
    ax.set_ylabel(f"Incremental {outcome}" + (" among the treated" if kind == "qini" else ""))
    ax.set_title(f"{'Qini' if kind == 'qini' else 'Uplift'} curve on the held-out customers")
    ax.legend(fontsize="small")
    if own:
        fig.tight_layout()
    return fig
