"""Cancellation probability of each booking, from what is known when it is made.

A booking's outcome (``status``: stayed, cancelled, no_show) is learned only
at or before its arrival. The models here are trained on bookings *made*
before a cutoff date and tested on bookings made on or after it
(:func:`split_bookings`: no booking is in both sets), and they read only columns
known at the moment the booking is made (:func:`booking_features`): never the
outcome or anything written after it (:data:`POST_BOOKING_COLUMNS`:
``status``, ``cancellation_date``, ``reservation_status``,
``reservation_status_date``, ``assigned_room_type``, ``booking_changes``,
``is_canceled``; a frame of features holding one of them is refused).

Features
--------
From the canonical columns: lead time (days from booking to arrival), nights,
rooms, rate, segment, channel, arrival month, arrival weekday, booking
weekday; plus the *block size*: the number of bookings made on the same day
for the same arrival date, nights and segment (a tour operator's block of
rooms is entered at once and tends to be released at once), known on the
booking day. Where the hotel data's columns are present (Antonio, de Almeida
& Nunes 2019) also: adults, children, babies, meal, country, repeated guest,
previous cancellations and stays, reserved room type, deposit type, agent,
company, days on the waiting list, customer type, parking spaces and special
requests. Two of these are known data-quality caveats of that data set and
are listed so a user can drop them (``exclude=``): ``country`` is recorded
for the guest at check-in (cancelled bookings default to the agent's
country), and ``required_car_parking_spaces`` is mostly asked for at arrival
(on the City Hotel none of the 1,926 bookings with a parking space
cancelled, against 42.8 % of the others). :class:`CancellationModel` leaves
the parking spaces out by default (:data:`DEFAULT_EXCLUDE`; AUC on the City
Hotel's 2017 bookings 0.869 without, 0.872 with them); ``country`` stays in
(without it 0.824, below the 0.85 a plain model reaches with it), flagged in
the report.

Models
------
:class:`CancellationModel` wraps scikit-learn: ``"logistic"`` (one-hot
categories, standardised numbers, ``LogisticRegression``) or
``"gradient_boosting"`` (``HistGradientBoostingClassifier`` with native
categories), optionally calibrated with ``CalibratedClassifierCV``
(isotonic, time-ordered folds). :func:`evaluate_cancellation_model` gives the
AUC, the Brier score and the calibration table on a test set.
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, NotFittedError, shown
from crm_analysis._validate import NotFittedAttributes, check_columns, check_count, renamed_names

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "POST_BOOKING_COLUMNS",
    "HOTEL_FEATURE_COLUMNS",
    "DEFAULT_EXCLUDE",
    "booking_features",
    "cancellation_target",
    "split_bookings",
    "TimeSplit",
    "CancellationModel",
    "CancellationEvaluation",
    "evaluate_cancellation_model",
]

#: Columns written after the booking is made (the outcome and what follows from it): never features.
POST_BOOKING_COLUMNS: tuple[str, ...] = (
    "status",
    "cancellation_date",
    "reservation_status",
    "reservation_status_date",
    "assigned_room_type",
    "booking_changes",
    "is_canceled",
)

#: Hotel-data columns used as features where present (numeric, categorical).
HOTEL_FEATURE_COLUMNS: dict[str, str] = {
    "adults": "num",
    "children": "num",
    "babies": "num",
    "stays_in_weekend_nights": "num",
    "is_repeated_guest": "num",
    "previous_cancellations": "num",
    "previous_bookings_not_canceled": "num",
    "days_in_waiting_list": "num",
    "required_car_parking_spaces": "num",
    "total_of_special_requests": "num",
    "meal": "cat",
    "country": "cat",
    "reserved_room_type": "cat",
    "deposit_type": "cat",
    "agent": "cat",
    "company": "cat",
    "customer_type": "cat",
}

#: Features :class:`CancellationModel` leaves out by default: recorded at arrival, not at booking.
DEFAULT_EXCLUDE: tuple[str, ...] = ("required_car_parking_spaces",)

_CANONICAL_NUM = ("lead_time", "nights", "units", "rate", "block_size", "arrival_month", "arrival_weekday",
                  "booking_weekday", "arrival_week")
_CANONICAL_CAT = ("segment", "channel")


def cancellation_target(bookings: pd.DataFrame) -> np.ndarray:
    """1 for a cancelled booking, 0 for a stayed or no-show one.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings with ``status``.

    Returns
    -------
    numpy.ndarray of int, shape (n_bookings,)

    Raises
    ------
    ValueError
        When ``status`` is missing or holds a value other than stayed, cancelled, no_show.
    """
    if "status" not in bookings.columns:
        raise InputError("bookings need a 'status' column (stayed, cancelled, no_show) for the target")
    st = bookings["status"].astype("object")
    bad = ~st.isin(["stayed", "cancelled", "no_show"])
    if bad.any():
        raise InputError(f"status has {int(bad.sum())} value(s) other than stayed/cancelled/no_show, "
                         f"e.g. {st[bad].iloc[0]!r}; clean the bookings first (crm_analysis.data.clean_bookings)")
    return (st == "cancelled").to_numpy().astype(np.int64)


def booking_features(bookings: pd.DataFrame, *, exclude: Iterable[str] = ()) -> pd.DataFrame:
    """Features of each booking known at the moment it is made.

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings (``booking_date``, ``arrival_date``, ``nights``,
        ``rate``, ``segment``; optional ``units``, ``channel`` and the hotel
        data's columns of :data:`HOTEL_FEATURE_COLUMNS`).
    exclude : iterable of str
        Feature names to leave out (e.g. ``["country"]``).

    Returns
    -------
    pandas.DataFrame
        One row per booking (same index); numeric columns as float, categorical
        ones as pandas ``category`` (missing values as the category ``"NA"``).
        Never a column of :data:`POST_BOOKING_COLUMNS`.

    Raises
    ------
    ValueError
        On a missing canonical column, or a booking made after its arrival.
    """
    check_columns(["booking_date", "arrival_date", "nights", "rate", "segment"], bookings.columns,
                  table="the bookings (needed for the booking features)",
                  fix="Load them with crm_analysis.data.load_bookings (canonical booking columns)")
    excl = set(exclude)
    b = bookings
    lead = (b["arrival_date"] - b["booking_date"]).dt.days
    if (lead < 0).any():
        raise InputError(f"{int((lead < 0).sum())} booking(s) made after their arrival date; "
                         "clean them first (BookingCleaningPolicy(booking_after_arrival='drop'))")
    units = b["units"] if "units" in b.columns else pd.Series(1, index=b.index)
    out = pd.DataFrame(index=b.index)
    out["lead_time"] = lead.astype(float)
    out["nights"] = pd.to_numeric(b["nights"]).astype(float)
    out["units"] = pd.to_numeric(units).astype(float)
    out["rate"] = pd.to_numeric(b["rate"]).astype(float)
    key = [b["booking_date"], b["arrival_date"], b["nights"], b["segment"].astype("object")]
    out["block_size"] = pd.Series(1.0, index=b.index).groupby(key, dropna=False).transform("sum").astype(float)
    out["arrival_month"] = b["arrival_date"].dt.month.astype(float)
    out["arrival_week"] = b["arrival_date"].dt.isocalendar().week.astype(float).to_numpy()
    out["arrival_weekday"] = b["arrival_date"].dt.day_of_week.astype(float)
    out["booking_weekday"] = b["booking_date"].dt.day_of_week.astype(float)
    cats = list(_CANONICAL_CAT)
    for c in cats:
        if c in b.columns:
            out[c] = b[c].astype("object")
    for c, kind in HOTEL_FEATURE_COLUMNS.items():
        if c in b.columns:
            out[c] = pd.to_numeric(b[c], errors="coerce").astype(float) if kind == "num" else b[c].astype("object")
    out = out.drop(columns=[c for c in out.columns if c in excl])
    for c in out.columns:
        if out[c].dtype == object or isinstance(out[c].dtype, pd.StringDtype):
            out[c] = out[c].astype("object").where(out[c].notna(), "NA").astype(str).astype("category")
    _check_no_post_booking(out.columns)
    return out


def _check_no_post_booking(columns: Iterable[str]) -> None:
    bad = [c for c in columns if c in POST_BOOKING_COLUMNS]
    if bad:
        raise InputError(f"feature column(s) {bad} are only known after the booking is made "
                         f"(POST_BOOKING_COLUMNS); drop them from the features")


@dataclass
class TimeSplit:
    """Bookings split by the date they were made.

    Attributes
    ----------
    train, test : pandas.DataFrame
        Bookings made before ``cutoff`` / on or after it (and up to ``end``).
    cutoff : pandas.Timestamp
    counts : dict
        Rows per set and rows left out by reason.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: pd.Timestamp
    counts: dict[str, int] = field(default_factory=dict)


def split_bookings(bookings: pd.DataFrame, cutoff: object, *, start: object | None = None) -> TimeSplit:
    """Split bookings into those made before ``cutoff`` (train) and from it on (test).

    Parameters
    ----------
    bookings : pandas.DataFrame
        Canonical bookings with ``booking_date``.
    cutoff : date-like
        First booking date of the test set.
    start : date-like, optional
        First booking date of the training set (earlier bookings are counted
        and left out).

    Returns
    -------
    TimeSplit

    Raises
    ------
    ValueError
        When either set is empty (naming the data's booking-date range).
    """
    cut = pd.Timestamp(cutoff)
    bd = bookings["booking_date"]
    train_m = bd < cut
    counts: dict[str, int] = {}
    if bd.isna().any():  # neither before nor from the cutoff: left out, counted
        counts["left out: no booking_date"] = int(bd.isna().sum())
    if start is not None:
        s = pd.Timestamp(start)
        early = bd < s
        counts["left out: booked before start"] = int(early.sum())
        train_m &= ~early
    test_m = bd >= cut
    tr, te = bookings.loc[train_m], bookings.loc[test_m]
    if tr.empty or te.empty:
        raise InputError(f"cutoff {cut.date()} leaves an empty {'training' if tr.empty else 'test'} set; "
                         f"bookings were made from {bd.min().date()} to {bd.max().date()}")
    counts["train"] = len(tr)
    counts["test"] = len(te)
    return TimeSplit(tr, te, cut, counts)


class CancellationModel(NotFittedAttributes, BaseEstimator):
    """Probability that a booking will be cancelled (scikit-learn classifier on :func:`booking_features`).

    Parameters
    ----------
    model : {"gradient_boosting", "logistic"}, default "gradient_boosting"
        ``HistGradientBoostingClassifier`` (native categorical support) or
        ``LogisticRegression`` on one-hot categories and standardised numbers.
    calibrate : bool, default False
        Wrap the classifier in ``CalibratedClassifierCV`` (isotonic, 3
        time-ordered folds: ``TimeSeriesSplit`` on bookings sorted by booking date).
        Off by default: on the City Hotel the time-ordered folds train on less
        recent data and the calibrated model was worse on the 2017 test set
        (AUC 0.862, Brier 0.143 against 0.872, 0.140 without).
    exclude : sequence of str, default ("required_car_parking_spaces",)
        Features left out (see :func:`booking_features`); the default
        :data:`DEFAULT_EXCLUDE` drops a column mostly filled in at arrival
        (see the module docstring). ``()`` keeps every feature.
    max_iter : int, default 100
        Boosting iterations / solver iterations.
    learning_rate : float, default 0.1
        Boosting learning rate.
    max_leaf_nodes : int, default 31
        Boosting tree size.
    seed : int, default 0
        ``random_state`` of the estimators.

    Attributes
    ----------
    estimator_ : sklearn estimator
        The fitted classifier.
    feature_names_ : list of str
    categories_ : dict
        Categories of each categorical feature seen in training (unseen ones are mapped to ``"NA"``).
    n_train_ : int
    """

    def __init__(
        self,
        *,
        model: Literal["gradient_boosting", "logistic"] = "gradient_boosting",
        calibrate: bool = False,
        exclude: Sequence[str] = DEFAULT_EXCLUDE,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.calibrate = calibrate
        self.exclude = exclude
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.seed = seed

    def _features(self, bookings: pd.DataFrame, fit: bool) -> pd.DataFrame:
        X = booking_features(bookings, exclude=self.exclude)
        if fit:
            self.feature_names_ = list(X.columns)
            self.categories_ = {
                c: sorted(set(map(str, X[c].cat.categories)) | {"NA"})
                for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)
            }
        else:
            check_columns(self.feature_names_, X.columns, table="the booking features",
                          fix="Give the bookings the columns the model was trained with (or refit it on these)")
            X = X[self.feature_names_]
        for c, cats in self.categories_.items():
            v = X[c].astype(str)
            v = v.where(v.isin(cats), "NA")
            X[c] = pd.Categorical(v, categories=cats)
        return X

    def _estimator(self, X: pd.DataFrame):
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

        cat = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
        num = [c for c in X.columns if c not in cat]
        if self.model == "gradient_boosting":
            # high-cardinality categories (country, agent) beyond 255 levels are not native: keep the
            # most frequent 254 (done in fit)
            return HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
                categorical_features="from_dtype", l2_regularization=1.0, random_state=self.seed,
            )
        if self.model == "logistic":
            pre = ColumnTransformer(
                [("num", make_pipeline(FunctionTransformer(_signed_log1p), StandardScaler()), num),
                 ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20), cat)]
            )
            return make_pipeline(pre, LogisticRegression(max_iter=max(self.max_iter, 1000), C=1.0))
        raise InputError(f"model must be 'gradient_boosting' or 'logistic', got {shown(self.model)}")

    def fit(self, bookings: pd.DataFrame) -> "CancellationModel":
        """Fit on bookings with a known outcome.

        Parameters
        ----------
        bookings : pandas.DataFrame
            Training bookings (canonical; ``status`` is the target only).

        Returns
        -------
        CancellationModel
            ``self``.
        """
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import TimeSeriesSplit

        check_count(self.max_iter, "max_iter", minimum=1)  # the check of HorizonParams.cancel_max_iter

        # one order whatever the rows' order (the boosting's early-stopping holdout and the kept categories
        # depend on it): booking date, then arrival date, then booking id
        keys = [bookings["booking_date"].to_numpy("datetime64[ns]"), bookings["arrival_date"].to_numpy("datetime64[ns]")]
        if "booking_id" in bookings.columns:
            keys.append(bookings["booking_id"].astype(str).to_numpy())
        order = np.lexsort(keys[::-1])
        b = bookings.iloc[order]
        y = cancellation_target(b)
        if np.unique(y).size < 2:
            raise InputError("the training bookings need both cancelled and not-cancelled bookings")
        X = self._features(b, fit=True)
        if self.model == "gradient_boosting":
            for c, cats in list(self.categories_.items()):
                if len(cats) > 255:
                    top = X[c].astype(str).value_counts().index[:254].tolist()
                    self.categories_[c] = sorted(set(top) | {"NA"})
                    v = X[c].astype(str)
                    X[c] = pd.Categorical(v.where(v.isin(self.categories_[c]), "NA"), categories=self.categories_[c])
        est = self._estimator(X)
        if self.calibrate:
            est = CalibratedClassifierCV(est, method="isotonic", cv=TimeSeriesSplit(3))
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # OpenMP threads contend on a busy machine (as in the campaigns models)
            est.fit(X, y)
        self.estimator_ = est
        self.n_train_ = len(b)
        return self

    def predict_proba(self, bookings: pd.DataFrame) -> np.ndarray:
        """Probability of cancellation of each booking, shape ``(n_bookings,)``."""
        if not hasattr(self, "estimator_"):
            raise NotFittedError("CancellationModel is not fitted; call fit(bookings) first")
        from threadpoolctl import threadpool_limits

        X = self._features(bookings, fit=False)
        with threadpool_limits(1):
            return self.estimator_.predict_proba(X)[:, 1]


def _signed_log1p(X):
    """Signed ``log1p`` of numeric features, missing values as 0 (for the logistic model)."""
    X = np.nan_to_num(np.asarray(X, dtype=float))
    return np.sign(X) * np.log1p(np.abs(X))


@dataclass
class CancellationEvaluation:
    """Test-set quality of cancellation models.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model: ``auc``, ``brier``, ``test_bookings``,
        ``cancel_rate`` (observed) and ``mean_probability``.
    calibration : pandas.DataFrame
        ``model``, ``bin``, ``mean_predicted``, ``observed``, ``bookings``
        (10 equal-count bins of the predicted probability).
    probabilities : dict
        Model name -> predicted probabilities of the test bookings.
    """

    table: pd.DataFrame
    calibration: pd.DataFrame
    probabilities: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Calibration (reliability) plot: observed cancellation share against the mean prediction per bin."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 5))
        else:
            fig = ax.figure
        ax.plot([0, 1], [0, 1], ls=":", color="grey", label="perfect calibration")
        for name, g in self.calibration.groupby("model", sort=False):
            auc = self.table.loc[name, "auc"]
            lab = f"AUC {auc:.3f}" if np.isfinite(auc) else "AUC not defined"
            ax.plot(g["mean_predicted"], g["observed"], marker="o", label=f"{name} ({lab})")
        ax.set_xlabel("predicted cancellation probability (bin mean)")
        ax.set_ylabel("observed cancellation share")
        ax.set_title("Cancellation models on the test bookings: calibration")
        ax.legend(fontsize="small")
        return fig


def evaluate_cancellation_model(models: dict[str, CancellationModel], test: pd.DataFrame, *, bins: int = 10,
                                one_class: Literal["raise", "nan"] = "raise") -> CancellationEvaluation:
    """AUC, Brier score and calibration bins of fitted models on test bookings.

    Parameters
    ----------
    models : dict
        Name -> fitted :class:`CancellationModel` (or any object with
        ``predict_proba(bookings)`` giving one probability per booking).
    test : pandas.DataFrame
        Test bookings with ``status``.
    bins : int, default 10
        Equal-count bins of the calibration table.
    one_class : {"raise", "nan"}, default "raise"
        Test bookings that are all cancelled or all kept have no AUC: raise,
        or report it as NaN (the Brier score and the calibration stay defined).

    Returns
    -------
    CancellationEvaluation

    Raises
    ------
    ValueError
        On test bookings of one class with ``one_class="raise"``, naming the count.
    """
    from sklearn.metrics import brier_score_loss, roc_auc_score

    y = cancellation_target(test)
    if one_class not in ("raise", "nan"):
        raise InputError(f"one_class must be 'raise' or 'nan', got {shown(one_class)}")
    two = np.unique(y).size == 2
    if not two and one_class == "raise":
        raise InputError(f"the test bookings need both cancelled and not-cancelled bookings for an AUC; all "
                         f"{len(y):,} are {'cancelled' if len(y) and y[0] else 'not cancelled'} "
                         "(one_class='nan' reports the AUC as NaN)")
    rows, cal, probs = {}, [], {}
    for name, m in models.items():
        p = np.asarray(m.predict_proba(test), dtype=float)
        probs[name] = p
        rows[name] = {"auc": roc_auc_score(y, p) if two else np.nan, "brier": brier_score_loss(y, p, labels=[0, 1]),
                      "test_bookings": len(y),
                      "cancel_rate": float(y.mean()), "mean_probability": float(p.mean())}
        q = pd.qcut(pd.Series(p).rank(method="first"), min(bins, len(p)), labels=False)
        g = pd.DataFrame({"p": p, "y": y, "bin": q.to_numpy()}).groupby("bin")
        c = pd.DataFrame({"mean_predicted": g["p"].mean(), "observed": g["y"].mean(), "bookings": g["y"].size()})
        c.insert(0, "model", name)
        cal.append(c.reset_index())
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
    return CancellationEvaluation(table, pd.concat(cal, ignore_index=True), probs)


#: Old name (fourth newcomer finding H16: ``time_split`` named two functions with other signatures); served with a
#: FutureWarning.
_RENAMED = {"time_split": "split_bookings"}
_WHY = "crm_analysis.recommend has a split of transactions (split_transactions); this one splits bookings"
__getattr__ = renamed_names(__name__, _RENAMED, globals(), why=_WHY)
