"""Customer lifetime value models: BG/NBD, Pareto/NBD, Gamma-Gamma and CLV.

Inputs are customer summaries in the Fader-Hardie conventions: ``frequency``
(number of repeat purchases ``x``), ``recency`` (time of the last repeat
purchase ``t_x``, 0 when ``x = 0``), ``T`` (time since the first purchase) and,
for the spend model, ``monetary_value`` (mean repeat-purchase value).

Models (scikit-learn style, ``fit`` returns ``self``):

- :class:`BetaGeoModel` (BG/NBD; Fader, Hardie & Lee 2005, Marketing Science)
- :class:`ModifiedBetaGeoModel` (MBG/NBD; Batislam, Denizel & Filiztekin 2007,
  International Journal of Research in Marketing)
- :class:`ParetoNBDModel` (Pareto/NBD; Schmittlein, Morrison & Colombo 1987)
- :class:`NBDModel` (no dropout; the limit the three models above reach when
  the data show no dropout, see their ``boundary_`` attribute)
- :class:`GeometricNBDModel`, :class:`ModifiedGeometricNBDModel`,
  :class:`ExponentialNBDModel` (one dropout probability / rate for every
  customer; the limits of BG/NBD, MBG/NBD, Pareto/NBD on the common-dropout
  ridge, see ``boundary_kind()``)
- :class:`TwoPointGeometricNBDModel`, :class:`ZeroInflatedNBDModel` (a share
  of customers drops out for certain, the rest never; the two-point-dropout
  limits of BG/NBD and of MBG/NBD and Pareto/NBD, see ``boundary_kind()``)
- :class:`GammaGammaModel` (spend; Fader, Hardie & Lee 2005, JMR)
- :func:`customer_lifetime_value` (discounted CLV with parameter-uncertainty
  intervals)

Model choice: :func:`compare_models` fits the registered purchase models
(:data:`PURCHASE_MODELS`) on a calibration period and chooses one by holdout
error (:mod:`crm_analysis.clv.selection`). Spend: :func:`fit_spend_model` and
:func:`expected_spend` apply the one spend rule for customers without a usable
repeat purchase value (:mod:`crm_analysis.clv.value`).
"""

from .base import BaseLikelihoodModel, BaseTransactionModel, ModelFitError, check_transaction_data
from .results import FitResult
from crm_analysis.exceptions import (
    NotFittedError,
    BoundaryWarning,
    ConvergenceWarning,
    CRMAnalysisWarning,
    HessianWarning,
    IdentificationWarning,
    SpendCorrelationWarning,
)

from .beta_geo import BetaGeoModel
from .beta_geo_beta_binom import BetaGeoBetaBinomModel, check_discrete_data, simulate_bgbb
from .gamma_gamma import GammaGammaModel
from .modified_beta_geo import ModifiedBetaGeoModel
from .nbd import NBDModel
from .common_dropout import ExponentialNBDModel, GeometricNBDModel, ModifiedGeometricNBDModel
from .two_point_dropout import TwoPointGeometricNBDModel, ZeroInflatedNBDModel
from .intervals import PredictionIntervals, prediction_intervals
from .covariates import (
    BetaGeoCovariateModel,
    GammaGammaCovariateModel,
    ParetoNBDCovariateModel,
    likelihood_ratio_test,
)
from .pareto_nbd import ParetoNBDModel
from .shifted_beta_geo import ShiftedBetaGeoModel, survival_to_renewals
from .simulate import (
    simulate_bgnbd,
    simulate_exponential_nbd,
    simulate_two_point_nbd,
    simulate_gamma_gamma,
    simulate_geometric_nbd,
    simulate_mbgnbd,
    simulate_nbd,
    simulate_pareto_nbd,
)
from .value import (
    SPEND_NO_REPEAT,
    SPEND_NONPOSITIVE,
    SPEND_REASONS,
    UNITS_PER_YEAR,
    customer_lifetime_value,
    expected_spend,
    fit_spend_model,
    spend_exclusions,
    step_discount_rate,
)
from .diagnostics import (
    ConditionalExpectations,
    FrequencyHistogram,
    PAliveMatrix,
    Tracking,
    conditional_expectations,
    frequency_histogram,
    p_alive_matrix,
    tracking,
)
from .selection import (
    MODEL_CHOICE_HEADLINES,
    PURCHASE_MODELS,
    LIMIT_MODELS_NOTE,
    SELECTION_CRITERIA,
    TIE_RULE,
    ModelComparison,
    PurchaseModelRefit,
    PurchaseModelSpec,
    available_purchase_models,
    compare_models,
    fit_purchase_models,
    purchase_model_class,
    purchase_model_label,
    purchase_model_name,
    refit_purchase_models,
)
from .pipeline import (
    CLV_COLUMNS,
    RFM_CLV_HEADLINES,
    TRANSACTION_MODELS,
    CLVAnalysis,
    customer_value_table,
    fit_clv_models,
)
from .step import RfmClvParams, RfmClvResult, run_rfm_clv
from .report_extras import CovariateEffects, clv_prediction_intervals, customer_covariates, fit_covariate_effects

__all__ = [
    "MODEL_CHOICE_HEADLINES",
    "ModelComparison",
    "PURCHASE_MODELS",
    "LIMIT_MODELS_NOTE",
    "PurchaseModelSpec",
    "SELECTION_CRITERIA",
    "SPEND_NONPOSITIVE",
    "SPEND_NO_REPEAT",
    "SPEND_REASONS",
    "available_purchase_models",
    "compare_models",
    "expected_spend",
    "fit_purchase_models",
    "refit_purchase_models",
    "PurchaseModelRefit",
    "TIE_RULE",
    "fit_spend_model",
    "purchase_model_class",
    "purchase_model_label",
    "purchase_model_name",
    "spend_exclusions",
    "CLVAnalysis",
    "CLV_COLUMNS",
    "RFM_CLV_HEADLINES",
    "RfmClvParams",
    "RfmClvResult",
    "run_rfm_clv",
    "CovariateEffects",
    "clv_prediction_intervals",
    "customer_covariates",
    "fit_covariate_effects",
    "ConditionalExpectations",
    "FrequencyHistogram",
    "PAliveMatrix",
    "TRANSACTION_MODELS",
    "Tracking",
    "conditional_expectations",
    "customer_value_table",
    "fit_clv_models",
    "frequency_histogram",
    "p_alive_matrix",
    "tracking",
    "BaseLikelihoodModel",
    "BaseTransactionModel",
    "BetaGeoModel",
    "BetaGeoBetaBinomModel",
    "check_discrete_data",
    "simulate_bgbb",
    "FitResult",
    "NotFittedError",
    "BoundaryWarning",
    "CRMAnalysisWarning",
    "ConvergenceWarning",
    "GammaGammaModel",
    "HessianWarning",
    "IdentificationWarning",
    "SpendCorrelationWarning",
    "ModelFitError",
    "ModifiedBetaGeoModel",
    "NBDModel",
    "GeometricNBDModel",
    "ModifiedGeometricNBDModel",
    "ExponentialNBDModel",
    "TwoPointGeometricNBDModel",
    "ZeroInflatedNBDModel",
    "PredictionIntervals",
    "BetaGeoCovariateModel",
    "GammaGammaCovariateModel",
    "ParetoNBDCovariateModel",
    "likelihood_ratio_test",
    "prediction_intervals",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "survival_to_renewals",
    "UNITS_PER_YEAR",
    "check_transaction_data",
    "customer_lifetime_value",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "simulate_mbgnbd",
    "simulate_nbd",
    "simulate_pareto_nbd",
    "simulate_geometric_nbd",
    "simulate_exponential_nbd",
    "simulate_two_point_nbd",
    "step_discount_rate",
]
