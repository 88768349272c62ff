#!/usr/bin/python3
"""Reference values of delta_alg (weak-recovery threshold) and trivial constants c.

Regenerate:  /usr/bin/python3 tools/ref_alg.py > tests/data/ref_alg.json

Conventions: z ~ N(0, I_k); y = g(z) (+ noise); delta = n/d.
  k = 1, E[z|y] = 0:  delta_alg = 1 / E_y[(E[z^2|y] - 1)^2]   (arXiv 1708.05932, 1708.03395)
  general k:          delta_alg = 1 / lambda_max(F),  F(M) = E_y[G(y) M G(y)],  G = E[zz^T|y] - I
                      (arXiv 2405.15480)
  trivial part:       c = E_y[E[z|y]^2] (k = 1); one-step overlap delta c / (1 + delta c).

Each value is computed by two independent routes (see each function's docstring); the JSON entry
records both and their discrepancy. Route 1 is mpmath at 30 digits unless stated; route 2 is either
a closed form or a quadrature in a different variable (often scipy in double precision).
"""
import math
import sys

import mpmath as mp
import numpy as np
from scipy import integrate

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ref_common import Q, entry, header, phi, write  # noqa: E402

SCRIPT = "tools/ref_alg.py"
mp.mp.dps = 30

SQ2PI = math.sqrt(2 * math.pi)


def npphi(x):
    return np.exp(-0.5 * x * x) / SQ2PI


def squad(f, a, b, points=None, epsabs=1e-15, epsrel=1e-13, limit=400):
    """scipy adaptive quadrature (QUADPACK) split at the given interior points."""
    knots = [a] + sorted(p for p in (points or []) if a < p < b) + [b]
    total = 0.0
    for lo, hi in zip(knots[:-1], knots[1:]):
        v, _ = integrate.quad(f, lo, hi, epsabs=epsabs, epsrel=epsrel, limit=limit)
        total += v
    return total


# ---------------------------------------------------------------------------------------------
# k = 1, even deterministic links: conditional second moment from the explicit preimages.
# E[z^2|y] = sum_r z_r^2 w_r / sum_r w_r,  w_r = phi(z_r)/|g'(z_r)| over the positive roots z_r.
# Route Z (z-space):  1/delta = 2 int_0^inf phi(z) (m2(g(z)) - 1)^2 dz, breakpoints where the number
#                     of preimages changes (pitfalls 2-3).
# Route Y (y-space):  1/delta = int p(y) (m2(y) - 1)^2 dy, p(y) = 2 sum_r w_r; tanh-sinh handles the
#                     |y - y_c|^{-1/2} endpoint singularities at critical values.
# ---------------------------------------------------------------------------------------------

def m2_from_roots(roots):
    """roots: list of (z_r > 0, |g'(z_r)|). Returns (m2, p) with p = 2 sum w_r."""
    w = [phi(z) / d for z, d in roots]
    s = sum(w)
    return sum(z * z * wi for (z, _), wi in zip(roots, w)) / s, 2 * s


def he4_roots(y):
    # y = t^2 - 6t + 3 with t = z^2; g'(z) = 4z(t - 3), |g'| = 4 z sqrt(6 + y) for both roots.
    r = mp.sqrt(6 + y)
    out = []
    for t in (3 + r, 3 - r):
        if t > 0:
            z = mp.sqrt(t)
            out.append((z, 4 * z * r))
    return out


def he4_m2_of_z(z):
    # In z-space the preimages of g(z) are t = z^2 and t' = 6 - z^2 (if > 0): exact, no cancellation
    # in 6 + y near the minimum. The common factor 1/(4 |t - 3|) of the weights cancels.
    ts = [z * z] + ([6 - z * z] if z * z < 6 else [])
    w = [phi(mp.sqrt(t)) / mp.sqrt(t) for t in ts]
    return sum(t * wi for t, wi in zip(ts, w)) / sum(w)


def cos_roots_of_a(a, jmax=4):
    """Positive preimages of y = cos z for a = arccos(y) in [0, pi]: 2 pi j + a, 2 pi j - a."""
    zs = [2 * mp.pi * j + a for j in range(jmax)] + [2 * mp.pi * j - a for j in range(1, jmax)]
    return zs


def cos_m2_and_mass(a):
    zs = cos_roots_of_a(a)
    w = [phi(z) for z in zs]  # |g'| = |sin z| = sqrt(1 - y^2) is common to all roots
    s = sum(w)
    return sum(z * z * wi for z, wi in zip(zs, w)) / s, s


def k1_even_links():
    """Yields (id, link, noise, value, method, check, check_method, source, note)."""
    # --- bijections of z^2 on z >= 0: E[z^2|y] = z^2, 1/delta = E[(z^2-1)^2] = 2.
    bij = {
        "z2": ("z^2", lambda y: [(mp.sqrt(y), 2 * mp.sqrt(y))], [0, mp.inf]),
        "abs": ("abs(z)", lambda y: [(y, mp.mpf(1))], [0, mp.inf]),
        "z2m1": ("z^2 - 1", lambda u: [(mp.sqrt(u), 2 * mp.sqrt(u))], [-1, mp.inf]),
        "exp_mz2": ("exp(-z^2)", lambda y: [(mp.sqrt(-mp.log(y)),
                                             2 * mp.sqrt(-mp.log(y)) * y)], [0, 1]),
        "z4": ("z^4", lambda y: [(y ** mp.mpf(0.25), 4 * y ** mp.mpf(0.75))], [0, mp.inf]),
        "tanh2": ("tanh(z)^2", lambda y: [(mp.atanh(mp.sqrt(y)),
                                           2 * mp.sqrt(y) * (1 - y))], [0, 1]),
    }
    # roots are given as functions of u = y - lower end of the range (exact near that end).
    for key, (link, roots, seg) in bij.items():
        def integrand(u, roots=roots):
            m2, p = m2_from_roots(roots(u))
            return p * (m2 - 1) ** 2
        # near the lower end p(y) can be as singular as y^{-3/4} (z^4), beyond what tanh-sinh
        # resolves at 30 digits: integrate [lo, lo + 1/100] in s = log(y - lo).
        lo = seg[0]
        h = mp.mpf(1) / 100
        near = mp.quad(lambda s: integrand(mp.exp(s)) * mp.exp(s), [-mp.inf, -20, mp.log(h)])
        knots = [h] + [x for x in (1, 10, 100, 1000) if h < x < seg[1] - lo]
        inv = near + mp.quad(integrand, knots + [seg[1] - lo])
        yield (f"k1.{key}", link, "none", mp.mpf(1) / 2,
               "closed form: y is a bijection of z^2 on z >= 0, so E[z^2|y] = z^2 and "
               "1/delta = E[(z^2-1)^2] = 2",
               1 / inv, "y-space mpmath tanh-sinh of p(y)(E[z^2|y]-1)^2 with explicit preimages",
               "arXiv 1708.05932 (k=1 formula); closed form", None)

    # --- plateau links: min(z^2, a^2) and z^2 1{|z|<a} (atom), relu(z^2 - 1) (atom at 0).
    for key, link, a in (("min_z2_4", "min(z^2, 4)", mp.mpf(2)),
                         ("min_z2_2", "min(z^2, 2)", mp.sqrt(2)),
                         ("z2_cut2", "z^2*step(2 - abs(z))", mp.mpf(2))):
        q, f = Q(a), phi(a)
        i0 = 1 - 2 * q
        closed = 1 / (2 * i0 - 2 * a * f * (1 + a * a) + 2 * a * a * f * f / q)
        # numeric: z-space quadrature of the continuous part + atom with numerically integrated
        # conditional moment E[z^2 | |z| > a].
        cont = 2 * mp.quad(lambda z: phi(z) * (z * z - 1) ** 2, [0, a])
        mass = 2 * mp.quad(phi, [a, mp.inf])
        m2atom = 2 * mp.quad(lambda z: z * z * phi(z), [a, mp.inf]) / mass
        numeric = 1 / (cont + mass * (m2atom - 1) ** 2)
        yield (f"k1.{key}", link, "none", closed,
               f"closed form: atom y = plateau with E[z^2|atom] = 1 + a phi(a)/Q(a), a = "
               f"{mp.nstr(a, 8)}; 1/delta = 2(1-2Q) - 2a phi (1+a^2) + 2a^2 phi^2/Q",
               numeric, "mpmath quadrature of continuous part and of the atom's conditional moment",
               "closed form", "z^2*step(2-abs(z)) and min(z^2,4) induce the same partition: equal "
               "thresholds (invariance)" if key == "z2_cut2" else None)

    a = mp.mpf(1)
    q, f = Q(a), phi(a)
    i0 = 1 - 2 * q
    closed = 1 / (4 * f * f / i0 + 2 - 2 * i0 + 4 * f)
    mass0 = 2 * mp.quad(phi, [0, 1])
    m20 = 2 * mp.quad(lambda z: z * z * phi(z), [0, 1]) / mass0
    numeric = 1 / (mass0 * (m20 - 1) ** 2 + 2 * mp.quad(lambda z: phi(z) * (z * z - 1) ** 2,
                                                         [1, mp.inf]))
    yield ("k1.relu_z2m1", "relu(z^2 - 1)", "none", closed,
           "closed form: atom y = 0 on |z| < 1 with E[z^2|y=0] = 1 - 2 phi(1)/(1 - 2Q(1)); "
           "continuous part E[(z^2-1)^2; |z|>1]",
           numeric, "mpmath quadrature of the atom moment and of the continuous part",
           "closed form", None)

    # --- discrete quantiser sign(|z| - 1): two atoms.
    closed = 1 / (2 * f * f / q + 4 * f * f / i0)
    m_out = 2 * mp.quad(lambda z: z * z * phi(z), [1, mp.inf]) / (2 * mp.quad(phi, [1, mp.inf]))
    m_in = 2 * mp.quad(lambda z: z * z * phi(z), [0, 1]) / (2 * mp.quad(phi, [0, 1]))
    numeric = 1 / (2 * q * (m_out - 1) ** 2 + i0 * (m_in - 1) ** 2)
    yield ("k1.sign_abs_m1", "sign(abs(z) - 1)", "none", closed,
           "closed form: two atoms, E[z^2 | |z|>1] = 1 + phi(1)/Q(1), E[z^2 | |z|<1] = "
           "1 - 2phi(1)/(1-2Q(1))", numeric, "mpmath quadrature of both conditional moments",
           "closed form", None)

    # --- cos(z): infinitely many preimages, all with |g'| = sqrt(1-y^2).
    def cos_a(a):
        m2, s = cos_m2_and_mass(a)
        return s * (m2 - 1) ** 2
    inv1 = 2 * mp.quad(cos_a, [0, mp.pi / 2, mp.pi])

    def cos_z(z):
        aa = math.acos(math.cos(z))
        zs = [2 * math.pi * j + aa for j in range(4)] + [2 * math.pi * j - aa for j in range(1, 4)]
        w = [math.exp(-0.5 * t * t) for t in zs]
        m2 = sum(t * t * wi for t, wi in zip(zs, w)) / sum(w)
        return npphi(z) * (m2 - 1) ** 2
    inv2 = 2 * squad(cos_z, 0, 12 * math.pi, [j * math.pi for j in range(1, 12)])
    yield ("k1.cos", "cos(z)", "none", 1 / inv1,
           "mpmath: 2 int_0^pi sum_r phi(z_r(a)) (m2(a)-1)^2 da over the preimages "
           "z_r = 2 pi j +- a (a = arccos y)", 1 / inv2,
           "scipy QUADPACK in z-space with breakpoints at multiples of pi", None,
           "non-monotone link with infinitely many preimages")

    # --- He_4(z) = z^4 - 6 z^2 + 3: two positive preimages for y in (-6, 3), one above 3.
    inv1 = 2 * mp.quad(lambda z: phi(z) * (he4_m2_of_z(z) - 1) ** 2,
                        [0, mp.sqrt(3), mp.sqrt(6), mp.inf])

    def he4_y(y):
        m2, p = m2_from_roots(he4_roots(y))
        return p * (m2 - 1) ** 2
    inv2 = mp.quad(he4_y, [-6, 3]) + mp.quad(he4_y, [3, mp.inf])
    yield ("k1.he4", "he(4, z)", "none", 1 / inv1,
           "mpmath z-space: 2 int_0^inf phi(z)(m2(g(z))-1)^2 with breakpoints sqrt3 (minimum) and "
           "sqrt6 (g = 3: number of preimages changes)", 1 / inv2,
           "mpmath y-space tanh-sinh on (-6,3) and (3,inf) with density from the roots",
           None, "non-monotone: critical values y = -6 (z = sqrt3) and y = 3 (z = 0, sqrt6)")


# ---------------------------------------------------------------------------------------------
# k = 1 with Gaussian output noise, y = g(z) + sqrt(D) eps.
# N_j(y) = int z^j phi(z) phi_D(y - g(z)) dz;  1/delta = int (N2 - N0)^2 / N0 dy.
# ---------------------------------------------------------------------------------------------

def z2_noise_route1(D):
    """Closed-form conditional moment through parabolic cylinder functions (Gradshteyn 3.462.1):
    with x = sqrt(D)/2 - y/sqrt(D),  N0 = Gamma(1/2) D^{1/4} e^{x^2/4 - y^2/(2D)} D_{-1/2}(x)/(2 pi sqrt D),
    E[z^2|y] = (sqrt(D)/2) D_{-3/2}(x) / D_{-1/2}(x).  Outer integral by mpmath tanh-sinh."""
    D = mp.mpf(D)
    sD = mp.sqrt(D)

    def f(y):
        x = sD / 2 - y / sD
        d12 = mp.pcfd(-0.5, x)
        d32 = mp.pcfd(-1.5, x)
        n0 = mp.sqrt(mp.pi) * D ** 0.25 * mp.exp(x * x / 4 - y * y / (2 * D)) * d12 / (2 * mp.pi * sD)
        m2 = sD / 2 * d32 / d12
        return n0 * (m2 - 1) ** 2
    # Range: y < -40 sqrt(D) has p(y) < e^{-800}; y > 200 contributes < 200^2 e^{-100}: both far
    # below the 30-digit working precision of the result's 1e-25 target. (An infinite range would
    # evaluate D_nu at astronomically large arguments, where mpmath's pcfd is not reliable.)
    w = 8 * sD
    pts = [-40 * sD, -w, -sD, 0, sD, w, 1, 4, 10, 30, 80, 200]
    pts = sorted(set(pts))
    return 1 / mp.quad(f, pts)


def noisy_even_route2(g, ginv, D, ymax_extra=0.0):
    """scipy nested QUADPACK in z and y. g even, ginv(y) = positive preimage (or None)."""
    sD = math.sqrt(D)

    def moments(y):
        pts = [0.0]
        r = ginv(y)
        if r is not None:
            pts += [max(r - 6 * sD / max(abs(g(r + 1e-9) - g(r)) / 1e-9, 1e-3), 0), r,
                    r + 6 * sD / max(abs(g(r + 1e-9) - g(r)) / 1e-9, 1e-3)]
        pts = sorted(set(p for p in pts if p >= 0)) + [40.0]

        def k(z, j):
            return z ** j * npphi(z) * np.exp(-0.5 * (y - g(z)) ** 2 / D) / (sD * SQ2PI)
        n0 = 2 * squad(lambda z: k(z, 0), 0.0, 40.0, pts, epsabs=1e-300, epsrel=1e-12)
        n2 = 2 * squad(lambda z: k(z, 2), 0.0, 40.0, pts, epsabs=1e-300, epsrel=1e-12)
        return n0, n2

    def f(y):
        n0, n2 = moments(y)
        return 0.0 if n0 == 0 else (n2 - n0) ** 2 / n0
    return 1 / squad(f, -12 * sD - 1, 80.0 + ymax_extra,
                     [-4 * sD, -sD, 0.0, sD, 4 * sD, 1.0, 4.0, 10.0, 30.0], epsabs=1e-14,
                     epsrel=1e-12)


def abs_noise_route1(D):
    """|z| + N(0,D): phi(z) phi_D(y-z) = phi_{1+D}(y) N(z; mu, s^2), mu = y/(1+D), s^2 = D/(1+D),
    so N0 = 2 phi_{1+D}(y) Phi(mu/s) and E[z^2|y] = mu^2 + s^2 + mu s phi(mu/s)/Phi(mu/s)."""
    D = mp.mpf(D)

    def f(y):
        mu = y / (1 + D)
        s = mp.sqrt(D / (1 + D))
        big_phi = mp.ncdf(mu / s)
        n0 = 2 * phi(y / mp.sqrt(1 + D)) / mp.sqrt(1 + D) * big_phi
        m2 = mu * mu + s * s + mu * s * phi(mu / s) / big_phi
        return n0 * (m2 - 1) ** 2
    return 1 / mp.quad(f, [-mp.inf, -2, -0.5, 0, 0.5, 2, 6, mp.inf])


def k1_noisy_links():
    for D in ("1", "0.25", "0.01"):
        v1 = z2_noise_route1(D)
        v2 = noisy_even_route2(lambda z: z * z, lambda y: math.sqrt(y) if y > 0 else None,
                               float(D))
        yield (f"k1.z2_gauss_{D}", "z^2", f"gaussian:{D}", v1,
               "mpmath: E[z^2|y] in closed form via parabolic cylinder functions D_{-1/2}, "
               "D_{-3/2} (Gradshteyn 3.462.1), outer y-integral tanh-sinh", v2,
               "scipy nested QUADPACK: N_j(y) = int z^j phi(z) phi_D(y - z^2) dz, outer y-integral",
               "derived (references.md: Delta = 1 -> 0.646591)" if D == "1" else "derived", None)
    D = "0.25"
    v1 = abs_noise_route1(D)
    v2 = noisy_even_route2(lambda z: abs(z), lambda y: y if y > 0 else None, float(D))
    yield (f"k1.abs_gauss_{D}", "abs(z)", f"gaussian:{D}", v1,
           "mpmath: E[z^2|y] in closed form (Gaussian product, truncated-normal moments), outer "
           "tanh-sinh", v2, "scipy nested QUADPACK in z and y", "derived", None)

    # z^2 + Rademacher: y = z^2 + s, s = +-1 w.p. 1/2 (stage 1 of z1^2 + sign(z1 z2 z3)).
    def f_chi(t):
        return mp.exp(-t / 2) / mp.sqrt(2 * mp.pi * t)

    def m2_rad(y):
        br = [(y - s) for s in (1, -1) if y - s > 0]
        w = [f_chi(t) for t in br]
        return sum(t * wi for t, wi in zip(br, w)) / sum(w)
    inv1 = (mp.quad(lambda t: f_chi(t) * (m2_rad(t + 1) - 1) ** 2, [0, 1, mp.inf])
            + mp.quad(lambda t: f_chi(t) * (m2_rad(t - 1) - 1) ** 2, [0, 2, mp.inf])) / 2

    def m2_rad_f(z, s):
        # branches of y = z^2 + s: t = z^2 (own, exact) and t = z^2 + 2s (the other sign), if > 0
        br = [z * z] + ([z * z + 2 * s] if z * z + 2 * s > 0 else [])
        w = [math.exp(-(t - min(br)) / 2) / math.sqrt(t) for t in br]
        return sum(t * wi for t, wi in zip(br, w)) / sum(w)
    inv2 = sum(squad(lambda z, s=s: 2 * npphi(z) * (m2_rad_f(z, s) - 1) ** 2, 0.0, 40.0,
                     [math.sqrt(2), 1.0, 3.0]) for s in (1, -1)) / 2
    yield ("k1.z2_rademacher", "z^2 + s", "none", 1 / inv1,
           "mpmath: y = t + s, t ~ chi2_1; E[z^2|y] = sum_s (y-s) f(y-s) / sum_s f(y-s); "
           "breakpoint at y = 1 where the branch y-1 appears", 1 / inv2,
           "scipy QUADPACK in z-space, breakpoint z = sqrt2", "derived (references.md: 0.575166)",
           "stage 1 of the staircase z1^2 + sign(z1 z2 z3): sign(z1 z2 z3) is a Rademacher "
           "variable independent of z1")


def k1_trivial():
    """Trivial constants c = E_y[E[z|y]^2]."""
    # sign(z): E[z|y] = y sqrt(2/pi)
    num = (2 * mp.quad(lambda z: z * phi(z), [0, mp.inf])) ** 2
    yield ("k1.sign", "sign(z)", "none", 2 / mp.pi, "closed form 2/pi", num,
           "mpmath quadrature of E[|z|]^2", "closed form (references.md)")
    # relu: atom at 0 with E[z|z<0] = -2 phi(0); E[z|y] = y for y > 0
    num = (mp.quad(lambda z: z * phi(z), [-mp.inf, 0]) / mp.mpf(0.5)) ** 2 / 2 + \
        mp.quad(lambda z: z * z * phi(z), [0, mp.inf])
    yield ("k1.relu", "relu(z)", "none", mp.mpf(1) / 2 + 1 / mp.pi,
           "closed form 1/2 + 1/pi (atom y=0: E[z|y=0] = -sqrt(2/pi), mass 1/2; E[z^2; z>0] = 1/2)",
           num, "mpmath quadrature of atom and continuous parts", "closed form")
    # z + N(0, 1/2): E[z|y] = y/1.5, c = 1/1.5
    D = 0.5

    def ez_y(y):
        n0 = squad(lambda z: npphi(z) * npphi((y - z) / math.sqrt(D)), -12, 12, [y / 1.5])
        n1 = squad(lambda z: z * npphi(z) * npphi((y - z) / math.sqrt(D)), -12, 12, [y / 1.5])
        return n1 * n1 / n0 / math.sqrt(D)
    num = squad(ez_y, -14.0, 14.0, [0.0])
    yield ("k1.z_gauss_0.5", "z", "gaussian:0.5", mp.mpf(2) / 3, "closed form 1/(1 + Delta)",
           num, "scipy nested quadrature of E[z|y]^2 p(y)", "closed form (references.md)")

    # z^3 - 3z: up to three preimages.
    def he3_roots(y):
        y = mp.mpf(y)
        if abs(y) < 2:
            th = mp.acos(y / 2)
            return [2 * mp.cos((th - 2 * mp.pi * j) / 3) for j in range(3)]
        r = mp.sqrt(y * y / 4 - 1)
        return [mp.cbrt(y / 2 + r) + mp.cbrt(y / 2 - r) if y > 0 else
                -(mp.cbrt(-y / 2 + r) + mp.cbrt(-y / 2 - r))]

    def he3_mean(y):
        zs = he3_roots(y)
        w = [phi(z) / abs(3 * z * z - 3) for z in zs]
        return sum(z * wi for z, wi in zip(zs, w)) / sum(w), 2 * sum(w) / 2

    c1 = 2 * mp.quad(lambda z: phi(z) * he3_mean(z ** 3 - 3 * z)[0] ** 2, [0, 1, 2, mp.inf])

    def he3_y(y):
        m, p = he3_mean(y)
        return p * m * m
    c2 = 2 * (mp.quad(he3_y, [0, 2]) + mp.quad(he3_y, [2, mp.inf]))
    yield ("k1.he3", "z^3 - 3*z", "none", c1,
           "mpmath z-space with breakpoints 1 (g' = 0) and 2 (g(2) = g(-1) = 2: preimage count "
           "changes); E[z|y] from the trigonometric/Cardano roots", c2,
           "mpmath y-space tanh-sinh on (0,2), (2,inf)", "derived")
    # tanh(z): bijection, c = E[z^2] = 1
    num = mp.quad(lambda y: phi(mp.atanh(y)) / (1 - y * y) * mp.atanh(y) ** 2, [-1, 0, 1])
    yield ("k1.tanh", "tanh(z)", "none", mp.mpf(1), "closed form: bijection, E[z|y] = z", num,
           "mpmath y-space quadrature", "closed form")
    # flipped sign labels
    eps = mp.mpf("0.1")
    num = (((1 - eps) * mp.quad(lambda z: z * phi(z), [0, mp.inf]) +
            eps * mp.quad(lambda z: z * phi(z), [-mp.inf, 0])) / mp.mpf(0.5)) ** 2
    yield ("k1.sign_flip_0.1", "sign(z)", "flip:0.1", 2 / mp.pi * (1 - 2 * eps) ** 2,
           "closed form (2/pi)(1-2 eps)^2", num,
           "mpmath quadrature of E[z | y=+1] under the flip channel", "closed form")


# ---------------------------------------------------------------------------------------------
# k = 2
# ---------------------------------------------------------------------------------------------

def z1z2_A_route1():
    """A = E_y[(a(y)-1)^2], a(y) = E[z1^2 | z1 z2 = y] = |y| K1(|y|)/K0(|y|), p(y) = K0(|y|)/pi."""
    def f(y):
        k0 = mp.besselk(0, y)
        return (y * mp.besselk(1, y) - k0) ** 2 / k0
    # 20 digits: mpmath's besselk is slow at 30 digits for large arguments. The range stops at
    # y = 90, beyond which the integrand is < 90^2 e^{-90} < 1e-35.
    with mp.workdps(20):
        return 2 / mp.pi * mp.quad(f, [0, mp.mpf(1) / 16, 1, 4, 20, 90])


def quad_form_route1(r):
    """y = u^2 - r v^2 (u, v iid N(0,1), r > 0). Closed forms (derived via v = sqrt(y/r) sinh s):
    for y > 0, beta = (1+r) y / (4r):  p(y) = e^{y(1-r)/(4r)} K0(beta) / (2 pi sqrt r),
    E[v^2|y] = (y/(2r)) (K1/K0 - 1),  E[u^2|y] = y + r E[v^2|y];
    y < 0 follows from -y/r = v^2 - u^2/r (roles of u, v swapped, r -> 1/r).
    Returns the 2x2 matrix E[g_i g_j], g = (E[u^2|y]-1, E[v^2|y]-1); F's eigenvalues are its
    diagonal (eigen-matrices uu^T, vv^T) and the off-diagonal (eigen-matrix uv^T + vu^T)."""
    r = mp.mpf(r)

    def pos(y, rr):
        beta = (1 + rr) * y / (4 * rr)
        k0 = mp.besselk(0, beta)
        k1 = mp.besselk(1, beta)
        p = mp.exp(y * (1 - rr) / (4 * rr)) * k0 / (2 * mp.pi * mp.sqrt(rr))
        ev = y / (2 * rr) * (k1 / k0 - 1)
        eu = y + rr * ev
        return p, eu, ev

    def moments(y):
        if y > 0:
            return pos(y, r)
        # y < 0: w = -y/r = v^2 - (1/r) u^2 ; density of y is p_w(w)/r
        pw, ev, eu = pos(-y / r, 1 / r)
        return pw / r, eu, ev

    memo = {}

    def cached(y):
        if y not in memo:
            memo[y] = moments(y)
        return memo[y]

    # 20 digits (besselk speed). p(y) decays like e^{-y/2} for y > 0 and like e^{-|y|/(2r)} for
    # y < 0, so the range [-160 r, 160] leaves out less than 1e-30.
    ymax = 160
    ymin = -160 * r
    knots = [ymin, -10, -1, -mp.mpf(1) / 16, 0, mp.mpf(1) / 16, 1, 10, ymax]
    out = {}
    with mp.workdps(20):
        for key, fn in (("uu", lambda gu, gv: gu * gu), ("vv", lambda gu, gv: gv * gv),
                        ("uv", lambda gu, gv: gu * gv)):
            def f(y, fn=fn):
                p, eu, ev = cached(y)
                return p * fn(eu - 1, ev - 1)
            out[key] = mp.quad(f, knots)
    return out


NODES_PER_PANEL = 64


def quad_form_route2(b11, b12):
    """Direct route in the original coordinates, no eigen-decomposition, no Bessel functions:
    y = b11 z1^2 + 2 b12 z1 z2 (b12 != 0), so z2 = (y - b11 z1^2)/(2 b12 z1) on the level curve and
    the joint density of (z1, y) is phi(z1) phi(z2)/|2 b12 z1|. The conditional moments E[zz^T|y]
    are 1-D integrals over z1 (scipy quad_vec in s = log|z1|), F = E_y[G (.) G] is assembled as a
    3x3 matrix on Sym_2 in the orthonormal basis (E11, E22, (E12+E21)/sqrt2) and diagonalised."""
    gx, gw = np.polynomial.legendre.leggauss(NODES_PER_PANEL)

    def inner(y):
        # fixed Gauss-Legendre panels in s = log|z1|, both signs of z1; the panels follow the
        # scale sqrt|y| where the level curve turns.
        c = 0.5 * math.log(abs(y)) if y != 0 else -40.0
        knots = sorted(set([-45.0, c - 6, c - 3, c - 1.5, c - 0.5, c, c + 0.5, c + 1.5, -3.0,
                            -1.0, 0.0, 1.0, 2.0, math.log(40.0)]))
        knots = [k for k in knots if -45.0 <= k <= math.log(40.0)]
        s_nodes, s_w = [], []
        for lo, hi in zip(knots[:-1], knots[1:]):
            s_nodes.append((hi - lo) / 2 * gx + (hi + lo) / 2)
            s_w.append((hi - lo) / 2 * gw)
        s_nodes = np.concatenate(s_nodes)
        s_w = np.concatenate(s_w)
        tot = np.zeros(4)
        for sign in (1.0, -1.0):
            z1 = sign * np.exp(s_nodes)
            z2 = (y - b11 * z1 * z1) / (2 * b12 * z1)
            k = s_w * npphi(z1) * npphi(z2) / abs(2 * b12)  # |z1| cancels ds = dz1/|z1|
            tot += np.array([k.sum(), (k * z1 * z1).sum(), (k * z1 * z2).sum(),
                             (k * z2 * z2).sum()])
        p = tot[0]
        G = np.array([[tot[1] / p - 1, tot[2] / p], [tot[2] / p, tot[3] / p - 1]])
        return p, G

    basis = [np.array([[1.0, 0], [0, 0]]), np.array([[0, 0], [0, 1.0]]),
             np.array([[0, 1.0], [1.0, 0]]) / math.sqrt(2)]

    def fmat(y):
        p, G = inner(y)
        m = np.zeros((3, 3))
        for j, B in enumerate(basis):
            img = G @ B @ G
            for i, A in enumerate(basis):
                m[i, j] = np.sum(A * img)
        return (p * m).ravel()

    Fm = np.zeros(9)
    for lo, hi in ((-60.0, -4.0), (-4.0, -0.25), (-0.25, -1e-3), (-1e-3, 0.0), (0.0, 1e-3),
                   (1e-3, 0.25), (0.25, 4.0), (4.0, 80.0)):
        v, _ = integrate.quad_vec(fmat, lo, hi, epsabs=1e-13, epsrel=1e-11, limit=400)
        Fm += v
    Fm = Fm.reshape(3, 3)
    Fm = (Fm + Fm.T) / 2
    return np.linalg.eigvalsh(Fm), Fm


def k2_entries():
    A1 = z1z2_A_route1()
    ev2, _ = quad_form_route2(0.0, 0.5)
    A2 = max(ev2) - 1
    yield dict(id="k2.z1z2", link="z1*z2", k=2, noise="none", value=1 / (1 + A1),
               method="mpmath: delta = 1/(1 + A), A = (2/pi) int_0^inf (yK1 - K0)^2/K0 dy "
                      "(a(y) = |y|K1/K0, p(y) = K0/pi); F eigenvalues 1+A (eigen-matrices "
                      "(e1+-e2)(e1+-e2)^T), A-1 (off-diagonal)",
               check=1 / (1 + A2),
               check_method="scipy, no Bessel functions: conditional moments along the level "
                            "curve z2 = y/z1 by 1-D quadrature, 3x3 matrix of F on Sym_2, "
                            "numpy eigvalsh (route of quad_form_route2)",
               source="references.md: 0.593751098 (closed form + quadrature)")
    yield dict(id="k2.abs_z1z2", link="abs(z1*z2)", k=2, noise="none", value=1 / A1,
               method="mpmath: G = (a-1) I, delta = 1/A (same A as k2.z1z2)", check=1 / A2,
               check_method="same as k2.z1z2 route 2",
               source="identity 1/delta(z1z2) = 1 + 1/delta(|z1z2|) (references.md)")
    yield dict(id="k2.z1z2_resample_0.3", link="z1*z2", k=2, noise="resample:0.3",
               value=1 / (1 + A1) / mp.mpf("0.49"),
               method="closed form delta_clean/(1-eps)^2 with delta_clean from k2.z1z2 route 1",
               check=1 / (1 + A2) / 0.49, check_method="same with delta_clean from route 2",
               source="closed form (references.md)")
    S1 = 2 * mp.quad(lambda z: z * phi(z), [0, mp.inf])
    yield dict(id="k2.sign_z1z2", link="sign(z1*z2)", k=2, noise="none", value=mp.pi ** 2 / 4,
               method="closed form: G(s) = (2s/pi) [[0,1],[1,0]], lambda_max(F) = 4/pi^2",
               check=1 / (S1 * S1) ** 2,
               check_method="mpmath quadrature of E|z1 z2| = E|z|^2, delta = 1/E|z1z2|^2",
               source="closed form (references.md)")
    eps = mp.mpf("0.1")
    yield dict(id="k2.sign_z1z2_flip_0.1", link="sign(z1*z2)", k=2, noise="flip:0.1",
               value=mp.pi ** 2 / 4 / (1 - 2 * eps) ** 2,
               method="closed form: flips multiply G by (1 - 2 eps): delta = pi^2/(4(1-2eps)^2)",
               check=1 / ((1 - 2 * eps) * S1 * S1) ** 2,
               check_method="mpmath E|z1z2| with flip-channel conditional mean (1-2eps)E|z1z2|",
               source="closed form")
    # z1^2 + z2^2 (chi2_2): delta = k/2
    num = mp.quad(lambda y: mp.exp(-y / 2) / 2 * (y / 2 - 1) ** 2, [0, mp.inf])
    yield dict(id="k2.z1sq_plus_z2sq", link="z1^2 + z2^2", k=2, noise="none", value=mp.mpf(1),
               method="closed form k/2: G = (y/k - 1) I, F = E[(y/k-1)^2] = 2/k",
               check=1 / num, check_method="mpmath quadrature over the chi2_2 density",
               source="closed form (references.md)")
    # z1^2 - z2^2 = 2 * (rotated z1 z2): quadratic-form route with r = 1
    qf = quad_form_route1(1)
    yield dict(id="k2.z1sq_minus_z2sq", link="z1^2 - z2^2", k=2, noise="none",
               value=1 / (1 + A1),
               method="equal to k2.z1z2 by rotation (z1^2 - z2^2 = 2 u v with u,v = (z1+-z2)/sqrt2)",
               check=1 / qf["uu"],
               check_method="mpmath: quadratic-form closed forms for y = u^2 - r v^2 with r = 1 "
                            "(Bessel K0, K1 with argument y/2)",
               source="rotation invariance (references.md)")
    # non-symmetric quadratic forms: full F spectrum
    for id_, link, b11, b12 in (("k2.z1sq_plus_z1z2", "z1^2 + z1*z2", 1.0, 0.5),
                                ("k2.z1z2_plus_half_z1sq", "z1*z2 + 0.5*z1^2", 0.5, 0.5)):
        # eigenvalues of B = [[b11, b12],[b12, 0]]
        tr, det = b11, -b12 * b12
        l1 = (tr + math.sqrt(tr * tr - 4 * det)) / 2
        # r = -l2/l1 with l1,2 = (b11 +- sqrt(b11^2 + 4 b12^2))/2, in full precision
        rr = (mp.sqrt(mp.mpf(b11) ** 2 + 4 * mp.mpf(b12) ** 2) - b11) / \
             (mp.sqrt(mp.mpf(b11) ** 2 + 4 * mp.mpf(b12) ** 2) + b11)
        qf = quad_form_route1(rr)
        ev1 = sorted([qf["uu"], qf["vv"], qf["uv"]], reverse=True)
        ev2, Fm = quad_form_route2(b11, b12)
        ev2 = sorted(ev2, reverse=True)
        # eigenvector of B for l1 (direction u)
        u = np.array([b12, l1 - b11]) if abs(b12) > 0 else np.array([1.0, 0.0])
        u /= np.linalg.norm(u)
        top_is_u = qf["uu"] >= qf["vv"]
        yield dict(id=id_, link=link, k=2, noise="none", value=1 / ev1[0],
                   method="mpmath: eigenbasis of the quadratic form, y/l1 = u^2 - r v^2 with "
                          f"r = {mp.nstr(rr, 12)}; E[u^2|y], E[v^2|y] in closed form (Bessel K0,K1); "
                          "F eigenvalues E[g_u^2], E[g_v^2], E[g_u g_v]",
                   check=1 / ev2[0],
                   check_method="scipy: conditional moments along the level curve in the original "
                                "z coordinates, 3x3 matrix of F on Sym_2, numpy eigvalsh",
                   source="derived",
                   F_eigenvalues=[float(x) for x in ev1],
                   F_eigenvalues_check=[float(x) for x in ev2],
                   top_eigenmatrix_direction=[float(x) for x in (u if top_is_u else
                                                                 np.array([-u[1], u[0]]))],
                   note="F eigen-matrices: u u^T, v v^T and (u v^T + v u^T)/sqrt2 where u, v are the "
                        "eigenvectors of the quadratic form (u for its positive eigenvalue); "
                        "top_eigenmatrix_direction w means eigen-matrix w w^T. Given u, v^2 is "
                        "determined by y, so a second stage (if any) is the k=1 z^2 case, delta 0.5.")


def k3_entries(stage1=None):
    num = mp.quad(lambda y: mp.sqrt(y) * mp.exp(-y / 2) / mp.sqrt(2 * mp.pi) * (y / 3 - 1) ** 2,
                  [0, mp.inf])
    yield dict(id="k3.z1sq_z2sq_z3sq", link="z1^2 + z2^2 + z3^2", k=3, noise="none",
               value=mp.mpf(3) / 2, method="closed form k/2", check=1 / num,
               check_method="mpmath quadrature over the chi2_3 density", source="closed form")
    yield dict(id="k3.sign_z1z2z3", link="sign(z1*z2*z3)", k=3, noise="none", value=math.inf,
               method="closed form: s = sign(z1) sign(z2 z3) is independent of each z_i and of "
                      "each product z_i z_j, so E[z|y] = 0 and G = 0: all directions hard",
               check=math.inf, check_method="symmetry argument (sign flips of pairs)",
               source="closed form (references.md)")
    if stage1 is not None:
        yield dict(id="k3.staircase_stage1", link="z1^2 + sign(z1*z2*z3)", k=3, noise="none",
                   value=stage1[0], method="stage 1 = k1.z2_rademacher: sign(z1 z2 z3) is a "
                   "Rademacher variable independent of z1, and by sign-flip symmetry G(y) = "
                   "diag(E[z1^2|y] - 1, 0, 0); " + stage1[1], check=stage1[2],
                   check_method=stage1[3], source="references.md: 0.575166", stage=1,
                   note="delta_alg of this link is the stage-1 value (first stage needing delta > 0)")
    S1 = 2 * mp.quad(lambda z: z * phi(z), [0, mp.inf])
    yield dict(id="k3.staircase_stage2", link="z1^2 + sign(z1*z2*z3)", k=3, noise="none",
               value=mp.pi ** 2 / 4,
               method="closed form: given y and z1 exactly, sign(z2 z3) = (y - z1^2) sign(z1) is "
                      "known, so the (z2,z3) channel is exactly sign(z2 z3): delta = pi^2/4",
               check=1 / (S1 * S1) ** 2, check_method="mpmath E|z2 z3| = 2/pi",
               source="derived; exactly pi^2/4 under perfect knowledge of z1 (see ref_se.json "
                      "for the stage-2 onset along GAMP with partial knowledge of z1)",
               stage=2)


def noise_transforms():
    """erase / resample from closed forms, checked by direct quadrature of the noisy channel."""
    for eps in ("0.2", "0.5"):
        e = mp.mpf(eps)
        # erase: missing labels carry G = 0: F -> (1-eps) F
        num = (1 - e) * mp.quad(lambda z: 2 * phi(z) * (z * z - 1) ** 2, [0, mp.inf])
        yield dict(id=f"k1.z2_erase_{eps}", link="z^2", k=1, noise=f"erase:{eps}",
                   value=mp.mpf(1) / 2 / (1 - e), method="closed form delta_clean/(1-eps)",
                   check=1 / num,
                   check_method="mpmath: (1-eps) E[(z^2-1)^2] (erased labels have G = 0)",
                   source="closed form (references.md)")
        # resample: E[z^2|y'] = (1-eps) y' + eps, y' has the clean marginal
        num = mp.quad(lambda z: 2 * phi(z) * ((1 - e) * z * z + e - 1) ** 2, [0, mp.inf])
        yield dict(id=f"k1.z2_resample_{eps}", link="z^2", k=1, noise=f"resample:{eps}",
                   value=mp.mpf(1) / 2 / (1 - e) ** 2,
                   method="closed form delta_clean/(1-eps)^2",
                   check=1 / num,
                   check_method="mpmath: posterior of the mixture channel gives E[z^2|y'] = "
                                "(1-eps) y' + eps; quadrature of (that - 1)^2",
                   source="closed form (references.md)")


def main():
    doc = header(SCRIPT, "delta_alg (weak-recovery threshold) and trivial constants c = "
                         "E_y[E[z|y]^2] for k = 1, 2, 3 links",
                 "z ~ N(0, I_k); delta = n/d; delta_alg = 1/lambda_max(F), F(M) = E_y[G M G], "
                 "G = E[zz^T|y] - I (arXiv 2405.15480); k=1: 1/E_y[(E[z^2|y]-1)^2] "
                 "(arXiv 1708.05932). Link strings use the project's expression syntax "
                 "(muParser + he(n,x), relu, step); noise strings the Noise::parse syntax. "
                 "value 'inf' = no direction learnable at n ~ d.")
    E = doc["entries"]
    for (id_, link, noise, v, m, c, cm, src, note) in k1_even_links():
        e = entry(SCRIPT, id_, "delta_alg", v, m, c, cm, src, link=link, k=1, noise=noise)
        if note:
            e["note"] = note
        E.append(e)
    stage1 = None
    for (id_, link, noise, v, m, c, cm, src, note) in k1_noisy_links():
        e = entry(SCRIPT, id_, "delta_alg", v, m, c, cm, src, link=link, k=1, noise=noise)
        if id_ == "k1.z2_rademacher":
            stage1 = (v, m, c, cm)
            e["expressible"] = False  # s is not a function of z: no link/noise string for it
        if note:
            e["note"] = note
        E.append(e)
    for (id_, link, noise, v, m, c, cm, src) in k1_trivial():
        e = entry(SCRIPT, id_, "trivial_c", v, m, c, cm, src, link=link, k=1, noise=noise)
        e["note"] = ("delta_alg = 0 (trivial direction); overlap after one linear/GAMP step is "
                     "delta c / (1 + delta c)")
        E.append(e)
    for gen in (k2_entries(), k3_entries(stage1), noise_transforms()):
        for d in gen:
            d = dict(d)
            extra = {k: d.pop(k) for k in list(d) if k not in
                     ("id", "value", "method", "check", "check_method", "source", "link", "k",
                      "noise")}
            e = entry(SCRIPT, d["id"], "delta_alg", d["value"], d["method"], d["check"],
                      d["check_method"], d.get("source"), link=d["link"], k=d["k"],
                      noise=d["noise"])
            e.update(extra)
            E.append(e)
    write(doc, sys.argv[1] if len(sys.argv) > 1 else None)


if __name__ == "__main__":
    main()
