"""Typed warnings (and the not-fitted error) of crm_analysis, in one place.

Every warning the package issues about a *result* (not about a deprecated
call) is a subclass of :class:`CRMAnalysisWarning`, itself a
:class:`UserWarning`, so callers can filter them as a family
(``warnings.simplefilter("error", CRMAnalysisWarning)``) or one kind at a
time. Each warning that belongs to a fitted estimator is also recorded on it
(e.g. ``boundary_``), so nothing depends on seeing the warning.

Kinds
-----
:class:`BoundaryWarning`
    The likelihood is maximised on the boundary of the parameter space (for
    example no dropout in a buy-till-you-die model); the limiting model was
    fitted instead.
:class:`IdentificationWarning`
    The data do not identify (some of) the parameters: too few or too
    uniform customers, parameters running off to zero or infinity.
:class:`ConvergenceWarning`
    The optimiser stopped without meeting its convergence criterion but the
    result was kept.
:class:`HessianWarning`
    The Hessian at the optimum is singular or not positive definite, so
    standard errors are not available (a subclass of
    :class:`IdentificationWarning`).

Errors
------
:class:`NotFittedError`
    A result of an estimator was asked for before ``fit``. A
    :class:`RuntimeError` (what callers caught before it existed) and an
    :class:`AttributeError`, like scikit-learn's ``NotFittedError``.
"""

from __future__ import annotations

__all__ = [
    "CRMAnalysisWarning",
    "BoundaryWarning",
    "ConvergenceWarning",
    "HessianWarning",
    "IdentificationWarning",
    "NotFittedError",
]


class CRMAnalysisWarning(UserWarning):
    """Base class of the warnings crm_analysis issues about its results."""


class BoundaryWarning(CRMAnalysisWarning):
    """The maximum of the likelihood lies on the boundary of the parameter space."""


class IdentificationWarning(CRMAnalysisWarning):
    """The data do not identify the model's parameters (or some of them)."""


class ConvergenceWarning(CRMAnalysisWarning):
    """The optimiser did not meet its convergence criterion."""


class HessianWarning(IdentificationWarning):
    """The Hessian at the optimum is singular or not positive definite (no standard errors).

    A kind of :class:`IdentificationWarning`: the likelihood is flat in some
    direction at the optimum, so the data do not pin down all parameters.
    """


class NotFittedError(RuntimeError, AttributeError):
    """An estimator's result was requested before it was fitted.

    Subclasses :class:`RuntimeError` (raised for this fault before the type
    existed, so existing ``except RuntimeError`` keeps working) and
    :class:`AttributeError` (as scikit-learn's ``NotFittedError``).
    """
