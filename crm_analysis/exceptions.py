"""The errors and typed warnings of crm_analysis, in one place.

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
:class:`SpendCorrelationWarning`
    Frequency and monetary value are correlated among the repeat buyers, so
    the Gamma-Gamma model's independence assumption is doubtful.
:class:`DroppedPeriodWarning`
    A seasonal period asked of a decomposition has too few cycles in the
    series and is left out (also in the result's ``dropped_periods``).
:class:`ActionIntentWarning`
    A custom action rule declares no intent and its words say none, so it
    counts as intent ``"other"`` and is not kept from lapsed customers.

Errors
------
:class:`CRMAnalysisError`
    Base of every error the package raises on purpose; each subclass also
    keeps its built-in type (``ValueError``, ``TypeError``, ``RuntimeError``).
:class:`InputError`
    A bad argument, parameter or value (a ``ValueError``). Its subclasses
    include ``DataValidationError`` (table data), ``ContractError`` (hand-over
    tables), ``ConfigError`` (report configuration) and the input errors of the
    domain packages.
:class:`InputTypeError`
    An argument of the wrong type (a ``TypeError``).
:class:`NotFoundError`
    A named artefact, column, segment or group does not exist (a ``KeyError``).
:class:`SourceNotFoundError`
    A file, folder, file pattern or run artefact that was named does not
    exist (a ``FileNotFoundError``).
:class:`OperationError`
    An operation could not be completed (a ``RuntimeError``); a failed model
    fit raises ``crm_analysis.clv.ModelFitError``, also a ``RuntimeError``.
:class:`NotFittedError`
    A result of an estimator was asked for before ``fit``. A
    :class:`RuntimeError` (what callers caught before it existed) and an
    :class:`AttributeError`, like scikit-learn's ``NotFittedError``.
"""

from __future__ import annotations

__all__ = [
    "CRMAnalysisError",
    "InputError",
    "InputTypeError",
    "NotFoundError",
    "OperationError",
    "SourceNotFoundError",
    "CRMAnalysisWarning",
    "BoundaryWarning",
    "ConvergenceWarning",
    "HessianWarning",
    "IdentificationWarning",
    "SpendCorrelationWarning",
    "DroppedPeriodWarning",
    "ActionIntentWarning",
    "NotFittedError",
]


class CRMAnalysisError(Exception):
    """Base class of every error crm_analysis raises on purpose.

    ``except CRMAnalysisError`` catches all of them; each subclass also keeps
    the built-in type callers caught before the hierarchy existed
    (:class:`ValueError` for bad values, :class:`TypeError` for wrong types,
    :class:`RuntimeError` for a failed fit or run), so existing handlers keep
    working.
    """


class InputError(CRMAnalysisError, ValueError):
    """An argument, parameter or input value is not acceptable.

    The message names the parameter or column, the value and the fix. Data
    faults in tables raise the more specific
    :class:`crm_analysis.data.errors.DataValidationError` (also an
    :class:`InputError`).
    """


class InputTypeError(CRMAnalysisError, TypeError):
    """An argument is of the wrong type (the message names it and the type expected)."""


class NotFoundError(CRMAnalysisError, KeyError):
    """A named item (artefact, column, segment, group, period, step) does not exist.

    The message lists the names that do. A :class:`KeyError`, as before.
    """

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class SourceNotFoundError(CRMAnalysisError, FileNotFoundError):
    """A file, folder, file pattern or run artefact that was named does not exist.

    The message names the parameter or source (``transactions source``, ``campaign.path``, an artefact) and the
    path. A :class:`FileNotFoundError`, as before, so existing handlers keep working.
    """


class OperationError(CRMAnalysisError, RuntimeError):
    """An operation could not be completed (publishing a run, creating a run folder, an internal check).

    A :class:`RuntimeError`, as before.
    """


class CRMAnalysisWarning(UserWarning):
    """Base class of the warnings crm_analysis issues about its results."""


class BoundaryWarning(CRMAnalysisWarning):
    """The maximum of the likelihood lies on the boundary of the parameter space."""


class IdentificationWarning(CRMAnalysisWarning):
    """The data do not identify the model's parameters (or some of them)."""


class ConvergenceWarning(CRMAnalysisWarning):
    """The optimiser (or a numerical series, e.g. the Pareto/NBD's continued fraction) did not meet its
    convergence criterion; the last value was kept."""


class HessianWarning(IdentificationWarning):
    """The Hessian at the optimum is singular or not positive definite (no standard errors).

    A kind of :class:`IdentificationWarning`: the likelihood is flat in some
    direction at the optimum, so the data do not pin down all parameters.
    """


class SpendCorrelationWarning(CRMAnalysisWarning):
    """Frequency and monetary value are correlated among repeat buyers (the Gamma-Gamma model assumes independence).

    Issued by :meth:`crm_analysis.clv.GammaGammaModel.fit` when the absolute
    Pearson correlation exceeds ``correlation_threshold`` (Fader, Hardie & Lee
    2005, "RFM and CLV", sec. 4, the independence check); the value is kept in
    ``correlation_``.
    """


class DroppedPeriodWarning(CRMAnalysisWarning):
    """A seasonal period was left out of a decomposition: the series has too few full cycles of it.

    Issued by :func:`crm_analysis.seasonality.decompose`; the periods left
    out and why are also in the result's ``dropped_periods`` and ``notes``.
    """


class ActionIntentWarning(CRMAnalysisWarning):
    """An action rule declares no intent and its action and offer text do not say one.

    Issued by :class:`crm_analysis.segmentation.ActionRule`: the rule gets
    intent ``"other"``, which the guard against onboarding/acquisition actions
    for lapsed customers does not hold back. Declare ``intent=`` (one of
    :data:`crm_analysis.segmentation.actions.INTENTS`) to silence it.
    """


class NotFittedError(CRMAnalysisError, RuntimeError, AttributeError):
    """An estimator's result was requested before it was fitted.

    Subclasses :class:`RuntimeError` (raised for this fault before the type
    existed, so existing ``except RuntimeError`` keeps working) and
    :class:`AttributeError` (as scikit-learn's ``NotFittedError``: ``hasattr``
    is ``False`` for a learned attribute of an unfitted estimator, see
    ``crm_analysis._validate.NotFittedAttributes``). Not a subclass of
    ``sklearn.exceptions.NotFittedError``: that one is also a
    :class:`ValueError`, so ``except ValueError`` handlers would swallow a
    missing fit, and importing scikit-learn here would slow every import of
    the package; catch ``AttributeError`` to handle both.
    """


# ---- how messages quote values ---------------------------------------------------------------------------
def _plain(value: object) -> object:
    """``value`` with numpy numbers as Python numbers (also inside lists, tuples, dicts and arrays)."""
    import numpy as np  # here, not at the top: this leaf module imports nothing heavy

    if isinstance(value, (np.number, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if type(value) in (list, tuple):
        return type(value)(_plain(v) for v in value)
    if type(value) is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def shown(value: object) -> str:
    """How a user-facing message shows a value it quotes: ``repr`` with numpy numbers as plain numbers.

    ``shown(np.float64(3.0))`` is ``"3.0"`` (``repr`` gives ``"np.float64(3.0)"`` with numpy 2), ``shown("W")`` is
    ``"'W'"`` (a text keeps its quotes), ``shown([np.int64(1)])`` is ``"[1]"``.

    Parameters
    ----------
    value : object
        Any value; numpy numbers, and lists, tuples, dicts and arrays of them, are shown as Python's.

    Returns
    -------
    str
    """
    return repr(_plain(value))
