"""Time-invariant covariates in the BG/NBD, Pareto/NBD and Gamma-Gamma models.

Fader, P. S. & Hardie, B. G. S. (2007). Incorporating time-invariant
covariates into the Pareto/NBD and BG/NBD models. Note,
http://brucehardie.com/notes/019/. Customer ``i``'s covariates ``z_i``
(acquisition channel, country, first-purchase month as dummies, ...) scale
the mixing distributions:

* purchase process (both models): ``alpha_i = alpha_0 exp(-g_p' z_i)``, so a
  positive coefficient means a higher mean purchase rate ``r / alpha_i``;
* Pareto/NBD dropout: ``beta_i = beta_0 exp(-g_d' z_i)``, positive = a higher
  mean dropout rate ``s / beta_i``;
* BG/NBD dropout: ``a_i = a_0 exp(g_a' z_i)``, ``b_i = b_0 exp(g_b' z_i)``
  (the note's form);
* Gamma-Gamma spend scale (by analogy): ``v_i = v_0 exp(g_v' z_i)``,
  positive = a higher mean spend ``p v_i / (q - 1)``.

Estimation reuses the package's likelihood fitter: every coefficient ``g``
is carried as the positive multiplier ``exp(g)`` on the log scale, so the
log-scale standard errors are those of the coefficients. A covariate that is
constant (e.g. all zero) is not identified next to the intercept; its
coefficient is held at 0 (reported with NaN standard error) and an
:class:`~crm_analysis.exceptions.IdentificationWarning` names it, and the
model reduces to the one without covariates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from crm_analysis.exceptions import BoundaryWarning, IdentificationWarning, InputError, InputTypeError, shown
from crm_analysis._validate import check_columns

from ._hyp import log_pnbd_interval
from ._fitting import _LOG_BOUND
from ._validation import (
    as_frame, as_weights, check_transaction_data, check_unique_columns, collapse_rows, data_moments, numeric_column,
    spend_exclusions_by_reason,
)
from .base import BaseLikelihoodModel
from .beta_geo import BetaGeoModel
from .gamma_gamma import GammaGammaModel
from .pareto_nbd import ParetoNBDModel
from .results import FitResult

__all__ = [
    "BetaGeoCovariateModel",
    "GammaGammaCovariateModel",
    "ParetoNBDCovariateModel",
    "likelihood_ratio_test",
]


def _covariate_matrix(data: pd.DataFrame, names: Sequence[str], what: str) -> np.ndarray:
    """Numeric covariate columns as a float matrix, with errors naming the column."""
    check_unique_columns(data, names)
    cols = []
    for name in names:
        check_columns({f"{what} covariate": name}, data.columns, table="data",
                      fix="Name covariates that are columns of the data")
        s = data[name]
        if s.dtype == bool or str(s.dtype) == "boolean":
            s = s.astype(float)
        if not pd.api.types.is_numeric_dtype(s):
            raise InputError(
                f"{what} covariate {name!r} is not numeric (dtype {s.dtype}); code categories as 0/1 columns, "
                f"e.g. pandas.get_dummies(data[{name!r}], prefix={name!r}, drop_first=True, dtype=float)"
            )
        values = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
        bad = ~np.isfinite(values)
        if bad.any():
            rows = list(data.index[bad][:3])
            raise InputError(
                f"{what} covariate column {name!r} has {int(bad.sum())} missing or non-finite value(s) (e.g. rows "
                f"{rows}); fill them (e.g. with the column's mean, plus a 0/1 column '{name}_missing' marking them) "
                "or drop those customers, counting them"
            )
        cols.append(numeric_column(data, name, f"{what} covariate", allow_bool=True))
    return np.column_stack(cols) if cols else np.empty((len(data), 0))


#: fewer customers than this at the rarer value of a two-valued covariate (a rare category level) draw a warning
MIN_LEVEL_CUSTOMERS = 10


def _warn_rare_value(model: str, name: str, z: np.ndarray, weights: np.ndarray) -> None:
    """Warn when a two-valued covariate (a 0/1 dummy) takes its rarer value for only a handful of customers."""
    values = np.unique(z)
    if len(values) != 2:
        return
    counts = [float(weights[z == v].sum()) for v in values]
    k = int(np.argmin(counts))
    if counts[k] < MIN_LEVEL_CUSTOMERS:
        warnings.warn(
            f"{model}: covariate {name!r} takes the value {values[k]:g} for only {counts[k]:g} customer(s) "
            f"(fewer than {MIN_LEVEL_CUSTOMERS}): its coefficient describes these customers alone, and its standard "
            "error and p-value (asymptotic) are not reliable; group the rare level with others (e.g. into 'other') "
            "or leave the covariate out",
            IdentificationWarning,
            stacklevel=5,
        )


def _check_collinear(prefix: str, names: list[str], Z: np.ndarray) -> None:
    """Refuse covariates of one block that are linear combinations of the others and the intercept (``Z`` centred)."""
    kept: list[int] = []
    for j in range(Z.shape[1]):
        col = Z[:, j]
        norm = float(np.linalg.norm(col))
        if kept:
            coef, *_ = np.linalg.lstsq(Z[:, kept], col, rcond=None)
            resid = float(np.linalg.norm(col - Z[:, kept] @ coef))
        else:
            coef, resid = np.empty(0), norm
        if resid <= 1e-8 * max(norm, 1e-300):
            others = [names[i] for i, c in zip(kept, coef) if abs(c) > 1e-8]
            raise InputError(
                f"{prefix} covariate {names[j]!r} is a linear combination of the intercept"
                + (f" and {others}" if others else "")
                + " (a copy, a rescaled copy, or the dummies of every level of one category), so their effects cannot "
                f"be told apart: leave {names[j]!r} out (for a category keep one level out as the baseline)"
            )
        kept.append(j)


class _CovariateModel(BaseLikelihoodModel):
    """Shared machinery: covariate blocks, held (constant) covariates, coefficient table."""

    _base_names: tuple[str, ...] = ()
    #: (attribute holding the covariate names, prefix of the parameter names) per covariate block
    _blocks: tuple[tuple[str, str], ...] = ()
    #: per block: (index of the base parameter it scales, sign of the exponent)
    _block_targets: tuple[tuple[int, float], ...] = ()

    def _names_index(self) -> pd.Index:  # per instance: the names depend on the covariates
        return pd.Index(list(self._param_names))

    def _covariate_names(self) -> list[tuple[str, list[str]]]:
        out = []
        for attr, prefix in self._blocks:
            names = getattr(self, attr) or []
            if isinstance(names, str):
                raise InputError(f"{attr} must be a list of column names, got the string {names!r}")
            out.append((prefix, list(names)))
        return out

    def _setup(self, data: pd.DataFrame, weights: np.ndarray | None = None) -> list[np.ndarray]:
        """Covariate matrices per block, centred and scaled for the fit; parameter names; constant covariates held at 0.

        The likelihood is maximised in the coefficients of the standardised
        covariates ``(z - mean) / sd`` (a covariate in units of 1e6 or 1e-6,
        or far from 0, would otherwise leave the optimiser at its start);
        :meth:`_set_fit_results` maps the estimates and the Hessian back to
        the covariates as given (maximum likelihood is invariant to this
        linear reparametrisation).
        """
        mats, names, fixed, scaling = [], list(self._base_names), {}, []
        w = np.ones(len(data)) if weights is None else np.asarray(weights, float)
        rare_checked: set[str] = set()
        for prefix, cov in self._covariate_names():
            dup = sorted({c for c in cov if cov.count(c) > 1})
            if dup:
                raise InputError(f"{prefix} covariates name {dup} more than once; list each column once")
            Z = _covariate_matrix(data, cov, prefix)
            centre, scale = np.zeros(Z.shape[1]), np.ones(Z.shape[1])
            for j, c in enumerate(cov):
                pname = f"{prefix}:{c}"
                names.append(pname)
                if Z.shape[0] and np.ptp(Z[:, j]) == 0:
                    fixed[pname] = 1.0  # exp(0)
                    warnings.warn(
                        f"{type(self).__name__}: covariate {c!r} ({prefix}) is constant ({Z[0, j]:g} for every "
                        "customer), so its effect cannot be told apart from the baseline; its coefficient is held at 0",
                        IdentificationWarning,
                        stacklevel=4,
                    )
                elif Z.shape[0]:
                    centre[j] = float(np.mean(Z[:, j]))
                    scale[j] = float(np.std(Z[:, j]))
                    if c not in rare_checked:
                        rare_checked.add(c)
                        _warn_rare_value(type(self).__name__, c, Z[:, j], w)
            Zs = (Z - centre) / scale
            _check_collinear(prefix, [c for j, c in enumerate(cov) if f"{prefix}:{c}" not in fixed],
                             Zs[:, [j for j, c in enumerate(cov) if f"{prefix}:{c}" not in fixed]])
            mats.append(Zs)
            scaling.append((centre, scale))
        self._all_names = tuple(names)
        self._fixed = fixed
        self._scaling = scaling
        self._param_names = tuple(n for n in names if n not in fixed)
        self.covariates_ = {prefix: cov for prefix, cov in self._covariate_names()}
        return mats

    def _unscale_matrix(self) -> np.ndarray:
        """Linear map ``A`` of the full log-parameter vector: estimates for the given covariates = ``A`` x standardised ones.

        For a block acting on base parameter ``k`` with sign ``sigma``
        (``theta_k,i = theta_k exp(sigma g' z_i)``), standardised coefficients
        ``h`` give ``g = h / sd`` and ``log theta_k = log theta_k' - sigma sum(h mean / sd)``.
        """
        n = len(self._all_names)
        A = np.eye(n)
        pos = len(self._base_names)
        for (k, sign), (centre, scale) in zip(self._block_targets, self._scaling):
            for j in range(len(centre)):
                A[pos + j, pos + j] = 1.0 / scale[j]
                A[k, pos + j] = -sign * centre[j] / scale[j]
            pos += len(centre)
        return A

    def _full_log_params(self, lp: np.ndarray) -> np.ndarray:
        """Log parameters of all names (held coefficients at 0) from the free ones."""
        if not self._fixed:
            return np.asarray(lp, float)
        full = np.zeros(len(self._all_names))
        free = [i for i, n in enumerate(self._all_names) if n not in self._fixed]
        full[free] = lp
        return full

    def _split(self, full_lp: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Base log parameters and the coefficient vector of each block."""
        k = len(self._base_names)
        base, rest, out = full_lp[:k], full_lp[k:], []
        for _, cov in self._covariate_names():
            out.append(rest[: len(cov)])
            rest = rest[len(cov):]
        return base, out

    def _set_fit_results(self, lp, arrays, weights, *, converged, n_iter, hessian=None, loglik=None) -> None:
        if loglik is None:
            with np.errstate(all="ignore"):
                loglik, _ = self._weighted_loglik(lp, arrays, weights)
        H = self._hessian(lp, arrays, weights) if hessian is None else hessian
        # back from the standardised covariates to the covariates as given (see _setup)
        free = [i for i, n in enumerate(self._all_names) if n not in self._fixed]
        A = self._unscale_matrix()[np.ix_(free, free)]
        lp_std = np.asarray(lp, float)
        lp = A @ lp_std
        A_inv = np.linalg.inv(A)
        H = A_inv.T @ np.asarray(H, float) @ A_inv
        if np.any(np.abs(lp) > _LOG_BOUND):
            self._raise_overflow(lp, lp_std, free)
        self._param_names = self._all_names
        self._store_results(lp, float(loglik), H, converged=converged, n_iter=n_iter,
                            n_customers=float(weights.sum()), n_distinct=int(len(weights)), fixed=dict(self._fixed))

    def _raise_overflow(self, lp: np.ndarray, lp_std: np.ndarray, free: list[int]) -> None:
        """A coefficient per unit, or the baseline (all covariates 0), beyond the parameter range: name the covariate."""
        names = [self._all_names[i] for i in free]
        blocks = [prefix for prefix, _ in self._covariate_names()]
        for name, value in zip(names, lp):
            if name not in self._base_names and abs(value) > _LOG_BOUND:
                prefix, c = name.split(":", 1)
                sd = self._scaling[blocks.index(prefix)][1][self.covariates_[prefix].index(c)]
                raise InputError(
                    f"{type(self).__name__}: the coefficient of covariate {c!r} ({prefix}) runs to {value:.4g} per "
                    f"unit (a multiplier exp({value:.0f})), beyond what the model can represent; the column's standard "
                    f"deviation is {sd:.3g}. Either it varies too little in its units (express it in larger units, "
                    f"e.g. data[{c!r}] * 1e6) or the data do not bound its effect (e.g. a category level held by a "
                    "handful of customers: group it with others, or leave the covariate out)"
                )
        full = np.zeros(len(self._all_names))
        full[free] = lp_std
        pos, worst, shift = len(self._base_names), None, 0.0
        for (prefix, cov), (centre, scale) in zip(self._covariate_names(), self._scaling):
            for j, c in enumerate(cov):
                contrib = abs(full[pos + j] * centre[j] / scale[j])
                if contrib > shift:
                    worst, shift = (prefix, c, centre[j], scale[j]), contrib
            pos += len(cov)
        prefix, c, centre, scale = worst if worst else ("?", "?", np.nan, np.nan)
        raise InputError(
            f"{type(self).__name__}: covariate {c!r} ({prefix}) has mean {centre:.6g} and standard deviation "
            f"{scale:.6g}: the baseline parameters (every covariate 0) lie so far outside the data that they "
            f"overflow (a factor exp({shift:.0f})); centre the column, e.g. data[{c!r}] - data[{c!r}].mean(), "
            "or express it in other units"
        )

    def _restore_fit(self, result: FitResult) -> None:
        self._param_names = tuple(result.param_names)
        self._all_names = tuple(result.param_names)
        self._fixed = dict(result.fixed)
        super()._restore_fit(result)

    _saved_attributes = ("columns_", "not_identified_", "covariates_")

    @classmethod
    def from_params(cls, params: Any, **kwargs: Any) -> "BaseLikelihoodModel":
        """Not available: the parameter names depend on the covariates; fit, or load with :meth:`from_dict`."""
        raise InputTypeError(f"{cls.__name__}.from_params is not available; fit the model or load it with from_dict")

    def _full_params(self) -> np.ndarray:
        self._check_fitted()
        with np.errstate(divide="ignore"):  # a no-dropout limit holds a = 0 (log -inf)
            return np.log(self.params_.to_numpy(dtype=float))

    def coefficients(self, *, level: float = 0.95) -> pd.DataFrame:
        """Coefficient table of the covariates.

        Parameters
        ----------
        level : float, default 0.95
            Level of the Wald confidence interval.

        Returns
        -------
        pandas.DataFrame
            One row per (process, covariate): ``coefficient`` (``g``),
            ``std_error`` (asymptotic, from the inverse Hessian), ``z``,
            ``p_value`` (two-sided Wald test of ``g = 0``), ``ci_lower``,
            ``ci_upper`` and ``multiplier`` = ``exp(g)``. Held (constant)
            covariates show 0 with NaN standard error.
        """
        result = self._require_fit_result()
        if not (0 < level < 1):
            raise InputError(f"level must be in (0, 1), got {shown(level)}")
        names = [n for n in result.param_names if n not in self._base_names]
        coef = np.log(result.params[names].to_numpy(dtype=float))
        se = np.sqrt(np.diag(result.log_covariance.loc[names, names].to_numpy()))
        zq = stats.norm.ppf(0.5 + level / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = coef / se
        process, covariate = zip(*(n.split(":", 1) for n in names)) if names else ((), ())
        return pd.DataFrame(
            {
                "process": list(process),
                "covariate": list(covariate),
                "coefficient": coef,
                "std_error": se,
                "z": z,
                "p_value": 2 * stats.norm.sf(np.abs(z)),
                "ci_lower": coef - zq * se,
                "ci_upper": coef + zq * se,
                "multiplier": np.exp(coef),
            },
            index=pd.Index(names, name="parameter"),
        )

    def _block_values(self, data: pd.DataFrame) -> list[np.ndarray]:
        names = self._covariate_names()
        # the first reader of the data in the predictions: a Series is refused naming all the columns read
        data = as_frame(data, columns=[*getattr(self, "columns_", {}).values(), *(c for _, cov in names for c in cov)])
        return [_covariate_matrix(data, cov, prefix) for prefix, cov in names]


def _nests(restricted: BaseLikelihoodModel, full: BaseLikelihoodModel) -> bool:
    """Whether ``restricted`` is ``full`` with some covariate coefficients at 0 (same likelihood otherwise)."""
    if isinstance(full, _TransactionCovariateModel):
        family = full._base_model
    elif isinstance(full, GammaGammaCovariateModel):
        family = GammaGammaModel
    else:
        return False
    if type(restricted) is family:
        return True
    if type(restricted) is not type(full):
        return False
    return all(set(restricted.covariates_.get(prefix, [])) <= set(cov) for prefix, cov in full.covariates_.items())


def likelihood_ratio_test(restricted: BaseLikelihoodModel, full: BaseLikelihoodModel) -> pd.Series:
    """Likelihood-ratio test of a model without (some) covariates against the same model with them.

    ``LR = 2 (log L_full - log L_restricted)``, chi-squared with ``df`` = the
    difference in the numbers of estimated parameters under the null (Wilks
    1938). The test needs nested models fitted on the same customers:
    ``full`` a covariate model (:class:`BetaGeoCovariateModel`,
    :class:`ParetoNBDCovariateModel`, :class:`GammaGammaCovariateModel`) and
    ``restricted`` the same model with a subset of its covariates, or the
    model without covariates (``BetaGeoModel``, ``ParetoNBDModel``,
    ``GammaGammaModel``) fitted on the same summary.

    Parameters
    ----------
    restricted, full : fitted models

    Returns
    -------
    pandas.Series
        ``lr_statistic``, ``df``, ``p_value``, ``loglik_restricted``,
        ``loglik_full``.

    Raises
    ------
    ValueError
        Models that are not nested in this order (another model family, or
        covariates of ``restricted`` that ``full`` lacks); models fitted on
        different data (customers or their frequency, recency, T or spend);
        ``df <= 0`` (e.g. every covariate of ``full`` constant); a
        restricted model at the no-dropout boundary while ``full`` is not
        (the chi-squared reference does not hold there; both at the limit
        compare NBD models and are tested); a full model whose maximised
        log-likelihood is below the restricted one's.
    """
    a, b = restricted._require_fit_result(), full._require_fit_result()
    if not _nests(restricted, full):
        if _nests(full, restricted):
            raise InputError(
                f"likelihood_ratio_test: the arguments are the wrong way round: the restricted model (without the "
                f"covariates, here {type(full).__name__}) comes first, the covariate model second"
            )
        raise InputError(
            f"likelihood_ratio_test: {type(restricted).__name__} is not nested in {type(full).__name__}: the test "
            "compares a covariate model with the same model without (some of) its covariates, e.g. "
            "likelihood_ratio_test(BetaGeoModel().fit(data), BetaGeoCovariateModel(...).fit(data)); to compare model "
            "families use AIC/BIC or a holdout (crm_analysis.clv.compare_models)"
        )
    if abs(a.n_obs - b.n_obs) > 1e-9 * max(a.n_obs, 1.0):
        raise InputError(f"the models were fitted on different data ({a.n_obs:g} vs {b.n_obs:g} customers)")
    ma, mb = getattr(restricted, "_data_moments", None), getattr(full, "_data_moments", None)
    if ma is not None and mb is not None and not np.allclose(ma, mb, rtol=1e-9, atol=0.0):
        raise InputError(
            f"the models were fitted on different data: the same number of customers ({a.n_obs:g}) but different "
            "frequency, recency, T (or spend) values; fit both on the same summary"
        )
    if getattr(restricted, "boundary_", None) and not getattr(full, "boundary_", None):
        raise InputError(
            f"{type(restricted).__name__} is at a boundary of its parameter space ({restricted.boundary_}): the chi-squared "
            "reference of the test does not hold there; test purchase covariates in the NBD model's terms or "
            "compare by AIC/BIC"
        )
    df = b.n_params - a.n_params
    if df <= 0:
        held = [n for n in b.param_names if n in b.fixed and ":" in n]
        raise InputError(
            f"the full model must have more estimated parameters than the restricted one (df = {df})"
            + (f"; its covariate coefficients {held} are held at 0 (constant covariates)" if held else "")
            + ("; swap the arguments?" if df < 0 else "")
        )
    gain = b.log_likelihood - a.log_likelihood
    if gain < -1e-6 * max(1.0, abs(a.log_likelihood)):
        raise InputError(
            f"the full model's maximised log-likelihood ({b.log_likelihood:.6g}) is below the restricted one's "
            f"({a.log_likelihood:.6g}), impossible for nested models fitted on the same data: a fit did not reach "
            "its maximum (see its warnings)"
        )
    lr = max(2.0 * gain, 0.0)
    return pd.Series({"lr_statistic": lr, "df": float(df), "p_value": float(stats.chi2.sf(lr, df)),
                      "loglik_restricted": a.log_likelihood, "loglik_full": b.log_likelihood})


class _TransactionCovariateModel(_CovariateModel):
    """BG/NBD and Pareto/NBD with covariates: the settings and the fit on a customer summary."""

    _base_model: type = BetaGeoModel
    _no_dropout: bool = False
    _saved_attributes = ("columns_", "not_identified_", "covariates_", "boundary_")

    def __init__(self, *, purchase_covariates: Sequence[str] | None = None,
                 dropout_covariates: Sequence[str] | None = None, penalizer: float = 0.0) -> None:
        super().__init__(penalizer=penalizer)
        self.purchase_covariates = purchase_covariates
        self.dropout_covariates = dropout_covariates

    @staticmethod
    def _purchase_rate(arrays, weights) -> float:
        """Weighted repeat purchases per unit of time (``sum w x / sum w T``), the scale of a starting ``alpha``."""
        x, T = arrays[0], arrays[2]
        return max(float(weights @ x) / max(float(weights @ T), 1e-12), 1e-8)

    def fit(self, data: pd.DataFrame, *, frequency_col: str = "frequency", recency_col: str = "recency",
            T_col: str = "T", weights: Any = None) -> "_TransactionCovariateModel":
        """Fit by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame
            Customer summary with the covariate columns (numeric; 0/1 dummies
            for categories).
        frequency_col, recency_col, T_col : str
            Columns of ``x``, ``t_x``, ``T``.
        weights : None, str or array-like, optional
            Customers per row.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Invalid summary (see :func:`~crm_analysis.clv.check_transaction_data`),
            a missing, non-numeric or non-finite covariate, no repeat buyers.
        ModelFitError
            The optimiser failed.

        Warns
        -----
        IdentificationWarning
            A constant covariate (its coefficient is held at 0).
        """
        data = as_frame(data, columns=(frequency_col, recency_col, T_col))
        td = check_transaction_data(data, frequency_col=frequency_col, recency_col=recency_col, T_col=T_col, fit=True)
        w = as_weights(data, weights)
        if not np.any((td.x > 0) & (w > 0)):
            raise InputError("no repeat buyers (all customers have frequency 0): the model cannot be fitted")
        mats = self._setup(data, w)
        widths = [m.shape[1] for m in mats]
        cols, counts = collapse_rows([td.x, td.t_x, td.T, *(m[:, j] for m in mats for j in range(m.shape[1]))], w)
        x, t_x, T = cols[:3]
        rest = cols[3:]
        blocks = []
        for k in widths:
            blocks.append(np.column_stack(rest[:k]) if k else np.empty((len(x), 0)))
            rest = rest[k:]
        self.columns_ = {"frequency": frequency_col, "recency": recency_col, "T": T_col}
        self.not_identified_ = []
        self._fit_info = f"{counts.sum():g} customer(s), {len(counts)} distinct rows of summary and covariates"
        self._data_moments = data_moments([x, t_x, T], counts)
        with warnings.catch_warnings():  # the model without covariates is only a starting point here
            warnings.simplefilter("ignore")
            base = self._base_model().fit(data, frequency_col=frequency_col, recency_col=recency_col, T_col=T_col,
                                          weights=weights)
        self._start = None if base is None or getattr(base, "boundary_", None) else np.log(base.params_.to_numpy(float))
        self._no_dropout, self.boundary_ = False, None
        # a common-dropout fit of the base (issue #12 pt 1) is no start (its a, b or s, beta are infinite) and
        # not the no-dropout limit: the covariate model is fitted in full from its default start
        if getattr(base, "boundary_", None) and base.boundary_kind() == "no_dropout":
            self._fit_no_dropout_limit(base)
        self._fit_arrays((x, t_x, T, *blocks), counts)
        return self

    def _fit_no_dropout_limit(self, base: Any) -> None:
        """No dropout in the data: fit the no-dropout limit (the NBD with purchase covariates) and say so.

        Where the model without covariates is its no-dropout limit (the NBD
        model, ``boundary_``), the likelihood is flat in the dropout
        parameters: dropout coefficients would run along that flat ridge to
        arbitrary values with meaningless (often tiny) Wald standard errors,
        and the flat baseline dropout parameters make the Hessian singular.
        The dropout parameters are held at the limit (``a = 0, b = inf`` or
        ``s = 0, beta = inf``, as in ``boundary_`` of the plain model) and the
        dropout coefficients at 0 (NaN standard errors).
        """
        self._no_dropout = True
        limits = dict(base.fit_result_.fixed)
        held = [n for n in self._param_names if n.split(":", 1)[0].startswith("dropout")]
        self._fixed.update(limits)
        for n in held:
            self._fixed[n] = 1.0  # exp(0)
        self._param_names = tuple(n for n in self._param_names if n not in self._fixed)
        self._start = np.log(np.array([base.params_[n] if n not in limits else 1.0 for n in self._base_names], float))
        self.boundary_ = base.boundary_
        warnings.warn(
            f"{type(self).__name__}: the model without covariates finds no dropout in these data ({base.boundary_}); "
            f"the covariate model is fitted at the same limit (the NBD model with purchase covariates: "
            f"{', '.join(f'{k} = {v:g}' for k, v in limits.items())})"
            + (f", and the dropout coefficients {held} are held at 0 (not identified: NaN standard error)" if held else ""),
            BoundaryWarning,
            stacklevel=3,
        )

    def _nbd_loglik(self, log_params: np.ndarray, x, T, Zp) -> np.ndarray:
        """NBD likelihood at each row's own alpha_i (the no-dropout limit of both models)."""
        base, coefs = self._split(self._full_log_params(log_params))
        r, alpha = np.exp(base[0]), np.exp(base[1]) * np.exp(-(Zp @ coefs[0]))
        return special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        k = len(self._all_names) - len(self._base_names)
        free = [i for i, n in enumerate(self._all_names) if n not in self._fixed]
        starts = []
        if self._start is not None:
            starts.append(np.concatenate([self._start, np.zeros(k)])[free])
        if not self._no_dropout:
            starts.append(np.concatenate([np.log(self._default_start(arrays, weights)), np.zeros(k)])[free])
        return starts

    def individual_params(self, data: pd.DataFrame) -> pd.DataFrame:
        """Each customer's parameters of the model without covariates (e.g. ``alpha_i``), one row per row of ``data``."""
        self._check_fitted()
        base, coefs = self._split(self._full_params())
        return pd.DataFrame(self._individual(np.exp(base), coefs, self._block_values(data)),
                            index=data.index, columns=list(self._base_names))

    def _per_customer(self, data: pd.DataFrame, method: str, *args: Any) -> np.ndarray:
        """Apply a prediction of the model without covariates, per distinct set of individual parameters."""
        ind = self.individual_params(data)
        out = np.empty(len(data))
        keys, inv = np.unique(ind.to_numpy(), axis=0, return_inverse=True)
        inv = np.asarray(inv).ravel()
        cols = self.columns_
        for k, row in enumerate(keys):
            rows = np.flatnonzero(inv == k)
            if self.fit_result_.fixed.keys() & {"a", "b", "s", "beta"}:  # the no-dropout limit: the NBD model
                m = self._base_model._limit_model_class.from_params(row[:2])
            else:
                m = self._base_model.from_params(row)
            out[rows] = getattr(m, method)(*args, data.iloc[rows], frequency_col=cols["frequency"],
                                           recency_col=cols["recency"], T_col=cols["T"])
        return out

    def probability_alive(self, data: pd.DataFrame) -> np.ndarray:
        """P(alive) per customer at the customer's own parameters (see the model without covariates)."""
        return self._per_customer(data, "probability_alive")

    def expected_purchases(self, t: float, data: pd.DataFrame) -> np.ndarray:
        """Conditional expected purchases in ``(T, T + t]`` per customer at the customer's own parameters."""
        return self._per_customer(data, "expected_purchases", t)


class BetaGeoCovariateModel(_TransactionCovariateModel):
    """BG/NBD with time-invariant covariates (Fader & Hardie 2007 note).

    ``alpha_i = alpha_0 exp(-g_p' z_i)`` (purchase), ``a_i = a_0 exp(g_a' z_i)``,
    ``b_i = b_0 exp(g_b' z_i)`` (dropout, both with ``dropout_covariates``).

    Parameters
    ----------
    purchase_covariates : list of str, optional
        Columns acting on the purchase rate.
    dropout_covariates : list of str, optional
        Columns acting on the dropout probability.
    penalizer : float, default 0
        L2 penalty on the log parameters of the fit, which runs on the centred and scaled covariates
        (coefficients shrink to 0 in units of one standard deviation of their column).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b`` (baseline, all covariates 0) and
        ``exp(g)`` per coefficient, named ``"purchase:<col>"``,
        ``"dropout_a:<col>"``, ``"dropout_b:<col>"``.
    fit_result_ : FitResult
    covariates_ : dict
    """

    _base_names = ("r", "alpha", "a", "b")
    _blocks = (("purchase_covariates", "purchase"), ("dropout_covariates", "dropout_a"),
               ("dropout_covariates", "dropout_b"))
    _block_targets = ((1, -1.0), (2, 1.0), (3, 1.0))  # alpha_i = alpha exp(-g'z), a_i = a exp(g'z), b_i = b exp(g'z)
    _base_model = BetaGeoModel

    @staticmethod
    def _individual(base: np.ndarray, coefs: list[np.ndarray], Z: list[np.ndarray]) -> np.ndarray:
        r, alpha, a, b = base
        n = Z[0].shape[0]
        return np.column_stack([
            np.full(n, r),
            alpha * np.exp(-(Z[0] @ coefs[0])),
            a * np.exp(Z[1] @ coefs[1]),
            b * np.exp(Z[2] @ coefs[2]),
        ])

    def _default_start(self, arrays, weights) -> np.ndarray:
        return np.array([0.5, 0.5 / self._purchase_rate(arrays, weights), 1.0, 3.0])

    def _loglik(self, log_params: np.ndarray, arrays) -> tuple[np.ndarray, None]:
        """BG/NBD likelihood (Fader, Hardie & Lee 2005, eq. 6) at each row's own alpha_i, a_i, b_i."""
        x, t_x, T, Zp, Za, Zb = arrays
        if self._no_dropout:
            return self._nbd_loglik(log_params, x, T, Zp), None
        base, coefs = self._split(self._full_log_params(log_params))
        r, alpha, a, b = self._individual(np.exp(base), coefs, [Zp, Za, Zb]).T
        lb = special.betaln(a, b)
        common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        u1 = special.betaln(a, b + x) - lb - (r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            u2 = np.where(x > 0, special.betaln(a + 1.0, np.maximum(b + (x - 1.0), 1e-300)) - lb
                          - (r + x) * np.log(alpha + t_x), -np.inf)
        return common + np.logaddexp(u1, u2), None


class ParetoNBDCovariateModel(_TransactionCovariateModel):
    """Pareto/NBD with time-invariant covariates (Fader & Hardie 2007 note).

    ``alpha_i = alpha_0 exp(-g_p' z_i)`` (purchase), ``beta_i = beta_0 exp(-g_d' z_i)`` (dropout).

    Parameters
    ----------
    purchase_covariates, dropout_covariates : list of str, optional
        Columns acting on the purchase rate and on the dropout rate.
    penalizer : float, default 0

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``s``, ``beta`` (baseline) and ``exp(g)`` per
        coefficient, named ``"purchase:<col>"``, ``"dropout:<col>"``.
    """

    _base_names = ("r", "alpha", "s", "beta")
    _blocks = (("purchase_covariates", "purchase"), ("dropout_covariates", "dropout"))
    _block_targets = ((1, -1.0), (3, -1.0))  # alpha_i = alpha exp(-g'z), beta_i = beta exp(-g'z)
    _base_model = ParetoNBDModel

    @staticmethod
    def _individual(base: np.ndarray, coefs: list[np.ndarray], Z: list[np.ndarray]) -> np.ndarray:
        r, alpha, s, beta = base
        n = Z[0].shape[0]
        return np.column_stack([np.full(n, r), alpha * np.exp(-(Z[0] @ coefs[0])), np.full(n, s),
                                beta * np.exp(-(Z[1] @ coefs[1]))])

    def _default_start(self, arrays, weights) -> np.ndarray:
        T, rate = arrays[2], self._purchase_rate(arrays, weights)
        tscale = float(weights @ T) / float(weights.sum())
        return np.array([0.5, 0.5 / rate, 0.5, 0.5 * 5 * tscale])

    def _loglik(self, log_params: np.ndarray, arrays) -> tuple[np.ndarray, None]:
        """Pareto/NBD likelihood (Fader, Hardie & Lee 2005 note on the Pareto/NBD, eq. 3) at each row's alpha_i, beta_i."""
        x, t_x, T, Zp, Zd = arrays
        if self._no_dropout:
            return self._nbd_loglik(log_params, x, T, Zp), None
        base, coefs = self._split(self._full_log_params(log_params))
        r, alpha, s, beta = self._individual(np.exp(base), coefs, [Zp, Zd]).T
        log_f1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_si = np.log(s) + log_pnbd_interval(r + x, s + 1.0, alpha, beta, t_x, T)
        ll = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(log_f1, log_si)
        return ll, None


class GammaGammaCovariateModel(_CovariateModel):
    """Gamma-Gamma spend model with covariates on the spend scale: ``v_i = v_0 exp(g' z_i)``.

    Parameters
    ----------
    spend_covariates : list of str, optional
        Columns acting on the spend scale (positive coefficient = higher mean spend).
    penalizer : float, default 0

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``v`` (baseline) and ``exp(g)`` per coefficient, named ``"spend:<col>"``.
    """

    _base_names = ("p", "q", "v")
    _blocks = (("spend_covariates", "spend"),)
    _block_targets = ((2, 1.0),)  # v_i = v exp(g'z)

    def __init__(self, *, spend_covariates: Sequence[str] | None = None, penalizer: float = 0.0) -> None:
        super().__init__(penalizer=penalizer)
        self.spend_covariates = spend_covariates

    def fit(self, data: pd.DataFrame, *, frequency_col: str = "frequency",
            monetary_value_col: str = "monetary_value", weights: Any = None) -> "GammaGammaCovariateModel":
        """Fit on the repeat buyers with positive mean spend (the others are counted in ``exclusions_``).

        Raises
        ------
        ValueError
            Missing or invalid columns or covariates, no repeat buyer with positive spend.
        """
        data = as_frame(data, columns=(frequency_col, monetary_value_col))
        # GammaGammaModel's checks (negative frequency named by rows; NaN spend allowed where frequency is 0)
        x, m, n_missing = GammaGammaModel._arrays(data, frequency_col, monetary_value_col, allow_negative=True)
        w = as_weights(data, weights)
        use = (x > 0) & (m > 0)
        self.exclusions_ = {**spend_exclusions_by_reason(x, n_missing),  # as GammaGammaModel's, and one reason more
                            "mean repeat spend <= 0": int(((x > 0) & (m <= 0)).sum())}
        if not np.any(use & (w > 0)):
            raise InputError("no repeat buyer with positive mean spend: the spend model cannot be fitted")
        Z = self._setup(data.loc[use], w[use])[0]
        cols, counts = collapse_rows([x[use], m[use], *(Z[:, j] for j in range(Z.shape[1]))], w[use])
        self.columns_ = {"frequency": frequency_col, "monetary_value": monetary_value_col}
        self.not_identified_ = []
        self._fit_info = f"{counts.sum():g} repeat buyer(s) with positive spend"
        self._data_moments = data_moments([cols[0], cols[1]], counts)
        with warnings.catch_warnings():  # the model without covariates is only a starting point here
            warnings.simplefilter("ignore")
            base = GammaGammaModel().fit(data.loc[use], frequency_col=frequency_col,
                                         monetary_value_col=monetary_value_col, weights=w[use])
        self._start = np.log(base.params_.to_numpy(float))
        Zc = np.column_stack(cols[2:]) if Z.shape[1] else np.empty((len(counts), 0))
        self._fit_arrays((cols[0], cols[1], Zc), counts)
        return self

    _saved_attributes = ("columns_", "not_identified_", "covariates_", "exclusions_")

    def _initial_log_params(self, arrays, weights) -> list[np.ndarray]:
        return [np.concatenate([self._start, np.zeros(len(self._param_names) - 3)])]

    def _loglik(self, log_params: np.ndarray, arrays) -> tuple[np.ndarray, None]:
        """Gamma-Gamma likelihood of the mean spend (Fader & Hardie 2013, eq. 3) at each row's ``v_i``."""
        x, m, Z = arrays
        base, (g,) = self._split(self._full_log_params(log_params))
        p, q, v0 = np.exp(base)
        v = v0 * np.exp(Z @ g)
        px = p * x
        ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
              + (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + m * x))
        return ll, None

    def expected_average_spend(self, data: pd.DataFrame) -> np.ndarray:
        """Conditional expected mean spend per customer at the customer's ``v_i`` (Fader, Hardie & Lee 2005, JMR).

        ``(q - 1)/(p x + q - 1) * p v_i/(q - 1) + p x/(p x + q - 1) * m`` for
        repeat buyers with positive spend, the population mean ``p v_i/(q - 1)``
        otherwise; ``inf`` where ``q <= 1``.
        """
        self._check_fitted()
        data = as_frame(data, columns=(self.columns_["frequency"], self.columns_["monetary_value"]))
        base, (g,) = self._split(self._full_params())
        p, q, v0 = np.exp(base)
        v = v0 * np.exp(self._block_values(data)[0] @ g)
        x, m, _ = GammaGammaModel._arrays(data, self.columns_["frequency"], self.columns_["monetary_value"],
                                          allow_negative=True)  # valued at the mean where x = 0
        with np.errstate(divide="ignore", invalid="ignore"):
            pop = np.where(q > 1, p * v / (q - 1.0), np.inf)
            use = (x > 0) & (m > 0)
            cond = (q - 1.0) / (p * x + q - 1.0) * pop + p * x / (p * x + q - 1.0) * m
        return np.where(use, cond, pop)
