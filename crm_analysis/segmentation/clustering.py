"""Behavioural clustering of customers (k-means on transformed RFM/CLV features).

Features are transformed with a signed ``log1p`` (``sign(x) * log(1 + |x|)``,
which tames the long right tails of frequency, spend and CLV and keeps
negative values usable) and standard-scaled. The number of clusters is chosen by
the silhouette coefficient over ``k_range`` unless given; the silhouette is
computed on a seeded sample of at most ``silhouette_sample`` rows for speed.
:class:`~sklearn.cluster.KMeans` is used up to ``minibatch_threshold`` customers,
:class:`~sklearn.cluster.MiniBatchKMeans` above.

Stability: the model is refitted with ``n_stability`` further seeds and the
adjusted Rand index (ARI) of each refit against the final labels is reported;
its mean is :attr:`BehaviouralClustering.stability_` (1 = identical partitions,
about 0 = no better than chance).

Clusters are numbered by size (0 = largest), so labels do not depend on the
arbitrary numbering of k-means.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, NotFittedError

import warnings
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import adjusted_rand_score, pairwise_distances
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits
from crm_analysis._progress import progress
from crm_analysis._validate import NotFittedAttributes, renamed_keyword

from crm_analysis.segmentation._common import SegmentationInputError, require_columns, require_finite

__all__ = ["BehaviouralClustering", "FEATURE_WORDS", "silhouettes"]

#: Plain words for a feature being low / high relative to the median.
FEATURE_WORDS: dict[str, tuple[str, str]] = {
    "recency": ("short buying span", "long buying span"),
    "days_since_last": ("recent", "lapsed"),
    "frequency": ("low frequency", "high frequency"),
    "monetary_value": ("low spend per order", "high spend per order"),
    "monetary": ("low spend per order", "high spend per order"),
    "revenue": ("low revenue", "high revenue"),
    "clv": ("low future value", "high future value"),
    "p_alive": ("likely lapsed", "likely active"),
    "T": ("new", "long-standing"),
    "expected_purchases": ("few expected purchases", "many expected purchases"),
    "expected_spend": ("low expected spend", "high expected spend"),
}


def _slog(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _inv_slog(y: np.ndarray) -> np.ndarray:
    return np.sign(y) * np.expm1(np.abs(y))


def silhouettes(X: np.ndarray, labelings: dict[int, np.ndarray], *, chunk: int = 1024) -> dict[int, float]:
    """Mean silhouette coefficient of several labelings of the same points.

    Same definition as :func:`sklearn.metrics.silhouette_score` (Euclidean;
    0 for members of singleton clusters; NaN when a labeling has fewer than 2
    clusters), but the pairwise distances are computed once, chunk by chunk,
    and shared by all labelings: one pass instead of one per k.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Points.
    labelings : dict of int to ndarray
        Labels (length ``n``) keyed by any id, e.g. k.
    chunk : int, default 1024
        Rows of the distance matrix held at once.

    Returns
    -------
    dict of int to float
    """
    n = X.shape[0]
    onehot, codes = {}, {}
    for key, lab in labelings.items():
        u, c = np.unique(lab, return_inverse=True)
        codes[key] = c
        onehot[key] = np.eye(len(u))[c]  # (n, k)
    sums = {key: np.zeros((n, m.shape[1])) for key, m in onehot.items()}
    for start in range(0, n, chunk):
        d = pairwise_distances(X[start : start + chunk], X)
        for key, m in onehot.items():
            sums[key][start : start + chunk] = d @ m
    out = {}
    for key, m in onehot.items():
        k = m.shape[1]
        if k < 2 or k >= n:
            out[key] = float("nan")
            continue
        c, size = codes[key], m.sum(axis=0)
        rows = np.arange(n)
        own = size[c]
        a = sums[key][rows, c] / np.maximum(own - 1, 1)
        mean_other = sums[key] / size
        mean_other[rows, c] = np.inf
        b = mean_other.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sil = np.nan_to_num((b - a) / np.maximum(a, b))
        out[key] = float(np.where(own > 1, sil, 0.0).mean())
    return out


class BehaviouralClustering(NotFittedAttributes, BaseEstimator):
    """k-means clustering of customers on log-transformed, standardised features.

    Parameters
    ----------
    n_clusters : int, optional
        Number of clusters; ``None`` chooses it by silhouette over ``k_range``.
    k_range : tuple of int, default (2, 8)
        Inclusive range of k tried when ``n_clusters`` is ``None``.
    features : sequence of str
        Columns used, default recency, frequency, monetary value and CLV.
    log : bool, default True
        Apply the signed log1p transform before scaling.
    seed : int, default 42
        Seed of all randomness (k-means starts, silhouette sample, stability
        seeds; scikit-learn's ``random_state``).
    minibatch_threshold : int, default 50_000
        Use MiniBatchKMeans above this many customers.
    n_stability : int, default 5
        Refits with other seeds for the stability (ARI); 0 to skip.
    silhouette_sample : int, default 10_000
        Largest sample on which silhouettes are computed.
    n_init : int, default 4
        k-means restarts per fit.
    low_high : float, default 0.5
        A centre more than this many standard deviations (of the transformed
        feature) above / below the median is described as high / low.
    progress : bool, default False
        Show a progress bar over k.
    n_threads : int or None, default 1
        Limit of OpenMP/BLAS threads while fitting (``None``: no limit).
        k-means on a handful of features is fast on one thread, whereas
        OpenMP threads competing with other busy processes (parallel tests,
        notebook kernels) can slow it down a hundredfold.
    random_state : int, optional
        Deprecated name of ``seed`` (a ``FutureWarning`` at ``fit``).

    Attributes
    ----------
    labels_ : numpy.ndarray
        Cluster of every customer (0 = largest cluster).
    n_clusters_ : int
        Number of clusters used.
    silhouette_scores_ : pandas.Series
        Silhouette per k tried (only the chosen k when ``n_clusters`` is given).
    stability_ : float
        Mean ARI of the refits against ``labels_`` (NaN with ``n_stability=0``).
    stability_scores_ : numpy.ndarray
        ARI of each refit.
    centers_ : pandas.DataFrame
        Cluster centres in original units (back-transformed from the scaled,
        log space; for log features this is a geometric-type mean).
    standardized_centers_ : pandas.DataFrame
        Centres in the standardised space, relative to the median customer.
    sizes_ : pandas.Series
        Customers per cluster.
    profiles_ : pandas.Series
        Plain-word description of each cluster, e.g. "high frequency, high future value".
    """

    def __init__(
        self,
        *,
        n_clusters: int | None = None,
        k_range: tuple[int, int] = (2, 8),
        features: Sequence[str] = ("recency", "frequency", "monetary_value", "clv"),
        log: bool = True,
        seed: int = 42,
        minibatch_threshold: int = 50_000,
        n_stability: int = 5,
        silhouette_sample: int = 10_000,
        n_init: int = 4,
        low_high: float = 0.5,
        progress: bool = False,
        n_threads: int | None = 1,
        random_state: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.features = features
        self.log = log
        self.seed = seed
        self.random_state = random_state
        self.minibatch_threshold = minibatch_threshold
        self.n_stability = n_stability
        self.silhouette_sample = silhouette_sample
        self.n_init = n_init
        self.low_high = low_high
        self.progress = progress
        self.n_threads = n_threads

    # ---------------------------------------------------------------- helpers
    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        feats = list(self.features)
        if isinstance(X, pd.DataFrame):
            require_columns(X, feats, "customer table")
            cols = [require_finite(X[f], f) for f in feats]
            A = np.column_stack(cols)
        else:
            A = np.asarray(X, dtype="float64")
            if A.ndim != 2 or A.shape[1] != len(feats):
                raise SegmentationInputError(
                    f"X must be a DataFrame with columns {feats} or an array with {len(feats)} columns"
                )
            if not np.isfinite(A).all():
                raise SegmentationInputError("X has NaN/infinite values")
        return _slog(A) if self.log else A

    def _model(self, k: int, seed: int, n: int) -> KMeans | MiniBatchKMeans:
        if n > self.minibatch_threshold:
            return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=self.n_init, batch_size=4096)
        return KMeans(n_clusters=k, random_state=seed, n_init=self.n_init)

    # -------------------------------------------------------------------- fit
    def fit(self, X: pd.DataFrame, y: None = None) -> "BehaviouralClustering":
        """Fit the clustering.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per customer with the ``features`` columns.
        y : None
            Ignored.

        Returns
        -------
        BehaviouralClustering
            ``self``.
        """
        with threadpool_limits(limits=self.n_threads):
            return self._fit(X)

    def _fit(self, X: pd.DataFrame) -> "BehaviouralClustering":
        seed = renamed_keyword(self.seed, self.random_state, new="seed", old="random_state",
                               owner="BehaviouralClustering", default=42)
        A = self._matrix(X)
        n = A.shape[0]
        rng = np.random.default_rng(seed)
        self.scaler_ = StandardScaler().fit(A)
        Z = self.scaler_.transform(A)
        if n > self.silhouette_sample:
            sample = np.sort(rng.choice(n, size=self.silhouette_sample, replace=False))
        else:
            sample = np.arange(n)
        if self.n_clusters is not None:
            if not 1 <= int(self.n_clusters) < n:
                raise InputError(f"n_clusters must be in 1..{n - 1} for {n} customers, got {self.n_clusters}")
            ks = [int(self.n_clusters)]
        else:
            lo, hi = self.k_range
            if lo < 2 or hi < lo:
                raise InputError(f"k_range must be (low, high) with 2 <= low <= high, got {self.k_range}")
            ks = [k for k in range(lo, hi + 1) if k < n]
            if not ks:
                raise SegmentationInputError(f"too few customers ({n}) for k in {self.k_range}")
        n_distinct = len(np.unique(Z, axis=0))
        models: dict[int, KMeans | MiniBatchKMeans] = {}
        for k in progress(ks, enable=self.progress, desc="k"):
            if k <= n_distinct:
                models[k] = self._model(k, seed, n).fit(Z)
        if not models:
            raise SegmentationInputError(f"only {n_distinct} distinct customer(s): cannot form {ks} clusters")
        scores = silhouettes(Z[sample], {k: m.labels_[sample] for k, m in models.items()})
        self.silhouette_scores_ = pd.Series(scores, name="silhouette", dtype="float64")
        self.silhouette_scores_.index.name = "k"
        valid = self.silhouette_scores_.dropna()
        k_best = int(valid.idxmax()) if len(valid) else int(min(models))
        model = models[k_best]
        # relabel by size (0 = largest), ties by centre order for determinism
        sizes = np.bincount(model.labels_, minlength=k_best)
        order = np.lexsort((np.arange(k_best), -sizes))
        remap = np.empty(k_best, dtype="int64")
        remap[order] = np.arange(k_best)
        self.model_ = model
        self._remap = remap
        self.labels_ = remap[model.labels_]
        self.n_clusters_ = k_best
        self.n_features_in_ = A.shape[1]
        centers_z = model.cluster_centers_[order]
        feats = list(self.features)
        idx = pd.RangeIndex(k_best, name="cluster")
        centers_t = self.scaler_.inverse_transform(centers_z)
        self.centers_ = pd.DataFrame(_inv_slog(centers_t) if self.log else centers_t, index=idx, columns=feats)
        # relative to the median customer, in standard deviations of the transformed feature
        med = np.median(A, axis=0)
        scale = np.where(self.scaler_.scale_ > 0, self.scaler_.scale_, 1.0)
        self.standardized_centers_ = pd.DataFrame((centers_t - med) / scale, index=idx, columns=feats)
        self.sizes_ = pd.Series(np.bincount(self.labels_, minlength=k_best), index=idx, name="customers")
        self.profiles_ = self._profiles()
        # stability across seeds
        seeds = rng.integers(0, 2**31 - 1, size=max(int(self.n_stability), 0))
        aris = [
            adjusted_rand_score(self.labels_, self._model(k_best, int(s), n).fit(Z).labels_) for s in seeds
        ]
        self.stability_scores_ = np.asarray(aris, dtype="float64")
        self.stability_ = float(np.mean(aris)) if aris else float("nan")
        return self

    def _profiles(self) -> pd.Series:
        out = {}
        for c, row in self.standardized_centers_.iterrows():
            words = []
            for f, z in row.items():
                low, high = FEATURE_WORDS.get(str(f), (f"low {f}", f"high {f}"))
                if z > self.low_high:
                    words.append(high)
                elif z < -self.low_high:
                    words.append(low)
            out[c] = ", ".join(words) if words else "close to the median customer"
        s = pd.Series(out, name="profile", dtype="string")
        s.index.name = "cluster"
        return s

    # ------------------------------------------------------------- inference
    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Cluster of each customer in ``X`` (numbering as in :attr:`labels_`)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("BehaviouralClustering is not fitted; call fit first")
        with threadpool_limits(limits=self.n_threads):
            return self._remap[self.model_.predict(self.scaler_.transform(self._matrix(X)))]

    def fit_predict(self, X: pd.DataFrame, y: None = None) -> np.ndarray:
        """Fit and return :attr:`labels_`."""
        return self.fit(X).labels_

    def summary(self) -> pd.DataFrame:
        """Per cluster: customers, share, centre in original units and the profile."""
        if not hasattr(self, "model_"):
            raise NotFittedError("BehaviouralClustering is not fitted; call fit first")
        out = self.centers_.copy()
        out.insert(0, "share", self.sizes_ / self.sizes_.sum())
        out.insert(0, "customers", self.sizes_)
        out["profile"] = self.profiles_
        return out

    def plot_profiles(self, ax: Axes | None = None) -> Figure:
        """Heatmap of the standardised cluster centres (vs the median customer).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure otherwise.
        """
        if not hasattr(self, "model_"):
            raise NotFittedError("BehaviouralClustering is not fitted; call fit first")
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(1.4 * len(self.features) + 3, 0.6 * self.n_clusters_ + 2))
        else:
            fig = ax.figure
        data = self.standardized_centers_.copy()
        data.index = [f"{c} (n={self.sizes_[c]:,})" for c in data.index]
        lim = max(1.0, float(np.abs(data.to_numpy()).max()))
        with warnings.catch_warnings():  # seaborn 0.13 on matplotlib >= 3.10
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            sns.heatmap(
                data, annot=True, fmt=".2f", cmap="RdBu_r", center=0, vmin=-lim, vmax=lim,
                cbar_kws={"label": "SD from the median customer"}, ax=ax,
            )
        ax.set_xlabel("Feature" + (" (log scale)" if self.log else ""))
        ax.set_ylabel("Cluster")
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_title(f"Cluster profiles (k={self.n_clusters_}, stability ARI {self.stability_:.2f})")
        if own:
            fig.tight_layout()
        return fig
