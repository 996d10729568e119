"""Tests of the shared fitting machinery and input checks (crm_analysis.clv.base)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from crm_analysis.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ModelFitError,
    ParetoNBDModel,
    simulate_bgnbd,
    simulate_pareto_nbd,
)
from crm_analysis.clv import _fitting
from crm_analysis.clv import base as clv_base
from crm_analysis.exceptions import CRMAnalysisWarning, InputError


@pytest.fixture()
def small() -> pd.DataFrame:
    return simulate_bgnbd(0.5, 5.0, 0.8, 3.0, n_customers=500, T=30.0, seed=1)[["frequency", "recency", "T"]]


@pytest.mark.parametrize("model_cls", [BetaGeoModel, ParetoNBDModel])
def test_no_repeat_buyers(model_cls):
    data = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [10.0, 20.0, 30.0]})
    with pytest.raises(ValueError, match="no repeat buyers"):
        model_cls().fit(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recency": np.nan}, "missing or non-finite"),
        ({"T": np.inf}, "missing or non-finite"),
        ({"frequency": -1}, "negative"),
        ({"recency": 99.0}, "recency .* greater than T"),
        ({"frequency": 1.5}, "non-integer"),
    ],
)
def test_bad_values(small, change, message):
    bad = small.copy()
    for col, value in change.items():
        bad[col] = bad[col].astype(float)
        bad.loc[bad.index[bad["frequency"] > 0][0], col] = value
    with pytest.raises(ValueError, match=message):
        BetaGeoModel().fit(bad)


def test_positive_recency_without_repeats(small):
    bad = small.copy()
    bad.loc[bad.index[bad["frequency"] == 0][0], "recency"] = 1.0
    with pytest.raises(ValueError, match="frequency 0 but positive recency"):
        BetaGeoModel().fit(bad)


def test_missing_column(small):
    with pytest.raises(ValueError, match=r"missing column\(s\) 'T' \(T column\) in data"):
        BetaGeoModel().fit(small.drop(columns="T"))


def test_bad_weights(small):
    with pytest.raises(ValueError, match="weights"):
        BetaGeoModel().fit(small, weights=-np.ones(len(small)))
    with pytest.raises(ValueError, match="one value per row"):
        BetaGeoModel().fit(small, weights=[1.0, 2.0])


def test_unfitted_model_raises(small):
    with pytest.raises(RuntimeError, match="not fitted"):
        BetaGeoModel().probability_alive(small)


def test_optimiser_failure_raises_model_fit_error(small, monkeypatch):
    """A failing optimiser (simulated) is reported as ModelFitError, a RuntimeError."""
    assert issubclass(ModelFitError, RuntimeError)

    def failing(fun, x0, *args, **kwargs):
        return optimize.OptimizeResult(x=np.asarray(x0) + 3.0, fun=1.0, success=False, nit=1, message="simulated failure")

    monkeypatch.setattr(_fitting.optimize, "minimize", failing)  # where the fitter looks it up
    # the Newton iteration of the models with an analytic Hessian does not settle either: the quasi-Newton path runs
    monkeypatch.setattr(_fitting.LikelihoodFitter, "_newton_fit", lambda self, *args: None)
    with pytest.raises(ModelFitError, match="did not converge"):
        BetaGeoModel().fit(small)


def test_penalizer_shrinks_towards_one(small):
    """An L2 penalty on the log parameters moves every estimate towards 1 (log 0)."""
    free = BetaGeoModel().fit(small)
    pen = BetaGeoModel(penalizer=0.5).fit(small)
    assert (np.abs(np.log(pen.params_)) <= np.abs(np.log(free.params_)) + 1e-9).all()
    with pytest.raises(ValueError, match="penalizer"):
        BetaGeoModel(penalizer=-1).fit(small)


def test_delta_method_standard_errors(small):
    """Natural-scale covariance = J cov_log J with J = diag(params) (delta method)."""
    m = BetaGeoModel().fit(small)
    J = np.diag(m.params_.to_numpy())
    np.testing.assert_allclose(m.covariance_.to_numpy(), J @ m.log_covariance_.to_numpy() @ J, rtol=1e-12)
    np.testing.assert_allclose(m.standard_errors_.to_numpy(), np.sqrt(np.diag(m.covariance_)), rtol=1e-12)
    draws = m.sample_params(5000, seed=2)
    np.testing.assert_allclose(np.cov(np.log(draws).T), m.log_covariance_.to_numpy(), rtol=0.1, atol=3e-3)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 300),
    n_values=st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6)),
    seed=st.integers(0, 10_000),
)
def test_collapse_rows_matches_groupby(n, n_values, seed):
    """collapse_rows equals an independent pandas groupby-sum (sorted distinct rows, summed
    weights, zero-weight rows dropped), exactly."""
    rng = np.random.default_rng(seed)
    cols = [rng.integers(0, k, n) / 7.0 for k in n_values]
    w = rng.integers(0, 3, n).astype(float)
    if not (w > 0).any():
        w[0] = 1.0
    got, counts = clv_base.collapse_rows(cols, w)
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)}).assign(w=w)[w > 0]
    ref = frame.groupby(["c0", "c1", "c2"], sort=True)["w"].sum().reset_index()
    for i in range(3):
        np.testing.assert_array_equal(got[i], ref[f"c{i}"].to_numpy())
    np.testing.assert_array_equal(counts, ref["w"].to_numpy())



@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 3000),
    n_cols=st.integers(1, 5),
    n_values=st.integers(1, 50),
    seed=st.integers(0, 10_000),
)
def test_collapse_rows_sorted_and_hashed_paths_agree_bit_for_bit(n, n_cols, n_values, seed):
    """The two ways of :func:`collapse_rows` (a lexicographic sort up to ``_SORTED_COLLAPSE_MAX_ROWS`` rows, hashing
    beyond) give the same distinct rows and the same summed weights to the last bit, also for non-integer weights
    (whose sums depend on the order of the additions: both add in row order), so a fit does not depend on which one
    ran. Reference: the hashing path (the only one before issue #12's speed work; checked against a pandas groupby
    by the test above)."""
    from crm_analysis.clv._validation import _collapse_hashed, _collapse_sorted

    rng = np.random.default_rng(seed)
    cols = [rng.integers(0, n_values, n) * rng.uniform(0.1, 10.0) for _ in range(n_cols)]
    w = rng.uniform(0.01, 3.0, n)
    a, ca = _collapse_sorted(cols, w)
    b, cb = _collapse_hashed(cols, w)
    assert len(a) == len(b) == n_cols
    for u, v in zip(a, b):
        assert u.tobytes() == v.tobytes()
    assert ca.tobytes() == cb.tobytes()

def _collapse_by_lexsort(cols: list[np.ndarray], w: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Reference for :func:`_collapse_sorted`: its former body, a stable ``np.lexsort`` and the cut where a column changes."""
    order = np.lexsort(cols[::-1])
    ordered = [c[order] for c in cols]
    new = np.ones(len(w), dtype=bool)
    new[1:] = np.any([c[1:] != c[:-1] for c in ordered], axis=0)
    inv = np.empty(len(w), dtype=np.int64)
    inv[order] = np.cumsum(new) - 1
    return [c[new] for c in ordered], np.bincount(inv, weights=w)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3001, 9000),
    kinds=st.lists(st.sampled_from(["int", "frac", "many", "big"]), min_size=1, max_size=4),
    n_values=st.integers(1, 80),
    special=st.sampled_from([None, "neg_zero", "nan", "negative"]),
    seed=st.integers(0, 10_000),
)
def test_collapse_sorted_column_by_column_is_the_lexsort(n, kinds, n_values, special, seed):
    """Beyond ``_LEXSORT_MAX_ROWS`` rows :func:`_collapse_sorted` orders the rows column by column (radix sorts of
    int16 keys: integral values, or the codes of the distinct values); its distinct rows and summed weights (non-integer
    weights: their sums depend on the order of the additions) equal, byte for byte, those of the stable ``np.lexsort``
    it replaced (the reference, written out here), for integral, fractional, many-distinct and beyond-int16 columns;
    with ``-0.0``, NaN or negative values it takes the lexsort itself. Checked too: the column-by-column path runs
    (``np.lexsort`` not called) where no such value occurs."""
    from crm_analysis.clv import _validation

    rng = np.random.default_rng(seed)
    make = {
        "int": lambda: rng.integers(0, n_values, n).astype(float),
        "frac": lambda: rng.integers(0, n_values, n) / 7.0,
        "many": lambda: rng.uniform(0.5, 500.0, n),
        "big": lambda: rng.integers(0, n_values, n) + 40_000.0,
    }
    cols = [make[k]() for k in kinds]
    if special is not None:
        i = int(rng.integers(0, n))
        cols[-1][i] = {"neg_zero": -0.0, "nan": np.nan, "negative": -1.5}[special]
        cols[-1][(i + 1) % n] = 0.0 if special == "neg_zero" else cols[-1][(i + 1) % n]
    w = rng.uniform(0.01, 3.0, n)
    ref, cref = _collapse_by_lexsort(cols, w)
    calls = []
    real = np.lexsort

    def counted(keys):
        calls.append(len(keys))
        return real(keys)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_validation.np, "lexsort", counted)
        got, counts = _validation._collapse_sorted(cols, w)
    assert bool(calls) == (special is not None)
    assert len(got) == len(ref)
    for u, v in zip(got, ref):
        assert u.tobytes() == v.tobytes()
    assert counts.tobytes() == cref.tobytes()


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 3000),
    n_values=st.integers(1, 60),
    seed=st.integers(0, 10_000),
    presorted=st.booleans(),
    signed_zero=st.booleans(),
)
def test_distinct_values_is_numpy_unique(n, n_values, seed, presorted, signed_zero):
    """:func:`distinct_values` gives :func:`numpy.unique`'s distinct values and inverse (``return_inverse``) bit for
    bit, dtype and shape included: on sorted input (its linear path: the collapsed rows' first column, and subsets of
    it in order) and on unsorted input (its hashing path, ``pd.factorize``). Reference: ``np.unique`` itself, which the
    models' ``_prepare`` called before."""
    from crm_analysis.clv._validation import distinct_values

    rng = np.random.default_rng(seed)
    v = rng.integers(0, n_values, n) * rng.uniform(0.1, 10.0)
    if signed_zero:
        v[v == 0.0] = -0.0  # -0.0 == 0.0: one distinct value either way
    if presorted:
        v = np.sort(v)
    got, ref = distinct_values(v), np.unique(v, return_inverse=True)
    for g, r in zip(got, ref):
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_array_equal(g, r)
    np.testing.assert_array_equal(got[0][got[1]], v)


def test_distinct_values_paths(monkeypatch):
    """Sorted input takes the linear path (neither ``np.unique`` nor ``pd.factorize``), unsorted floats the hashing
    path, input with NaN ``np.unique`` (whose NaN handling is the reference); NaN: the same arrays as ``np.unique``.
    (The hypothesis test above checks the values on the first two paths; this one that each path is taken.)"""
    from crm_analysis.clv import _validation

    calls = []
    unique, factorize = np.unique, pd.factorize
    monkeypatch.setattr(_validation.np, "unique", lambda *a, **k: calls.append("unique") or unique(*a, **k))
    monkeypatch.setattr(_validation.pd, "factorize", lambda *a, **k: calls.append("factorize") or factorize(*a, **k))
    _validation.distinct_values(np.array([0.0, 0.0, 1.0, 3.0, 3.0]))
    assert calls == []
    _validation.distinct_values(np.array([3.0, 0.0, 1.0, 0.0]))
    assert calls == ["factorize"]
    v = np.array([3.0, np.nan, 1.0, np.nan, 1.0])
    got = _validation.distinct_values(v)
    assert calls == ["factorize", "unique"]
    for g, r in zip(got, unique(v, return_inverse=True)):
        np.testing.assert_array_equal(g, r)


@pytest.mark.parametrize("values", [
    [1, 2, 3], [1.5, 2.0, 0.0], np.array([1, 0, 2], dtype=np.uint8), pd.array([1, 2, 3], dtype="Int64"),
    pd.array([1.5, 2.0, 3.0], dtype="Float64"), ["1", "2.5", "3"],
])
def test_numeric_column_reads_the_values_of_the_series(values):
    """numeric_column takes a column's values without building a Series (pandas' column-array accessor): the same
    float array as the Series path it replaced (``data[col].to_numpy(dtype=float)`` for numpy columns, ``pd.to_numeric``
    otherwise; reference: that path computed here), read-only where it is the frame's own float64 array (as a
    Series gives it under copy-on-write)."""
    from crm_analysis.clv._validation import numeric_column

    data = pd.DataFrame({"other": ["a", "b", "c"], "v": values})
    got = numeric_column(data, "v", "frequency")
    s = data["v"]
    ref = s.to_numpy(dtype=float) if isinstance(s.dtype, np.dtype) else pd.to_numeric(s).to_numpy(dtype=float)
    assert got.dtype == np.float64 and got.tobytes() == ref.tobytes()
    if s.dtype == np.float64:
        assert not got.flags.writeable and np.shares_memory(got, s.to_numpy())


def test_wdot_matches_numpy_dot():
    rng = np.random.default_rng(0)
    w, v, m = rng.random(1000), rng.normal(size=1000), rng.normal(size=(1000, 3))
    assert clv_base.wdot(w, v) == pytest.approx(float(np.dot(w, v)), rel=1e-12)
    np.testing.assert_allclose(clv_base.wdot(w, m), w @ m, rtol=1e-12)


@pytest.mark.parametrize(("model_cls", "simulate"), [(BetaGeoModel, simulate_bgnbd), (ParetoNBDModel, simulate_pareto_nbd)])
def test_fit_does_not_depend_on_row_order(model_cls, simulate):
    """Rows are collapsed to sorted distinct values, so a shuffled table gives the same fit
    to the last bit."""
    data = simulate(0.5, 5.0, 0.8, 3.0, n_customers=500, T=30.0, seed=1)[["frequency", "recency", "T"]]
    a = model_cls().fit(data)
    b = model_cls().fit(data.sample(frac=1.0, random_state=3))
    np.testing.assert_array_equal(a.params_.to_numpy(), b.params_.to_numpy())


def test_fit_is_stable_under_rounding_noise(small):
    """Data that differ by rounding (relative 1e-15) give the same estimates to 1e-9: the
    optimum is polished by a Newton step, not left where the quasi-Newton method stopped."""
    ref = BetaGeoModel().fit(small)
    rng = np.random.default_rng(7)
    for _ in range(3):
        noisy = small.assign(T=small["T"] * (1 + 1e-15 * rng.standard_normal(len(small))))
        noisy["recency"] = np.minimum(noisy["recency"], noisy["T"])
        np.testing.assert_allclose(BetaGeoModel().fit(noisy).params_, ref.params_, rtol=1e-9)


def _few_repeat_buyers() -> pd.DataFrame:
    """45 customers, 5 repeat buyers (newcomer finding 5): the MBG/NBD ends with a singular Hessian."""
    return pd.concat(
        [pd.DataFrame({"frequency": [1, 2, 1, 3, 1], "recency": [5.0, 10, 3, 20, 8], "T": [30.0] * 5}),
         pd.DataFrame({"frequency": [0] * 40, "recency": [0.0] * 40, "T": [30.0] * 40})],
        ignore_index=True,
    )


def _fit_catching(model, data, **kw):
    import warnings as _w

    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        model.fit(data, **kw)
    return model, [w for w in caught if issubclass(w.category, CRMAnalysisWarning)]


def _warning_cases():
    from crm_analysis.clv import (
        GammaGammaModel, ModifiedBetaGeoModel, simulate_gamma_gamma, simulate_nbd,
    )

    rng = np.random.default_rng(0)
    nbd = simulate_nbd(0.8, 10, n_customers=5000, T=rng.uniform(10, 60, 5000), seed=6)
    gg = simulate_bgnbd(0.5, 5, 0.5, 3, n_customers=400, T=30.0, seed=3)
    gg = gg[gg["frequency"] > 0].copy()
    gg["monetary_value"] = simulate_gamma_gamma(6.0, 4.0, 15.0, gg["frequency"].to_numpy(), seed=4)[
        "monetary_value"].to_numpy() * (1 + gg["frequency"].to_numpy())  # correlated: CRMAnalysisWarning
    return [
        ("ridge", ModifiedBetaGeoModel(), _few_repeat_buyers(), {}),  # newcomer: a = 7592, b = 6906, singular
        ("boundary", ModifiedBetaGeoModel(), nbd, {}),
        ("correlation", GammaGammaModel(), gg, {}),
    ]


@pytest.mark.parametrize("case", range(3))
def test_every_fit_warning_is_recorded_on_the_estimator(case):
    """Everything a warning says is recorded on the fitted estimator and its FitResult (docs/architecture.md).

    Newcomer finding 5: the HessianWarning of an MBG/NBD on 45 customers (5 repeat buyers, a = 7592,
    b = 6906) left not_identified_ = [] and nothing on the model but NaN standard errors.
    """
    name, model, data, kw = _warning_cases()[case]
    model, caught = _fit_catching(model, data, **kw)
    assert caught, f"case {name}: expected a typed warning"
    texts = [f"{w.category.__name__}: {w.message}" for w in caught]
    assert set(texts) == set(model.fit_warnings_)
    assert tuple(model.fit_warnings_) == model.fit_result_.warnings
    # saved and loaded with the model
    again = type(model).from_dict(model.to_dict())
    assert again.fit_warnings_ == model.fit_warnings_
    if name == "ridge":
        # a, b ran along the ridge to a common dropout probability (a singular Hessian before issue #12 pt 1), then
        # the common-dropout limit was kept (-44.4665); the other-basin refit (findings_12o A) now reaches a better
        # point, 1.47 higher: r, alpha -> inf (the Poisson limit of the purchase rate) with a = 2.56, b = 0.33,
        # the likelihood there by mpmath at 40 digits -42.998417 (the supremum along r -> inf is a little higher). The
        # ridge is said (IdentificationWarning naming r, alpha and the Poisson limit) and recorded, also after loading
        from crm_analysis.clv import ModifiedGeometricNBDModel

        limit, _ = _fit_catching(ModifiedGeometricNBDModel(), data)
        assert model.log_likelihood_ >= limit.log_likelihood_ + 1.0
        assert model.log_likelihood_ == pytest.approx(-42.998417, abs=1e-3)
        assert any(t.startswith("IdentificationWarning") and "Poisson limit" in t for t in texts)
        assert {"r", "alpha"} <= set(model.not_identified_) and again.not_identified_ == model.not_identified_
        assert again.params_.equals(model.params_)


def test_singular_hessian_is_recorded(monkeypatch):
    """A singular Hessian (forced here: the Hessian replaced by zeros) gives a HessianWarning, NaN standard errors,
    every estimated parameter in not_identified_ and the warning in fit_warnings_ (before: not_identified_ = [])."""
    from crm_analysis.clv import ModifiedBetaGeoModel

    monkeypatch.setattr(ModifiedBetaGeoModel, "_hessian", lambda self, lp, arrays, weights, **kw: np.zeros((4, 4)))
    newton = ModifiedBetaGeoModel._newton_fit

    def newton_zero_hessian(self, *args):  # the Newton path hands on its own Hessian: replaced by zeros too
        out = newton(self, *args)
        assert out is not None  # (these data: the Newton path)
        return out[0], out[1], np.zeros((4, 4)), out[3]

    monkeypatch.setattr(ModifiedBetaGeoModel, "_newton_fit", newton_zero_hessian)
    d = simulate_bgnbd(0.243, 4.414, 0.793, 2.426, n_customers=500, T=39.0, seed=11)
    model, caught = _fit_catching(ModifiedBetaGeoModel(), d)
    assert [w.category.__name__ for w in caught] == ["HessianWarning"]
    assert model.standard_errors_.isna().all()
    assert model.not_identified_ == ["r", "alpha", "a", "b"]
    assert model.fit_warnings_[0].startswith("HessianWarning") and model.fit_result_.warnings == tuple(model.fit_warnings_)
    # issue #12 polish: the text says what NaN standard errors mean for the user and what to do
    text = str(caught[0].message)
    assert "standard_errors_ and covariance_ are NaN" in text and "prediction intervals hold process uncertainty only" in text
    assert "predictions that depend only on what the data determine may be usable" in text
    assert text.endswith("or fit on more customers.")  # the purchase models' advice (no advice hook of their own)
    assert "standard errors are NaN" not in text


def test_clean_fit_records_no_warnings():
    d = simulate_bgnbd(0.243, 4.414, 0.793, 2.426, n_customers=3000, T=39.0, seed=11)
    model, caught = _fit_catching(BetaGeoModel(), d)
    assert caught == [] and model.fit_warnings_ == [] and model.fit_result_.warnings == ()


@pytest.mark.parametrize("fit", [
    lambda d: BetaGeoModel().fit(d),
    lambda d: ParetoNBDModel().fit(d),
    lambda d: GammaGammaModel().fit(d),
    lambda d: BetaGeoModel.from_params([0.24, 4.4, 0.79, 2.4]).expected_purchases(10, d),
])
def test_a_tuple_for_data_is_a_clear_error(fit):
    """findings_12c's recipe shape: ``findings_data`` returns ``(data, truth)``; passed whole to ``fit`` it raised
    pandas' "setting an array element with a sequence ... inhomogeneous shape". Every entry point that converts its
    data (``_validation.as_frame``) names the argument and the fix."""
    d = pd.DataFrame({"frequency": [0, 2, 1], "recency": [0.0, 5.0, 3.0], "T": [10.0, 10.0, 8.0],
                      "monetary_value": [0.0, 20.0, 15.0]})
    with pytest.raises(InputError, match=r"data must be a DataFrame .* got a tuple of 2 item\(s\): pass the DataFrame itself"):
        fit((d, {"r": 0.5}))


@pytest.mark.parametrize("column", ["recency", "T"])
@pytest.mark.parametrize("as_", ["dates", "durations"])
def test_dates_or_durations_for_a_time_column_are_a_clear_error(column, as_):
    """findings_12d: ``T`` as dates (or durations) was read as nanoseconds and fitted silently to nonsense (BG/NBD
    r 0.033 instead of 0.42), and P(alive) came out 2e-49 instead of 0.013. Every model's fit and prediction refuses
    them, naming the column and the conversion."""
    d = simulate_bgnbd(0.5, 5.0, 0.7, 2.5, n_customers=200, T=30.0, seed=1820)[["frequency", "recency", "T"]]
    delta = pd.to_timedelta(d[column], unit="D")
    bad = d.assign(**{column: pd.Timestamp("2020-01-01") + delta if as_ == "dates" else delta})
    fitted = BetaGeoModel().fit(d)
    calls = [lambda: BetaGeoModel().fit(bad), lambda: ParetoNBDModel().fit(bad),
             lambda: fitted.probability_alive(bad), lambda: fitted.expected_purchases(10, bad)]
    for call in calls:
        with pytest.raises(InputError, match=rf"{column} column '{column}' holds {as_} .*; it must be a number of time "
                                             r"units .*rfm_summary"):
            call()


def test_a_boolean_frequency_is_a_clear_error():
    """findings_12d: a boolean ``frequency`` (e.g. ``x > 0`` passed by mistake) was read as 0/1 without a word."""
    d = pd.DataFrame({"frequency": [0, 2, 1, 3], "recency": [0.0, 5.0, 3.0, 7.0], "T": [10.0, 10.0, 8.0, 9.0],
                      "monetary_value": [0.0, 20.0, 15.0, 12.0]})
    for fit in (lambda b: BetaGeoModel().fit(b), lambda b: GammaGammaModel().fit(b)):
        with pytest.raises(InputError, match=r"frequency column 'frequency' is boolean"):
            fit(d.assign(frequency=d["frequency"] > 0))
