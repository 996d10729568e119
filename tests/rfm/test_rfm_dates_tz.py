"""rfm date parameters: a time-zone-aware value is refused, not silently stripped (newcomer try-out of #11)."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_analysis.rfm import calibration_and_holdout, rfm_summary

TX = pd.DataFrame({"customer_id": ["a", "a"], "timestamp": pd.to_datetime(["2024-06-01", "2024-12-01"]),
                   "amount": [1.0, 2.0]})


@pytest.mark.parametrize("value", [pd.Timestamp("2024-12-31", tz="America/New_York"),
                                   pd.Timestamp("2024-12-31", tz="UTC").to_pydatetime()])
def test_a_time_zone_aware_date_parameter_is_refused(value):
    with pytest.raises(ValueError, match=r"observation_end=.* is time-zone aware; give the calendar day .*'2024-12-31'"):
        rfm_summary(TX, observation_end=value)
    with pytest.raises(ValueError, match=r"calibration_end=.* is time-zone aware"):
        calibration_and_holdout(TX, calibration_end=value, observation_end="2025-01-31")
    assert len(rfm_summary(TX, observation_end=pd.Timestamp("2024-12-31"))) == 1  # a naive Timestamp is fine
