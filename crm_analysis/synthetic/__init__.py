"""Seeded synthetic data generators: the built-in default data of the report.

retail
    Transactions from a known buy-till-you-die process (BG/NBD or Pareto/NBD
    repeat purchases, gamma-gamma spend) with weekly and yearly seasonality.
campaign
    A randomised e-mail campaign with a known uplift per customer.
hotel
    Bookings of a capacity-constrained hotel with several market segments,
    calibrated on the City Hotel of the Hotel booking demand data.
"""

from crm_analysis.synthetic.campaign import CAMPAIGN_GROUPS, SyntheticCampaign, simulate_campaign
from crm_analysis.synthetic.hotel import (
    DEFAULT_HOTEL,
    HotelConfig,
    SegmentProfile,
    SyntheticBookings,
    default_bookings,
    request_stream,
    generate_bookings,
)
from crm_analysis.synthetic.retail import (
    BGNBD_CDNOW,
    CHANNEL_MIX,
    GAMMA_GAMMA_CDNOW,
    MONTH_PROFILE,
    PARETO_NBD_CDNOW,
    WEEKDAY_PROFILE,
    BTYDSample,
    SyntheticTransactions,
    DEFAULT_PRODUCTS,
    DEFAULT_RETURN_RATE,
    PRODUCT_CATEGORIES,
    default_transactions,
    generate_transactions,
    simulate_bgnbd_events,
    simulate_gamma_gamma_transactions,
    simulate_pareto_nbd_events,
)

from crm_analysis._validate import renamed_names as _renamed_names
from crm_analysis.synthetic import retail as _retail

__all__ = [
    "CAMPAIGN_GROUPS",
    "SyntheticCampaign",
    "simulate_campaign",
    "DEFAULT_HOTEL",
    "HotelConfig",
    "SegmentProfile",
    "SyntheticBookings",
    "default_bookings",
    "request_stream",
    "generate_bookings",
    "BGNBD_CDNOW",
    "CHANNEL_MIX",
    "GAMMA_GAMMA_CDNOW",
    "MONTH_PROFILE",
    "PARETO_NBD_CDNOW",
    "WEEKDAY_PROFILE",
    "BTYDSample",
    "SyntheticTransactions",
    "DEFAULT_PRODUCTS",
    "DEFAULT_RETURN_RATE",
    "PRODUCT_CATEGORIES",
    "default_transactions",
    "generate_transactions",
    "simulate_bgnbd_events",
    "simulate_gamma_gamma_transactions",
    "simulate_pareto_nbd_events",
]

__getattr__ = _renamed_names(__name__, _retail._RENAMED, globals(), why=_retail._WHY)
