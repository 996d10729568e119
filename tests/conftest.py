"""Shared test fixtures.

The real public data sets live in ``../shared/data`` beside the project root
(see that folder's README). An end user's clone does not have them: tests that
need them use the ``shared_data`` fixture, which skips with a clear reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CRM_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; skips the test where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data sets not found at {SHARED_DATA} (set CRM_SHARED_DATA or clone beside ../shared)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The system Chromium for the browser checks, installed with apt-get where missing (as root)."""
    from system_packages import ensure_package

    from crm_analysis.report.browser import find_chromium

    reason = ensure_package("chromium", lambda: find_chromium() is not None)
    if reason is not None:
        pytest.skip(f"headless check needs Chromium: {reason}")
    return find_chromium()  # type: ignore[return-value]


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test opened."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
