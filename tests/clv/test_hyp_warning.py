"""The continued fraction of ``hyp2f1_1b`` warns with the package's typed ConvergenceWarning (fourth newcomer
finding H7: it was an untyped RuntimeWarning that notebooks could not filter by class)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from crm_analysis.clv._hyp import hyp2f1_1b
from crm_analysis.exceptions import ConvergenceWarning, CRMAnalysisWarning


def test_non_convergence_is_a_convergence_warning():
    with pytest.warns(ConvergenceWarning, match="did not converge for 1 value"):
        hyp2f1_1b(np.array([2.0]), np.array([5.0]), np.array([1 - 1e-9]), max_iter=3)


def test_converged_values_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CRMAnalysisWarning)
        out = hyp2f1_1b(np.array([2.0]), np.array([5.0]), np.array([0.3]))
    # 2F1(1, 2; 5; 0.3) from mpmath: 1.1318...
    import mpmath as mp
    assert out[0] == pytest.approx(float(mp.hyp2f1(1, 2, 5, 0.3)), rel=1e-13)
