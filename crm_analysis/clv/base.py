"""Base classes of the CLV models: settings, fitted state, results API, transaction-model fit.

The work is split in three modules: :mod:`._validation` (input checks),
:mod:`._fitting` (optimiser, boundary handling, Newton polish, Hessian) and
:mod:`.results` (:class:`~crm_analysis.clv.results.FitResult`: log-likelihood,
AIC, BIC, standard errors, covariance, ``summary()``, ``to_dict()`` /
``from_dict()``). This module holds the estimator classes built on them; the
names it exported before the split are still importable from here.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import inspect
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from crm_analysis.exceptions import (
    BoundaryWarning,
    ConvergenceWarning,
    CRMAnalysisWarning,
    HessianWarning,
    IdentificationWarning,
    InputError,
    NotFittedError,
    OperationError,
    shown,
)

from ._fitting import LikelihoodFitter, ModelFitError, _RidgeReached, wdot
from ._validation import TransactionData, as_frame, check_transaction_data, collapse_rows, data_moments
from ._validation import as_weights as _as_weights
from .results import FitResult

# a limit model's own warnings, kept as text in its fit_warnings_ and re-issued by the full fit, keep their class
# (findings_12z F4: a limit's ConvergenceWarning came out as a plain CRMAnalysisWarning)
_LIMIT_WARNING_CLASSES = {c.__name__: c for c in (HessianWarning, IdentificationWarning, BoundaryWarning,
                                                  ConvergenceWarning)}


def _boundary_lr_p_value(lr: float) -> float:
    """p-value of a likelihood-ratio statistic for one parameter on the boundary of its space.

    The statistic's null distribution is the 50:50 mixture of chi-square(0) and chi-square(1)
    (Self & Liang 1987), so the p-value is half the chi-square(1) tail.
    """
    from scipy import stats

    return 0.5 * float(stats.chi2.sf(lr, 1))

__all__ = [
    "ModelFitError",
    "NotFittedError",
    "BaseLikelihoodModel",
    "BaseTransactionModel",
    "FitResult",
    "TransactionData",
    "collapse_rows",
    "check_transaction_data",
    "wdot",
]


class BaseLikelihoodModel(LikelihoodFitter):
    """Maximum-likelihood estimation on the log-parameter scale.

    Subclasses define ``_param_names`` and their likelihood once: either
    ``_weighted_loglik(log_params, arrays, weights)`` (weighted total and
    gradient) or ``_loglik(log_params, arrays)`` (per row; gradient of shape
    ``(n_rows, n_params)`` or ``None`` for central differences), and
    ``_initial_log_params(arrays, weights)`` returning candidate starting
    points. Fitting is :class:`~crm_analysis.clv._fitting.LikelihoodFitter`'s;
    the result is a :class:`~crm_analysis.clv.results.FitResult`
    (``fit_result_``).

    scikit-learn conventions: ``__init__`` stores settings only, so
    :meth:`get_params`, :meth:`set_params` and :func:`sklearn.base.clone`
    work; learned attributes end in ``_``.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters, added to the *average* negative
        log-likelihood per customer: ``penalizer * sum(log(theta)**2)``.
        It shrinks every parameter towards 1; use a small value (e.g. 0.001
        to 0.1) when the unpenalised fit runs to extreme values.

    Attributes
    ----------
    params_ : pandas.Series
        Estimates on the natural scale, named by parameter.
    log_likelihood_ : float
        Maximised (weighted) log-likelihood, without the penalty.
    standard_errors_ : pandas.Series
        Asymptotic standard errors on the natural scale (delta method).
    covariance_ : pandas.DataFrame
        Asymptotic covariance matrix on the natural scale.
    log_covariance_ : pandas.DataFrame
        Asymptotic covariance of the log parameters (used for parameter
        draws).
    converged_ : bool
        Whether the optimiser reported convergence.
    n_iter_ : int
        Number of optimiser iterations.
    n_customers_ : float
        Number of customers (sum of the weights) used in the fit.
    n_distinct_ : int
        Number of distinct data rows the likelihood was evaluated on.
    fit_result_ : FitResult
        All of the above in one object, with ``aic``, ``bic``,
        ``summary()`` and ``to_dict()``.
    fit_warnings_ : list of str
        Every typed warning the fit issued (``"<category>: <message>"``,
        e.g. a ``HessianWarning``); also ``fit_result_.warnings``.
    not_identified_ : list of str
        Parameters the data do not identify: log-scale standard error above
        3, or every estimated parameter when the Hessian is singular (NaN
        standard errors, ``HessianWarning``).
    """

    _param_names: tuple[str, ...] = ()
    _fit_alternatives = "or from_params / from_dict"

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() first (or from_params / from_dict)")

    def summary(self, *, level: float = 0.95) -> pd.DataFrame:
        """Parameter table (see :meth:`FitResult.summary <crm_analysis.clv.results.FitResult.summary>`).

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the interval.

        Returns
        -------
        pandas.DataFrame
            One row per parameter with ``estimate``, ``std_error`` (natural
            scale, delta method), and ``ci_lower``/``ci_upper``: a Wald
            interval on the log scale, transformed back (so it stays
            positive); for a probability (the limits' ``p``, ``pi``) on the
            logit scale (so it stays within ``(0, 1)``).

        Raises
        ------
        NotFittedError
            The model was not fitted (a model made by :meth:`from_params`
            has no standard errors either).
        """
        return self._require_fit_result().summary(level=level)

    def _require_fit_result(self) -> FitResult:
        self._check_fitted()
        result = getattr(self, "fit_result_", None)
        if result is None:
            raise NotFittedError(
                f"{type(self).__name__} has parameters but no fit (made by from_params): no log-likelihood, "
                "standard errors or information criteria; call fit() for those"
            )
        return result

    @property
    def aic_(self) -> float:
        """Akaike information criterion of the fit (``fit_result_.aic``)."""
        return self._require_fit_result().aic

    @property
    def bic_(self) -> float:
        """Bayesian information criterion of the fit (``fit_result_.bic``)."""
        return self._require_fit_result().bic

    # ---- scikit-learn estimator protocol ---------------------------------
    @classmethod
    def _get_param_names(cls) -> list[str]:
        """Names of the settings: the keyword arguments of ``__init__`` (as scikit-learn reads them)."""
        sig = inspect.signature(cls.__init__)
        return sorted(
            p.name for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Settings of the model (scikit-learn protocol; :func:`sklearn.base.clone` uses it).

        Parameters
        ----------
        deep : bool, default True
            Accepted for compatibility; the models hold no nested estimators.

        Returns
        -------
        dict
            Setting name to value.
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> "BaseLikelihoodModel":
        """Change settings (scikit-learn protocol). A fitted model keeps its fit until the next ``fit``.

        Parameters
        ----------
        **params
            Setting name to value.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            A name that is not a setting of the model.
        """
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise InputError(f"{type(self).__name__} has no setting {name!r}; its settings are {valid}")
            setattr(self, name, value)
        return self

    # ---- saving and loading ----------------------------------------------
    #: fitted attributes (besides the FitResult) saved by to_dict, when present
    _saved_attributes: tuple[str, ...] = ("columns_", "not_identified_")

    _registry: dict[str, type] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        BaseLikelihoodModel._registry[cls.__name__] = cls
        for name in ("fit", "fit_survival"):
            if name in cls.__dict__:
                setattr(cls, name, _recording_warnings(cls.__dict__[name]))

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain Python objects, for saving (e.g. with :func:`json.dump`).

        Returns
        -------
        dict
            ``model`` (class name), ``settings`` (:meth:`get_params`),
            ``fit`` (:meth:`FitResult.to_dict
            <crm_analysis.clv.results.FitResult.to_dict>`) and ``attributes``
            (column names used in ``fit``, boundary note, ...). Read back by
            :meth:`from_dict`.

        Raises
        ------
        NotFittedError
            The model was not fitted.
        """
        result = self._require_fit_result()
        attrs = {}
        for name in self._saved_attributes:
            if hasattr(self, name):
                value = getattr(self, name)
                attrs[name] = list(value) if isinstance(value, tuple) else value
        return {
            "model": type(self).__name__,
            "settings": self.get_params(),
            "fit": result.to_dict(),
            "attributes": copy.deepcopy(attrs),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BaseLikelihoodModel":
        """Rebuild a model saved by :meth:`to_dict`; its predictions equal the saved model's.

        Parameters
        ----------
        data : dict
            The output of :meth:`to_dict`. Called on
            :class:`BaseLikelihoodModel`, the class is taken from
            ``data["model"]``; called on a model class, it must match.

        Returns
        -------
        BaseLikelihoodModel
            The fitted model.

        Raises
        ------
        ValueError
            Unknown or mismatching model name, or a malformed fit result.
        """
        name = data.get("model") if isinstance(data, dict) else None
        target = BaseLikelihoodModel._registry.get(str(name))
        if target is None:
            raise InputError(f"unknown model {name!r} in saved data; known: {sorted(BaseLikelihoodModel._registry)}")
        if cls is not BaseLikelihoodModel and not issubclass(target, cls):
            raise InputError(f"saved data hold a {name}, not a {cls.__name__}; load it with {name}.from_dict")
        result = FitResult.from_dict(data["fit"])
        model = target(**dict(data.get("settings", {})))
        for attr, value in dict(data.get("attributes", {})).items():
            setattr(model, attr, copy.deepcopy(value))
        model._restore_fit(result)
        return model

    def _restore_fit(self, result: FitResult) -> None:
        """Set the fitted attributes from a FitResult (see :meth:`from_dict`)."""
        self.fit_result_ = result
        self.params_ = result.params.copy()
        self.log_likelihood_ = result.log_likelihood
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.n_customers_ = result.n_obs
        self.n_distinct_ = result.n_distinct
        self.log_covariance_ = result.log_covariance.copy()
        self.covariance_ = result.covariance
        self.standard_errors_ = result.standard_errors
        self.fit_warnings_ = list(result.warnings)

    def _with_params(self, params: Sequence[float] | np.ndarray) -> "BaseLikelihoodModel":
        """Shallow copy with ``params_`` replaced (for parameter draws)."""
        other = copy.copy(self)
        other.__dict__.pop("fit_result_", None)  # the fit belongs to the estimates, not to these values
        other.params_ = pd.Series(np.asarray(params, float), index=list(self._param_names), name="estimate")
        return other

    @classmethod
    def from_params(cls, params: Sequence[float] | dict[str, float] | pd.Series, **kwargs: Any) -> "BaseLikelihoodModel":
        """A model with given parameters, without fitting (for scenarios and simulation).

        Only ``params_`` is set: standard errors, covariance and
        log-likelihood stay undefined.

        Parameters
        ----------
        params : sequence, dict or pandas.Series
            Parameter values, in the order of the model's parameters or by name.
        **kwargs
            Constructor settings.

        Returns
        -------
        BaseLikelihoodModel
            The model.
        """
        if isinstance(params, (dict, pd.Series)):
            missing = [n for n in cls._param_names if n not in params]
            if missing:
                raise InputError(f"missing parameter(s) {missing}")
            values = [float(params[n]) for n in cls._param_names]
        else:
            values = [float(v) for v in params]
        if len(values) != len(cls._param_names) or not all(np.isfinite(v) and v > 0 for v in values):
            raise InputError(f"{cls.__name__} needs {len(cls._param_names)} positive parameters {cls._param_names}")
        return cls(**kwargs)._with_params(values)

    def sample_params(self, n_draws: int, *, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw parameter vectors from the asymptotic normal on the log scale.

        Parameters that were not estimated (the limits held by a boundary fit,
        see ``boundary_``) keep their values in every draw.

        Parameters
        ----------
        n_draws : int
            Number of draws.
        seed : int or numpy.random.Generator, optional
            Random seed.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_draws, n_params)``, natural scale.

        Raises
        ------
        RuntimeError
            The covariance of the estimated parameters is not available
            (singular Hessian).
        """
        self._check_fitted()
        rng = np.random.default_rng(seed)
        cov = self.log_covariance_.to_numpy()
        values = self.params_.to_numpy(dtype=float)
        result = getattr(self, "fit_result_", None)
        held = set(result.fixed) if result is not None else set()  # e.g. p = 1 (_set_fit_results): finite, held
        free = np.isfinite(values) & (values > 0) & ~self.params_.index.isin(list(held))
        sub = cov[np.ix_(free, free)]
        if not free.any() or not np.all(np.isfinite(sub)):
            raise OperationError(f"{type(self).__name__}: covariance is not available (singular Hessian)")
        out = np.tile(values, (n_draws, 1))
        out[:, free] = np.exp(rng.multivariate_normal(np.log(values[free]), sub, size=n_draws, method="eigh"))
        return out

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}({ps})"
        return f"{type(self).__name__}(penalizer={self.penalizer!r})"


def _recording_warnings(fit):
    """Wrap a model's ``fit`` so that every typed warning it issues is also recorded on the model.

    The warnings (:class:`~crm_analysis.exceptions.CRMAnalysisWarning` and
    subclasses) are kept, as ``"<category>: <message>"``, in the estimator's
    ``fit_warnings_`` and its ``fit_result_.warnings``, then issued again,
    located at the caller of ``fit``, so nothing depends on seeing them.
    Only the outermost ``fit`` of a model records (a subclass's ``fit`` may
    call its parent's).
    """

    @functools.wraps(fit)
    def wrapper(self, *args: Any, **kwargs: Any):
        if getattr(self, "_recording_fit", False):
            return fit(self, *args, **kwargs)
        self._recording_fit = True
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = fit(self, *args, **kwargs)
        finally:
            del self._recording_fit  # only while the fit runs
        notes: list[str] = []
        for w in caught:
            if issubclass(w.category, CRMAnalysisWarning):
                text = f"{w.category.__name__}: {w.message}"
                if text not in notes:
                    notes.append(text)
        self.fit_warnings_ = notes
        result = getattr(self, "fit_result_", None)
        if result is not None:
            self.fit_result_ = dataclasses.replace(result, warnings=tuple(notes))
        seen: set = set()
        for w in caught:  # issue them again (each distinct one once), located at the caller of fit
            key = (w.category, str(w.message))
            if key not in seen:
                seen.add(key)
                warnings.warn(w.message, w.category, stacklevel=2)
        return out

    return wrapper


def _all_equal(values: np.ndarray) -> bool:
    """Whether all values are equal (no sort, unlike ``len(np.unique(values)) == 1``); False for none."""
    return bool(values.size) and bool((values == values[0]).all())


#: share pi of certain dropouts below which a two-point-dropout fit counts as heading to pi = 0, its NBD limit
_TWO_POINT_PI_ZERO = 1e-6


def _pi_vanishes(log_params: np.ndarray) -> bool:
    """Whether a two-point-dropout fit's iterate (``log r, log alpha, log pi``) is at ``pi < _TWO_POINT_PI_ZERO``."""
    return bool(log_params[2] < math.log(_TWO_POINT_PI_ZERO))


def predicts_from_common_limit(method):
    """Make a prediction method give the fitted limit's prediction after a common-dropout (ridge) fit.

    After such a fit (``boundary_kind() == "common_dropout"``) the method of
    the same name of ``limit_model_`` is called with the same arguments;
    otherwise the model's own method runs.
    """

    @functools.wraps(method)
    def predict(self, *args: Any, **kwargs: Any) -> Any:
        limit = self._common_limit()
        if limit is not None:
            return getattr(limit, method.__name__)(*args, **kwargs)
        return method(self, *args, **kwargs)

    return predict


class BaseTransactionModel(BaseLikelihoodModel):
    """Base class of the buy-till-you-die transaction models (BG/NBD, MBG/NBD, Pareto/NBD, NBD).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the log parameters (see :class:`BaseLikelihoodModel`).

    Notes
    -----
    Models with dropout (``_has_dropout``) implement ``_dropout_score`` and
    ``_limit_params``: before the full fit, the NBD model (their no-dropout
    limit) is fitted and the derivative of the log-likelihood in the
    direction of positive dropout is checked at that limit, over the whole
    nuisance range of the other dropout parameter. Where it is nowhere
    positive the maximum lies on the boundary: the model is set to its
    limit (the NBD estimates), ``boundary_`` says so and a
    :class:`~crm_analysis.exceptions.BoundaryWarning` is issued. Where the
    data show dropout the derivative is positive at the ``b -> inf`` /
    ``beta -> inf`` limit, a closed form checked first, so the check costs
    well under a millisecond there.
    """

    _has_dropout: bool = True
    #: The no-dropout limit model (``NBDModel``), set by the modules of the models with dropout: a class
    #: attribute, so this module does not import the limit's module, which builds on this one.
    _limit_model_class: type[BaseTransactionModel] | None = None
    #: the derivative (per customer) below which the no-dropout limit counts as the maximum
    _SCORE_TOL = 1e-9
    #: a full fit less than this above the NBD limit's log-likelihood (a likelihood-ratio statistic of 0.002,
    #: p = 0.48) is the limit: such fits end on the way to it (e.g. Pareto/NBD s = 0.029, beta = 4819,
    #: log-scale SEs 150, 9e-5 above the limit)
    _LIMIT_LL_TOL = 1e-3
    #: the fit's own state besides the learned attributes: the limits fitted and compared, hints and watches of the
    #: optimiser runs (read by the fit's steps; the limits stay on the fitted model for inspection). ``fit`` drops them
    #: when it starts, so a fit of the same instance on other data starts from a fresh instance's state
    _FIT_STATE: tuple[str, ...] = ("_nbd_hint", "_nbd_limit", "_common_dropout_fit", "_two_point_fit",
                                   "_two_point_resume", "_two_point_info", "_ridge_limit", "_ridge_info", "_start_used",
                                   "_data_moments", "_prepared_rows", "_start_values")
    #: those of them that only the fit in progress needs (caches): dropped again when it ends
    _FIT_SCRATCH: tuple[str, ...] = ("_prepared_rows", "_start_values")

    def fit(
        self,
        data: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        weights: Any = None,
    ) -> "BaseTransactionModel":
        """Fit by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer (or per group of identical customers, with
            ``weights``) in the Fader-Hardie conventions.
        frequency_col, recency_col, T_col : str
            Column names of ``x``, ``t_x`` and ``T``; remembered as the
            defaults of the prediction methods.
        weights : None, str or array-like, optional
            Number of customers each row stands for (a column name or one
            value per row). Default: 1 per row.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Invalid data (see :func:`check_transaction_data`), no repeat
            buyers, or data that cannot identify the model: all customers
            alike (one distinct ``(x, t_x, T)`` row, e.g. a single customer),
            or all repeat buyers alike with ``T`` the same for everyone.
        ModelFitError
            The optimiser failed.

        Warns
        -----
        BoundaryWarning
            The maximum is on the no-dropout boundary; the NBD limit was
            fitted (``boundary_``).
        IdentificationWarning
            Some parameters are not identified (``not_identified_``).
        HessianWarning
            The Hessian at the optimum is singular (standard errors NaN).
        """
        level = getattr(self, "boundary_test_level", None)
        if level is not None and not (isinstance(level, (int, float)) and 0.0 < float(level) < 0.5):
            raise InputError(f"boundary_test_level must be a level in (0, 0.5), e.g. 0.05, or None; got {shown(level)}")
        data = as_frame(data, columns=(frequency_col, recency_col, T_col))
        td = check_transaction_data(data, frequency_col=frequency_col, recency_col=recency_col, T_col=T_col, fit=True)
        w = _as_weights(data, weights)
        if len(td) == 0 or w.sum() <= 0:
            raise InputError("no customers to fit (empty data or all weights zero)")
        if not np.any((td.x > 0) & (w > 0)):
            raise InputError(
                f"no repeat buyers (all {w.sum():g} customers have frequency 0): the purchase rate and its "
                "heterogeneity cannot be identified from these data"
            )
        (x, t_x, T), counts = collapse_rows([td.x, td.t_x, td.T], w)
        for name in self._FIT_STATE:  # a previous fit's (the same instance refitted)
            self.__dict__.pop(name, None)
        self.columns_ = {"frequency": frequency_col, "recency": recency_col, "T": T_col}
        self.boundary_ = None
        self.limit_model_ = None
        self.not_identified_ = []
        self._check_identifiable(x, t_x, T, counts)
        try:
            self._fit_collapsed(x, t_x, T, counts)
        finally:
            for name in self._FIT_SCRATCH:
                self.__dict__.pop(name, None)
        return self

    def _check_identifiable(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> None:
        """Errors for data that cannot identify the model, and the data description for messages."""
        n = float(counts.sum())
        rep = x > 0
        n_rep = float(counts[rep].sum())
        self._fit_info = (
            f"{n:g} customer(s), {n_rep:g} with repeat purchases, {len(counts)} distinct (frequency, recency, T) row(s)"
        )
        self._n_repeat_buyers = n_rep
        name = type(self).__name__
        if len(counts) == 1:
            raise InputError(
                f"{name}: all {n:g} customer(s) have the same (frequency, recency, T) = "
                f"({x[0]:g}, {t_x[0]:g}, {T[0]:g}); the model describes how purchase rates "
                f"{'and dropout ' if self._has_dropout else ''}vary between customers, which identical customers "
                "cannot show. Fit on more (and different) customers."
            )
        if self._has_dropout and _all_equal(T) and _all_equal(x[rep]) and _all_equal(t_x[rep]):
            raise InputError(
                f"{name}: every repeat buyer has the same frequency {x[rep][0]:g} and recency {t_x[rep][0]:g}, and "
                f"everyone the same T = {T[0]:g}: the data hold two numbers (the share of repeat buyers and that "
                "one pattern), not enough for the model's four parameters. Fit on customers with varied histories "
                "(or NBDModel, with two parameters)."
            )

    def _few_data_count(self) -> tuple[float, str, str, str] | None:
        """The repeat buyers for :meth:`_few_data_note` (findings_12n F6)."""
        n_rep = getattr(self, "_n_repeat_buyers", None)
        if n_rep is None:
            return None
        return (n_rep, "customer(s) with repeat purchases", "model",
                f"purchase-rate heterogeneity{' and dropout' if self._has_dropout else ''} are estimated from the "
                "repeat buyers")

    def _warn_boundary(self, kind: str, limit: str, meaning: str, ll: float, fitted: str, converged: bool) -> None:
        """The BoundaryWarning of a fit kept at a limit: a short first sentence, then the few-data note, then ``boundary_``.

        The first sentence (~150-250 characters) says which limit, what it means and that the numbers are the
        limit's; where a higher limit was rejected by its test, also that the kept one is not the best fit found
        (findings_12y: the warnings ran to 700-1,500 characters with that sentence in the middle). The few-data
        note follows at once (findings_12r Note D), the full reason (``boundary_``) after it. A limit fit that did
        not converge is said to be one where its log-likelihood is quoted (findings_12z F1).
        """
        worse = ("; not the best fit found: a higher limit is not significantly better (below)"
                 if "although it is not the best fit found" in self.boundary_ else "")
        stalled = "" if converged else ", from a fit that did not converge"
        warnings.warn(
            f"{type(self).__name__}: fitted at its {kind}, the {limit} ({meaning}; log-likelihood {ll:.6g}{stalled}): its "
            f"estimates and predictions stand for the model's{worse}. {self._few_data_boundary_note()}"
            f"Details: {self.boundary_}. Fitted that limit directly: {fitted}. Data: {self._fit_info}.",
            BoundaryWarning,
            stacklevel=6,
        )

    def _few_data_boundary_note(self) -> str:
        """The few-repeat-buyer note that opens a boundary warning (findings_12o C: BG/NBD and MBG/NBD alike), else ``""``.

        Right after the first sentence of the message, before the limit's description (findings_12r Note D: at
        its end, after 600-1,000 characters, a reader who printed the first 400 never saw it).
        """
        n_rep = getattr(self, "_n_repeat_buyers", None)
        if not self._few_data_note():
            return ""
        return (f"Only {n_rep:g} customer(s) with repeat purchases (fewer than {self._FEW_REPEAT_PER_PARAM} per "
                f"parameter of the full model): which limit is best, and its estimates, rest on very few data, which "
                f"hardly identify the purchase-rate heterogeneity and the dropout. ")

    def _fit_collapsed(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> None:
        """Fit on distinct rows with counts (:meth:`_fit_collapsed_once`), then, where the result may sit in the wrong basin, refit from the other one.

        The likelihood of the BG/NBD and MBG/NBD models can have several maxima
        in ``(a, b)``: near ``a, b ~ 0.05-0.3`` (a U-shaped Beta), near ``a ~ 1-2``
        with a large ``b``, and the common-dropout ridge ``a, b -> inf`` (findings_12n F1, F2, F2b:
        a boundary limit kept, or an interior maximum 2.9 below another one). One
        start, chosen by its value, decides which is reached. Where the result is a
        boundary limit, has ``a`` or ``b`` not identified, or lies on a ridge
        (model's ``_needs_other_basin``), or started and ended in the small-``a, b`` basin, or
        started and ended in the large basin with a small ``a`` (a J-shaped Beta; findings_12p F1), the
        model is fitted again from the best start of the other basin (``_start_basin``: small
        ``a + b`` vs large) by the whole procedure of :meth:`_fit_collapsed_once` (a run along the
        common-dropout ridge stopped and that limit fitted, the no-dropout and two-point limits
        compared), and that fit replaces the result, with its own warnings, when it is better by
        more than ``_LIMIT_LL_TOL`` (:meth:`_refit_is_better`, with ``boundary_test_level``).
        Every other interior fit is screened against the basin it did not end in (model's
        :meth:`_other_basin_start`: Newton steps from that basin's best start; findings_12c: MBG/NBD
        ``a = 0.504``, 2.50 below the small basin; BG/NBD from a large start ended small, 0.018 below the
        large basin), and, where the fit left the basin it started in, against the basin it ended in
        (its best start climbed; findings_12d: MBG/NBD 5.81 below a second small-basin maximum), and
        fitted again the same way from the screen's last iterate where it may be higher
        (CDNOW: one Hessian evaluation, no refit).
        An interior fit that still ends in the small basin is then compared with the
        common-dropout limit fitted directly (:meth:`_ridge_comparison`; findings_12o A: every
        start led to a = 0.034, b = 0.19, 0.41 below that limit). Interior fits in the large basin
        are screened against that limit first (model's :meth:`_ridge_limit_may_be_higher`: Newton
        steps on the limit's likelihood, no fit; findings_12s F3: a = 1.006, b = 1.40, identified,
        0.098 below the limit), and compared only where the screen finds it within its margin
        (CDNOW, a = 0.79-0.89: 1-2 Newton iterations, no comparison), fits with little dropout (``a <
        0.1``) too, where the limit must rise above the fit itself (findings_12d: 0.374, 0.081, 0.012
        below the limit; Online Retail, a = 0.002, b = 6.7: one Newton iteration, no comparison). The
        no-dropout limit kept by the derivative test without a full fit costs nothing extra. A
        first fit that raises ModelFitError is refitted too (from every start); the error stands
        where the refit does not succeed.
        """
        basins = getattr(self, "_needs_other_basin", None)
        if basins is None or self.penalizer != 0:
            self._fit_collapsed_once(x, t_x, T, counts)
            return
        self._start_used = None
        failure: ModelFitError | None = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self._fit_collapsed_once(x, t_x, T, counts)
            except ModelFitError as err:
                failure = err
        used = self._start_used
        if failure is not None or basins():
            refit = self._other_basin_refit(x, t_x, T, counts, used, None if failure is not None else self.log_likelihood_)
            if refit is None and failure is not None:
                raise failure
            caught = caught if refit is None else refit
        else:
            start = self._other_basin_start(x, t_x, T, counts)
            if start is not None:
                refit = self._refit_from(x, t_x, T, counts, start, self.log_likelihood_)
                caught = caught if refit is None else refit
        ridge = self._ridge_comparison(x, t_x, T, counts)
        self._reissue(caught if ridge is None else ridge)

    def _rows_prepared(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple:
        """The likelihood's index structure of the rows ``x, t_x, T``: the fit's own (``_prepared_rows``) where these are its rows, else built (:meth:`_prepare`)."""
        cached = getattr(self, "_prepared_rows", None)
        return cached[1] if cached is not None and cached[0] is x else self._prepare(x, t_x, T)

    def _other_basin_start(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
        """Start of a refit where a cheap screen finds that another basin may hold a higher maximum than a fit that ``_needs_other_basin`` passes (model hook; base: never)."""
        return None

    def _needs_ridge_comparison(self) -> bool:
        """Whether the fit must still be compared with the common-dropout limit (model hook; BG/NBD, MBG/NBD)."""
        return False

    def _ridge_limit_may_be_higher(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> bool:
        """Whether a cheap screen finds that the common-dropout limit may be above a fit that :meth:`_needs_ridge_comparison` passes (model hook; base: never)."""
        return False

    def _ridge_comparison(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> list | None:
        """Compare an interior fit that never went near the common-dropout ridge with that limit; adopt the better.

        The first fit and the other-basin refit can both end in the small-``a, b`` basin
        (findings_12o A: a = 0.034, b = 0.19, 0.41 below the limit, every start led there), and an
        identified large-basin fit can lie below the limit too (findings_12s F3); the latter is
        compared only where the model's screen (:meth:`_ridge_limit_may_be_higher`) finds the limit
        within its margin.
        The common-dropout limit (``_ridge_model_class``, two or three parameters) is fitted
        directly, from the fit's ``(r, alpha)`` and mean dropout. Where the derivative of the full
        likelihood at the limit into heterogeneous dropout (``ridge_score``) is not positive, the
        limit is a maximum: it is kept (``_set_ridge_fit``) when better by more than
        ``_LIMIT_LL_TOL``, or, with ``boundary_test_level``, when the fit is better but not
        significantly (the test used within one fit). Where the derivative is positive, a maximum
        of the full model lies beyond the limit: the full model is fitted from next to the limit
        (``a + b = _RIDGE_START / 2``), with the ridge machinery of :meth:`_fit_collapsed_once`,
        and adopted when better. With ``detect_boundary=False`` the limit is not returned as such:
        the full fit from next to the limit runs where the limit or beyond it is better.

        Returns the warnings of the adopted fit, or ``None`` (the fit stands, attributes unchanged).
        """
        if self.penalizer != 0 or self._ridge_model_class is None:
            return None
        if not (self._needs_ridge_comparison() or self._ridge_limit_may_be_higher(x, t_x, T, counts)):
            return None
        ll_current = self.log_likelihood_
        lp = np.log(self.params_.to_numpy(float))
        limit = self._fit_ridge_limit(x, t_x, T, counts, lp)
        if limit is None:
            return None
        with np.errstate(all="ignore"):
            score = float(limit.ridge_score(x, t_x, T, counts))
        ll_lim = limit.log_likelihood_
        tol = max(1e-9 * abs(ll_current), self._LIMIT_LL_TOL)
        detect = getattr(self, "detect_boundary", False)
        if score <= self._SCORE_TOL and detect:
            level = getattr(self, "boundary_test_level", None)
            note = ""
            if ll_lim > ll_current + tol:
                note = (f"the full model's maximum found by the optimiser ({self._params_text()}) is {ll_lim - ll_current:.4g} "
                        f"below it in log-likelihood ({ll_current:.10g} vs {ll_lim:.10g})")
            elif level is not None and ll_lim > self._nbd_limit[1]:
                lr = max(2.0 * (ll_current - ll_lim), 0.0)
                p_value = _boundary_lr_p_value(lr)
                if p_value > float(level):
                    note = (f"the full model's maximum found by the optimiser ({self._params_text()}) is better by "
                            f"{ll_current - ll_lim:.4g} in log-likelihood, not significantly (likelihood-ratio statistic "
                            f"{lr:.3g}, p = {p_value:.3g} > boundary_test_level = {float(level):g}), so the simpler limit is kept")
            if not note:
                return None
            self._ridge_limit = limit
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._set_ridge_fit(
                    f"{note}; the likelihood cannot rise from the limit into heterogeneous dropout (derivative per "
                    f"customer {score:.3g})"
                )
            return list(caught)
        if not ll_lim > ll_current + tol:
            return None  # a maximum beyond the limit (score > 0) that the other-basin refit did not reach is not sought
        r, alpha = (float(limit.params_[k]) for k in ("r", "alpha"))
        p = float(limit.params_.iloc[2])
        start = self._ridge_neighbour(r, alpha, p)
        return self._refit_from(x, t_x, T, counts, start, ll_current)

    def _fit_ridge_limit(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, log_params: np.ndarray
    ) -> "BaseTransactionModel | None":
        """The common-dropout limit (``_ridge_model_class``) fitted from the full model's ``log_params`` and from its own starts (:meth:`_fit_limit_model`); ``None`` on ModelFitError.

        Its own warnings are kept in ``fit_warnings_`` (re-issued where the limit is adopted).
        """
        limit = self._fit_limit_model(self._ridge_model_class, x, t_x, T, counts, self._ridge_start(log_params))
        if limit is None:
            return None
        best = getattr(self, "_common_dropout_fit", None)
        if best is None or limit.log_likelihood_ > best.log_likelihood_:
            self._common_dropout_fit = limit  # for the comparisons with the two-point limit and the warning
        return limit

    def _ridge_neighbour(self, r: float, alpha: float, dropout: float) -> np.ndarray:
        """Log parameters of the full model next to the common-dropout limit ``(r, alpha, dropout)`` (model hook)."""
        raise NotImplementedError

    def _params_text(self) -> str:
        return ", ".join(f"{k} = {v:.4g}" for k, v in self.params_.items())

    @staticmethod
    def _reissue(caught: list) -> None:
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=5)

    def _other_basin_refit(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, used: np.ndarray | None,
        ll_current: float | None,
    ) -> list | None:
        """Fit the full model from the best start of the basin the first fit did not start in (``used``: its start); adopt it when better.

        The candidates are the model's own starts (``_initial_log_params``) outside the basin
        of ``used`` (``_start_basin``; all of them where no full fit ran, ``used`` None), the
        best by one likelihood evaluation each. Returns the
        refit's warnings when it was adopted (the fitted attributes are then its own),
        ``None`` otherwise (the attributes are left as they were).
        """
        prepared = self._prepare(x, t_x, T)
        # no start (a first fit that failed before its optimiser): every start is a candidate
        # (a resume point is a start too: the two-point limit's neighbourhood is the small basin)
        basin = None if used is None else self._start_basin(used)
        others = [s0 for s0 in self._initial_log_params(prepared, counts) if self._start_basin(s0) != basin]
        if not others:
            return None
        fun, _ = self._objective_factory(prepared, counts)
        values = [fun(np.asarray(s0, float)) for s0 in others]
        if min(values) >= 1e300:
            return None
        start = others[int(np.argmin(values))]
        return self._refit_from(x, t_x, T, counts, start, ll_current)

    def _refit_from(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, start: np.ndarray, ll_current: float | None
    ) -> list | None:
        """Fit again from ``start`` (log parameters) and adopt that fit when better (:meth:`_refit_is_better`).

        Returns the refit's warnings when it was adopted (the fitted attributes are then its own),
        ``None`` otherwise (the attributes are left as they were).
        """
        # the refit is the whole procedure from that start: a run along the common-dropout ridge is stopped and the
        # limit fitted (_ridge_is_maximum), and the no-dropout and two-point limits are compared, as in the first fit
        saved = dict(self.__dict__)
        self.boundary_ = None
        self.limit_model_ = None
        self.not_identified_ = []
        self._two_point_info = None
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._fit_collapsed_once(x, t_x, T, counts, start=start)
        except (ModelFitError, _RidgeReached):
            caught = None
        adopt, note = self._refit_is_better(caught is not None, saved, ll_current)
        if not adopt:
            self.__dict__.clear()
            self.__dict__.update(saved)
            return None
        caught = list(caught)
        if note:  # a limit that replaced an interior first fit: the reason says so
            self._add_to_boundary_reason(caught, note)
        return caught

    def _add_to_boundary_reason(self, caught: list, note: str) -> None:
        """Append ``note`` to ``boundary_`` and to the recorded warnings (``caught``, in place) that quote it."""
        old = self.boundary_
        self.boundary_ = f"{old}; {note}"
        for i, w in enumerate(caught):
            if old in str(w.message):
                caught[i] = warnings.WarningMessage(str(w.message).replace(old, self.boundary_), w.category, w.filename, w.lineno)

    def _refit_is_better(self, ran: bool, first: dict, ll_first: float | None) -> tuple[bool, str]:
        """Whether the other-basin refit (the current attributes) replaces the first fit (``first``: its attributes).

        The refit replaces it when it is better by more than ``_LIMIT_LL_TOL`` (a limit is kept only then,
        as within one fit). With ``boundary_test_level``: a boundary limit of the first fit stands unless
        the refit's interior fit is significantly better (likelihood-ratio test, the 50:50 mixture of
        chi-square(0) and chi-square(1) as for the limits within one fit); and a limit reached by the
        refit replaces an interior first fit also where that fit is better, but not significantly (then
        the note for ``boundary_`` is returned).
        """
        if not ran or not self.converged_ or not np.isfinite(self.log_likelihood_):
            return False, ""
        if ll_first is None:  # the first fit failed
            return True, ""
        tol = max(1e-9 * abs(ll_first), self._LIMIT_LL_TOL)
        level = getattr(self, "boundary_test_level", None)
        first_limit = bool(first.get("boundary_"))
        refit_limit = bool(self.boundary_)
        lr = 2.0 * (self.log_likelihood_ - ll_first)
        if self.log_likelihood_ > ll_first + tol:
            if level is not None and first_limit and not refit_limit:
                return _boundary_lr_p_value(lr) <= float(level), ""
            if refit_limit and not first_limit:  # the reason names the maximum the limit replaced (findings_12o A)
                full = ", ".join(f"{k} = {v:.4g}" for k, v in first["params_"].items())
                return True, (f"the full model's maximum from the first start ({full}) is {lr / 2:.4g} below it in "
                              f"log-likelihood ({ll_first:.10g} vs {self.log_likelihood_:.10g})")
            return True, ""
        if level is not None and refit_limit and not first_limit:
            p_value = _boundary_lr_p_value(max(-lr, 0.0))
            if p_value > float(level):
                full = ", ".join(f"{k} = {v:.4g}" for k, v in first["params_"].items())
                return True, (
                    f"the full model's maximum from another start ({full}) is better by {-lr / 2:.4g} in "
                    f"log-likelihood, not significantly (likelihood-ratio statistic {max(-lr, 0.0):.3g}, p = "
                    f"{p_value:.3g} > boundary_test_level = {float(level):g}), so the simpler limit is kept"
                )
        return False, ""

    def _fit_collapsed_once(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, start: np.ndarray | None = None
    ) -> None:
        """Fit on distinct rows with counts: the no-dropout boundary check, then the full likelihood.

        When the check does not settle the question (the derivative into the dropout region is
        positive somewhere), the full model is fitted; if its optimum is not better than the NBD
        limit, the limit is the maximum found and is kept instead, and the full fit's own
        warnings are dropped. A failing optimiser still raises ModelFitError.

        ``start`` (log parameters): the full fit's only start (the other-basin refit,
        :meth:`_other_basin_refit`) instead of the best of the model's starts.
        """
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._fit_collapsed_from_start(x, t_x, T, counts, start)
                # every outcome where the two-point limit was fitted (that limit, the common-dropout or the NBD
                # limit kept, an interior fit compared with it and kept): the full model from next to that limit
                # (and the NBD limit kept although its derivative into the dropout region is positive: model's
                # _dropout_direction_starts; the model's profile start where its screen triggers:
                # _survival_profile_starts); each group of starts computed once, here
                groups = self._refit_start_groups(x, t_x, T, counts)
                if any(groups):
                    refit, note = self._refit_next_to_two_point(x, t_x, T, counts, groups)
                    if refit is not None:
                        del caught[:]
                        caught += refit
                    if refit is None and note and self.boundary_:
                        self._add_to_boundary_reason(caught, note)
        finally:
            self._reissue(caught)

    def _two_point_neighbours(self, limit: "BaseTransactionModel") -> list[np.ndarray]:
        """Starts of the full fit next to a fitted two-point limit for :meth:`_refit_next_to_two_point` (model hook; none here)."""
        return []

    def _dropout_direction_starts(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray
    ) -> list[np.ndarray]:
        """Starts of the full fit where the NBD limit is kept although the derivative into the dropout region is positive (model hook; none here).

        For :meth:`_refit_next_to_two_point`: the derivative test says the NBD limit is not a
        maximum, but the full fit ran elsewhere (findings_12s F5, Pareto/NBD). ``x, t_x, T, counts``:
        the fit's distinct rows and their counts (for a model's screen of its starts).
        """
        return []

    def _survival_profile_starts(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray
    ) -> list[np.ndarray]:
        """Start of the full fit from a profile over the share surviving the first instant, where a screen says the fit may have missed that basin (model hook; none here).

        For :meth:`_refit_next_to_two_point` (Pareto/NBD: the Poisson-ridge / tiny-``beta^s`` basin, issue #12);
        ``x, t_x, T, counts``: the fit's distinct rows and their counts.
        """
        return []

    def _refit_start_groups(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray
    ) -> list[list[np.ndarray]]:
        """The starts of :meth:`_refit_next_to_two_point`, one group per direction, computed once after a fit.

        Next to the fitted two-point limit (:meth:`_two_point_neighbours`, where that limit was fitted), the
        model's other dropout direction (:meth:`_dropout_direction_starts`) and its profile start
        (:meth:`_survival_profile_starts`), in that order, each as a list of log-parameter arrays (empty where
        the direction has none). The caller decides from them whether the refit runs and passes them on,
        so the model's screens run once per fit and nothing is remembered on the model between calls.
        """
        limit = getattr(self, "_two_point_fit", None)
        return [[np.asarray(s0, float) for s0 in (self._two_point_neighbours(limit) if limit else [])],
                [np.asarray(s0, float) for s0 in self._dropout_direction_starts(x, t_x, T, counts)],
                [np.asarray(s0, float) for s0 in self._survival_profile_starts(x, t_x, T, counts)]]

    def _refit_heads_to_two_point(self, log_params: np.ndarray, ll_current: float) -> bool:
        """Whether the run of :meth:`_refit_next_to_two_point` goes back to the two-point limit, below ``ll_current`` (then it is stopped; model hook: never)."""
        return False

    def _refit_next_to_two_point(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, groups: list[list[np.ndarray]]
    ) -> tuple[list | None, str | None]:
        """Fit the full model from next to the two-point-dropout limit; adopt that fit where it is higher than the current result.

        Called after every outcome of a fit in which the two-point limit was fitted: that limit
        about to be returned, the common-dropout limit or the NBD limit kept (by the derivative test,
        by the full fit not above it, or by the likelihood-ratio rule against the two-point limit), or
        an interior fit compared with the two-point limit and kept. The full fit can have stopped at a
        distant local maximum or run to another limit, with nothing tried between it and the two-point
        limit (findings_12s F1: the common-dropout limit kept 0.40 below a maximum at ``s = 0.0103,
        beta = 1.5e-8``; F2: the NBD limit kept 0.57-1.41 below a maximum with ``beta`` 1e-21 to 1e-69;
        findings_12r Finding B: Pareto/NBD ``s = 0.134, beta = 17.9``, 4.2 below
        the limit, while the maximum at ``s = 0.022, beta^s = 1 - pi`` is 1.58 above it; B2: 6 of 20
        small zero-inflated samples, 0.008-1.32 above; and zt_777, an interior maximum ``s = 0.079,
        beta = 5.4`` kept 0.25 below another one at ``s = 0.029, beta = 8.7e-22``). The full model is
        fitted again from the best (by value) of the model's starts next to the limit
        (:meth:`_two_point_neighbours`, e.g. Pareto/NBD ``s = 0.05`` and ``0.02`` with ``beta^s = 1 -
        pi``), and once more from the best of the model's starts in another dropout direction
        (:meth:`_dropout_direction_starts`: Pareto/NBD, where the NBD limit is kept although its
        derivative into the dropout region is positive, findings_12s F5, 0.029 below a maximum at ``s =
        0.0020, beta = 0.0042``; a converged interior fit with a small ``s`` and no two-point limit
        fitted, the tiny-``beta`` direction, findings_12t Finding 1), and once more from the model's profile
        start where its screen triggers (:meth:`_survival_profile_starts`: Pareto/NBD, the Poisson-ridge /
        tiny-``beta^s`` basin, issue #12: fits 0.03-1.9 below it), each run (:meth:`_refit_from_starts`)
        adopted when better by ``_LIMIT_LL_TOL`` than both the current result and the
        two-point limit (where the current result is a limit and with ``boundary_test_level``:
        significantly, as within one fit). A point of the full model below the two-point limit is
        not the model's maximum and is decided as within one fit (:meth:`_two_point_is_best`: the
        limit, or the NBD limit by the likelihood-ratio rule), so it replaces nothing. An interior
        maximum above both replaces a limit kept by the likelihood-ratio rule too: that rule chooses
        between the nested limits only.

        ``groups``: the starts by direction (:meth:`_refit_start_groups`, computed once by the caller).
        Returns the adopted fit's warnings, or ``None`` (the attributes are left as they were), and the
        note on the highest point of the runs above both that ``boundary_test_level`` rejected (for the
        kept limit's ``boundary_``), or ``None``.
        """
        limit = getattr(self, "_two_point_fit", None)
        groups = [g for g in groups if g]
        if not groups or self.penalizer != 0:
            return None, None
        # one run per direction (next to the two-point limit; the model's other dropout direction), the higher kept:
        # their starts' values can differ by less than 1e-4 while only one of them leads to the maximum (findings_12t
        # Finding 2, zi 1390: the start in the NBD limit's derivative direction won by 3.5e-5 and ended 0.038 below the
        # maximum that each start next to the two-point limit reaches)
        out = None
        not_significant = None  # (LL, text) of the highest point above both rejected by boundary_test_level: named
        for starts in groups:
            adopted, note = self._refit_from_starts(x, t_x, T, counts, starts, limit)
            if adopted is not None:
                out = adopted
            if note is not None and (not_significant is None or not_significant[0] < note[0]):
                not_significant = note
        return out, None if not_significant is None else not_significant[1]

    def _refit_from_starts(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, starts: list[np.ndarray],
        limit: "BaseTransactionModel | None",
    ) -> tuple[list | None, tuple[float, str] | None]:
        """One run of :meth:`_refit_next_to_two_point` from the best (by value) of ``starts``; adopted by its rules.

        Returns the adopted fit's warnings, or ``None`` (the attributes are left as they were), and, for a
        run above both rejected by ``boundary_test_level`` only, its log-likelihood and the note that names
        it (else ``None``).
        """
        ll_lim = float(limit.log_likelihood_) if limit else -np.inf
        ll_current = float(self.log_likelihood_)
        at_limit = bool(getattr(self, "boundary_", None))
        prepared = self._prepare(x, t_x, T)
        fun, _ = self._objective_factory(prepared, counts)
        values = [fun(s0) for s0 in starts]
        if min(values) >= 1e300:
            return None, None
        saved = dict(self.__dict__)
        self.boundary_ = None
        self.limit_model_ = None
        self.not_identified_ = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._fit_arrays(prepared, counts, start=starts[int(np.argmin(values))],
                                 stop=lambda lp: self._refit_heads_to_two_point(lp, ll_current))
        except (ModelFitError, _RidgeReached):
            caught = None
        gain = self.log_likelihood_ - ll_current if caught is not None and self.converged_ else -np.inf
        ll_best = max(ll_current, ll_lim)
        adopt = bool(np.isfinite(gain) and self.log_likelihood_ > ll_best + max(1e-9 * abs(ll_best), self._LIMIT_LL_TOL))
        level = getattr(self, "boundary_test_level", None)
        if adopt and at_limit and level is not None:
            adopt = _boundary_lr_p_value(2.0 * gain) <= float(level)
        above_both = bool(np.isfinite(gain) and self.log_likelihood_ > ll_best + max(1e-9 * abs(ll_best), self._LIMIT_LL_TOL))
        if not adopt:
            note, ll_note = None, float(self.log_likelihood_)
            if above_both:  # rejected by boundary_test_level only: the limit is kept, but not as the best point found
                lr = 2.0 * gain
                note = (f"the refit of the full model from another start reached a higher point ({self._params_text()}, "
                        f"log-likelihood {self.log_likelihood_:.10g}, {gain:.4g} above the kept limit"
                        + (f" and {self.log_likelihood_ - ll_lim:.4g} above the two-point-dropout limit" if limit else "")
                        + f"), not significantly (likelihood-ratio statistic {lr:.3g}, p = {_boundary_lr_p_value(lr):.3g} > "
                        f"boundary_test_level = {float(level):g}), so the simpler limit is kept")
            self.__dict__.clear()
            self.__dict__.update(saved)
            return None, (None if not note else (ll_note, note))
        self._two_point_info = (type(limit).__name__, ll_lim, self.log_likelihood_ - ll_lim) if limit else None
        with warnings.catch_warnings(record=True) as out:
            warnings.simplefilter("always")
            self._pass_on_full_fit_warnings(caught)
        return list(out), None

    def _fit_collapsed_from_start(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, start: np.ndarray | None = None
    ) -> None:
        """The fit of :meth:`_fit_collapsed_once` (``start``: the full fit's only start, or ``None``)."""
        self._nbd_hint = None
        self._nbd_limit = None
        self._common_dropout_fit = None  # the common-dropout limit, where fitted (_fit_ridge_limit)
        self._two_point_fit = None  # fitted on demand (_two_point_limit_fit), once per fit
        self._two_point_resume = None
        self._data_moments = data_moments([x, t_x, T], counts)
        check = self._has_dropout and getattr(self, "detect_boundary", False) and self.penalizer == 0
        if check and self._fit_boundary_if_maximum(x, t_x, T, counts):
            return
        if not check:
            self._fit_arrays(self._prepare(x, t_x, T), counts, start=start)
            return
        prepared = self._prepare(x, t_x, T)
        self._prepared_rows = (x, prepared)  # for the model's screen after the fit (_ridge_limit_may_be_higher)
        self._ridge_limit = None
        self._ridge_info = None
        stopped = None
        watch = self._on_ridge if self._ridge_model_class is not None else None
        # where the NBD limit passed the derivative test but the two-point limit is better, the full fit
        # also starts next to the two-point limit (the derivative test is local to the NBD limit)
        resume = self._two_point_resume if start is None else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self._fit_arrays(prepared, counts, start=start, resume=resume, stop=watch)  # a ModelFitError propagates
            except _RidgeReached as reached:
                stopped = reached.log_params
        if stopped is not None:
            # the optimiser heads along the common-dropout ridge: fit that limit and look whether
            # the likelihood can rise from it into heterogeneous dropout
            verdict = self._ridge_is_maximum(x, t_x, T, counts, prepared, stopped)
            if verdict is not None:
                kind, reason = verdict
                if kind == "nbd":
                    self._set_boundary_fit(x, t_x, T, counts, reason)
                else:
                    self._set_ridge_fit(reason)
                return
            # the run goes on without the watch; it is the same fit, so the start that decides the other-basin
            # refit (_start_used) stays the first one (else the refit re-ran the first start's basin)
            used = getattr(self, "_start_used", None)
            resume = self._ridge_resume_point(stopped)
            # next to the limit: the only start (not chosen against the model's starts)
            resumed_start = resume if resume is not stopped else start
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    self._fit_arrays(prepared, counts, start=resumed_start, resume=resume)
            finally:
                self._start_used = used
        ll_nbd = self._nbd_limit[1]
        if self._ridge_limit is not None:
            ll_ridge = self._ridge_limit.log_likelihood_
            if (ll_ridge >= ll_nbd and self.log_likelihood_ < ll_ridge + max(1e-9 * abs(ll_ridge), self._LIMIT_LL_TOL)
                    and not self._two_point_beats(x, t_x, T, counts, ll_ridge)):
                gain = self.log_likelihood_ - ll_ridge
                self._set_ridge_fit(
                    "the full fit "
                    + (f"has a lower log-likelihood ({self.log_likelihood_:.6g})" if gain <= 0 else
                       f"is only {gain:.2g} above it (below {self._LIMIT_LL_TOL:g}: no evidence of heterogeneous dropout)")
                    + self._BEST_FIT_FOUND
                )
                return
        if self._two_point_is_best(x, t_x, T, counts, ll_nbd):
            return
        if self.log_likelihood_ < ll_nbd + max(1e-9 * abs(ll_nbd), self._LIMIT_LL_TOL):
            gain = self.log_likelihood_ - ll_nbd
            self._set_boundary_fit(
                x, t_x, T, counts,
                (f"the derivative into the dropout region is positive ({self._nbd_limit[2]:.3g} per customer, "
                 f"{self._nbd_limit[3]})" if self._nbd_limit[0][3] else
                 "the NBD limit fit did not meet its convergence test, so the full model was fitted too")
                + ", but the best point the optimiser found "
                + (f"has a lower log-likelihood ({self.log_likelihood_:.6g})" if gain <= 0 else
                   f"is only {gain:.2g} above it in log-likelihood (below {self._LIMIT_LL_TOL:g}: no evidence of dropout)")
                + self._BEST_FIT_FOUND,
            )
            return
        level = getattr(self, "boundary_test_level", None)
        if level is not None:
            lr = max(2.0 * (self.log_likelihood_ - ll_nbd), 0.0)
            p_value = _boundary_lr_p_value(lr)  # 50:50 mixture of chi2(0) and chi2(1) (Self & Liang 1987)
            if p_value > float(level):
                full = ", ".join(f"{k} = {v:.4g}" for k, v in self.params_.items())
                self._set_boundary_fit(
                    x, t_x, T, counts,
                    f"the full model ({full}) is better by {self.log_likelihood_ - ll_nbd:.4g} in log-likelihood, "
                    f"not significantly (likelihood-ratio statistic {lr:.3g}, p = {p_value:.3g} > "
                    f"boundary_test_level = {float(level):g}), so the simpler limit is kept",
                )
                return
            ridge = self._ridge_limit
            if ridge is not None and ridge.log_likelihood_ > ll_nbd:
                lr = max(2.0 * (self.log_likelihood_ - ridge.log_likelihood_), 0.0)
                p_value = _boundary_lr_p_value(lr)  # one parameter (1/s or 1/(a+b+1)) on its boundary
                if p_value > float(level):
                    full = ", ".join(f"{k} = {v:.4g}" for k, v in self.params_.items())
                    self._set_ridge_fit(
                        f"the full model ({full}) is better by {self.log_likelihood_ - ridge.log_likelihood_:.4g} in "
                        f"log-likelihood, not significantly (likelihood-ratio statistic {lr:.3g}, p = {p_value:.3g} > "
                        f"boundary_test_level = {float(level):g}), so the simpler limit is kept"
                    )
                    return
        self._pass_on_full_fit_warnings(caught)

    def _pass_on_full_fit_warnings(self, caught: list) -> None:
        """Issue the warnings of a full fit that stands; an IdentificationWarning says where the two-point limit is."""
        info = getattr(self, "_two_point_info", None)
        for w in caught:
            message = w.message
            if info is not None and issubclass(w.category, IdentificationWarning):
                with np.errstate(divide="ignore"):
                    lp = np.log(self.params_.to_numpy(float))
                # on the ridge r, alpha -> inf (findings_12u F4: "an interior maximum" next to "r and alpha grow together")
                poisson = (f" (a point on the ridge r, alpha -> infinity with r / alpha = {np.exp(lp[0] - lp[1]):.4g} fixed, "
                           "the Poisson limit of the purchase rate, where the likelihood is flat along r and alpha; the "
                           "other parameters are at their maximum on it).")
                stuck = [f"{n} = exp({v:+.0f})" for n, v, b in zip(self._param_names, lp, self._at_optimiser_bound(lp))
                         if np.isfinite(v) and b]
                # the comparison in words only with its sign (findings_12s F4: "it is -0.49 above that limit")
                where = (f"{info[2]:.3g} above that limit, so the limit is not the maximum and the fit is kept"
                         if info[2] > 0 else
                         f"{-info[2]:.3g} below that limit (not more than {self._LIMIT_LL_TOL:g}: no evidence between "
                         f"them) and the fit is kept")
                message = (f"{message} The fit lies on the way to the two-point-dropout limit (a share of customers "
                           f"dropping out for certain, the rest never: {info[0]}, log-likelihood {info[1]:.6g}); it is "
                           f"{where}"
                           + (f"; {', '.join(stuck)} stopped at the optimiser's bound: the maximum may lie "
                              "a little further along the same path, between this point and the limit." if stuck
                              else poisson if self._on_poisson_ridge(lp) else " (an interior maximum)."))
            warnings.warn(message, w.category, stacklevel=5)

    # ---- common-dropout ridge ----------------------------------------------
    #: The common-dropout limit (``GeometricNBDModel``, ``ModifiedGeometricNBDModel``, ``ExponentialNBDModel``),
    #: set by the modules of the models with dropout (as ``_limit_model_class``).
    _ridge_model_class: type[BaseTransactionModel] | None = None
    #: the heterogeneity parameter (BG/NBD, MBG/NBD ``a + b``; Pareto/NBD ``s``) above which the optimiser's
    #: iterate counts as heading along the common-dropout ridge: the dropout's mixing distribution then has a
    #: coefficient of variation below ~1/sqrt(50) = 0.14
    _RIDGE_START = 50.0

    def _ridge_heterogeneity(self, log_params: np.ndarray) -> float:
        """The parameter that grows without bound along the ridge (``a + b`` or ``s``)."""
        raise NotImplementedError

    def _ridge_params(self) -> dict[str, float]:
        """Values of the dropout parameters in the common-dropout limit (``{"a": inf, "b": inf}``)."""
        raise NotImplementedError

    def _ridge_start(self, log_params: np.ndarray) -> tuple[float, float, float]:
        """``(r, alpha, common dropout)`` of a point of the full model (for the limit's start)."""
        raise NotImplementedError

    def _on_ridge(self, log_params: np.ndarray) -> bool:
        with np.errstate(all="ignore"):
            return bool(self._ridge_heterogeneity(np.asarray(log_params, float)) > self._RIDGE_START)

    def _ridge_is_maximum(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, prepared, stopped: np.ndarray
    ) -> tuple[str, str] | None:
        """Fit the common-dropout limit; ``("ridge" or "nbd", reason)`` to keep a limit, ``None`` when the full fit must go on.

        The limit is kept when the derivative of the full log-likelihood at the limit into
        heterogeneous dropout (:meth:`ridge_score
        <crm_analysis.clv.common_dropout.GeometricNBDModel.ridge_score>`) is not positive and the
        limit is at least as good as where the optimiser stopped. Where the common dropout itself
        runs to 0 (not above the NBD limit's log-likelihood by ``_LIMIT_LL_TOL``), the no-dropout
        limit (NBD) is the simpler model of the same fit and is kept instead.
        """
        limit = self._fit_ridge_limit(x, t_x, T, counts, stopped)
        if limit is None:
            return None
        self._ridge_limit = limit
        with np.errstate(all="ignore"):
            score = limit.ridge_score(x, t_x, T, counts)
            ll_stop = self._weighted_loglik_value(stopped, prepared, counts)
        self._ridge_info = (score, ll_stop)
        het = self._ridge_heterogeneity(stopped)
        if not score <= self._SCORE_TOL or not (np.isfinite(ll_stop) and limit.log_likelihood_ >= ll_stop - 1e-9 * abs(ll_stop)):
            return None
        ll_nbd = self._nbd_limit[1]
        if self._two_point_beats(x, t_x, T, counts, max(limit.log_likelihood_, ll_nbd)):
            return None  # the two-point limit is better than both: the full fit goes on
        if limit.log_likelihood_ < ll_nbd + max(1e-9 * abs(ll_nbd), self._LIMIT_LL_TOL):
            gain = limit.log_likelihood_ - ll_nbd
            return "nbd", (
                f"the derivative into the dropout region is positive ({self._nbd_limit[2]:.3g} per customer, "
                f"{self._nbd_limit[3]}), but the optimiser ran along the common-dropout ridge "
                f"({self._RIDGE_HETEROGENEITY_NAME} = {het:.3g}) to a limit with a vanishing common dropout "
                f"({', '.join(f'{k} = {v:.3g}' for k, v in limit.params_.items())}) that "
                + (f"has a lower log-likelihood ({limit.log_likelihood_:.6g})" if gain <= 0 else
                   f"is only {gain:.2g} above it in log-likelihood (below {self._LIMIT_LL_TOL:g}: no evidence of dropout)")
                + self._BEST_FIT_FOUND
            )
        return "ridge", (
            f"the optimiser ran along the ridge towards it ({self._RIDGE_HETEROGENEITY_NAME} = {het:.3g}, log-likelihood "
            f"{ll_stop:.6g}) and the likelihood cannot rise from the limit into heterogeneous dropout (derivative "
            f"per customer {score:.3g})"
        )

    _RIDGE_HETEROGENEITY_NAME = "a + b"

    def _ridge_resume_point(self, stopped: np.ndarray) -> np.ndarray:
        """Where the full fit goes on after a ridge stop that did not settle on a limit (:meth:`_ridge_is_maximum`).

        Where the derivative at the fitted common-dropout limit into heterogeneous dropout is
        positive and the limit is at least as good as the stopped iterate, a maximum of the full
        model lies at a finite heterogeneity beyond the limit: the run goes on from next to the limit
        (:meth:`_ridge_neighbour`, e.g. ``a + b = _RIDGE_START / 2`` at the limit's ``r, alpha`` and
        mean dropout), below that maximum. The stopped iterate can lie far out on the ridge, where the
        likelihood is flat in the heterogeneity, and a run from there ends on the ridge next to the
        limit (findings_12q Finding 1, MBG/NBD: stopped at ``a + b = 1.0e9`` after the first step,
        140 below the limit; the run from there ended 9e-8 above the limit, which was kept, 0.555
        below the maximum at ``a = 24.2, b = 57.3``). Otherwise (the stopped iterate better than the
        limit, a limit that is a maximum along the ridge, or a model without ``_ridge_neighbour``):
        the stopped iterate.
        """
        limit, info = self._ridge_limit, self._ridge_info
        if limit is None or info is None:
            return stopped
        score, ll_stop = info
        if not (score > self._SCORE_TOL and (not np.isfinite(ll_stop) or limit.log_likelihood_ >= ll_stop)):
            return stopped
        r, alpha = (float(limit.params_[k]) for k in ("r", "alpha"))
        try:
            return np.asarray(self._ridge_neighbour(r, alpha, float(limit.params_.iloc[2])), float)
        except NotImplementedError:
            return stopped

    def _set_ridge_fit(self, reason: str) -> None:
        """Set the model to its common-dropout limit (``self._ridge_limit``), with ``boundary_`` and a warning.

        Where a higher two-point-dropout limit was fitted and rejected by its test, the reason says
        so (:meth:`_with_rejected_two_point`).
        """
        limit = self._ridge_limit
        two_point = self._is_two_point(limit)
        if not two_point:
            reason = self._with_rejected_two_point(reason, float(limit.log_likelihood_))
        desc = ", ".join(f"{k} = {v:g}" for k, v in (self._two_point_params() if two_point else self._ridge_params()).items())
        lim = ", ".join(f"{k} = {v:.6g}" for k, v in limit.params_.items())
        lp_lim = np.log(limit.params_.to_numpy(float))
        if limit._on_poisson_ridge(lp_lim):  # the limit's own IdentificationWarning tells the same (issue #12, finding C)
            lim += (f", on the ridge r, alpha -> infinity with r / alpha = {np.exp(lp_lim[0] - lp_lim[1]):.4g} fixed: the "
                    "Poisson limit of the purchase rate, where the likelihood is flat along r and alpha")
        if two_point:
            when = "at once, after the first purchase" if getattr(limit, "_first", 0.0) else "at the first repeat purchase"
            self.boundary_ = (
                f"two-point dropout ({desc}): a share pi = {float(limit.params_['pi']):.4g} of the customers drops "
                f"out for certain ({when}) and the rest never, the boundary of the parameter space where the "
                f"dropout's mixing distribution splits into two points, the {type(limit).__name__} ({lim}, "
                f"log-likelihood {limit.log_likelihood_:.6g}); {reason}"
            )
        else:
            self.boundary_ = (
                f"common dropout ({desc}): every customer has the same dropout "
                f"{'rate' if 'mu' in limit.params_.index else 'probability'}, the boundary of the parameter space where "
                f"the dropout's mixing distribution is a point, the {type(limit).__name__} ({lim}, log-likelihood "
                f"{limit.log_likelihood_:.6g}); {reason}"
            )
        self.boundary_ += self._other_limits_note(limit, self.boundary_)
        self._adopt_ridge_limit(limit)
        dropout = next((k for k in ("p", "mu", "pi") if k in limit.params_.index), None)
        meaning = (f"a share pi = {float(limit.params_['pi']):.3g} drops out for certain, the rest never" if two_point
                   else f"one dropout {'rate' if dropout == 'mu' else 'probability'} {dropout} = "
                        f"{float(limit.params_[dropout]):.3g} for every customer")
        self._warn_boundary(f"{'two-point' if two_point else 'common'}-dropout limit", type(limit).__name__, meaning,
                            float(limit.log_likelihood_),
                            f"params_ holds {desc}, predictions are the {type(limit).__name__}'s, limit_model_ is that "
                            f"fitted model and fit_result_ (log-likelihood, AIC, BIC, summary) its fit", limit.converged_)
        note = self._few_data_note()
        for text in limit.fit_warnings_:  # the limit's own warnings (e.g. not identified on a handful of customers)
            category, _, message = text.partition(": ")
            cls = _LIMIT_WARNING_CLASSES.get(category, CRMAnalysisWarning)
            # the limit model was not fitted through fit(), so its warnings lack the few-repeat-buyer note (findings_12o C)
            extra = f" {note.strip()}" if note and "Likely reason" not in message else ""
            warnings.warn(f"{message} (fit of the {'two-point' if two_point else 'common'}-dropout limit){extra}", cls,
                          stacklevel=5)

    def _other_limits_note(self, kept: "BaseTransactionModel | None", text: str = "") -> str:
        """The other limits fitted in this fit and not kept, with their log-likelihoods (for ``boundary_``), else ``""``.

        ``kept``: the limit kept (``None``: the NBD limit). Names the NBD limit, the common-dropout
        limit and the two-point-dropout limit where they were fitted, each with its log-likelihood and
        its distance to the kept one (findings_12r Finding A: the warning named neither the two-point
        limit nor any test), so that the choice among limits can be checked from the message. A limit
        that ``text`` (the reason so far) names already with its parameters (e.g. a higher two-point
        limit rejected by its test) is left out.
        """
        ll_kept = float(self._nbd_limit[1]) if kept is None else float(kept.log_likelihood_)
        parts = []
        nbd = getattr(self, "_nbd_limit", None)
        if kept is not None and nbd is not None:
            parts.append(("the no-dropout limit (NBD model)", None, float(nbd[1])))
        common = getattr(self, "_common_dropout_fit", None)
        if common is not None and common is not kept:
            parts.append(("the common-dropout limit", common, float(common.log_likelihood_)))
        two_point = getattr(self, "_two_point_fit", None)
        if two_point and two_point is not kept:
            parts.append(("the two-point-dropout limit", two_point, float(two_point.log_likelihood_)))
        parts = [p for p in parts if p[1] is None or f"the {type(p[1]).__name__} (" not in text]
        if not parts:
            return ""
        texts = []
        for name, model, ll in parts:
            est = "" if model is None else (f", the {type(model).__name__} ("
                                            + ", ".join(f"{k} = {v:.4g}" for k, v in model.params_.items()) + ")")
            diff = ll - ll_kept
            where = ("the same" if abs(diff) <= 1e-9 * max(1.0, abs(ll_kept))
                     else f"{-diff:.3g} below" if diff < 0 else f"{diff:.3g} above")
            # a limit whose optimiser stopped short (findings_12z F1): its number is a lower bound of its maximum
            stalled = "" if model is None or model.converged_ else (
                " (that fit did not converge: its maximum can be higher than this number)")
            texts.append(f"{name}{est}: log-likelihood {ll:.6g}, {where}{stalled}")
        return "; other limits fitted: " + "; ".join(texts)

    def _adopt_ridge_limit(self, limit: "BaseTransactionModel") -> None:
        """The full model's fitted attributes from a fitted common-dropout limit."""
        names = list(self._param_names)
        index = self._names_index()
        fixed = self._two_point_params() if self._is_two_point(limit) else self._ridge_params()
        shared = [n for n in names if n not in fixed]  # r, alpha
        values = {**{n: float(limit.params_[n]) for n in shared}, **fixed}
        self.limit_model_ = limit
        # in params_' names (findings_12n F5): the limit's own dropout parameter (p, pi) not identified means
        # that the full model's dropout parameters, fixed at the limit, are not (limit_model_ has the limit's names)
        weak = set(getattr(limit, "not_identified_", []))
        self.not_identified_ = [n for n in names if n in weak or (n in fixed and weak - set(shared))]
        self.params_ = pd.Series([values[n] for n in names], index=index, name="estimate")
        self.log_likelihood_ = limit.log_likelihood_
        self.converged_ = limit.converged_
        self.n_iter_ = limit.n_iter_
        self.n_customers_ = limit.n_customers_
        self.n_distinct_ = limit.n_distinct_
        cov_log = pd.DataFrame(np.nan, index=index, columns=index)
        cov_log.loc[shared, shared] = limit.log_covariance_.loc[shared, shared].to_numpy()
        self.log_covariance_ = cov_log
        cov = pd.DataFrame(np.nan, index=index, columns=index)
        cov.loc[shared, shared] = limit.covariance_.loc[shared, shared].to_numpy()
        self.covariance_ = cov
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov.to_numpy())), index=index, name="std_error")
        self.fit_result_ = limit.fit_result_
        self.fit_warnings_ = list(getattr(limit, "fit_warnings_", []))

    def _common_limit(self) -> "BaseTransactionModel | None":
        """The fitted limit whose predictions stand for the model's, else ``None``.

        After a common-dropout (ridge) fit or a two-point-dropout fit: the
        limit has dropout, so the full model's own formulas (at infinite or
        zero dropout parameters) cannot give its predictions.
        """
        limit = getattr(self, "limit_model_", None)
        cls = self._ridge_model_class
        if cls is not None and isinstance(limit, cls):
            return limit
        return limit if self._is_two_point(limit) else None

    def _is_two_point(self, limit: Any) -> bool:
        cls = self._two_point_model_class
        return cls is not None and isinstance(limit, cls)

    def boundary_kind(self) -> str | None:
        """Which limit a boundary fit chose, or ``None`` (the full model).

        Returns
        -------
        str or None
            The kind of ``boundary_``: ``"no_dropout"`` (the NBD model: nobody
            drops out; ``a = 0, b = inf`` or ``s = 0, beta = inf``),
            ``"common_dropout"`` (one dropout probability or rate for
            everyone: ``a, b = inf`` or ``s, beta = inf``,
            :mod:`~crm_analysis.clv.common_dropout`), ``"two_point_dropout"``
            (a share ``pi`` drops out for certain, the rest never: ``a, b =
            0`` or ``s, beta = 0``, :mod:`~crm_analysis.clv.two_point_dropout`).
        """
        if not getattr(self, "boundary_", None):
            return None
        limit = getattr(self, "limit_model_", None)
        if self._is_two_point(limit):
            return "two_point_dropout"
        return "common_dropout" if self._common_limit() is not None else "no_dropout"

    # ---- two-point-dropout boundary (a, b -> 0 or s, beta -> 0) -------------
    #: The two-point-dropout limit (``TwoPointGeometricNBDModel``, ``ZeroInflatedNBDModel``), set by the
    #: modules of the models with dropout.
    _two_point_model_class: type[BaseTransactionModel] | None = None

    def _near_two_point(self, T: np.ndarray, counts: np.ndarray) -> bool:
        """Whether the full fit ended near the two-point-dropout limit (then the limit is fitted and compared)."""
        return False

    def _two_point_params(self) -> dict[str, float]:
        """Values of the dropout parameters in the two-point limit (e.g. ``{"a": 0, "b": 0}``)."""
        raise NotImplementedError

    def _two_point_start(self) -> tuple[float, float, float]:
        """``(r, alpha, pi)`` of the full fit, the two-point limit's starting point."""
        raise NotImplementedError

    def _two_point_full_start(self, limit: "BaseTransactionModel") -> np.ndarray:
        """Log parameters of the full model next to a fitted two-point limit (a start of the full fit)."""
        raise NotImplementedError

    def _fit_limit_model(
        self, cls: type, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray,
        hint: tuple[float, float, float] | None, stop=None,
    ) -> "BaseTransactionModel | None":
        """A limit model (``cls``: common-dropout or two-point limit) fitted on these data from ``hint`` and from its own starts; the better fit, ``None`` when both fail.

        The limit's likelihood can have several maxima, and the full fit's point (``hint``) can lead
        to a lower one than the limit's own starts reach: findings_12v F4 (Pareto/NBD, 2 repeat buyers),
        from the NBD limit's ``r = 0.0043`` the ZeroInflatedNBDModel ended at ``r = 0.0089, pi = 0.52``,
        -27.9157, its own fit at the Poisson ridge with ``pi = 0.994``, -27.5413; from a full fit on the
        Poisson ridge (``r ~ 1e7``) the limit stayed there, 4.2 (ZeroInflatedNBDModel) and 25.1
        (ModifiedGeometricNBDModel) below its own fit. So the limit is also fitted from its own
        starts (without the hint: what ``cls().fit`` does), unless the hinted run started from
        one of them already (its start is chosen by value among the hint and those starts); the
        higher log-likelihood is kept. ``stop`` is the watch of the limit's run: where it stops the
        hinted run, the limit is taken as not there (``None``) without the second run (the two-point
        limit's ``pi -> 0``: Online Retail to 2011-09-09, where the second run doubled the cost of the
        limit, 35-140 ms of 40-240 ms fits, and also ran to ``pi -> 0``); a second run it stops counts
        as failed. The kept limit's warnings are in its ``fit_warnings_``.
        """
        fits: list = []
        for h in ((hint, None) if hint is not None else (None,)):
            if fits and not np.array_equal(fits[0].__dict__.get("_start_used"), np.log(np.asarray(hint, float))):
                break  # the hinted run started from the limit's own best start: the same run
            limit = cls()
            limit.columns_ = dict(self.columns_)
            limit._fit_info = self._fit_info
            limit._start_hint = h
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    limit._fit_arrays(limit._prepare(x, t_x, T), counts, stop=stop)
            except _RidgeReached:
                if h is None:
                    continue
                return None  # the hinted run stopped (e.g. pi -> 0): the limit is not there, as without a second run
            except ModelFitError:
                continue
            limit.fit_warnings_ = [f"{w.category.__name__}: {w.message}" for w in caught
                                   if issubclass(w.category, CRMAnalysisWarning)]
            fits.append(limit)
        if not fits:
            return None
        return max(fits, key=lambda f: float(f.log_likelihood_))  # a tie: the hinted run

    def _two_point_limit_fit(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray,
        hint: tuple[float, float, float] | None = None,
    ) -> "BaseTransactionModel | None":
        """The two-point limit fitted on these data (once per fit; ``None`` without one or when it fails)."""
        cached = getattr(self, "_two_point_fit", None)
        if cached is not None:
            return cached or None  # False: the fit failed
        cls = self._two_point_model_class
        if cls is None:
            return None
        # its likelihood can have two maxima: pi -> 0 with a small r, which is the NBD limit (known already), and a
        # share pi > 0 with a larger r (zero-inflated data: 8.7 log-likelihood units above it); the fit starts
        # at a clear share (the hint's, else 0.5), so it finds the second one where there is one
        r0, alpha0 = (hint[0], hint[1]) if hint is not None else (self._nbd_hint or (None, None))
        pi0 = hint[2] if hint is not None and hint[2] >= 0.05 else 0.5
        # pi -> 0 is the limit's own boundary, the NBD limit (fitted already): an iterate below
        # _TWO_POINT_PI_ZERO stops the fit, which otherwise crawls on to pi ~ 1e-13 (44 of the 68
        # evaluations of the MBG/NBD's limit on Online Retail to 2011-09-09); the limit is then not there
        limit = self._fit_limit_model(cls, x, t_x, T, counts, (r0, alpha0, pi0) if r0 is not None else None,
                                      stop=_pi_vanishes)
        if limit is None:
            self._two_point_fit = False
            return None
        self._two_point_fit = limit
        return limit

    #: level of the likelihood-ratio test the two-point limit must pass against the NBD limit (nested in it at
    #: pi = 0) when ``boundary_test_level`` is None: on data without dropout the two-point limit is better by
    #: chance in about half the samples (by 0.02-0.8 in log-likelihood, pi 0.002-0.4, not identified)
    _TWO_POINT_LEVEL = 0.05

    def _two_point_vs_nbd(self, ll_tp: float, ll_nbd: float) -> tuple[bool, str]:
        """Whether the two-point limit is significantly better than the NBD limit, and the test in words.

        Likelihood-ratio statistic ``2 (LL_tp - LL_nbd)`` against the 50:50 mixture of chi-square(0)
        and chi-square(1) (``pi`` on its boundary 0; Self & Liang 1987), at ``boundary_test_level``
        or, without one, ``_TWO_POINT_LEVEL``.
        """
        level = getattr(self, "boundary_test_level", None)
        level = float(level) if level is not None else self._TWO_POINT_LEVEL
        lr = max(2.0 * (ll_tp - ll_nbd), 0.0)
        p_value = _boundary_lr_p_value(lr) if lr > 0 else 1.0
        return p_value <= level, (f"likelihood-ratio statistic against the NBD limit {lr:.3g}, p = {p_value:.4g}, "
                                  f"level {level:g}")

    def _two_point_beats(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, ll: float,
        hint: tuple[float, float, float] | None = None,
    ) -> bool:
        """Whether the two-point limit is better than ``ll`` (by ``_LIMIT_LL_TOL``) and would replace the limit that ``ll`` stands for.

        ``ll`` is the log-likelihood of the rival: the NBD limit, or the common-dropout limit where that is
        better than the NBD limit by ``_LIMIT_LL_TOL`` (and so would be kept). Against the NBD limit, which
        the two-point limit nests (``pi = 0``), it must also be significantly better
        (:meth:`_two_point_vs_nbd`). Against the common-dropout limit the log-likelihood decides: both
        limits have three parameters and neither nests the other (findings_12r Finding A: the
        Pareto/NBD's exponential limit was kept 0.70 below the two-point limit, which is not
        significantly better than the NBD limit, p = 0.097, while the kept limit was not tested at all).
        """
        limit = self._two_point_limit_fit(x, t_x, T, counts, hint=hint)
        if limit is None or not limit.log_likelihood_ > ll + max(1e-9 * abs(ll), self._LIMIT_LL_TOL):
            return False
        ll_nbd = float(self._nbd_limit[1])
        if ll > ll_nbd + max(1e-9 * abs(ll_nbd), self._LIMIT_LL_TOL):
            return True  # the rival is a limit with dropout that beats the NBD limit: the higher of the two wins
        return self._two_point_vs_nbd(limit.log_likelihood_, ll_nbd)[0]

    def _common_dropout_beats_nbd(self) -> bool:
        """Whether the common-dropout limit fitted in this fit (if any) is better than the NBD limit by ``_LIMIT_LL_TOL``."""
        common = getattr(self, "_common_dropout_fit", None)
        nbd = getattr(self, "_nbd_limit", None)
        if common is None or nbd is None:
            return False
        ll_nbd = float(nbd[1])
        return bool(common.log_likelihood_ > ll_nbd + max(1e-9 * abs(ll_nbd), self._LIMIT_LL_TOL))

    #: z-score of the excess of customers without repeat purchase over the NBD limit's expected number above
    #: which the data count as zero-inflated (then the two-point limit is fitted and compared)
    _EXCESS_ZEROS_Z = 3.0
    #: whether excess zeros alone make the fit compare with the two-point limit (Pareto/NBD: findings_12p Finding
    #: 2). Not BG/NBD: its customers drop out only after a repeat purchase, P(X(T) = 0) is the NBD's whatever a, b,
    #: so excess zeros say nothing of its two-point limit. Not MBG/NBD: on the 34 zero-inflated data sets of
    #: findings_12p (tests/clv/test_zero_inflated_fits.py) its fit reaches the same result without the test. On
    #: Online Retail the test fired on every real data set (they have dropout) and the two-point fit took a third
    #: of the BG/NBD and MBG/NBD fits' time for nothing.
    _excess_zeros_test = True

    def _two_point_worth_comparing(self, x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> bool:
        """Whether the full fit must be compared with the two-point limit although it did not end near it.

        Where the fit is not clearly interior and identified (some parameter in ``not_identified_``) or
        the data have more customers without a repeat purchase than the NBD limit expects (by
        ``_EXCESS_ZEROS_Z`` binomial standard deviations): the full likelihood can then have a local
        maximum far from the two-point limit and below it (findings_12p Finding 2: Pareto/NBD ``s =
        0.046, beta = 18.5``, 24.4 below the limit on data with 54 % certain dropouts). An identified
        interior fit on data without excess zeros (CDNOW) costs nothing extra.
        """
        if getattr(self, "not_identified_", None):
            return True
        nbd = getattr(self, "_nbd_limit", None)
        if nbd is None or not self._excess_zeros_test:
            return False
        r, alpha = np.exp(np.asarray(nbd[0][0], float))
        p0 = np.exp(-r * np.log1p(T / alpha))  # NBD P(X(T) = 0) per row
        expected = wdot(counts, p0)
        sd = math.sqrt(max(wdot(counts, p0 * (1.0 - p0)), 1e-12))
        observed = float(counts[x == 0].sum())
        return bool(observed - expected > self._EXCESS_ZEROS_Z * sd)

    def _two_point_is_best(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, ll_nbd: float) -> bool:
        """Fit the two-point limit when the full fit ended near it; keep the limit when it is at least as good.

        The limit is kept when the full fit is not above it by ``_LIMIT_LL_TOL`` in
        log-likelihood (the optimiser ends on its way to the boundary, e.g. BG/NBD ``a = 9e-14,
        b = 2.5e-13``, 0.08 below the limit); the full fit stands when it is better (e.g.
        Pareto/NBD ``s = 0.085, beta = 3e-10``, 1.0 above the limit: an interior maximum). Where
        the limit itself is no better than the NBD limit (``pi -> 0``, or not significantly: the
        likelihood-ratio rule, :meth:`_two_point_vs_nbd`), the NBD limit is kept instead, also where
        the full fit ended elsewhere, above the NBD limit but below the two-point limit (findings_12s
        F4: kept 0.49 below the two-point limit, 0.010 above the NBD limit).
        """
        cls = self._two_point_model_class
        self._two_point_info = None
        if cls is None:
            return False
        near = self._near_two_point(T, counts)
        if not near and getattr(self, "_two_point_fit", None) is None and not (
                self.log_likelihood_ < ll_nbd + max(1e-9 * abs(ll_nbd), self._LIMIT_LL_TOL)) and not (
                self._two_point_worth_comparing(x, T, counts)):
            return False  # an identified interior fit on data without excess zeros: nothing to compare
        limit = self._two_point_limit_fit(x, t_x, T, counts, hint=self._two_point_start())
        if limit is None:
            return False
        ll_lim = float(limit.log_likelihood_)
        gain = self.log_likelihood_ - ll_lim
        self._two_point_info = (type(limit).__name__, ll_lim, gain)
        if gain >= max(1e-9 * abs(ll_lim), self._LIMIT_LL_TOL):
            return False
        over_nbd = ll_lim - ll_nbd
        significant, test = self._two_point_vs_nbd(ll_lim, ll_nbd)
        # the likelihood-ratio test is the rule against the NBD limit only; where the common-dropout limit (fitted in
        # this fit) beats the NBD limit, a limit with dropout is kept anyway and the higher one of the two wins
        common = getattr(self, "_common_dropout_fit", None)
        if not significant and self._common_dropout_beats_nbd() and ll_lim > common.log_likelihood_:
            significant = True
        keep_nbd = not significant
        if keep_nbd and not near and not self.log_likelihood_ > ll_nbd + max(1e-9 * abs(ll_nbd), self._LIMIT_LL_TOL):
            return False  # the NBD limit's own check decides, with its own reason
        # a full fit above the NBD limit but below the two-point limit is not the model's maximum: the limit is, and
        # the likelihood-ratio rule decides between the nested limits (findings_12s F4: an interior fit was kept 0.49
        # below the two-point limit, 0.010 above the NBD limit)
        full = ", ".join(f"{k} = {v:.3g}" for k, v in self.params_.items())
        lim = ", ".join(f"{k} = {v:.3g}" for k, v in limit.params_.items())
        ended = (f"the full fit {'ended near it' if near else 'ended elsewhere'} ({full}, log-likelihood "
                 f"{self.log_likelihood_:.6g}, "
                 + (f"below the two-point-dropout limit by {-gain:.2g}" if gain <= 0 else
                    f"only {gain:.2g} above the two-point-dropout limit: below {self._LIMIT_LL_TOL:g}, no evidence "
                    f"against it")
                 + ("" if near else f", above the NBD limit by {self.log_likelihood_ - ll_nbd:.2g}, so not the "
                                    f"model's maximum") + ")")
        why_nbd = (f"is {'better than' if over_nbd > 0 else 'not above'} the NBD limit by {abs(over_nbd):.3g} in "
                   f"log-likelihood, not significantly ({test})")
        if keep_nbd:
            self._set_boundary_fit(
                x, t_x, T, counts,
                f"{ended}{' towards' if near else ';'} the two-point-dropout limit, the {type(limit).__name__} "
                f"({lim}), which {why_nbd}, so the simpler limit is kept"
                # the words every "kept over a higher limit" reason carries (the warning's summary reads them)
                + (" although it is not the best fit found"
                   if over_nbd > max(1e-9 * abs(ll_nbd), self._LIMIT_LL_TOL) else ""),
            )
            return True
        self._ridge_limit = limit
        self._set_ridge_fit(f"{ended}, so the limit is the best fit found")
        return True

    # ---- no-dropout boundary ---------------------------------------------
    def _limit_params(self) -> dict[str, float]:
        """Values of the dropout parameters in the no-dropout limit (e.g. ``{"a": 0, "b": inf}``)."""
        raise NotImplementedError

    def _dropout_score(
        self, r: float, alpha: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray
    ) -> tuple[float, str]:
        """Largest directional derivative (per customer) of the log-likelihood into the dropout region, at the NBD limit.

        Returns the value and a description of where it was found.
        """
        raise NotImplementedError

    def _fit_boundary_if_maximum(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray) -> bool:
        """Fit the NBD limit and keep it when the likelihood cannot rise into the dropout region."""
        lp, ll, H, n_iter, converged = self._limit_model_class.fit_limit(x, T, counts)
        r, alpha = np.exp(lp)
        self._nbd_hint = (float(r), float(alpha))  # a starting point for the full fit
        with np.errstate(all="ignore"):
            score, where = self._dropout_score(float(r), float(alpha), x, t_x, T, counts)
        self._nbd_limit = ((lp, H, n_iter, converged), ll, score, where)
        # the derivative says nothing where the limit fit is not at its maximum (n12 finding F2):
        # then the full model is fitted and compared with the limit's log-likelihood
        if not converged or not score <= self._SCORE_TOL:
            return False
        # the derivative test is local: the two-point limit (a, b -> 0; s, beta -> 0) lies elsewhere on the
        # boundary and can be far better (zero-inflated data: 45 log-likelihood units above the NBD limit)
        if self._two_point_beats(x, t_x, T, counts, ll, hint=(float(r), float(alpha), 0.3)):
            self._two_point_resume = self._two_point_full_start(self._two_point_fit)
            return False
        self._set_boundary_fit(
            x, t_x, T, counts, f"the likelihood cannot increase into the dropout region (its derivative per customer in the "
            f"mean dropout, taken at no dropout for every value of the other dropout parameter, is at most "
            f"{score:.3g}, reached {where})"
        )
        return True

    #: the end of a boundary reason that calls the kept limit the best fit found (replaced where a higher
    #: two-point-dropout limit was fitted and rejected by the likelihood-ratio test: :meth:`_rejected_two_point_note`)
    _BEST_FIT_FOUND = ", so the limit is the best fit found"

    def _rejected_two_point_note(self, ll_kept: float) -> str:
        """The two-point-dropout limit fitted in this fit, higher than the kept limit but rejected by its test, in words; else ``""``.

        A limit is kept (the NBD limit, or the common-dropout limit) while the two-point limit,
        fitted in the same fit, has a log-likelihood higher by more than ``_LIMIT_LL_TOL``, because
        it is not significantly better than the NBD limit (:meth:`_two_point_vs_nbd`, the documented
        rule: findings_12q Note A, MBG/NBD 1.35 higher, p = 0.050). The boundary reason must then not
        call the kept limit the best fit found: the note names the two-point limit, its
        log-likelihood, the likelihood-ratio statistic and p.
        """
        limit = getattr(self, "_two_point_fit", None)
        nbd = getattr(self, "_nbd_limit", None)
        if not limit or nbd is None:
            return ""
        ll_tp = float(limit.log_likelihood_)
        if not ll_tp > ll_kept + max(1e-9 * abs(ll_kept), self._LIMIT_LL_TOL):
            return ""
        significant, test = self._two_point_vs_nbd(ll_tp, nbd[1])
        lim = ", ".join(f"{k} = {v:.4g}" for k, v in limit.params_.items())
        return (f"the two-point-dropout limit, the {type(limit).__name__} ({lim}), was fitted too and has a higher "
                f"log-likelihood ({ll_tp:.6g}, {ll_tp - ll_kept:.3g} above this limit), but it is "
                + ("" if significant else "not significantly ")
                + f"better than the NBD limit ({test}), so this limit is kept although it is not the best fit found")

    def _with_rejected_two_point(self, reason: str, ll_kept: float) -> str:
        """``reason`` with :meth:`_rejected_two_point_note` in place of "the best fit found" (where it applies)."""
        note = self._rejected_two_point_note(ll_kept)
        if not note or "two-point-dropout limit" in reason:
            return reason
        return f"{reason.replace(self._BEST_FIT_FOUND, '')}; {note}"

    def _set_boundary_fit(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, counts: np.ndarray, reason: str) -> None:
        """Set the model to its no-dropout limit (the NBD fit of the check), with ``boundary_`` and a warning.

        Where a higher two-point-dropout limit was fitted and rejected by its test, the reason says
        so (:meth:`_with_rejected_two_point`).
        """
        (lp, H, n_iter, converged), ll, _, _ = self._nbd_limit
        reason = self._with_rejected_two_point(reason, ll)
        r, alpha = np.exp(lp)
        limit = self._limit_params()
        desc = ", ".join(f"{k} = {v:g}" for k, v in limit.items())
        self.boundary_ = (
            f"no dropout ({desc}): the fit is the boundary of the parameter space where nobody drops out, "
            f"the NBD model (r = {r:.6g}, alpha = {alpha:.6g}, log-likelihood {ll:.6g}); {reason}"
        )
        self.boundary_ += self._other_limits_note(None, reason)
        limit_model = self._limit_model_class()
        limit_model.columns_ = dict(self.columns_)
        limit_model._fit_info = self._fit_info
        limit_model._store_results(lp, ll, H, converged=converged, n_iter=n_iter, n_customers=float(counts.sum()), n_distinct=len(counts))
        self.limit_model_ = limit_model
        self.not_identified_ = []
        self._store_results(
            lp, ll, H, converged=converged, n_iter=n_iter, n_customers=float(counts.sum()), n_distinct=len(counts), fixed=limit
        )
        self._warn_boundary("no-dropout limit", "NBD model", "nobody drops out, P(alive) = 1", float(ll),
                            f"params_ holds {desc}, predictions are the NBD model's (P(alive) = 1) and limit_model_ is "
                            f"the fitted NBDModel", bool(converged))

    def _at_dropout_limit(self) -> bool:
        """Whether the parameters are the no-dropout limit (set by a boundary fit)."""
        return False

    _saved_attributes = ("columns_", "boundary_", "not_identified_")

    def _restore_fit(self, result: FitResult) -> None:
        """As the base class; after a boundary fit also the limit model (``limit_model_``).

        After a common-dropout fit the saved fit is the limit's (its model name, e.g.
        ``ExponentialNBDModel``): the limit is rebuilt from it and the full model's attributes
        from the limit.
        """
        names = {c.__name__: c for c in (self._ridge_model_class, self._two_point_model_class) if c is not None}
        cls = names.get(result.model)
        if cls is not None:
            limit = cls()
            limit.columns_ = dict(getattr(self, "columns_", {}))
            limit._restore_fit(result)
            self._adopt_ridge_limit(limit)
            self.fit_warnings_ = list(result.warnings)
            return
        super()._restore_fit(result)
        if getattr(self, "boundary_", None) and result.fixed:
            free = [n for n in result.param_names if n not in result.fixed]
            sub = FitResult(
                model=self._limit_model_class.__name__,
                params=result.params[free].rename(None).set_axis(["r", "alpha"]).rename("estimate"),
                log_covariance=pd.DataFrame(
                    result.log_covariance.loc[free, free].to_numpy(), index=["r", "alpha"], columns=["r", "alpha"]
                ),
                log_likelihood=result.log_likelihood,
                n_obs=result.n_obs,
                n_distinct=result.n_distinct,
                converged=result.converged,
                n_iter=result.n_iter,
            )
            limit = self._limit_model_class()
            limit.columns_ = dict(getattr(self, "columns_", {}))
            limit._restore_fit(sub)
            self.limit_model_ = limit
        elif not hasattr(self, "limit_model_"):
            self.limit_model_ = None

    def _prepare(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-data precomputation for the likelihood (override for speed)."""
        return (x, t_x, T)

    def _subset(self, arrays: Sequence[np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, ...]:
        return self._prepare(*(np.asarray(a)[idx] for a in arrays[:3]))

    def _data(
        self,
        data: pd.DataFrame,
        frequency_col: str | None = None,
        recency_col: str | None = None,
        T_col: str | None = None,
    ) -> TransactionData:
        """Validated arrays of prediction data (column names default to those of ``fit``)."""
        self._check_fitted()
        cols = getattr(self, "columns_", {"frequency": "frequency", "recency": "recency", "T": "T"})
        return check_transaction_data(
            data,
            frequency_col=frequency_col or cols["frequency"],
            recency_col=recency_col or cols["recency"],
            T_col=T_col or cols["T"],
        )

    def _start_scales(self, arrays: Sequence[np.ndarray], weights: np.ndarray) -> tuple[float, float]:
        """Rough purchase rate and time scale of the data, for starting values."""
        x, T = arrays[0], arrays[2]
        wT = wdot(weights, T)
        rate = wdot(weights, x) / max(wT, 1e-12)
        tscale = wT / float(weights.sum())
        return max(rate, 1e-8), max(tscale, 1e-8)

    # ---- prediction API (implemented by subclasses) ---------------------
    def expected_purchases(self, t: float, data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected number of purchases in ``(T, T + t]`` per row of ``data``."""
        raise NotImplementedError

    def _gone_log_odds(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``log(P(gone) / P(alive))`` at ``T`` per row (``-inf``: alive for sure; ``inf``: gone for sure)."""
        raise NotImplementedError

    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``1 / (1 + e^d)`` with ``d`` :meth:`_gone_log_odds` (no ``1 - P(gone)``: it cancels where P(alive) is tiny;
        Pareto/NBD and the common-dropout limits; BG/NBD and MBG/NBD have their own, in log space)."""
        return special.expit(-self._gone_log_odds(x, t_x, T))

    def expected_purchases_grid(self, times: Sequence[float], data: pd.DataFrame, **columns: str) -> np.ndarray:
        """Conditional expected purchases at several horizons.

        Parameters
        ----------
        times : sequence of float
            Horizons ``t >= 0``.
        data : pandas.DataFrame
            Customer summary.
        **columns : str
            Optional ``frequency_col``, ``recency_col``, ``T_col`` overrides.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(data), len(times))``.
        """
        return np.column_stack([self.expected_purchases(float(t), data, **columns) for t in times])
