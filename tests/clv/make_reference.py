"""Generate the 20-digit reference table of every public CLV model quantity (mpmath).

Run from the project root (takes about half an hour on one loaded core)::

    .venv/bin/python tests/clv/make_reference.py            # writes tests/clv/data/clv_reference.csv.gz
    .venv/bin/python tests/clv/make_reference.py --resume partial.csv   # after an interruption
    .venv/bin/python tests/clv/make_reference.py --long-horizon   # data/clv_reference_long_horizon.csv.gz (~10 min)

Nothing here uses crm_analysis: every value is computed from the models'
definitions with mpmath (20 significant digits), by methods other than the
package's:

* BG/NBD and MBG/NBD expected purchases: ``E[(1 - (alpha/(alpha+p t))^r)/p]``
  over the beta mixing distribution of ``p``, by tanh-sinh quadrature
  (``mpmath.quad``) over the log-odds of ``p`` on ``(-inf, inf)`` with
  break points at the mode and the scale of the integrand (the package uses
  Gauss-Legendre panels plus series for the tails); P(alive) and
  ``P(X(t) = k)`` from their closed forms (Fader, Hardie & Lee 2005;
  Batislam et al. 2007) with mpmath's beta and regularised incomplete beta
  functions.
* Pareto/NBD: ``E[X(t)] = (r/alpha) int_0^t (beta/(beta+tau))^s dtau`` and
  ``E[Y(t) | alive] = ((r+x)/(alpha+T)) int_0^t ((beta+T)/(beta+T+tau))^s dtau``
  (expectations over the gamma mixing distributions, integrated in ``tau``;
  the package uses the closed forms); P(alive) from the likelihood's integral
  ``int_{t_x}^T (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau`` by quadrature
  (the package: continued fraction / Gauss-Legendre); ``P(X(t) = k)`` by
  quadrature over the death time ``tau`` in ``(0, t)``.
* Gamma-Gamma expected spend ``E[p/nu | x, m]``: ratio of two integrals over
  ``nu`` of the likelihood of the mean spend times the gamma prior (the
  package: the closed form ``p (v + x m) / (p x + q - 1)``).

The grid covers r, alpha in [1e-3, 1e3]; a, b, s, beta in [1e-3, 1e6] (and Pareto/NBD rows with s in
[1e-3, 0.02] and beta from 1e-250 to 6e-24, integrated in log time),
including a = 1, a + b < 1 and a, b growing with a/(a+b) fixed; frequency up
to 1e4, T up to 1e4 and horizons from 0.01 to 1e4 (each parameter set is
evaluated at three horizons at once, as an array).
"""

from __future__ import annotations

import csv
import gzip
import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import mpmath as mp

mp.mp.dps = 20
OUT = Path(__file__).resolve().parent / "data" / "clv_reference.csv.gz"

R = [1e-3, 0.11, 1.0, 30.0, 1e3]
ALPHA = [1e-3, 2.24, 1e3]
AB = [(a, b) for a in (1e-3, 0.31, 1.0, 3.0, 1e3, 1e6) for b in (1e-3, 0.5, 10.0, 1e6)]
AB += [(0.31 * 10.0**k, 0.69 * 10.0**k) for k in range(1, 7)] + [(3e4, 6.684e4), (0.31, 0.5), (0.11, 0.2)]
CUSTOMERS = [(0, 0.0, 40.0), (1, 5.0, 40.0), (50, 30.0, 100.0), (10000, 9000.0, 10000.0), (0, 0.0, 10000.0), (3, 0.5, 0.5), (0, 0.0, 0.0)]
TIMES = [0.01, 10.0, 10000.0]
KS = [0, 1, 7, 10000]
#: Pareto/NBD (r, alpha, s, beta) with a small s and a tiny beta (the fits' maxima of findings_12p Finding 3b and
#: towards the floor e^-600 of the fit's log beta)
TINY_BETA_SETS = [(0.9915, 7.2825, 0.01292, 5.77e-24), (3.18, 34.34, 0.00507, 2.29e-41), (0.11, 1e3, 0.02, 1e-100),
                  (30.0, 1e-3, 0.005, 1e-200), (1.0, 2.24, 1e-3, 1e-250)]
OUT_LONG = Path(__file__).resolve().parent / "data" / "clv_reference_long_horizon.csv.gz"
#: BG/NBD and MBG/NBD at horizons far beyond any practical one, t / alpha up to 1e300 (findings_12u F1: with a < 1
#: E[X(t)] grows like t^(1-a) and was silently flattened above t / alpha ~ 1e20, NaN above ~1e45): (r, alpha, a, b)
#: with a < 1 (the CDNOW fit, rounded; findings_12u's small set), a = 1, a > 1, a + b < 1, large r and b
LONG_SETS = [(0.243, 4.414, 0.793, 2.426), (1e-3, 1e-3, 0.9, 1e3), (0.11, 2.24, 1.0, 0.5), (2.0, 1.0, 1.0, 3.0),
             (0.5, 2.0, 1.5, 2.0), (30.0, 1e-3, 3.0, 1e3), (0.3, 1.0, 0.2, 0.3), (1e-3, 1.0, 1e-3, 1e-3), (1e3, 1e3, 0.5, 1e6)]
LONG_TIMES = [1e16, 1e22, 1e50, 1e120, 1e290]
#: a new customer's history, a repeat buyer, and a long T and t_x (1e30, 1e20)
LONG_CUSTOMERS = [(3, 20.0, 40.0), (5, 1e20, 1e30)]
LONG_KS = [0, 3, 1000]
FIELDS = ["model", "quantity", "p1", "p2", "p3", "p4", "x", "t_x", "T", "t", "k", "value", "log10_value"]


def _sp(x):
    return mp.log1p(mp.exp(x)) if x < 50 else x + mp.log1p(mp.exp(-x))


def beta_mix(r, al, a, b, t):
    """E[(1 - (al/(al + p t))^r) / p], p ~ Beta(a, b), by quadrature over the log-odds of p."""
    r, al, a, b, t = map(mp.mpf, (r, al, a, b, t))
    if t == 0:
        return mp.mpf(0)
    u = t / al
    lB = mp.log(mp.beta(a, b))

    def f(e):
        p = 1 / (1 + mp.exp(-e))
        return -mp.expm1(-r * mp.log1p(p * u)) / p * mp.exp(-a * _sp(-e) - b * _sp(e) - lB)

    e0, sd = mp.log(a / b), mp.sqrt(1 / a + 1 / b)
    pts = {mp.mpf(0)} | {e0 + k * min(sd, 30) for k in (-20, -5, -1, 0, 1, 5, 20)}
    et = -mp.log(u * (r + 1))
    pts |= {et + k for k in (-10, -3, 0, 3)}
    return mp.quad(f, [-mp.inf] + sorted(pts) + [mp.inf])


def bg_p_alive(r, al, a, b, x, tx, T, modified):
    r, al, a, b, x, tx, T = map(mp.mpf, (r, al, a, b, x, tx, T))
    if x == 0 and not modified:
        return mp.mpf(1)
    odds = (a / (b + x - (0 if modified else 1))) * ((al + T) / (al + tx)) ** (r + x)
    return 1 / (1 + odds)


def bg_pmf(r, al, a, b, t, k, modified, long_horizon=False):
    """``P(X(t) = k)``; ``long_horizon``: ``1 - pi`` is not formed (at 20 digits it rounds to 1 for t / alpha above
    1e20), the tail is ``I_{1-pi}(k, r) = 1 - I_pi(r, k)`` as mpmath's integral over ``[pi, 1]``."""
    r, al, a, b, t, k = map(mp.mpf, (r, al, a, b, t, k))
    if t == 0:
        return mp.mpf(1) if k == 0 else mp.mpf(0)
    pi = al / (al + t)
    if long_horizon:
        nb = mp.exp(mp.loggamma(r + k) - mp.loggamma(r) - mp.loggamma(k + 1) + r * mp.log(pi) + k * mp.log1p(-pi))
        sf = mp.mpf(1) if k == 0 else mp.betainc(r, k, pi, 1, regularized=True)
    else:
        nb = mp.exp(mp.loggamma(r + k) - mp.loggamma(r) - mp.loggamma(k + 1) + r * mp.log(pi) + k * mp.log(1 - pi))
        sf = mp.mpf(1) if k == 0 else mp.betainc(k, r, 0, 1 - pi, regularized=True)  # P(N >= k)
    lB = mp.log(mp.beta(a, b))
    if modified:
        return mp.exp(mp.log(mp.beta(a, b + k + 1)) - lB) * nb + mp.exp(mp.log(mp.beta(a + 1, b + k)) - lB) * sf
    out = mp.exp(mp.log(mp.beta(a, b + k)) - lB) * nb
    if k > 0:
        out += mp.exp(mp.log(mp.beta(a + 1, b + k - 1)) - lB) * sf
    return out


#: beta below which the Pareto/NBD references integrate in log time (rows added for the fits' floor of log beta,
#: e^-600: a small s puts the maximum at beta ~ 1e-24 and below, findings_12p Finding 3b); the older rows have beta >= 1e-3
TINY_BETA = mp.mpf("1e-8")


def _log_breaks(lo, hi):
    """Break points from ``lo - 40`` to ``hi`` in log time: ``lo`` +- 1, 3, 10, then 40 even steps up to ``hi``."""
    pts = {lo + d for d in (-40, -10, -3, -1, 0, 1, 3, 10)} | {lo + (hi - lo) * mp.mpf(i) / 40 for i in range(40)}
    return sorted(p for p in pts if p < hi) + [hi]


def pnbd_survival_integral(s, be, T, t):
    """int_0^t ((be+T)/(be+T+tau))^s dtau."""
    s, be, T, t = map(mp.mpf, (s, be, T, t))
    c = be + T
    if c < TINY_BETA and t > 0:  # in y = log tau (the integrand falls from 1 to (c/tau)^s over tau ~ c)
        g = lambda y: mp.exp(y - s * mp.log1p(mp.exp(y) / c))  # noqa: E731
        return mp.quad(g, [-mp.inf] + _log_breaks(mp.log(c), mp.log(t)))
    f = lambda tau: mp.exp(-s * mp.log1p(tau / c))  # noqa: E731
    pts = sorted({mp.mpf(0), t} | {v for v in (c / s, c, 10 * c / s, 100 * c) if 0 < v < t})
    return mp.quad(f, pts)


def pnbd_p_alive(r, al, s, be, x, tx, T):
    r, al, s, be, x, tx, T = map(mp.mpf, (r, al, s, be, x, tx, T))
    if T == tx:
        return mp.mpf(1)
    k = r + x
    if be < TINY_BETA:  # in u = log(be + tau): s int ((al+T)/(al+tau))^k ((be+T)/e^u)^s du, tau = e^u - be
        g = lambda u: mp.exp(k * (mp.log(al + T) - mp.log(al + mp.exp(u) - be)) + s * (mp.log(be + T) - u))  # noqa: E731
        lo = mp.log(be + tx)
        return 1 / (1 + s * mp.quad(g, [p for p in _log_breaks(lo, mp.log(be + T)) if p >= lo]))
    # s I / F1 = s int_{t_x}^T ((al+T)/(al+tau))^k ((be+T)/(be+tau))^s / (be+tau) dtau; in v = T - tau
    f = lambda v: mp.exp(-k * mp.log1p(-v / (al + T)) - s * mp.log1p(-v / (be + T))) / (be + T - v)  # noqa: E731
    L = T - tx
    sc = [(al + T) / k, (be + T) / (s + 1), al + tx, be + tx]
    pts = sorted({mp.mpf(0), L} | {L - c * m for c in sc for m in (1, 10, 100) if 0 < L - c * m < L} | {c * m for c in sc for m in (1, 10) if 0 < c * m < L})
    ratio = s * mp.quad(f, pts)
    return 1 / (1 + ratio)


def pnbd_pmf(r, al, s, be, t, k):
    r, al, s, be, t, k = map(mp.mpf, (r, al, s, be, t, k))
    if t == 0:
        return mp.mpf(1) if k == 0 else mp.mpf(0)
    lc = mp.loggamma(r + k) - mp.loggamma(r) - mp.loggamma(k + 1)

    def lnb(tau):
        return lc + r * mp.log(al / (al + tau)) + k * mp.log(tau / (al + tau))

    alive = mp.exp(lnb(t) - s * mp.log1p(t / be))
    # died at tau < t after k purchases: integrated in y = log tau, with break points around the
    # largest value of the integrand on a grid of step 0.1 (its peak can be 1e-9 wide in tau)
    lf = lambda y: mp.log(s / be) - (s + 1) * mp.log1p(mp.exp(y) / be) + lnb(mp.exp(y)) + y  # noqa: E731
    top = mp.log(t)
    grid = [top - mp.mpf(i) / 10 for i in range(0, 801)]
    vals = [lf(y) for y in grid]
    i = max(range(len(vals)), key=lambda j: vals[j])
    c, ym = vals[i], grid[i]
    pts = sorted({p for p in (ym + d for d in (-40, -10, -3, -1, -0.3, -0.1, 0, 0.1, 0.3, 1, 3)) if p < top} | {top})
    if be < TINY_BETA:  # the deaths spread evenly in log tau from tau ~ be up: break points over that range
        pts = sorted(set(pts) | set(_log_breaks(mp.log(be), top)))
    return alive + mp.exp(c) * mp.quad(lambda y: mp.exp(lf(y) - c), [-mp.inf] + pts)


def gg_spend(p, q, v, x, m):
    with mp.workdps(35):  # q up to 2.4e9: 20 digits leave ~1e-6 here
        return +_gg_spend(p, q, v, x, m)


def _gg_spend(p, q, v, x, m):
    p, q, v, x, m = map(mp.mpf, (p, q, v, x, m))
    if x == 0:
        return p * v / (q - 1)
    # posterior of nu given the mean m of x Gamma(p, nu) values and nu ~ Gamma(q, v), in log nu;
    # finite range: below the mode the integrands fall like e^((shape - 1) y), above it like
    # exp(-rate e^y) (both below e^-60 at the ends)
    shape, rate = p * x + q, v + x * m
    mode = mp.log(shape / rate)
    # log posterior density of y = log nu relative to its mode: shape (d - (e^d - 1)), d = y - mode
    # (rate e^mode = shape), free of the cancellation of shape y - rate e^y for large shape
    rel = lambda y: shape * ((y - mode) - mp.expm1(y - mode))  # noqa: E731
    lo, hi = mode - 60 / (shape - 1) - 5, mode + mp.log(60 / shape + 1) + 3
    sd = 1 / mp.sqrt(shape)
    pts = sorted({lo, hi} | {mode + k * sd for k in (-20, -5, -1, 0, 1, 5, 20) if lo < mode + k * sd < hi}
                 | {mode - (mode - lo) * f for f in (mp.mpf("0.001"), mp.mpf("0.01"), mp.mpf("0.1"), mp.mpf("0.5"))})
    num = mp.quad(lambda y: p * mp.exp(-y + rel(y)), pts)
    den = mp.quad(lambda y: mp.exp(rel(y)), pts)
    return num / den


def _pareto_nbd_rows(r, al, s, be, customer, k):
    """The Pareto/NBD rows of one parameter set and customer, in the table's order: P(alive), then for every
    ``t`` in ``TIMES`` E[X(t)] of a new customer, E[Y(t) | x, t_x, T] and P(X(t) = k)."""
    x, tx, T = customer
    yield "paretonbd", "probability_alive", (r, al, s, be), (x, tx, T), 0, 0, (
        lambda: pnbd_p_alive(r, al, s, be, x, tx, T))
    for t in TIMES:
        yield "paretonbd", "expected_purchases_new", (r, al, s, be), (0, 0, 0), t, 0, (
            lambda t=t: mp.mpf(r) / al * pnbd_survival_integral(s, be, 0, t))
        yield "paretonbd", "expected_purchases", (r, al, s, be), (x, tx, T), t, 0, (
            lambda t=t: pnbd_p_alive(r, al, s, be, x, tx, T) * (mp.mpf(r) + x) / (al + T)
            * pnbd_survival_integral(s, be, T, t))
        yield "paretonbd", "probability_of_purchases", (r, al, s, be), (0, 0, 0), t, k, (
            lambda t=t: pnbd_pmf(r, al, s, be, t, k))


def rows():
    """The table's rows in a fixed order: ``(model, quantity, params, customer, t, k, value)``,
    where ``value`` is a function computing the reference (so rows can be skipped cheaply)."""
    combos = list(itertools.product(R, ALPHA))
    for i, (a, b) in enumerate(AB):
        # six of the 15 (r, alpha) pairs per (a, b), shifted from one (a, b) to the next, so that
        # every pair meets every kind of (a, b) (small, large, a = 1, a + b < 1, growing ratio)
        for j, (r, al) in [(j, combos[(6 * i + j) % len(combos)]) for j in range(6)]:
            x, tx, T = CUSTOMERS[(i + j) % len(CUSTOMERS)]
            k = KS[(i + 2 * j) % len(KS)]
            for model in ("bgnbd", "mbgnbd"):
                mod = model == "mbgnbd"
                for t in TIMES:
                    yield from _bg_expectation_rows(model, (r, al, a, b), t, [(x, tx, T)])
                    yield model, "probability_of_purchases", (r, al, a, b), (0, 0, 0), t, k, (
                        lambda r=r, al=al, a=a, b=b, t=t, k=k, mod=mod: bg_pmf(r, al, a, b, t, k, mod))
                yield model, "probability_alive", (r, al, a, b), (x, tx, T), 0, 0, (
                    lambda r=r, al=al, a=a, b=b, x=x, tx=tx, T=T, mod=mod: bg_p_alive(r, al, a, b, x, tx, T, mod))
            yield from _pareto_nbd_rows(r, al, a, b, (x, tx, T), k)
    for p, q, v, x, m in itertools.product((1e-3, 0.5, 6.25, 1e3), (0.5, 1.5, 3.74, 1e3, 2.4e9), (1e-3, 15.44, 1e6, 2.6e11), (0, 1, 10, 10000), (1e-3, 20.0, 1e5)):
        if p * x + q <= 1 or (x == 0 and m != 1e-3):
            continue  # p x + q <= 1: the posterior mean spend is infinite (tested separately)
        yield "gammagamma", "expected_average_spend", (p, q, v, 0), (x, m, 0), 0, 0, (
            lambda p=p, q=q, v=v, x=x, m=m: gg_spend(p, q, v, x, m))
    # appended (so the older rows keep their places): Pareto/NBD with a small s and a tiny beta, where the fit's
    # floor of log beta (e^-600) lets it go (findings_12p Finding 3b: s = 0.0129, beta = 5.8e-24 on 500
    # zero-inflated customers; 0.0051, 2.3e-41 on another set)
    for i, (r, al, s, be) in enumerate(TINY_BETA_SETS):
        for j in range(2):
            x, tx, T = CUSTOMERS[(2 * i + j) % len(CUSTOMERS)]
            k = KS[(i + j) % len(KS)]
            yield from _pareto_nbd_rows(r, al, s, be, (x, tx, T), k)


def _bg_expectation_rows(model: str, params: tuple, t: float, customers) -> Iterator:
    """BG/NBD or MBG/NBD rows at horizon ``t``: E[X(t)] of a new customer, then E[Y(t) | x, t_x, T] of each of
    ``customers`` (the posterior is the prior with ``r + x, alpha + T, b + x``, times P(alive))."""
    r, al, a, b = params
    mod = model == "mbgnbd"
    yield model, "expected_purchases_new", (r, al, a, b), (0, 0, 0), t, 0, (
        lambda: beta_mix(r, al, a, b + (1 if mod else 0), t) * (mp.mpf(b) / (a + b) if mod else 1))
    for x, tx, T in customers:
        yield model, "expected_purchases", (r, al, a, b), (x, tx, T), t, 0, (
            lambda x=x, tx=tx, T=T:
            bg_p_alive(r, al, a, b, x, tx, T, mod) * beta_mix(r + x, al + T, a, b + x + (1 if mod else 0), t))


def long_horizon_rows():
    """The rows of the long-horizon table (``OUT_LONG``), same layout as :func:`rows`: for each of ``LONG_SETS``,
    both models, every horizon in ``LONG_TIMES``: E[X(t)] of a new customer, E[Y(t) | x, t_x, T] of each of
    ``LONG_CUSTOMERS`` and P(X(t) = k); P(alive) of each customer."""
    for i, (r, al, a, b) in enumerate(LONG_SETS):
        for model in ("bgnbd", "mbgnbd"):
            mod = model == "mbgnbd"
            for t in LONG_TIMES:
                yield from _bg_expectation_rows(model, (r, al, a, b), t, LONG_CUSTOMERS)
                k = LONG_KS[i % len(LONG_KS)]
                yield model, "probability_of_purchases", (r, al, a, b), (0, 0, 0), t, k, (
                    lambda r=r, al=al, a=a, b=b, t=t, k=k, mod=mod: bg_pmf(r, al, a, b, t, k, mod, long_horizon=True))
            for x, tx, T in LONG_CUSTOMERS:
                yield model, "probability_alive", (r, al, a, b), (x, tx, T), 0, 0, (
                    lambda r=r, al=al, a=a, b=b, x=x, tx=tx, T=T, mod=mod: bg_p_alive(r, al, a, b, x, tx, T, mod))


def main(argv: list[str] | None = None) -> None:
    """Write the table; ``--resume FILE`` first copies the complete rows of an interrupted run's
    (decompressed) CSV and computes only the rest."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resume", help="CSV (decompressed) of an interrupted run: its rows are kept, not recomputed")
    ap.add_argument("--long-horizon", action="store_true",
                    help=f"write the long-horizon BG/NBD and MBG/NBD table ({OUT_LONG.name}) instead")
    args = ap.parse_args(argv)
    out, grid = (OUT_LONG, long_horizon_rows) if args.long_horizon else (OUT, rows)
    done: list[list[str]] = []
    if args.resume:
        with open(args.resume, newline="") as fh:
            reader = list(csv.reader(fh))
        assert reader[0] == FIELDS, "not a table of this script"
        done = [row for row in reader[1:] if len(row) == len(FIELDS)]
    start = time.time()
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with gzip.open(out, "wt", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FIELDS)
        for i, (model, quantity, params, cust, t, k, compute) in enumerate(grid()):
            if i < len(done):
                assert done[i][:2] == [model, quantity], "the resumed file does not match the grid"
                w.writerow(done[i])
                n += 1
                continue
            value = mp.mpf(compute())
            log10 = mp.log10(value) if value > 0 else mp.ninf
            w.writerow([model, quantity, *[repr(float(p)) for p in params], *[repr(float(c)) for c in cust], repr(float(t)), int(k),
                        mp.nstr(value, 20, min_fixed=1, max_fixed=0), mp.nstr(log10, 20)])
            n += 1
            if n % 50 == 0:
                fh.flush()
            if n % 200 == 0:
                print(f"{n} rows, {time.time() - start:.0f} s", file=sys.stderr, flush=True)
    print(f"wrote {n} rows to {out} in {time.time() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
