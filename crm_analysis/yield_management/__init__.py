"""Yield management: capacity allocation, overbooking, group decisions, simulation.

Modules
-------
demand
    Demand specs of fare classes: discretised normal, Poisson, scipy distributions.
capacity
    Littlewood's rule, EMSR-a/b, booking limits, the exact static-model DP and
    the exact expected revenue of any nested policy.
overbooking
    Binomial show-up model: service-level and cost-based booking limits, the
    overbooking curve, show rates from bookings.
groups
    Group-request decisions by displacement cost; the multi-night LP with
    night bid prices.
simulation
    Monte-Carlo comparison of FCFS, EMSR-b and DP on common random numbers.
seasons
    Notebook inputs: seasons from demand forecasts, fares from bookings.
compare
    FCFS / EMSR-b / DP controls and exact expected revenue per season or per night.
horizon
    Booking curves and pick-up forecasts by days before the night.
cancellation
    Cancellation probability per booking (scikit-learn, time split, features known at booking).
dynamic
    Lee & Hersh dynamic programme: bid prices and protection levels by time to arrival.
shows
    Expected shows of the bookings on hand (Poisson-binomial) plus net pick-up; limits by days out.
replay
    Show rates and limits by days out; replay of capacity controls on a booking stream.
booking_horizon
    The booking-horizon step: HorizonParams, run_booking_horizon, artefact schemas.
"""

from crm_analysis.yield_management.capacity import (
    DPResult,
    booking_limits,
    dp_protection_levels,
    emsr_a,
    emsr_b,
    expected_revenue,
    littlewood,
    policy_value_function,
)
from crm_analysis.yield_management.compare import (
    NightlyComparison,
    SeasonComparison,
    compare_policies_by_season,
    evaluate_nights,
)
from crm_analysis.yield_management.demand import demand_pmf, discretize_normal, sample_demand
from crm_analysis.yield_management.groups import (
    GroupDecision,
    MultiNightLPResult,
    evaluate_group_request,
    GroupFutureValue,
    group_future_value,
    multi_night_lp,
)
from crm_analysis.yield_management.overbooking import (
    OverbookingCurve,
    overbooking_curve,
    overbooking_limit_cost,
    overbooking_limit_service,
    show_rates,
)
from crm_analysis.yield_management.seasons import (
    allocation_inputs,
    assign_seasons,
    fares_from_bookings,
    season_demand,
)
from crm_analysis.yield_management.simulation import SimulationResult, default_policies, simulate_policies
from crm_analysis.yield_management.horizon import (
    BookingCurves,
    booking_curves,
    PICKUP_METHODS,
    pickup_forecasts,
    PickupBacktest,
    pickup_backtest,
)
from crm_analysis.yield_management.cancellation import (
    POST_BOOKING_COLUMNS,
    HOTEL_FEATURE_COLUMNS,
    booking_features,
    cancellation_target,
    split_bookings,
    TimeSplit,
    CancellationModel,
    CancellationEvaluation,
    evaluate_cancellation_model,
)
from crm_analysis.yield_management.dynamic import (
    DynamicDPResult,
    dynamic_programme,
    arrival_probabilities,
)
from crm_analysis.yield_management.replay import (
    OUTCOMES,
    show_rates_by_days_out,
    overbooking_limits_by_days_out,
    ReplayPolicy,
    ReplayResult,
    replay_policies,
    replay_replications,
)
from crm_analysis.yield_management.shows import (
    poisson_binomial_pmf,
    shows_pmf,
    limits_from_shows,
    HeldCancellation,
    bookings_on_hand,
    net_pickup_by_days_out,
    ShowForecast,
    show_forecast,
)
from crm_analysis.yield_management.booking_horizon import (
    HorizonParams,
    HorizonResult,
    run_booking_horizon,
    BOOKING_CURVES_SCHEMA,
    PICKUP_ERRORS_SCHEMA,
    OVERBOOKING_HORIZON_SCHEMA,
    POLICY_REPLAY_SCHEMA,
    EXPECTED_SHOWS_SCHEMA,
    SYNTHETIC_REPLAY_SCHEMA,
    HORIZON_ARTIFACTS,
    HORIZON_HEADLINES,
)

from crm_analysis.yield_management.step import YieldParams, YieldResult, run_yield

__all__ = [
    "YieldParams",
    "YieldResult",
    "run_yield",
    "littlewood",
    "emsr_a",
    "emsr_b",
    "booking_limits",
    "dp_protection_levels",
    "DPResult",
    "expected_revenue",
    "policy_value_function",
    "discretize_normal",
    "demand_pmf",
    "sample_demand",
    "overbooking_limit_service",
    "overbooking_limit_cost",
    "overbooking_curve",
    "OverbookingCurve",
    "show_rates",
    "evaluate_group_request",
    "GroupFutureValue",
    "group_future_value",
    "GroupDecision",
    "multi_night_lp",
    "MultiNightLPResult",
    "simulate_policies",
    "SimulationResult",
    "default_policies",
    "assign_seasons",
    "season_demand",
    "fares_from_bookings",
    "allocation_inputs",
    "compare_policies_by_season",
    "SeasonComparison",
    "evaluate_nights",
    "NightlyComparison",
    # booking horizon (issue 14)
    "BookingCurves",
    "booking_curves",
    "PICKUP_METHODS",
    "pickup_forecasts",
    "PickupBacktest",
    "pickup_backtest",
    "POST_BOOKING_COLUMNS",
    "HOTEL_FEATURE_COLUMNS",
    "booking_features",
    "cancellation_target",
    "split_bookings",
    "TimeSplit",
    "CancellationModel",
    "CancellationEvaluation",
    "evaluate_cancellation_model",
    "DynamicDPResult",
    "dynamic_programme",
    "arrival_probabilities",
    "OUTCOMES",
    "show_rates_by_days_out",
    "overbooking_limits_by_days_out",
    "ReplayPolicy",
    "ReplayResult",
    "replay_policies",
    "replay_replications",
    "poisson_binomial_pmf",
    "shows_pmf",
    "limits_from_shows",
    "HeldCancellation",
    "bookings_on_hand",
    "net_pickup_by_days_out",
    "ShowForecast",
    "show_forecast",
    "HorizonParams",
    "HorizonResult",
    "run_booking_horizon",
    "BOOKING_CURVES_SCHEMA",
    "PICKUP_ERRORS_SCHEMA",
    "OVERBOOKING_HORIZON_SCHEMA",
    "POLICY_REPLAY_SCHEMA",
    "EXPECTED_SHOWS_SCHEMA",
    "SYNTHETIC_REPLAY_SCHEMA",
    "HORIZON_ARTIFACTS",
    "HORIZON_HEADLINES",
]

from crm_analysis.yield_management import cancellation as _cancellation  # noqa: E402
from crm_analysis._validate import renamed_names as _renamed_names  # noqa: E402

__getattr__ = _renamed_names(__name__, _cancellation._RENAMED, globals(), why=_cancellation._WHY)
