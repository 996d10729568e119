"""Tests of crm_analysis.segmentation.clustering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import adjusted_rand_score

from crm_analysis.segmentation import BehaviouralClustering

FEATURES = ("recency", "frequency", "monetary_value", "clv")


def _simulated(n_per=150, seed=0):
    """Three well-separated customer types (in log space), with known labels."""
    rng = np.random.default_rng(seed)
    centres = {  # recency, frequency, monetary_value, clv (original units)
        0: (300.0, 20.0, 200.0, 3000.0),   # long-standing, frequent, high value
        1: (5.0, 0.5, 10.0, 5.0),          # one-off, low value
        2: (60.0, 3.0, 40.0, 150.0),       # middling
    }
    rows, labels = [], []
    for k, c in centres.items():
        rows.append(np.exp(np.log1p(c) + rng.normal(0, 0.15, (n_per, 4))) - 1)
        labels += [k] * n_per
    X = pd.DataFrame(np.vstack(rows), columns=FEATURES)
    X.insert(0, "customer_id", [f"c{i}" for i in range(len(X))])
    return X, np.array(labels)


def test_recovers_separated_clusters():
    X, truth = _simulated()
    m = BehaviouralClustering(k_range=(2, 6), seed=1, n_stability=3)
    assert m.fit(X) is m
    assert m.n_clusters_ == 3
    assert adjusted_rand_score(truth, m.labels_) > 0.9
    assert set(m.silhouette_scores_.index) == set(range(2, 7))
    assert m.silhouette_scores_.idxmax() == 3
    # stability reported as mean ARI across seeds
    assert len(m.stability_scores_) == 3
    assert 0.9 < m.stability_ <= 1.0
    # centres in original units: the cluster of true type 0 has a centre near it
    c0 = m.centers_.loc[np.bincount(m.labels_[truth == 0]).argmax()]
    assert c0["frequency"] == pytest.approx(20.0, rel=0.1)
    assert c0["clv"] == pytest.approx(3000.0, rel=0.1)
    # plain-word profiles
    prof = m.profiles_[np.bincount(m.labels_[truth == 0]).argmax()]
    assert "high frequency" in prof and "high future value" in prof
    prof1 = m.profiles_[np.bincount(m.labels_[truth == 1]).argmax()]
    assert "low frequency" in prof1
    assert isinstance(m.plot_profiles(), Figure)
    np.testing.assert_array_equal(m.predict(X), m.labels_)


def test_fixed_k_minibatch_and_labels_by_size():
    X, truth = _simulated(n_per=100, seed=2)
    X = pd.concat([X, _simulated(n_per=100, seed=3)[0].iloc[:100]], ignore_index=True)
    m = BehaviouralClustering(n_clusters=3, minibatch_threshold=10, n_stability=2, seed=0).fit(X)
    assert m.model_.__class__.__name__ == "MiniBatchKMeans"
    assert m.n_clusters_ == 3
    assert m.sizes_.is_monotonic_decreasing
    assert m.sizes_.sum() == len(X)


def test_deterministic_given_seed():
    X, _ = _simulated(seed=5)
    a = BehaviouralClustering(k_range=(2, 4), n_stability=1, seed=7).fit(X).labels_
    b = BehaviouralClustering(k_range=(2, 4), n_stability=1, seed=7).fit(X).labels_
    np.testing.assert_array_equal(a, b)


def test_bad_input():
    X, _ = _simulated(n_per=10)
    with pytest.raises(ValueError, match="missing column"):
        BehaviouralClustering().fit(X.drop(columns="clv"))
    with pytest.raises(ValueError, match="NaN"):
        BehaviouralClustering().fit(X.assign(clv=np.nan))
    with pytest.raises(ValueError, match="n_clusters"):
        BehaviouralClustering(n_clusters=100).fit(X)


def test_shared_pass_silhouettes_match_sklearn():
    from sklearn.metrics import silhouette_score

    from crm_analysis.segmentation.clustering import silhouettes

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    labelings = {k: rng.integers(0, k, 300) for k in (2, 3, 5)}
    labelings[9] = np.r_[np.zeros(299, dtype=int), 1]  # a singleton cluster
    got = silhouettes(X, labelings, chunk=64)
    for k, lab in labelings.items():
        assert got[k] == pytest.approx(silhouette_score(X, lab), abs=1e-10)
    assert np.isnan(silhouettes(X, {1: np.zeros(300, dtype=int)})[1])


def test_random_state_is_a_deprecated_alias_of_seed_and_clone_keeps_both():
    """Issue #13 pt 9: ``seed`` is the package's one name; ``random_state`` still works, with a FutureWarning."""
    from sklearn.base import clone

    from crm_analysis.exceptions import InputError

    X, _ = _simulated(seed=5)
    new = BehaviouralClustering(k_range=(2, 4), n_stability=1, seed=7).fit(X)
    old = BehaviouralClustering(k_range=(2, 4), n_stability=1, random_state=7)
    assert old.get_params()["random_state"] == 7 and old.get_params()["seed"] == 42
    with pytest.warns(FutureWarning, match=r"random_state=\.\.\.\) is deprecated: use seed"):
        old.fit(X)
    np.testing.assert_array_equal(old.labels_, new.labels_)
    copy = clone(old)
    assert copy.get_params() == old.get_params()
    other = BehaviouralClustering(k_range=(2, 4), n_stability=1, seed=8).fit(X)
    assert other.silhouette_scores_.tolist() != new.silhouette_scores_.tolist() or not np.array_equal(
        other.labels_, new.labels_) or other.stability_scores_.tolist() != new.stability_scores_.tolist()
    with pytest.raises(InputError, match="seed=3 and the deprecated random_state=7 disagree"):
        BehaviouralClustering(seed=3, random_state=7).fit(X)
    with pytest.raises(TypeError):
        BehaviouralClustering(3)  # options are keyword-only
