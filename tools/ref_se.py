#!/usr/bin/python3
"""Reference values of Bayes-GAMP state evolution (Gaussian prior), k = 1.

Regenerate:  /usr/bin/python3 tools/ref_se.py > tests/data/ref_se.json

Conventions (science.md): z ~ N(0,1), omega ~ N(0, q), z | omega ~ N(omega, V), V = 1 - q;
  g_out(y, omega, V) = (E[z | y, omega, V] - omega) / V,   h(q) = E[g_out^2],
  q_{t+1} = delta h(q_t) / (1 + delta h(q_t)),   psi(q) = q / ((1 - q) h(q)),
  delta_alg = psi(0+),  q*(delta) = inf{q : psi(q) >= delta} (1 if psi < delta on (0,1)),
  GAMP full-recovery (spinodal) threshold = sup psi.
Two routes for h, sharing no code:
  direct:      h = E[(E[z|y,omega] - omega)^2] / V^2
  Nishimori:   h = (V - E[Var(z | y, omega)]) / V^2      (pitfall 8: features of width V near q -> 1)
"""
import math
import sys

import mpmath as mp
import numpy as np
from scipy import integrate, optimize, special

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ref_common import entry, header, write  # noqa: E402

SCRIPT = "tools/ref_se.py"
SQ2PI = math.sqrt(2 * math.pi)
GLX, GLW = np.polynomial.legendre.leggauss(32)


def panels(knots):
    """Gauss-Legendre (32 nodes) on each interval between consecutive sorted knots."""
    k = np.unique(np.asarray(knots, dtype=float))
    lo, hi = k[:-1], k[1:]
    x = ((hi - lo)[:, None] / 2 * GLX[None, :] + (hi + lo)[:, None] / 2).ravel()
    w = ((hi - lo)[:, None] / 2 * GLW[None, :]).ravel()
    return x, w


def sech2(x):
    """1/cosh^2 without overflow (pitfall 7)."""
    e = np.exp(-2 * np.abs(x))
    return 4 * e / (1 + e) ** 2


# ------------------------------------------------------------------------------------------
# y = |z|: posterior of z given (y, omega) sits on {+y, -y} with odds e^{2 y omega / V}:
# E[z|y,omega] = y tanh(y omega/V),  Var(z|y,omega) = y^2 sech^2(y omega / V).
# ------------------------------------------------------------------------------------------

def h_abs_nishimori(q):
    """numpy Gauss-Legendre panels; outer omega >= 0 (joint sign symmetry), inner z | omega with
    knots at 0, +-{1,3,10,30} V/omega (width of the sech^2 feature) and at omega."""
    V = 1 - q
    sq, sV = math.sqrt(q), math.sqrt(V)
    top = 14 * sq
    ok = [0.0, top] + [c * sV for c in (0.125, 0.25, 0.5, 1, 2, 4, 8) if c * sV < top]
    wx, ww = panels(ok)
    total = 0.0
    for om, wo in zip(wx, ww):
        lo, hi = om - 14 * sV, om + 14 * sV
        kn = [lo, hi, om] + [s * c * V / om for c in (1, 3, 10, 30) for s in (-1, 1)] + [0.0]
        kn = [t for t in kn if lo <= t <= hi]
        zx, zw = panels(kn)
        dens = np.exp(-0.5 * (zx - om) ** 2 / V) / (sV * SQ2PI)
        inner = np.sum(zw * dens * zx * zx * sech2(zx * om / V))
        total += wo * math.exp(-0.5 * om * om / q) / (sq * SQ2PI) * inner
    evar = 2 * total
    return (V - evar) / V ** 2


def h_abs_direct(q):
    """scipy nested QUADPACK; outer z >= 0 (joint sign symmetry), inner omega | z ~ N(qz, qV)."""
    V = 1 - q
    s = math.sqrt(q * V)

    def inner(z):
        c = q * z

        def f(om):
            return math.exp(-0.5 * ((om - c) / s) ** 2) / (s * SQ2PI) * \
                (z * math.tanh(z * om / V) - om) ** 2
        lo, hi = c - 14 * s, c + 14 * s
        pts = sorted(set(t for t in ([c, 0.0] + ([sg * k * V / z for k in (1, 4) for sg in (-1, 1)]
                                                 if z > 0 else []))
                         if lo < t < hi))
        v, _ = integrate.quad(f, lo, hi, points=pts or None, epsabs=1e-16, epsrel=1e-13,
                              limit=200)
        return v * math.exp(-0.5 * z * z) / SQ2PI

    tot = 0.0
    knots = [0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 9.0, 40.0]
    for lo, hi in zip(knots[:-1], knots[1:]):
        v, _ = integrate.quad(inner, lo, hi, epsabs=1e-16, epsrel=1e-12, limit=200)
        tot += v
    return 2 * tot / V ** 2


def psi_from(h, q):
    return q / ((1 - q) * h(q))


# ------------------------------------------------------------------------------------------
# y = z^2 + sqrt(D) eps
# ------------------------------------------------------------------------------------------

def gl16_panels(knots):
    x16, w16 = np.polynomial.legendre.leggauss(16)
    k = np.unique(np.asarray(knots, dtype=float))
    lo, hi = k[:-1], k[1:]
    return (((hi - lo)[:, None] / 2 * x16[None, :] + (hi + lo)[:, None] / 2).ravel(),
            ((hi - lo)[:, None] / 2 * w16[None, :]).ravel())


def gh_normal(n):
    """Gauss-Hermite rule for E over N(0,1) (scipy's stable Golub-Welsch/asymptotic nodes)."""
    x, w = special.roots_hermitenorm(n)
    return x, w / w.sum()


def h_z2n_y(q, D=1.0):
    """y-space route, direct form: h V^2 = E_omega int N1^2/N0 dy - q with
    N_j(y) = int z^j N(z; omega, V) N(y; z^2, D) dz  (since E[(E[z|.] - omega)^2] = E[E[z|.]^2] - q).
    omega >= 0 (the integrand is even in omega): graded Gauss-Legendre panels (E[z|y,omega] has a
    layer of width ~V/sqrt(y) at omega = 0, so the omega-integrand is smooth but not analytic
    enough for Gauss-Hermite); z: panels of width sqrt(V); y: panels of width sqrt(D) up to
    (|omega| + 9 sqrt V)^2 + 9 sqrt D (Gaussian tails e^{-40})."""
    V = 1 - q
    sV, sD = math.sqrt(V), math.sqrt(D)
    xo, wo = omega_rule(q)
    total = 0.0
    for om, w_o in zip(xo, wo):
        zx, zw = gl16_panels(np.arange(om - 9 * sV, om + 9 * sV + 1e-12, sV))
        pz = zw * np.exp(-0.5 * (zx - om) ** 2 / V) / (sV * SQ2PI)
        ytop = (abs(om) + 9 * sV) ** 2 + 9 * sD
        yx, yw = gl16_panels(np.arange(-9 * sD, ytop + sD, sD))
        L = np.exp(-0.5 * (yx[:, None] - zx[None, :] ** 2) ** 2 / D) / (sD * SQ2PI)
        n0 = L @ pz
        n1 = L @ (pz * zx)
        good = n0 > 1e-300
        total += w_o * np.sum(yw[good] * n1[good] ** 2 / n0[good])
    return (total - q) / V ** 2


def omega_rule(q):
    """E over omega ~ N(0,q) of an even function: 2 x graded Gauss-Legendre panels on omega >= 0."""
    sq = math.sqrt(q)
    knots = sq * np.array([0, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.2, 0.4, 0.7, 1, 1.5, 2, 3, 4, 5.5, 7, 9])
    x, w = gl16_panels(knots)
    return x, 2 * w * np.exp(-0.5 * x * x / q) / (sq * SQ2PI)


def h_z2n_nishimori(q, D=1.0, nz=60, ne=32):
    """(z, eps, omega)-space route, Nishimori form h = (V - E[Var(z|y,omega)])/V^2: graded panels in
    omega >= 0, Gauss-Hermite in z | omega and in eps; the posterior moments at each
    y = z^2 + sqrt(D) eps by Gauss-Legendre panels (width sqrt(V)/2) in z' over omega +- 9 sqrt V."""
    V = 1 - q
    sV = math.sqrt(V)
    xo, wo = omega_rule(q)
    xz, wz = gh_normal(nz)
    xe, we = gh_normal(ne)
    total = 0.0
    for o, w_o in zip(xo, wo):
        z = o + sV * xz
        y = (z[:, None] ** 2 + math.sqrt(D) * xe[None, :]).ravel()
        wy = (wz[:, None] * we[None, :]).ravel()
        zp, wp = gl16_panels(np.arange(o - 9 * sV, o + 9 * sV + 1e-12, sV / 2))
        lp = np.log(wp) - 0.5 * (zp - o) ** 2 / V
        lg = lp[None, :] - 0.5 * (y[:, None] - zp[None, :] ** 2) ** 2 / D
        lg -= lg.max(axis=1, keepdims=True)
        L = np.exp(lg)
        n0 = L.sum(axis=1)
        m1 = (L @ zp) / n0
        m2 = (L @ (zp * zp)) / n0
        total += w_o * np.sum(wy * (m2 - m1 * m1))
    return (V - total) / V ** 2


# ------------------------------------------------------------------------------------------
# Staircase z1^2 + sign(z1 z2 z3). Stage 1: y = z1^2 + s with s = sign(z1 z2 z3) a Rademacher
# variable independent of z1. Given (y, omega1) the candidates for z1 are c = +-|z1| (s_c = s) and
# c = +-sqrt(z1^2 + 2s) (s_c = -s, when z1^2 + 2s > 0), posterior weights N(c; omega, V)/|c|.
# Stage 2 (z2, z3) around M23 = 0: linearising g_out in omega23 gives M23_hat = delta F23(M23),
# F23(M) = E[G23 M G23], G23 = (2/pi) m J, J = [[0,1],[1,0]], m = E[sign(z2 z3) | y, omega1]
# = E[s_c sign(c)]; so (z2, z3) grow iff delta (4/pi^2) E[m^2] > 1 at the stage-1 fixed point.
# ------------------------------------------------------------------------------------------

def stair_pass(q, nper=16, nishimori=False):
    """Returns (h1(q), E[m^2](q)). numpy Gauss-Legendre panels (nper nodes) in omega >= 0 (joint
    sign symmetry) and z1 | omega, graded towards z1 = 0 and |z1| = sqrt2 where a candidate weight
    1/|c| is singular. nishimori=True computes h1 as (V - E Var(z1|y,omega))/V^2 instead of
    E[(E[z1|y,omega] - omega)^2]/V^2."""
    V = 1 - q
    sV = math.sqrt(V)
    xo, wo = omega_rule(q)
    xg, wg = np.polynomial.legendre.leggauss(nper)

    def gl(knots):
        k = np.unique(np.asarray(knots, dtype=float))
        lo, hi = k[:-1], k[1:]
        return (((hi - lo)[:, None] / 2 * xg[None, :] + (hi + lo)[:, None] / 2).ravel(),
                ((hi - lo)[:, None] / 2 * wg[None, :]).ravel())
    r2 = math.sqrt(2)
    grade = np.array([1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3])
    H = 0.0
    M = 0.0
    for om, w_o in zip(xo, wo):
        lo, hi = om - 9 * sV, om + 9 * sV
        kn = list(np.arange(lo, hi + 1e-12, sV / 2)) + [0.0, r2, -r2] + list(grade) + \
            list(-grade) + list(r2 + grade) + list(-r2 - grade)
        kn = [t for t in kn if lo <= t <= hi] + [lo, hi]
        z, wz = gl(kn)
        pz = wz * np.exp(-0.5 * (z - om) ** 2 / V) / (sV * SQ2PI)
        a = np.abs(z)
        for s in (1.0, -1.0):
            t_other = z * z + 2 * s
            has_b = t_other > 0
            b = np.sqrt(np.where(has_b, t_other, 1.0))
            cs = np.array([a, -a, b, -b])
            sc = np.array([s, s, -s, -s])[:, None]
            lw = -0.5 * (cs - om) ** 2 / V - np.log(np.abs(cs))
            lw[2:] = np.where(has_b[None, :], lw[2:], -np.inf)
            lw -= lw.max(axis=0)
            w = np.exp(lw)
            W = w.sum(axis=0)
            ez = (w * cs).sum(axis=0) / W
            m = (w * sc * np.sign(cs)).sum(axis=0) / W
            if nishimori:
                var = (w * cs * cs).sum(axis=0) / W - ez * ez
                H += w_o * 0.5 * np.sum(pz * var)
            else:
                H += w_o * 0.5 * np.sum(pz * (ez - om) ** 2)
            M += w_o * 0.5 * np.sum(pz * m * m)
    h = (V - H) / V ** 2 if nishimori else H / V ** 2
    return h, M


def staircase_entries(E):
    link = "z1^2 + sign(z1*z2*z3)"

    def psi1(q, **kw):
        h, _ = stair_pass(q, **kw)
        return q / ((1 - q) * h)
    for q in (0.1, 0.5, 0.9):
        p = psi1(q)
        pc = psi1(q, nper=24, nishimori=True)
        E.append(entry(SCRIPT, f"se.staircase1.psi_{q}", "psi", p,
                       "stage-1 channel y = z1^2 + s: numpy panels (16 nodes), direct form", pc,
                       "24-node panels, Nishimori form", "derived", link=link, k=3, stage=1, q=q))
    res = optimize.minimize_scalar(lambda q: -psi1(q), bounds=(0.8, 0.97), method="bounded",
                                   options={"xatol": 1e-8})
    qm, sup = res.x, -res.fun
    supc = psi1(qm, nper=24, nishimori=True)
    E.append(entry(SCRIPT, "se.staircase1.spinodal", "sup_psi", sup,
                   "bounded Brent maximisation of the stage-1 psi (16-node panels, direct form)",
                   supc, "24-node panels, Nishimori form, at the maximiser", "derived", link=link,
                   k=3, stage=1, argmax_q=qm))
    # growth factor of (z2, z3) at the stage-1 fixed point q1 = q (delta = psi1(q) there):
    # Pi(q) = psi1(q) (4/pi^2) E_q[m^2]; stage 2 starts on the psi1 branch iff Pi reaches 1.
    grid = [0.02 * i for i in range(1, 50)] + [0.985, 0.995, 0.999]
    best = (0.0, None)
    for q in grid:
        h, m2 = stair_pass(q)
        P = q / ((1 - q) * h) * 4 / math.pi ** 2 * m2
        if P > best[0]:
            best = (P, q)
    hc, m2c = stair_pass(best[1], nper=24, nishimori=True)
    Pc = best[1] / ((1 - best[1]) * hc) * 4 / math.pi ** 2 * m2c
    E.append(entry(SCRIPT, "se.staircase2.max_growth_on_stage1_branch", "max_growth_factor",
                   best[0], "max over a q-grid in (0, 0.999] of psi1(q) (4/pi^2) E_q[m^2]", Pc,
                   "24-node panels, Nishimori form, at the grid maximiser", "derived", link=link,
                   k=3, stage=2, argmax_q=best[1],
                   note="< 1: (z2, z3) cannot start while q1 < 1. For delta > sup psi1 the stage-1 "
                        "SE goes to q1 = 1, where E[m^2] = 1 and the growth factor is "
                        "delta 4/pi^2: the GAMP stage-2 threshold is exactly pi^2/4."))
    E.append(entry(SCRIPT, "se.staircase2.delta", "delta_stage2", mp.pi ** 2 / 4,
                   "closed form pi^2/4: sup psi1 < pi^2/4 (se.staircase1.spinodal), so at delta "
                   "near pi^2/4 the stage-1 fixed point is q1 = 1, the (z2,z3) channel is exactly "
                   "sign(z2 z3) and F23 = (4/pi^2) J M J", mp.pi ** 2 / 4,
                   "numerical condition max growth factor < 1 on the q1 < 1 branch (entry above)",
                   "derived; references.md says ~ pi^2/4: it is exactly pi^2/4", link=link, k=3,
                   stage=2))


# ------------------------------------------------------------------------------------------

def find_qstar(psi, delta, grid):
    """q*(delta) = inf{q : psi(q) >= delta}: first sign change of psi - delta on the grid, then a
    bracketed root (Brent). Returns (q*, bracket) or (1.0, None) when psi < delta on the grid."""
    vals = [psi(q) - delta for q in grid]
    for i in range(len(grid) - 1):
        if vals[i] < 0 <= vals[i + 1]:
            r = optimize.brentq(lambda q: psi(q) - delta, grid[i], grid[i + 1], xtol=1e-14,
                                rtol=1e-14)
            return r, (grid[i], grid[i + 1])
        if vals[i] >= 0 and i == 0:
            return 0.0, None
    return 1.0, None


def main():
    doc = header(SCRIPT, "Bayes-GAMP state evolution (Gaussian prior, k = 1): h(q), psi(q), "
                         "q*(delta), spinodal, for y = |z| and y = z^2 + N(0,1)",
                 "z ~ N(0,1); omega ~ N(0,q), z | omega ~ N(omega, V), V = 1 - q; "
                 "g_out = (E[z|y,omega] - omega)/V; h(q) = E[g_out^2]; q_{t+1} = delta h/(1+delta h); "
                 "psi(q) = q/((1-q) h(q)); delta_alg = psi(0+); q*(delta) = inf{q: psi(q) >= delta} "
                 "(1 when psi < delta on (0,1)); spinodal = sup psi.")
    E = doc["entries"]
    link = "abs(z)"
    src_map = {0.5: "references.md: psi(0.5) = 1.01384", 0.85: "references.md: psi(0.85) = 1.12845"}
    for q in (0.1, 0.3, 0.5, 0.7, 0.85, 0.95):
        hB, hA = h_abs_nishimori(q), h_abs_direct(q)
        E.append(entry(SCRIPT, f"se.abs.h_{q}", "h", hB,
                       "numpy Gauss-Legendre panels, Nishimori form (V - E Var(z|y,omega))/V^2",
                       hA, "scipy nested QUADPACK, direct form E[(E[z|y,omega]-omega)^2]/V^2",
                       "derived", link=link, noise="none", q=q))
        pB, pA = q / ((1 - q) * hB), q / ((1 - q) * hA)
        E.append(entry(SCRIPT, f"se.abs.psi_{q}", "psi", pB, "psi = q/((1-q) h(q)), h as in h entry",
                       pA, "same with the direct-form h", src_map.get(q, "derived"), link=link,
                       noise="none", q=q))
    # psi(0+) = delta_alg = 1/2: Richardson extrapolation of the direct route at small q.
    qa = 1e-4
    p1, p2, p4 = (psi_from(h_abs_direct, c * qa) for c in (1, 2, 4))
    E.append(entry(SCRIPT, "se.abs.psi_0plus", "psi_0plus", 0.5,
                   "closed form: h(q) = q E_y[(E[z^2|y]-1)^2] + O(q^2) = 2q, psi(0+) = 1/2 = delta_alg",
                   (8 * p1 - 6 * p2 + p4) / 3,
                   f"quadratic extrapolation from psi at q = {qa}, {2 * qa}, {4 * qa} (direct route)",
                   "arXiv 1708.05932; references.md", link=link, noise="none"))
    # spinodal: sup psi
    res = optimize.minimize_scalar(lambda q: -psi_from(h_abs_nishimori, q), bounds=(0.75, 0.93),
                                   method="bounded", options={"xatol": 1e-9})
    qm, sup = res.x, -res.fun
    supA = psi_from(h_abs_direct, qm)
    # curvature for the location uncertainty: psi(qm +- dq)
    dq = 1e-3
    curv = (psi_from(h_abs_nishimori, qm + dq) - 2 * sup + psi_from(h_abs_nishimori, qm - dq)) / dq ** 2
    loc_err = math.sqrt(2 * max(abs(sup - supA), 1e-15) / abs(curv)) + 1e-9
    E.append(entry(SCRIPT, "se.abs.spinodal", "sup_psi", sup,
                   "bounded Brent maximisation of psi (Nishimori route), xatol 1e-9", supA,
                   "direct route evaluated at the maximiser", "references.md: 1.128471",
                   link=link, noise="none"))
    E.append(entry(SCRIPT, "se.abs.spinodal_q", "argmax_psi", qm,
                   "maximiser of psi (Nishimori route)", qm,
                   "accuracy from the flatness of the maximum: sqrt(2 |psi_A - psi_B| / |psi''|)",
                   "references.md: q ~ 0.8467", accuracy=loc_err, link=link, noise="none",
                   psi_second_derivative=curv))
    grid = [0.002 * 1.0] + [0.01 * i for i in range(1, 100)]
    psis = {q: psi_from(h_abs_nishimori, q) for q in grid}
    mono_up = all(psis[a] < psis[b] for a, b in zip(grid[:-1], grid[1:]) if b <= 0.84)
    for delta in (0.4, 0.6, 0.8, 1.0, 1.1, 1.2, 1.5):
        qs, br = find_qstar(lambda q: psis[q] if q in psis else psi_from(h_abs_nishimori, q),
                            delta, grid)
        if br is None:
            val = qs
            why = ("psi(q) < delta on (0,1) (delta > sup psi): SE goes to full recovery"
                   if qs == 1.0 else "delta <= psi(0+) = delta_alg: no weak recovery")
            E.append(entry(SCRIPT, f"se.abs.qstar_{delta}", "qstar", val, why, val,
                           "scan of psi on a 100-point grid (both routes agree there)", "derived",
                           link=link, noise="none", delta=delta))
            continue
        # check: direct route psi at the root, converted to a q error through psi'
        dpsi = (psi_from(h_abs_nishimori, qs + 1e-5) - psi_from(h_abs_nishimori, qs - 1e-5)) / 2e-5
        qA = qs - (psi_from(h_abs_direct, qs) - delta) / dpsi
        src = {0.6: "references.md: 0.05182", 1.0: "references.md: 0.47626"}.get(delta, "derived")
        E.append(entry(SCRIPT, f"se.abs.qstar_{delta}", "qstar", qs,
                       "first crossing of psi = delta on a grid, Brent root (Nishimori route)",
                       qA, "one Newton step of the direct-route psi from that root", src,
                       link=link, noise="none", delta=delta))
    doc["notes"] = [f"y = |z|: psi increasing on (0, 0.84] on the scan grid: {mono_up}"]

    # y = z^2 + N(0,1)
    link, noise = "z^2", "gaussian:1"
    for q in (0.1, 0.3, 0.5, 0.7, 0.9):
        hY, hN = h_z2n_y(q), h_z2n_nishimori(q)
        E.append(entry(SCRIPT, f"se.z2_gauss_1.h_{q}", "h", hY,
                       "numpy Gauss-Legendre panels in (omega, y, z), direct form", hN,
                       "Gauss-Hermite in (omega, z, eps) with a Gauss-Hermite posterior, "
                       "Nishimori form", "derived", link=link, noise=noise, q=q))
        E.append(entry(SCRIPT, f"se.z2_gauss_1.psi_{q}", "psi", q / ((1 - q) * hY),
                       "psi = q/((1-q)h)", q / ((1 - q) * hN), "same with the Nishimori h",
                       "derived", link=link, noise=noise, q=q))
    qa = 1e-3
    p1, p2, p4 = (psi_from(h_z2n_y, c * qa) for c in (1, 2, 4))
    E.append(entry(SCRIPT, "se.z2_gauss_1.psi_0plus", "psi_0plus", 0.6465905984417909,
                   "delta_alg of k1.z2_gauss_1 (ref_alg.py, parabolic-cylinder route)",
                   (8 * p1 - 6 * p2 + p4) / 3,
                   f"quadratic extrapolation from psi at q = {qa}, {2 * qa}, {4 * qa} (y-space route)",
                   "psi(0+) = delta_alg", link=link, noise=noise))
    staircase_entries(E)
    write(doc, sys.argv[1] if len(sys.argv) > 1 else None)


if __name__ == "__main__":
    main()
