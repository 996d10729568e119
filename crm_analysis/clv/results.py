"""The result of a maximum-likelihood fit of a CLV model: estimates, uncertainty, information criteria.

:class:`FitResult` is what every model of :mod:`crm_analysis.clv` stores as
``fit_result_`` after ``fit``: the estimates, the asymptotic covariance of
the log parameters (inverse Hessian of the negative log-likelihood), the
maximised log-likelihood, AIC and BIC, a parameter table (:meth:`summary`)
and a plain-dict form for saving and loading (:meth:`to_dict`,
:meth:`from_dict`).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = ["FitResult", "json_number", "read_number"]

_FORMAT = "crm_analysis.clv.FitResult/1"

#: How a non-finite number is written in strict JSON (:func:`json_number`): ``nan`` -> ``null``.
_INF_TEXT = {float("inf"): "Infinity", float("-inf"): "-Infinity"}


def json_number(value: Any) -> float | str | None:
    """A float for strict JSON: ``nan`` -> ``None``, ``inf`` -> ``"Infinity"``, ``-inf`` -> ``"-Infinity"``.

    The encoding of every non-finite number in the package's JSON files
    (``FitResult.to_dict``, ``clv_params.json`` and the other artefacts of
    :meth:`crm_analysis.runtime.context.RunContext.write_json`): ``null``
    means not available (e.g. the standard error of a parameter held at its
    limit), the strings mean a parameter at an infinite limit (``b = inf``
    after a boundary fit). :func:`read_number` and Python's ``float()``
    read the strings back.

    Parameters
    ----------
    value : float
        Any real number.

    Returns
    -------
    float, str or None
    """
    v = float(value)
    if v != v:
        return None
    return _INF_TEXT.get(v, v)


def read_number(value: Any, *, name: str = "value") -> float:
    """Read a number written by :func:`json_number` or by the older non-strict form (float ``inf`` / ``nan``).

    Parameters
    ----------
    value : float, int, str or None
        ``None`` is ``nan``; the strings ``"Infinity"``, ``"-Infinity"``,
        ``"inf"``, ``"-inf"``, ``"NaN"`` are read by ``float()``.
    name : str
        Field name for the error message.

    Returns
    -------
    float

    Raises
    ------
    InputError
        Not a number nor one of those strings.
    """
    if value is None:
        return float("nan")
    if isinstance(value, bool):
        raise InputError(f"saved FitResult: {name} holds {shown(value)}, not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"saved FitResult: {name} holds {shown(value)}, not a number (non-finite numbers are written as null, "
            "'Infinity' or '-Infinity')"
        ) from None


@dataclass(frozen=True)
class FitResult:
    """Estimates and asymptotic uncertainty of a maximum-likelihood fit.

    Parameters
    ----------
    model : str
        Name of the model class (e.g. ``"BetaGeoModel"``).
    params : pandas.Series
        Estimates on the natural scale, indexed by parameter name. Parameters
        held at a limit by a boundary fit (``fixed``) carry that limit
        (``0`` or ``inf``).
    log_covariance : pandas.DataFrame
        Asymptotic covariance of the log parameters, shape ``(k, k)``; NaN in
        the rows and columns of fixed parameters, and everywhere when the
        Hessian was singular.
    log_likelihood : float
        Maximised (weighted) log-likelihood, without any penalty.
    n_obs : float
        Number of observations (customers, or cohorts' members: the sum of
        the weights) the likelihood was evaluated on.
    n_distinct : int
        Number of distinct data rows the likelihood was evaluated on.
    converged : bool
        Whether the optimiser met its convergence criterion.
    n_iter : int
        Optimiser iterations.
    fixed : dict of str to float
        Parameters not estimated (held at a limit), with their values.
    penalizer : float
        L2 penalty of the fit (0: plain maximum likelihood). With a positive
        penalty AIC and BIC are those of the penalised estimates' unpenalised
        log-likelihood and are not proper information criteria.
    warnings : tuple of str
        Every typed warning (:class:`~crm_analysis.exceptions.CRMAnalysisWarning`)
        the fit issued, as ``"<category>: <message>"``, in order; the same
        list is the estimator's ``fit_warnings_``.
    probabilities : tuple of str
        Names of the parameters that are probabilities in ``(0, 1)`` (the
        common-dropout limit's ``p``, the two-point limit's ``pi``): their
        interval in :meth:`summary` is a Wald interval on the logit scale, so
        it stays within ``(0, 1)``. Empty by default (and in results saved
        before it existed).

    Notes
    -----
    ``AIC = 2 k - 2 log L`` and ``BIC = k log(n) - 2 log L`` with ``k`` the
    number of estimated parameters (``fixed`` ones excluded) and ``n`` =
    ``n_obs`` (Akaike 1974; Schwarz 1978).
    """

    model: str
    params: pd.Series
    log_covariance: pd.DataFrame
    log_likelihood: float
    n_obs: float
    n_distinct: int
    converged: bool
    n_iter: int
    fixed: dict[str, float] = field(default_factory=dict)
    penalizer: float = 0.0
    warnings: tuple[str, ...] = ()
    probabilities: tuple[str, ...] = ()

    # ---- derived ------------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        """Parameter names, in the model's order."""
        return list(self.params.index)

    @property
    def n_params(self) -> int:
        """Number of estimated parameters (those held at a limit excluded)."""
        return len(self.params) - len(self.fixed)

    @property
    def aic(self) -> float:
        """Akaike information criterion ``2 k - 2 log L``."""
        return 2.0 * self.n_params - 2.0 * self.log_likelihood

    @property
    def bic(self) -> float:
        """Bayesian (Schwarz) information criterion ``k log(n) - 2 log L``."""
        return self.n_params * math.log(self.n_obs) - 2.0 * self.log_likelihood

    @property
    def covariance(self) -> pd.DataFrame:
        """Asymptotic covariance on the natural scale (delta method: ``J C J``, ``J = diag(theta)``)."""
        theta = self.params.to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            cov = self.log_covariance.to_numpy() * np.outer(theta, theta)
        free = self._free_mask()
        cov[~free, :] = np.nan
        cov[:, ~free] = np.nan
        return pd.DataFrame(cov, index=self.params.index, columns=self.params.index)

    @property
    def standard_errors(self) -> pd.Series:
        """Asymptotic standard errors on the natural scale (delta method)."""
        return pd.Series(np.sqrt(np.diag(self.covariance.to_numpy())), index=self.params.index, name="std_error")

    def _free_mask(self) -> np.ndarray:
        return np.array([n not in self.fixed for n in self.params.index], dtype=bool)

    def summary(self, *, level: float = 0.95) -> pd.DataFrame:
        """Parameter table.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the interval, in ``(0, 1)``.

        Returns
        -------
        pandas.DataFrame
            One row per parameter (index ``parameter``) with ``estimate``,
            ``std_error`` (natural scale, delta method) and ``ci_lower`` /
            ``ci_upper``: a Wald interval on the log scale transformed back,
            so it stays positive; for a probability (``probabilities``: ``p``,
            ``pi``) on the logit scale, ``logit(p) +- z se_log / (1 - p)``
            (the delta method from the log scale), transformed back, so it
            stays within ``(0, 1)`` (a log-scale interval had reached 1.85 for
            ``p = 0.61``; findings_12r Note C). NaN for parameters held at a
            limit.

        Raises
        ------
        ValueError
            ``level`` outside ``(0, 1)``.
        """
        if not (isinstance(level, (int, float)) and 0.0 < float(level) < 1.0):
            raise InputError(f"level must be a number in (0, 1), e.g. 0.95; got {shown(level)}")
        zq = stats.norm.ppf(0.5 + float(level) / 2.0)
        est = self.params.to_numpy(dtype=float)
        # a boundary fit holds limits 0 or inf; a parameter that is not identified can have a log-scale SE so large
        # that its interval overflows to [0, inf], which is what it means
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lp = np.log(est)
            se_log = np.sqrt(np.diag(self.log_covariance.to_numpy()))
            lower, upper = np.exp(lp - zq * se_log), np.exp(lp + zq * se_log)
            for i, name in enumerate(self.params.index):
                if name in self.probabilities and 0.0 < est[i] < 1.0:
                    logit, se_logit = special.logit(est[i]), se_log[i] / (1.0 - est[i])
                    lower[i], upper[i] = special.expit(logit - zq * se_logit), special.expit(logit + zq * se_logit)
        return pd.DataFrame(
            {"estimate": est, "std_error": self.standard_errors.to_numpy(), "ci_lower": lower, "ci_upper": upper},
            index=pd.Index(self.params.index, name="parameter"),
        )

    # ---- saving and loading ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (lists, floats, str) for saving as strict JSON, e.g. with :func:`json.dump`.

        Non-finite numbers are encoded so that the dict holds no ``inf`` or
        ``nan`` and ``json.dumps(..., allow_nan=False)`` accepts it
        (:func:`json_number`): ``nan`` (an unavailable covariance or standard
        error) as ``None`` (JSON ``null``), ``inf`` / ``-inf`` (a parameter at
        its limit after a boundary fit, e.g. ``b = inf``) as the strings
        ``"Infinity"`` / ``"-Infinity"``.

        Returns
        -------
        dict
            Read back by :meth:`from_dict` (which also reads the older form
            with float ``inf`` / ``nan``, i.e. JSON's non-standard
            ``Infinity`` / ``NaN``).
        """
        return {
            "format": _FORMAT,
            "model": self.model,
            "param_names": self.param_names,
            "params": [json_number(v) for v in self.params.to_numpy(dtype=float)],
            "log_covariance": [[json_number(v) for v in row] for row in self.log_covariance.to_numpy(dtype=float)],
            "log_likelihood": json_number(self.log_likelihood),
            "n_obs": float(self.n_obs),
            "n_distinct": int(self.n_distinct),
            "converged": bool(self.converged),
            "n_iter": int(self.n_iter),
            "fixed": {k: json_number(v) for k, v in self.fixed.items()},
            "penalizer": float(self.penalizer),
            "warnings": list(self.warnings),
            "probabilities": list(self.probabilities),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FitResult":
        """Rebuild a result saved by :meth:`to_dict`.

        Parameters
        ----------
        data : mapping
            The dict of :meth:`to_dict`.

        Returns
        -------
        FitResult

        Raises
        ------
        ValueError
            Not a saved fit result (wrong ``format``), missing keys, or a
            covariance whose shape does not match the parameters.
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            got = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise InputError(f"not a saved FitResult: expected format {_FORMAT!r}, got {shown(got)}")
        missing = [k for k in ("model", "param_names", "params", "log_covariance", "log_likelihood", "n_obs") if k not in data]
        if missing:
            raise InputError(f"saved FitResult lacks key(s) {missing}")
        names = [str(n) for n in data["param_names"]]
        values = np.asarray([read_number(v, name="params") for v in data["params"]], dtype=float)
        cov = np.asarray([[read_number(v, name="log_covariance") for v in row] for row in data["log_covariance"]], dtype=float)
        if values.shape != (len(names),) or cov.shape != (len(names), len(names)):
            raise InputError(
                f"saved FitResult: {len(names)} parameter names but {values.shape} values and a {cov.shape} covariance"
            )
        index = pd.Index(names)
        return cls(
            model=str(data["model"]),
            params=pd.Series(values, index=index, name="estimate"),
            log_covariance=pd.DataFrame(cov, index=index, columns=index),
            log_likelihood=read_number(data["log_likelihood"], name="log_likelihood"),
            n_obs=float(data["n_obs"]),
            n_distinct=int(data.get("n_distinct", 0)),
            converged=bool(data.get("converged", True)),
            n_iter=int(data.get("n_iter", 0)),
            fixed={str(k): read_number(v, name=f"fixed[{k!r}]") for k, v in dict(data.get("fixed", {})).items()},
            penalizer=float(data.get("penalizer", 0.0)),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
            probabilities=tuple(str(n) for n in data.get("probabilities", ())),
        )
