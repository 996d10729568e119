"""Campaign response and uplift (IDIC: Interact): who does a campaign move, and whom to contact?

Modules
-------
experiment
    A randomised campaign table (:func:`campaign_data`, :func:`load_hillstrom`),
    response rates with Wilson intervals and uplift with Newcombe / Welch
    intervals, overall and by segment.
uplift
    Two-model and class-transformation uplift models (scikit-learn), Qini and
    uplift curves.
targeting
    :func:`analyse_campaign` (held-out evaluation, profile of the customers
    moved) and :func:`targeting_table` (contact when the expected profit of a
    contact is positive).
"""

from crm_analysis.campaigns.experiment import (
    HILLSTROM_FEATURES,
    NO_SEGMENT,
    CampaignData,
    CampaignInputError,
    campaign_data,
    load_hillstrom,
    response_rates,
    uplift_by_segment,
)
from crm_analysis.campaigns.targeting import (
    UPLIFT_MODELS,
    CampaignAnalysis,
    analyse_campaign,
    profile_movers,
    targeting_table,
)
from crm_analysis.campaigns.uplift import (
    ClassTransformationUplift,
    TwoModelUplift,
    UpliftCurve,
    default_classifier,
    plot_curves,
    prepare_features,
    qini_interval,
    uplift_curves,
)

__all__ = [
    "HILLSTROM_FEATURES",
    "NO_SEGMENT",
    "UPLIFT_MODELS",
    "CampaignAnalysis",
    "CampaignData",
    "CampaignInputError",
    "ClassTransformationUplift",
    "TwoModelUplift",
    "UpliftCurve",
    "analyse_campaign",
    "campaign_data",
    "default_classifier",
    "load_hillstrom",
    "plot_curves",
    "prepare_features",
    "profile_movers",
    "qini_interval",
    "response_rates",
    "targeting_table",
    "uplift_by_segment",
    "uplift_curves",
]
