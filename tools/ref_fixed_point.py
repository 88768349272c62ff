#!/usr/bin/python3
"""Reference values of the phase-1 stationary-point (fixed-point) law for issue 5's example:
y = min(z², 4), σ = log cosh, m = 1, a = 1, square loss, ridge λ = 0.05, z hard (M = 0).

Equations (include/deltacrit/phase1/fixed_point.hpp; our derivation, docs/nn.md):
  u = argmin_v (v − h)²/(2Γ) + ½(y − log cosh v)²   (global minimiser),  h ~ N(0, Q),
  λQ = −E[uF],  δΓ = (λ + E[D/(1 + ΓD)])^{-1},
  F = (f − y) tanh u,  D = tanh² u + (f − y) sech² u,  f = log cosh u.
Numerics, sharing no code with the library: the label by 60-point Gauss–Legendre on z ∈ [0, 2]
(both signs of z) plus the atom y = 4 of mass P(|z| > 2); h by the trapezoid rule on a uniform
grid of [−9, 9] (the prox jumps between minima, so the rule converges erratically and slowly:
Gauss–Hermite with 40 nodes is off by 5 % in Q); the global minimiser by a grid search over
v ∈ [−10, 10] followed by Newton; (Q, Γ) by scipy's fsolve on both equations.
Primary: 3601 h nodes; cross-check: 1801 h nodes. The accuracy is their discrepancy.

Usage: /usr/bin/python3 tools/ref_fixed_point.py [OUT]   (default: stdout)   ≈ 3 min.
"""
import json
import math
import sys

import numpy as np
from scipy.optimize import brentq, fsolve

sys.path.insert(0, __import__("os").path.dirname(__file__))
from ref_common import entry  # noqa: E402

SCRIPT = "tools/ref_fixed_point.py"
LAMBDA = 0.05

xg, wg = np.polynomial.legendre.leggauss(60)
ZS = 1.0 + xg
WZ = wg * 2.0 * np.exp(-ZS ** 2 / 2) / math.sqrt(2 * math.pi)
YS = np.concatenate([ZS ** 2, [4.0]])
WY = np.concatenate([WZ, [1.0 - math.erf(2.0 / math.sqrt(2.0))]])
VGRID = np.linspace(-10.0, 10.0, 801)


def logcosh(v):
    a = np.abs(v)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def prox(y, h, gamma):
    """Global minimiser over v of (v − h)²/(2Γ) + ½(y − log cosh v)² for each h (vector)."""
    obj = (VGRID[None, :] - h[:, None]) ** 2 / (2 * gamma) + 0.5 * (y - logcosh(VGRID[None, :])) ** 2
    u = VGRID[np.argmin(obj, axis=1)]
    for _ in range(60):
        f = logcosh(u)
        t = np.tanh(u)
        grad = (u - h) / gamma + (f - y) * t
        hess = 1.0 / gamma + t * t + (f - y) * (1.0 - t * t)
        step = grad / np.maximum(hess, 1e-8)
        u = u - step
        if np.max(np.abs(step)) < 1e-14:
            break
    return u


def moments(Q, gamma, xh, wh):
    h = math.sqrt(Q) * xh
    out = {"EuF": 0.0, "EDr": 0.0, "loss": 0.0}
    for y, wy in zip(YS, WY):
        u = prox(y, h, gamma)
        f = logcosh(u)
        t = np.tanh(u)
        F = (f - y) * t
        D = t * t + (f - y) * (1.0 - t * t)
        out["EuF"] += wy * np.sum(wh * u * F)
        out["EDr"] += wy * np.sum(wh * D / (1.0 + gamma * D))
        out["loss"] += wy * np.sum(wh * 0.5 * (y - f) ** 2)
    return out


def solve(delta, nodes, Q0):
    xh = np.linspace(-9.0, 9.0, nodes)
    wh = np.exp(-xh ** 2 / 2)
    wh /= wh.sum()

    def gamma_eq(g, Q):
        return delta * g * (LAMBDA + moments(Q, g, xh, wh)["EDr"]) - 1.0

    grid = np.geomspace(1e-2, 1e1, 16)
    vals = [gamma_eq(g, Q0) for g in grid]
    g0 = next(brentq(gamma_eq, grid[i], grid[i + 1], args=(Q0,), xtol=1e-12)
              for i in range(len(grid) - 1) if np.sign(vals[i]) != np.sign(vals[i + 1]))

    def residual(x):
        Q, g = x
        mo = moments(Q, g, xh, wh)
        return [LAMBDA * Q + mo["EuF"], delta * g * (LAMBDA + mo["EDr"]) - 1.0]

    sol, _, ier, msg = fsolve(residual, [Q0, g0], full_output=True, xtol=1e-12)
    if ier != 1:
        raise RuntimeError(f"fsolve failed at delta = {delta}, {nodes} nodes: {msg}")
    Q, g = sol
    return Q, g, moments(Q, g, xh, wh)["loss"]


def main():
    entries = []
    inputs = dict(link="min(z^2,4)", activation="logcosh", width=1, ridge=LAMBDA, hard=[1])
    for delta, Q0 in ((8.0, 2.1), (24.0, 1.75)):
        fine = solve(delta, 3601, Q0)
        coarse = solve(delta, 1801, fine[0])
        for name, i in (("Q", 0), ("Gamma", 1), ("train_loss", 2)):
            entries.append(entry(SCRIPT, f"fixed_point_logcosh_delta{delta:g}_{name}", f"fixed_point_{name}",
                                 fine[i], "trapezoid, 3601 h nodes on [-9, 9], global prox, fsolve",
                                 coarse[i], "same with 1801 h nodes", delta=delta, **inputs))
    text = json.dumps({"entries": entries}, indent=1)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as fh:
            fh.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
