"""The IDIC step: Identify and Differentiate by profit, Interact by campaign uplift, Customize by next-best products.

:func:`run_idic` is the pipeline the chain's notebook ``25_idic`` and
stand-alone runs call; :class:`IdicParams` holds its parameters; the
artefacts it writes are declared as schemas here.
"""

from crm_analysis._validate import renamed_names as _renamed_names
from crm_analysis.idic import pipeline as _pipeline
from crm_analysis.idic.pipeline import (
    CAMPAIGN_LOADERS,
    CAMPAIGN_TARGETING_SCHEMA,
    CUSTOMER_ACTIONS_IDIC,
    CUSTOMER_PROFIT_SCHEMA,
    IDIC_HEADLINES,
    NEXT_BEST_PRODUCTS_SCHEMA,
    RECOMMENDERS,
    IdicParams,
    IdicResult,
    run_idic,
)

__all__ = [
    "CAMPAIGN_LOADERS",
    "CAMPAIGN_TARGETING_SCHEMA",
    "CUSTOMER_ACTIONS_IDIC",
    "CUSTOMER_PROFIT_SCHEMA",
    "IDIC_HEADLINES",
    "NEXT_BEST_PRODUCTS_SCHEMA",
    "RECOMMENDERS",
    "IdicParams",
    "IdicResult",
    "run_idic",
]

__getattr__ = _renamed_names(__name__, _pipeline._RENAMED, globals(), why=_pipeline._WHY)
