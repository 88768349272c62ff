#!/usr/bin/python3
"""Reference values for spectral methods D = (1/n) sum_i T(y_i) x_i x_i^T, y = z^2.

Regenerate:  /usr/bin/python3 tools/ref_spectral.py > tests/data/ref_spectral.json

Formulas (Lu & Li arXiv 1702.06435; Mondelli & Montanari arXiv 1708.05932, Lemma 2 and Thm 1;
Luo, Alghamdi & Lu arXiv 1811.04420), with Z_y = E[z^2|y] (= y here), tau = sup T:
  A(l) = E[T^2/(l-T)^2],  B(l) = E[T (Z_y - 1)/(l-T)],  C(l) = E[T^2 Z_y/(l-T)^2]
  l_bar = tau if A(tau+) <= 1/delta, else the root of A(l_bar) = 1/delta on (tau, inf)
  outlier iff B(l_bar) > 1/delta;  l* solves B(l*) = 1/delta on (l_bar, inf)
  squared overlap = (1/delta - A(l*)) / (1/delta - A(l*) + C(l*))
l is MM's auxiliary variable (science.md's "lambda"). The eigenvalues of D itself are
  psi_delta(l) = l (1/delta + E[T/(l-T)]):  top eigenvalue psi_delta(l*), right bulk edge
  psi_delta(l_bar)  (MM Lemma 2; for T = 1 it gives the Marchenko-Pastur edge (1 + delta^{-1/2})^2).
Both are recorded: `lambda_star`, `lambda_bar` (auxiliary) and `top_eigenvalue`, `bulk_edge` (of D).
Threshold delta_T: smallest delta with B(l_bar(delta)) > 1/delta; when A(tau+) = inf it is where
A(l) = B(l), delta = 1/A(l).

Route 1: mpmath (30 digits) in z-space, E[f(y)] = 2 int_0^inf phi(z) f(z^2) dz, roots by mpmath
findroot with brackets. Route 2: scipy in y-space with the chi^2_1 density (QUADPACK with the
algebraic weight y^{-1/2} at 0), roots by Brent. They share no code.
"""
import math
import sys

import mpmath as mp
from scipy import integrate, optimize

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ref_common import entry, header, phi, write  # noqa: E402

SCRIPT = "tools/ref_spectral.py"
mp.mp.dps = 30


class Preproc:
    """T(y) through the stable ratio r(l, y) = T/(l - T), which is all the formulas need:
    A = E[r^2], B = E[r (y-1)], C = E[r^2 y], E[T/(l-T)] = E[r] (y = Z_y for y = z^2).
    tau = sup T; atom_at_tau: T = tau on a set of positive mass; kinks: y where T is not smooth.
    r_mp / r_f: mpmath and float versions (written separately for the two routes)."""

    def __init__(self, name, expr, r_mp, r_f, tau, atom_at_tau, kinks):
        self.name, self.expr, self.r_mp, self.r_f = name, expr, r_mp, r_f
        self.tau, self.atom_at_tau, self.kinks = tau, atom_at_tau, kinks


def opt():
    # T = 1 - 1/y:  T/(l-T) = (y-1)/((l-1) y + 1)
    return Preproc("opt", "1 - 1/y", lambda l, y: (y - 1) / ((l - 1) * y + 1),
                   lambda l, y: (y - 1) / ((l - 1) * y + 1), 1, False, [])


def mm(delta):
    # T = (y-1)/(y+c), c = sqrt(2 delta) - 1:  T/(l-T) = (y-1)/((l-1)(y+c) + c + 1)
    c = math.sqrt(2 * delta) - 1
    cm = mp.sqrt(2 * mp.mpf(delta)) - 1
    return Preproc("mm", f"(y - 1)/(y + sqrt(2*{delta}) - 1)",
                   lambda l, y: (y - 1) / ((l - 1) * (y + cm) + cm + 1),
                   lambda l, y: (y - 1) / ((l - 1) * (y + c) + c + 1), 1, False, [])


def trim2():
    return Preproc("min_y_2", "min(y, 2)", lambda l, y: min(y, 2) / (l - min(y, 2)),
                   lambda l, y: min(y, 2.0) / (l - min(y, 2.0)), 2, True, [2])


def ind2():
    return Preproc("ind_y_gt_2", "step(y - 2)", lambda l, y: (1 / (l - 1)) if y > 2 else 0,
                   lambda l, y: (1 / (l - 1)) if y > 2 else 0.0, 1, True, [2])


# ---- route 1: mpmath, z-space -------------------------------------------------------------

def E1(P, l, f):
    """E over z ~ N(0,1) of f(y, r(l, y)), y = z^2."""
    pts = [0] + [mp.sqrt(k) for k in P.kinks] + [1, 3, mp.inf]
    pts = sorted(set(pts), key=lambda t: float(t))
    return 2 * mp.quad(lambda z: phi(z) * f(z * z, P.r_mp(l, z * z)), pts)


def A1(P, l):
    return E1(P, l, lambda y, r: r * r)


def B1(P, l):
    return E1(P, l, lambda y, r: r * (y - 1))


def C1(P, l):
    return E1(P, l, lambda y, r: r * r * y)


def psi1(P, l, d):
    return l * (1 / d + E1(P, l, lambda y, r: r))


def bracket_right(g, lo, step=1.0):
    """Finds hi > lo with g(hi) < 0 (g decreasing, g(lo) > 0)."""
    hi = lo + step
    while g(hi) > 0:
        hi = lo + 2 * (hi - lo)
    return hi


def mp_root(g, lo, hi):
    """Bracketed root (Anderson-Bjorck via mpmath findroot) with 30-digit arithmetic."""
    return mp.findroot(g, (mp.mpf(lo), mp.mpf(hi)), solver="anderson")


def solve1(P, delta):
    d = mp.mpf(delta)
    tau = mp.mpf(P.tau)
    if P.name == "mm":
        lbar = tau  # A(1+) = E[(y-1)^2]/(2 delta) = 1/delta exactly: boundary case, l_bar = tau
    elif not P.atom_at_tau and A1(P, tau) <= 1 / d:
        lbar = tau
    else:
        lo = tau + mp.mpf(10) ** -12
        hi = bracket_right(lambda l: float(A1(P, l) - 1 / d), lo)
        lbar = mp_root(lambda l: A1(P, l) - 1 / d, lo, hi)
    out = {"lambda_bar": lbar, "bulk_edge": psi1(P, lbar, d)}
    out["outlier"] = bool(B1(P, lbar) > 1 / d)
    if out["outlier"]:
        lo = lbar + (mp.mpf(10) ** -12 if lbar == tau else 0)
        hi = bracket_right(lambda l: float(B1(P, l) - 1 / d), lo)
        ls = mp_root(lambda l: B1(P, l) - 1 / d, lo, hi)
        A, C = A1(P, ls), C1(P, ls)
        out.update(lambda_star=ls, top_eigenvalue=psi1(P, ls, d),
                   overlap=(1 / d - A) / (1 / d - A + C))
    return out


# ---- route 2: scipy, y-space -----------------------------------------------------------------

def E2(P, l, f):
    """E over y ~ chi^2_1 (density y^{-1/2} e^{-y/2}/sqrt(2 pi)) of f(y, r(l, y)); the y^{-1/2}
    factor is QUADPACK's algebraic weight on [0, 1]."""
    g = lambda y: f(y, P.r_f(l, y)) * math.exp(-y / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    v, _ = integrate.quad(g, 0.0, 1.0, weight="alg", wvar=(-0.5, 0.0), epsabs=1e-15,
                          epsrel=1e-13, limit=200)
    knots = sorted(set([1.0] + [k for k in P.kinks if k > 1] + [4.0, 10.0, 30.0, 200.0]))
    for lo, hi in zip(knots[:-1], knots[1:]):
        v += integrate.quad(lambda y: g(y) / math.sqrt(y), lo, hi, epsabs=1e-15, epsrel=1e-13,
                            limit=200)[0]
    return v


def solve2(P, delta):
    tau = float(P.tau)
    A = lambda l: E2(P, l, lambda y, r: r * r)  # noqa: E731
    B = lambda l: E2(P, l, lambda y, r: r * (y - 1))  # noqa: E731
    C = lambda l: E2(P, l, lambda y, r: r * r * y)  # noqa: E731
    psi = lambda l: l * (1 / delta + E2(P, l, lambda y, r: r))  # noqa: E731
    if P.name == "mm":
        lbar = tau
    elif not P.atom_at_tau and A(tau) <= 1 / delta:
        lbar = tau
    else:
        lo = tau + 1e-12
        if A(lo) <= 1 / delta:  # root within 1e-12 of tau (delta at the threshold)
            lbar = lo
        else:
            hi = bracket_right(lambda l: A(l) - 1 / delta, lo)
            lbar = optimize.brentq(lambda l: A(l) - 1 / delta, lo, hi, xtol=1e-15, rtol=1e-15)
    out = {"lambda_bar": lbar, "bulk_edge": psi(lbar)}
    out["outlier"] = bool(B(lbar) > 1 / delta)
    if out["outlier"]:
        lo = lbar + (1e-12 if lbar == tau else 0)
        hi = bracket_right(lambda l: B(l) - 1 / delta, lo)
        ls = optimize.brentq(lambda l: B(l) - 1 / delta, lo, hi, xtol=1e-15, rtol=1e-15)
        a = A(ls)
        out.update(lambda_star=ls, top_eigenvalue=psi(ls),
                   overlap=(1 / delta - a) / (1 / delta - a + C(ls)))
    return out


def threshold_atom(P, route):
    """A(tau+) = inf (atom at tau): the threshold is where A(l) = B(l) (A - B > 0 near tau where A
    blows up, < 0 far away where A ~ 1/l^2 and B ~ 1/l); then delta = 1/A(l)."""
    tau = P.tau
    if route == 1:
        g = lambda l: A1(P, l) - B1(P, l)  # noqa: E731
        lo = mp.mpf(tau) + mp.mpf(10) ** -6
        hi = bracket_right(lambda l: float(g(l)), lo)
        l = mp_root(g, lo, hi)
        return 1 / A1(P, l), l
    A = lambda l: E2(P, l, lambda y, r: r * r)  # noqa: E731
    B = lambda l: E2(P, l, lambda y, r: r * (y - 1))  # noqa: E731
    lo = tau + 1e-6
    hi = bracket_right(lambda l: A(l) - B(l), lo)
    l = optimize.brentq(lambda l: A(l) - B(l), lo, hi, xtol=1e-15, rtol=1e-15)
    return 1 / A(l), l


def main():
    doc = header(SCRIPT, "Spectral-method predictions for y = z^2: top eigenvalue, bulk edge, "
                         "squared overlap, thresholds",
                 "D = (1/n) sum_i T(y_i) x_i x_i^T, x_i ~ N(0, I_d), delta = n/d; y = z^2. "
                 "lambda_bar, lambda_star: MM's auxiliary variable (science.md A/B/C convention); "
                 "bulk_edge = psi_delta(lambda_bar), top_eigenvalue = psi_delta(lambda_star) are "
                 "eigenvalues of D, psi_delta(l) = l (1/delta + E[T/(l-T)]). T is written in the "
                 "project's expression syntax in `T`.")
    E = doc["entries"]
    refs = {("opt", 1): "references.md: 0.23070", ("opt", 2): "references.md: 0.63888",
            ("opt", 5): "references.md: 0.95696", ("mm", 1): "references.md: 0.20604",
            ("mm", 2): "references.md: 0.48582"}
    cases = [(opt, d) for d in (1, 2, 5)] + [(lambda d=d: mm(d), d) for d in (1, 2)] + \
            [(trim2, d) for d in (2, 4)] + [(ind2, d) for d in (2,)]
    for mk, d in cases:
        P = mk()
        r1, r2 = solve1(P, d), solve2(P, d)
        assert r1["outlier"] == r2["outlier"]
        for key in ("lambda_bar", "bulk_edge", "lambda_star", "top_eigenvalue", "overlap"):
            if key not in r1:
                continue
            E.append(entry(SCRIPT, f"spectral.z2.{P.name}.delta_{d}.{key}", key, r1[key],
                           "mpmath z-space quadrature (30 digits), mpmath findroot",
                           r2[key], "scipy y-space QUADPACK with chi2_1 weight, Brent roots",
                           refs.get((P.name, d), "derived") if key == "overlap" else
                           "derived (MM Lemma 2)", link="z^2", T=P.expr, delta=d,
                           outlier=r1["outlier"]))
    # thresholds
    for P, closed, how in ((opt(), mp.mpf(1) / 2,
                            "closed form: A(1+) = B(1+) = E[(y-1)^2] = 2, and B > A for l > 1, so "
                            "an outlier exists iff delta > 1/2 = delta_alg"),):
        g = lambda dd: (lambda r: (r["outlier"]))(solve2(P, dd))  # noqa: E731
        lo, hi = 0.3, 1.0
        for _ in range(30):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if g(mid) else (mid, hi)
        E.append(entry(SCRIPT, f"spectral.z2.{P.name}.threshold", "delta_threshold", closed, how,
                       (lo + hi) / 2, "bisection (30 steps) on the outlier condition, route 2",
                       "Luo-Alghamdi-Lu arXiv 1811.04420; equals delta_alg", link="z^2",
                       T=P.expr))
    E.append(entry(SCRIPT, "spectral.z2.mm.threshold", "delta_threshold", mp.mpf(1) / 2,
                   "closed form: l_bar = 1 (A(1+) = 1/delta exactly) and B(1) = sqrt(2/delta) > "
                   "1/delta iff delta > 1/2", mp.mpf(1) / 2, "same argument (T depends on delta)",
                   "Mondelli-Montanari arXiv 1708.05932", link="z^2",
                   T="(y - 1)/(y + sqrt(2*delta) - 1)"))
    P = trim2()
    d1, l1 = threshold_atom(P, 1)
    d2, l2 = threshold_atom(P, 2)
    E.append(entry(SCRIPT, "spectral.z2.min_y_2.threshold", "delta_threshold", d1,
                   "mpmath: root of A(l) = B(l) on (2, inf), delta = 1/A", d2, "scipy, same equation",
                   "references.md: 1.05743", link="z^2", T=P.expr, lambda_at_threshold=float(l1)))
    P = ind2()
    closed = mp.pi * mp.e ** 2 / 4 * mp.erfc(1)
    d1, l1 = threshold_atom(P, 2)
    E.append(entry(SCRIPT, "spectral.z2.ind_y_gt_2.threshold", "delta_threshold", closed,
                   "closed form (pi e^2/4) erfc(1): with p = P(y>2), m = E[y|y>2], A = p/(l-1)^2, "
                   "B = p(m-1)/(l-1), A = B at l-1 = 1/(m-1), delta = 1/(p (m-1)^2)", d1,
                   "scipy quadrature + root of A = B", "references.md: 0.91286", link="z^2",
                   T=P.expr))
    write(doc, sys.argv[1] if len(sys.argv) > 1 else None)


if __name__ == "__main__":
    main()
