#!/usr/bin/python3
"""Reference values for the Marchenko-Pastur law.

Regenerate:  /usr/bin/python3 tools/ref_mp.py > tests/data/ref_mp.json

Normalisation: H = (1/n) sum_{i<=n} x_i x_i^T  (d x d), x_i ~ N(0, I_d), n = delta d, i.e. the sample
covariance with aspect ratio gamma = d/n = 1/delta. The empirical distribution of the d eigenvalues
of H converges to
  mu = max(0, 1 - 1/gamma) delta_0  +  rho(x) dx,
  rho(x) = sqrt((b - x)(x - a)) / (2 pi gamma x)  on [a, b],  a, b = (1 -+ sqrt(gamma))^2,
(the atom at 0 exists only for delta < 1: H has rank n < d). Mean 1, second moment 1 + gamma.
Stieltjes transform m(zeta) = int mu(dx)/(x - zeta) (Im m > 0 on C+) solves
  gamma zeta m^2 - (1 - gamma - zeta) m + 1 = 0,
which is the R1 equation of science.md with D = 1, lambda = 0: S = 1/(1/(1 + S/delta) - zeta).

Routes: density values: closed form (route 1) vs Stieltjes inversion Im m(x + i 1e-30)/pi with m the
root of the quadratic above having Im m > 0 (mpmath polyroots, route 2). Stieltjes values: root of
the quadratic (route 1) vs mpmath quadrature of int mu(dx)/(x - zeta) (route 2). Moments: closed
forms vs quadrature of the density.
"""
import sys

import mpmath as mp

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ref_common import entry, header, write  # noqa: E402

SCRIPT = "tools/ref_mp.py"
mp.mp.dps = 30


def edges(gamma):
    return (1 - mp.sqrt(gamma)) ** 2, (1 + mp.sqrt(gamma)) ** 2


def density(x, gamma):
    a, b = edges(gamma)
    if x <= a or x >= b:
        return mp.mpf(0)
    return mp.sqrt((b - x) * (x - a)) / (2 * mp.pi * gamma * x)


def atom(gamma):
    return max(mp.mpf(0), 1 - 1 / gamma)


def stieltjes_quadratic(zeta, gamma):
    """Root of gamma zeta m^2 - (1 - gamma - zeta) m + 1 = 0 that is the Stieltjes transform:
    Im m > 0 for Im zeta > 0; for real zeta below the support the root that is continuous with
    m ~ -1/zeta as zeta -> -inf (chosen by evaluating at zeta + i 1e-25)."""
    z = mp.mpc(zeta)
    if z.imag == 0:
        z = z + mp.mpc(0, mp.mpf(10) ** -25)
    r = mp.polyroots([gamma * z, -(1 - gamma - z), 1], maxsteps=200, extraprec=60)
    m = max(r, key=lambda t: mp.im(t))
    return m if mp.im(mp.mpc(zeta)) != 0 else mp.mpc(mp.re(m), 0)


def stieltjes_quad(zeta, gamma):
    a, b = edges(gamma)
    z = mp.mpc(zeta)
    cont = mp.quad(lambda x: density(x, gamma) / (x - z), [a, (a + b) / 2, b])
    at = atom(gamma)
    return cont + (at / (0 - z) if at > 0 else 0)


def main():
    doc = header(SCRIPT, "Marchenko-Pastur law: edges, density, moments, Stieltjes transform",
                 "H = (1/n) sum_{i<=n} x_i x_i^T (d x d), x_i ~ N(0, I_d), n = delta d; "
                 "gamma = d/n = 1/delta; spectral measure of the d eigenvalues: atom "
                 "max(0, 1 - delta) at 0 plus density sqrt((b-x)(x-a))/(2 pi gamma x) on "
                 "[a, b] = [(1 - sqrt gamma)^2, (1 + sqrt gamma)^2]; Stieltjes m(zeta) = "
                 "int mu(dx)/(x - zeta). Complex values are split into _re and _im entries.")
    E = doc["entries"]
    for delta in ("0.5", "2", "4"):
        d = mp.mpf(delta)
        g = 1 / d
        a, b = edges(g)
        tag = f"mp.delta_{delta}"
        # edges: closed form vs the support found from the quadratic's discriminant
        # (zeta - 1 - gamma)^2 - 4 gamma = 0  <=>  zeta = 1 + gamma -+ 2 sqrt(gamma)
        disc_roots = sorted(mp.polyroots([1, -2 * (1 + g), (1 + g) ** 2 - 4 * g], extraprec=60),
                            key=lambda t: mp.re(t))
        for name, v, c in (("lower_edge", a, mp.re(disc_roots[0])),
                           ("upper_edge", b, mp.re(disc_roots[1]))):
            E.append(entry(SCRIPT, f"{tag}.{name}", name, v, "closed form (1 -+ sqrt(gamma))^2", c,
                           "roots of the discriminant of the Stieltjes quadratic",
                           "Marchenko-Pastur (1967)", delta=float(d), gamma=float(g)))
        E.append(entry(SCRIPT, f"{tag}.atom_at_0", "atom_mass", atom(g), "closed form max(0, 1 - 1/gamma)",
                       1 - mp.quad(lambda x: density(x, g), [a, (a + b) / 2, b]),
                       "1 - quadrature of the continuous density", "Marchenko-Pastur",
                       delta=float(d), gamma=float(g)))
        for k, closed in ((1, mp.mpf(1)), (2, 1 + g)):
            num = mp.quad(lambda x: x ** k * density(x, g), [a, (a + b) / 2, b])
            E.append(entry(SCRIPT, f"{tag}.moment_{k}", f"moment_{k}", closed,
                           "closed form: E tr(H^k)/d = 1, 1 + gamma", num,
                           "mpmath quadrature of x^k rho(x)", "Marchenko-Pastur",
                           delta=float(d), gamma=float(g)))
        for frac in ("0.05", "0.25", "0.5", "0.75", "0.95"):
            x = a + mp.mpf(frac) * (b - a)
            m = stieltjes_quadratic(mp.mpc(x, mp.mpf(10) ** -30), g)
            E.append(entry(SCRIPT, f"{tag}.density_at_{frac}", "density", density(x, g),
                           "closed form sqrt((b-x)(x-a))/(2 pi gamma x)", mp.im(m) / mp.pi,
                           "Stieltjes inversion Im m(x + i 1e-30)/pi, m a root of the quadratic",
                           "Marchenko-Pastur", delta=float(d), gamma=float(g), x=float(x),
                           x_position=f"a + {frac} (b - a)"))
        zetas = [("-1", mp.mpf(-1)), ("1+0.5i", mp.mpc(1, 0.5)), ("b+0.1i", mp.mpc(b, 0.1))]
        if a > 0:
            zetas.append(("a/2", a / 2))
        for label, z in zetas:
            m1 = stieltjes_quadratic(z, g)
            m2 = stieltjes_quad(z, g)
            for part, f in (("re", mp.re), ("im", mp.im)):
                if part == "im" and mp.im(mp.mpc(z)) == 0:
                    continue
                E.append(entry(SCRIPT, f"{tag}.stieltjes_{label}_{part}", f"stieltjes_{part}",
                               f(m1), "root of gamma zeta m^2 - (1-gamma-zeta) m + 1 = 0 (Im m > 0)",
                               f(m2), "mpmath quadrature of int mu(dx)/(x - zeta) incl. the atom",
                               "Marchenko-Pastur", delta=float(d), gamma=float(g),
                               zeta=[float(mp.re(z)), float(mp.im(mp.mpc(z)))]))
                if label == "a/2" and atom(g) > 0:
                    E[-1]["note"] = ("zeta lies in the gap between the atom at 0 and the bulk, "
                                     "not below the whole spectrum")
    write(doc, sys.argv[1] if len(sys.argv) > 1 else None)


if __name__ == "__main__":
    main()
