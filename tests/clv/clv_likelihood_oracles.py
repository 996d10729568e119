"""Per-row likelihoods written directly from the papers: test oracles for the models' fitting likelihoods.

The package writes each model's likelihood once, in the grouped weighted
form it fits with (terms per distinct value). These are the plain per-row
forms (the code the models carried as a second likelihood before the
base split of issue 13), kept here as independent checks: the tests
compare the weighted sums of these with the models' ``_weighted_loglik``.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "bgnbd_loglik_rows",
    "distinct_rows",
    "findings_data",
    "common_dropout_loglik_rows",
    "limit_model_loglik_mp",
    "gamma_gamma_loglik_rows",
    "mbgnbd_loglik_rows",
    "pareto_nbd_loglik",
    "pareto_nbd_loglik_grad_mp",
    "pareto_nbd_loglik_mp",
    "pareto_nbd_unbounded_max",
    "zero_inflated_nbd_max",
]


def bgnbd_loglik_rows(log_params: np.ndarray, arrays) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood per row (eq. 6) and its gradient w.r.t. the log parameters."""
    x, t_x, T, ux, inv = arrays[:5]
    r, alpha, a, b = np.exp(log_params)
    # terms that depend on x only (few distinct values)
    C = (
        special.gammaln(r + ux) - special.gammaln(r)
        + special.gammaln(b + ux) - special.gammaln(b)
        + special.gammaln(a + b) - special.gammaln(a + b + ux)
    )
    dr_x = special.digamma(r + ux) - special.digamma(r)
    dab_x = special.digamma(a + b) - special.digamma(a + b + ux)
    db_x = special.digamma(b + ux) - special.digamma(b) + dab_x
    rep = x > 0
    l_T = np.log(alpha + T)
    l_tx = np.log(alpha + t_x)
    u1 = -(r + x) * l_T
    with np.errstate(divide="ignore", invalid="ignore"):
        u2 = np.where(rep, np.log(a) - np.log(np.where(rep, b + x - 1.0, 1.0)) - (r + x) * l_tx, -np.inf)
    lse = np.logaddexp(u1, u2)
    ll = C[inv] + r * np.log(alpha) + lse
    w2 = np.exp(u2 - lse)
    w1 = 1.0 - w2
    g = np.empty((x.size, 4))
    g[:, 0] = r * (dr_x[inv] + np.log(alpha) - w1 * l_T - w2 * l_tx)
    g[:, 1] = alpha * (r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x)))
    g[:, 2] = a * (dab_x[inv] + w2 / a)
    g[:, 3] = b * (db_x[inv] - np.where(rep, w2 / np.where(rep, b + x - 1.0, 1.0), 0.0))
    return ll, g


def mbgnbd_loglik_rows(log_params: np.ndarray, arrays) -> tuple[np.ndarray, None]:
    """Log-likelihood per row (direct form of the module docstring's expression)."""
    x, t_x, T = arrays[0], arrays[1], arrays[2]
    r, alpha, a, b = np.exp(log_params)
    lb = special.betaln(a, b)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    u1 = special.betaln(a, b + x + 1.0) - lb - (r + x) * np.log(alpha + T)
    u2 = special.betaln(a + 1.0, b + x) - lb - (r + x) * np.log(alpha + t_x)
    return common + np.logaddexp(u1, u2), None


def common_dropout_loglik_rows(log_params: np.ndarray, arrays, *, modified: bool) -> np.ndarray:
    """Log-likelihood per row of the BG/NBD (``modified=False``) or MBG/NBD common-dropout limit ``a, b -> inf``.

    With ``a / (a + b) = p`` fixed, ``B(a, b + k) / B(a, b) -> (1 - p)^k`` and ``B(a + 1, b + k) / B(a, b)
    -> p (1 - p)^k``, so FHL 2005 eq. 6 becomes ``(1-p)^x (alpha+T)^-(r+x) + [x > 0] p (1-p)^(x-1)
    (alpha+t_x)^-(r+x)`` and the MBG/NBD expression (Batislam et al. 2007) ``(1-p)^(x+1) (alpha+T)^-(r+x)
    + p (1-p)^x (alpha+t_x)^-(r+x)``, times ``Gamma(r+x) alpha^r / Gamma(r)``. ``log_params``: log of
    ``(r, alpha, p)``.
    """
    x, t_x, T = arrays[0], arrays[1], arrays[2]
    r, alpha, p = np.exp(log_params)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    n1 = x + 1.0 if modified else x
    u1 = n1 * np.log1p(-p) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        u2 = np.log(p) + (n1 - 1.0) * np.log1p(-p) - (r + x) * np.log(alpha + t_x)
    u2 = u2 if modified else np.where(x > 0, u2, -np.inf)
    return common + np.logaddexp(u1, u2)


def gamma_gamma_loglik_rows(log_params: np.ndarray, arrays) -> tuple[np.ndarray, np.ndarray]:
    """Log density of the mean of ``x`` values (Fader & Hardie 2013, eq. 3) and its gradient, per row."""
    x, m = arrays[0], arrays[1]
    lx, lm = np.log(x), np.log(m)
    p, q, v = np.exp(log_params)
    px = p * x
    lvm = np.log(v + m * x)
    ll = (
        special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
        + q * np.log(v) + (px - 1.0) * lm + px * lx - (px + q) * lvm
    )
    dpq = special.digamma(px + q)
    g = np.empty((x.size, 3))
    g[:, 0] = p * x * (dpq - special.digamma(px) + lm + lx - lvm)
    g[:, 1] = q * (dpq - special.digamma(q) + np.log(v) - lvm)
    g[:, 2] = v * (q / v - (px + q) / (v + m * x))
    return ll, g


def zero_inflated_nbd_max(x: np.ndarray, T: np.ndarray, w: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Maximum of the zero-inflated NBD log-likelihood by a scipy multistart, and its ``(r, alpha, pi)``.

    Written from the count model (Morrison 1969, "hard-core non-buyers"): ``P(X = x) = pi [x = 0] + (1 - pi)
    NB(x; r, alpha / (alpha + T))`` with ``scipy.stats.nbinom`` (not the package's code), minus the terms that do
    not depend on the parameters (``x log T - log x!``), so that it is on the scale of the CLV models' likelihood
    of ``(x, t_x, T)``: the Pareto/NBD's and MBG/NBD's two-point limit, ``Gamma(r+x) alpha^r / Gamma(r)
    [(1-pi) (alpha+T)^-(r+x) + pi alpha^-r [x = 0]]``. Starts: 3 shares ``pi`` (logit -1.5, 0, 1.5) times 2 shapes
    ``r`` (0.3, 2) with ``alpha`` from the mean rate; each by Nelder-Mead, then BFGS, then Nelder-Mead, on
    ``(log r, log alpha, logit pi)``.
    """
    x, T = np.asarray(x, float), np.asarray(T, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    const = float(w @ np.where(x > 0, x * np.log(T) - special.gammaln(x + 1.0), 0.0))

    def negll(v: np.ndarray) -> float:
        if not np.all(np.abs(v) < 40.0):
            return 1e12
        r, alpha, pi = np.exp(v[0]), np.exp(v[1]), special.expit(v[2])
        with np.errstate(divide="ignore"):
            p = pi * (x == 0) + (1.0 - pi) * stats.nbinom.pmf(x, r, alpha / (alpha + T))
            val = -(float(w @ np.log(p)) - const)
        return val if np.isfinite(val) else 1e12

    rate = float(w @ x) / float(w @ T)
    best = (np.inf, None)
    for r0 in (0.3, 2.0):
        for z0 in (-1.5, 0.0, 1.5):
            v = np.array([np.log(r0), np.log(r0 / max(rate, 1e-6)), z0])
            for method in ("Nelder-Mead", "BFGS", "Nelder-Mead"):
                opts = {"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000} if method == "Nelder-Mead" else {"gtol": 1e-9}
                res = optimize.minimize(negll, v, method=method, options=opts)
                if res.fun <= negll(v):
                    v = res.x
            if negll(v) < best[0]:
                best = (negll(v), v)
    v = best[1]
    return -best[0], np.array([np.exp(v[0]), np.exp(v[1]), special.expit(v[2])])


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(96)


def nbd_max(x: np.ndarray, T: np.ndarray, w: np.ndarray | None = None) -> float:
    """Maximum of the NBD log-likelihood (customers' counts ``x`` in periods ``T``, weights ``w``) with
    ``scipy.stats.nbinom``, by Nelder-Mead in (log r, log alpha) from two shapes; on the scale of
    ``zero_inflated_nbd_max`` (minus ``x log T - log x!``) and independent of the package's NBDModel."""
    x, T = np.asarray(x, float), np.asarray(T, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    const = float(w @ np.where(x > 0, x * np.log(T) - special.gammaln(x + 1.0), 0.0))

    def negll(v):
        r, alpha = np.exp(v)
        return -(float(w @ stats.nbinom.logpmf(x, r, alpha / (alpha + T))) - const)

    rate = float(w @ x) / float(w @ T)
    return -min(optimize.minimize(negll, np.log([r0, r0 / rate]), method="Nelder-Mead",
                                  options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000}).fun for r0 in (0.1, 1.0))


def pareto_nbd_loglik(params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray | None = None) -> float:
    """Pareto/NBD log-likelihood of ``(r, alpha, s, beta)``, written as the integral over the dropout time.

    Schmittlein, Morrison & Colombo (1987); Fader & Hardie (2005 note, eq. 3 before the integral is
    solved): per customer ``Gamma(r+x) alpha^r / Gamma(r) [(alpha+T)^-(r+x) (beta/(beta+T))^s + int_{t_x}^T
    (alpha+tau)^-(r+x) s beta^s (beta+tau)^-(s+1) dtau]``. The dropout time in ``u = log1p(tau / beta)``: the
    integrand is then ``(alpha+tau)^-(r+x) s e^(-s u)`` and ``(beta/(beta+T))^s = e^(-s log1p(T/beta))`` (``beta^s``
    cancels analytically: at ``s = beta = 1e13`` the earlier ``s log(beta)`` against ``-s log(beta+T)`` was 0.1 off,
    issue #12), smooth for any ``beta``, tiny ones included; the integral by 96-point Gauss-Legendre, on 13 panels
    cut at ``u0 + (u1 - u0) 4^-k`` where ``s (u1 - u0) > 30`` (the integrand decreases: steep near ``t_x``),
    all in log space. Independent of the package's continued fraction, series and panels
    (:mod:`crm_analysis.clv._hyp`, :mod:`crm_analysis.clv._pnbd_ridge`); from findings_12p's ``pll.py``. Still
    ``gammaln(r + x) - gammaln(r)``: loses ``log10(r)`` digits for huge ``r`` (use :func:`pareto_nbd_loglik_mp`).
    """
    r, al, s, be = (float(v) for v in params)
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    A = special.gammaln(r + x) - special.gammaln(r) + r * np.log(al)
    alive = -(r + x) * np.log(al + T) - s * np.log1p(T / be)
    u0, u1 = np.log1p(t_x / be), np.log1p(T / be)
    died = np.full(x.shape, -np.inf)
    # one panel (as before issue #12's large s) unless the s side falls by more than e^-30 over (t_x, T]
    steep = s * (u1 - u0) > 30.0
    for rows, cuts in ((~steep, np.array([0.0, 1.0])), (steep, np.concatenate([[0.0], 4.0 ** -np.arange(12, -1, -1)]))):
        if not rows.any():
            continue
        ends = u0[rows, None] + (u1 - u0)[rows, None] * cuts[None, :]  # panel ends: fractions of (u1 - u0)
        h = np.diff(ends, axis=1) / 2.0
        u = ((ends[:, 1:] + ends[:, :-1]) / 2.0)[:, :, None] + h[:, :, None] * _GL_NODES[None, None, :]
        log_f = np.log(s) - (r + x[rows])[:, None, None] * np.log(al + be * np.expm1(u)) - s * u
        with np.errstate(divide="ignore"):
            log_wh = np.log(np.maximum(h, 1e-300))[:, :, None] + np.log(_GL_WEIGHTS)[None, None, :]
        died[rows] = special.logsumexp((log_f + log_wh).reshape(int(rows.sum()), -1), axis=1)
    died = np.where(u1 > u0, died, -np.inf)
    return float(w @ (A + np.logaddexp(alive, died)))


def pareto_nbd_loglik_mp(params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray | None = None,
                         dps: int = 40) -> float:
    """:func:`pareto_nbd_loglik` in mpmath at ``dps`` digits: for points :func:`pareto_nbd_loglik` cannot check.

    The same integral form (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note, eq. 3 before the
    integral is solved), the integral over ``u = log(beta + tau)`` by mpmath's tanh-sinh quadrature (``mp.quad``,
    the interval cut in 8 pieces) instead of Gauss-Legendre, and ``log Gamma(r + x) - log Gamma(r)`` by
    ``mp.loggamma`` at ``dps`` digits. Needed on the Poisson ridge (``r ~ 1e4 .. 1e12``): there the double-precision
    ``gammaln(r + x) - gammaln(r)`` loses up to ``log10(r)`` digits per row (issue #12: at pnL 1682's ``r = 4e12`` the
    float oracle is 8 below). ``params = (r, alpha, s, beta)`` as floats (taken exactly); returns a float.
    """
    import mpmath as mp

    w = np.ones(len(x)) if w is None else np.asarray(w, float)
    with mp.workdps(dps):
        r, al, s, be = (mp.mpf(float(v)) for v in params)
        lb = mp.log(be)
        total = mp.mpf(0)
        for xi, txi, Ti, wi in zip(*(np.asarray(v, float) for v in (x, t_x, T)), w):
            k = r + mp.mpf(xi)
            A = mp.loggamma(k) - mp.loggamma(r) + r * mp.log(al) + s * lb
            alive = -k * mp.log(al + mp.mpf(Ti)) - s * mp.log(be + mp.mpf(Ti))
            u0, u1 = mp.log(be + mp.mpf(txi)), mp.log(be + mp.mpf(Ti))
            if u1 > u0:
                ref = -k * mp.log(al + mp.mpf(txi)) - s * u0  # the integrand's largest log value (at u0)

                def f(u, k=k, ref=ref):
                    return mp.exp(-k * mp.log(al + mp.exp(u) - be) - s * u - ref)

                died = mp.log(s * mp.quad(f, mp.linspace(u0, u1, 9))) + ref
                lse = max(alive, died) + mp.log1p(mp.exp(-abs(alive - died)))
            else:
                lse = alive
            total += mp.mpf(float(wi)) * (A + lse)
        return float(total)


def pareto_nbd_unbounded_max(start, x, t_x, T, w=None) -> tuple[float, np.ndarray]:
    """Maximum of :func:`pareto_nbd_loglik` by Nelder-Mead on the log parameters without bounds, from ``start``.

    Two runs (the second from the first's end, which restarts the simplex), tolerances 1e-10 in the
    log parameters and 1e-10 in the log-likelihood. Returns the log-likelihood and ``(r, alpha, s, beta)``.
    """

    def negll(v: np.ndarray) -> float:
        if not np.all(np.abs(v) < 700.0):
            return 1e300
        val = -pareto_nbd_loglik(np.exp(v), x, t_x, T, w)
        return val if np.isfinite(val) else 1e300

    v = np.log(np.asarray(start, float))
    for _ in range(2):
        res = optimize.minimize(negll, v, method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 8000, "maxfev": 8000})
        v = res.x
    return -negll(v), np.exp(v)


def pareto_nbd_findings_set(rng: np.random.Generator, n: int, seed: int, s_range: tuple[float, float],
                            beta_range: tuple[float, float]):
    """The newcomers' small-s Pareto/NBD data sets (findings_12s ``pn``, findings_12v ``pnL`` / ``pnS``), after ``n``
    was drawn from ``rng``: T U(2, 52) rounded, r log-U(0.1, 3), alpha / r U(2, 20), s and beta log-uniform over the
    ranges, in that order; ``(frequency, recency, T)`` and the true ``(r, alpha, s, beta)``."""
    from crm_analysis.clv import simulate_pareto_nbd

    T = rng.uniform(2, 52, n).round()
    r = float(np.exp(rng.uniform(np.log(0.1), np.log(3))))
    alpha = r * float(rng.uniform(2, 20))
    s = float(np.exp(rng.uniform(*np.log(s_range))))
    beta = float(np.exp(rng.uniform(*np.log(beta_range))))
    d = simulate_pareto_nbd(r, alpha, s, beta, n_customers=n, T=T, seed=seed)[["frequency", "recency", "T"]]
    return d, (r, alpha, s, beta)


_FINDINGS_KINDS = {  # kind: (s range, beta range, customers drawn from [500, 800, 1500, 2500] or U{100..300})
    "pn": ((0.005, 0.1), (1e-8, 5.0), True),  # findings_12s
    "pnL": ((0.05, 0.3), (1e-12, 1e-3), True),  # findings_12v
    "pnS": ((0.005, 0.1), (1e-8, 5.0), False),  # findings_12v
    "pnM": ((0.3, 1.0), (1e-12, 1e-3), True),  # pnprof (issue #12)
}


def findings_data(kind: str, seed: int):
    """The findings' ``gen(kind, seed)`` for ``kind`` in ``pn``, ``pnL``, ``pnS``, ``pnM``: ``n`` drawn from
    ``default_rng(seed)`` first, then :func:`pareto_nbd_findings_set`; ``(frequency, recency, T)`` and the truth."""
    s_range, beta_range, large = _FINDINGS_KINDS[kind]
    rng = np.random.default_rng(seed)
    n = int(rng.choice([500, 800, 1500, 2500])) if large else int(rng.integers(100, 301))
    return pareto_nbd_findings_set(rng, n, seed, s_range, beta_range)


def distinct_rows(d, columns: tuple[str, ...] = ("frequency", "recency", "T")) -> tuple[np.ndarray, ...]:
    """The distinct rows of ``d``'s ``columns`` (default ``(frequency, recency, T)``; ``("frequency", "T")`` for the
    count models) as float arrays, one per column in sorted row order, and their counts (float weights)."""
    rows, w = np.unique(d[list(columns)].to_numpy(float), axis=0, return_counts=True)
    return (*rows.T, w.astype(float))


def check_not_significant_note(text: str, best: float, ll_kept: float, ll_two_point: float | None = None) -> None:
    """The BoundaryWarning's note on a refit point above the kept limit rejected by ``boundary_test_level = 0.05``:
    its log-likelihood is ``best``, its gaps to the kept limit (and to the two-point limit) and the LR statistic and
    p (the 50:50 mixture of chi-square(0) and chi-square(1), scipy) are right."""
    import re

    import pytest

    two = r" and ([\d.]+) above the two-point-dropout limit" if ll_two_point is not None else ""
    found = re.search(r"reached a higher point \(.*?log-likelihood (-[\d.]+), ([\d.]+) above the kept limit" + two
                      + r"\), not significantly \(likelihood-ratio statistic ([\d.]+), p = ([\d.]+) > "
                      r"boundary_test_level = 0.05\)", text)
    assert found, text
    values = [float(v) for v in found.groups()]
    ll_found, gap, lr, p_value = values[0], values[1], values[-2], values[-1]
    assert ll_found == pytest.approx(best, abs=1e-5)
    assert gap == pytest.approx(best - ll_kept, abs=1e-3)
    if ll_two_point is not None:
        assert values[2] == pytest.approx(best - ll_two_point, abs=1e-3)
    assert lr == pytest.approx(2.0 * (best - ll_kept), abs=2e-3)
    assert p_value == pytest.approx(0.5 * stats.chi2.sf(lr, 1), abs=1e-3)


def limit_model_loglik_mp(model: str, params, x: float, t_x: float, T: float, dps: int = 40, as_mpf: bool = False):
    """Log-likelihood of one customer under a limit model, by mpmath at ``dps`` digits, from the papers' formulas.

    Every model has the gamma-Poisson factor ``G(t) = Gamma(r+x) alpha^r / Gamma(r) (alpha+t)^-(r+x)`` (Fader, Hardie &
    Lee 2005 eq. 3; Fader & Hardie 2005 note), here evaluated as such in mpmath (``loggamma``, ``log``), which at
    ``dps`` digits has no cancellation problem for ``r`` up to ~``10^(dps-20)``. ``model``:

    * ``"nbd"``: ``(r, alpha)``; ``G(T)`` (Ehrenberg 1959, without the ``T^x / x!`` factor);
    * ``"geometric"`` / ``"modified_geometric"``: ``(r, alpha, p)``; ``(1-p)^n1 G(T) + [x>0 or modified] p (1-p)^(n1-1)
      G(t_x)``, ``n1 = x`` (``x + 1`` modified) (FHL 2005 eq. 6 / Batislam et al. 2007 with ``a, b -> inf``);
    * ``"exponential"``: ``(r, alpha, mu)``; ``e^{-mu T} G(T) + mu int_{t_x}^T e^{-mu tau} G(tau) dtau`` (the Pareto/NBD
      with one dropout rate: Fader & Hardie 2005 note eq. 3 before the integral over the death time is solved),
      the integral by ``mpmath.quad``;
    * ``"two_point"``: ``(r, alpha, pi)``; ``(1-pi) G(T) + pi [x=0] G(T) + pi [x=1] G(t_x)`` (BG/NBD, ``a, b -> 0``);
    * ``"zero_inflated"``: ``(r, alpha, pi)``; ``(1-pi) G(T) + pi [x = 0]`` (Morrison 1969; the certain dropout's
      likelihood is 1 on the scale of ``G``).

    Returns a float, or the mpmath number itself with ``as_mpf`` (for finite differences); ``params`` may be mpmath
    numbers.
    """
    import mpmath as mp

    with mp.workdps(dps):
        r, al = mp.mpf(params[0]), mp.mpf(params[1])
        x, t_x, T = mp.mpf(x), mp.mpf(t_x), mp.mpf(T)
        c = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al)

        def G(t):  # with the constant inside: mp.quad's tolerance is absolute (an integrand ~e^(-1e16) fooled it)
            return mp.exp(c - (r + x) * mp.log(al + t))

        if model == "nbd":
            L = G(T)
        elif model in ("geometric", "modified_geometric"):
            p = mp.mpf(params[2])
            n1 = x + (1 if model == "modified_geometric" else 0)
            L = (1 - p) ** n1 * G(T)
            if model == "modified_geometric" or x > 0:
                L += p * (1 - p) ** (n1 - 1) * G(t_x)
        elif model == "exponential":
            mu = mp.mpf(params[2])
            L = mp.exp(-mu * T) * G(T)
            if T > t_x:
                # relative to the integrand's value at t_x (its maximum: mp.quad's tolerance is absolute), with
                # breakpoints at 1, 10, 100 times its decay length 1 / (mu + (r+x)/alpha) from t_x
                g0 = -mu * t_x + mp.log(G(t_x))
                scale = 1 / (mu + (r + x) / al)
                pts = sorted({t_x, T} | {t_x + j * scale for j in (1, 10, 100) if t_x + j * scale < T})
                inner = mp.quad(lambda tau: mp.exp(-mu * tau + mp.log(G(tau)) - g0), pts)
                L += mu * inner * mp.exp(g0)
        elif model == "two_point":
            pi = mp.mpf(params[2])
            L = (1 - pi) * G(T) + (pi * G(T) if x == 0 else pi * G(t_x) if x == 1 else 0)
        elif model == "zero_inflated":
            pi = mp.mpf(params[2])
            L = (1 - pi) * G(T) + (pi if x == 0 else 0)
        else:
            raise KeyError(model)
        return mp.log(L) if as_mpf else float(mp.log(L))


def pareto_nbd_loglik_grad_mp(params, x, t_x, T, dps: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer Pareto/NBD log-likelihood and its gradient in the log parameters, mpmath at ``dps`` digits.

    Written directly from the integral form (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note, eq. 3
    before the integral over the dropout time is solved): ``L = Gamma(r+x) alpha^r beta^s / Gamma(r) [F1 + s I]``,
    ``F1 = (alpha+T)^-(r+x) (beta+T)^-s``, ``I = int_{t_x}^T f``, ``f = (alpha+tau)^-(r+x) (beta+tau)^-(s+1)``; no
    scaling (``s log(beta) ~ 3e14`` at ``s = beta = 1e13`` is harmless at 40 digits). The gradient is analytic
    (differentiation under the integral): ``d/d log r = r [psi(r+x) - psi(r) + log alpha - E log(alpha+tau)]``,
    ``d/d log alpha = r - alpha (r+x) E[1/(alpha+tau)]``, ``d/d log s = s log(beta) + (s I - s^2 J) / (F1 + s I)
    - s F1 log(beta+T) / (F1 + s I)`` (``J = int log(beta+tau) f``), ``d/d log beta = s - beta E[(s + [died])/(beta
    + tau)]``, where ``E`` averages over ``F1`` (at ``tau = T``) and ``s f`` (over ``tau``). ``I`` and its moments by
    20-point Gauss-Legendre in ``tau`` on panels whose ends are ``t_x + h 10^(k/2)`` (``h`` the integrand's decay
    length at ``t_x``, ``k = -4, -3, ...``) and 8 equal steps; the integrand relative to its value at ``t_x`` (its
    maximum: ``f`` decreases). Independent of the package (which integrates in ``log1p(tau/beta)`` by its own panels).
    Returns float arrays ``(n,)`` and ``(n, 4)``.
    """
    import mpmath as mp

    out_ll, out_g = [], []
    with mp.workdps(dps):
        X, W = mp.mp.gauss_quadrature(20, "legendre")
        r, al, s, be = (mp.mpf(float(v)) for v in params)
        for xi, txi, Ti in zip(*(np.asarray(v, float) for v in (x, t_x, T))):
            p = r + mp.mpf(xi)
            tx, TT = mp.mpf(txi), mp.mpf(Ti)
            const = mp.loggamma(p) - mp.loggamma(r) + r * mp.log(al) + s * mp.log(be)
            lf1 = -p * mp.log(al + TT) - s * mp.log(be + TT)
            ref = lf1 if TT == tx else -p * mp.log(al + tx) - (s + 1) * mp.log(be + tx)  # the largest log value
            f1 = mp.exp(lf1 - ref)
            # [value, E log(alpha+tau), E 1/(alpha+tau), E log(beta+tau), E 1/(beta+tau)] sums over the dropout term
            mom = [mp.mpf(0)] * 5
            if TT > tx:
                h = 1 / (p / (al + tx) + (s + 1) / (be + tx))
                L = TT - tx
                pts = sorted({tx, TT} | {tx + h * mp.mpf(10) ** (mp.mpf(k) / 2) for k in range(-4, 80)
                                          if h * mp.mpf(10) ** (mp.mpf(k) / 2) < L}
                             | {tx + L * mp.mpf(j) / 8 for j in range(1, 8)})
                for lo, hi in zip(pts[:-1], pts[1:]):
                    half, mid = (hi - lo) / 2, (hi + lo) / 2
                    for xn, wn in zip(X, W):
                        tau = mid + half * xn
                        la_, lb_ = mp.log(al + tau), mp.log(be + tau)
                        fv = half * wn * mp.exp(-p * la_ - (s + 1) * lb_ - ref)
                        mom = [mom[0] + fv, mom[1] + fv * la_, mom[2] + fv / (al + tau), mom[3] + fv * lb_,
                               mom[4] + fv / (be + tau)]
            tot = f1 + s * mom[0]
            ll = const + ref + mp.log(tot)
            lat, lbt = mp.log(al + TT), mp.log(be + TT)
            g_r = r * (mp.digamma(p) - mp.digamma(r) + mp.log(al) - (f1 * lat + s * mom[1]) / tot)
            g_a = r - al * p * (f1 / (al + TT) + s * mom[2]) / tot
            g_s = s * mp.log(be) + (s * mom[0] - s * (f1 * lbt + s * mom[3])) / tot
            g_b = s - be * (f1 * s / (be + TT) + s * (s + 1) * mom[4]) / tot
            out_ll.append(float(ll))
            out_g.append([float(g) for g in (g_r, g_a, g_s, g_b)])
    return np.array(out_ll), np.array(out_g)
