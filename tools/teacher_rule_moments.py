#!/usr/bin/python3
"""Moment errors of the k = 2 teacher rule's 1-D factor (TeacherQuadOptions: composite
Gauss-Legendre on [-8, 8], panels 2 wide, P nodes each, no structure points) against the exact
Gaussian moments E[z^(2j)] = (2j - 1)!!, summed in mpmath at 30 digits. Documents docs/nn.md
(Known limits: the k = 2 teacher rule). Usage: teacher_rule_moments.py [P ...]"""
import sys

import mpmath as mp
import numpy

mp.mp.dps = 30


def rule(points, width=2, z_max=8):
    panels = int(mp.ceil(2 * z_max / mp.mpf(width)))
    h = mp.mpf(2 * z_max) / panels
    # Gauss-Legendre nodes on [-1, 1]: numpy's double-precision roots refined by Newton in mpmath.
    roots = [mp.findroot(lambda t: mp.legendre(points, t), mp.mpf(float(t0)))
             for t0 in numpy.polynomial.legendre.leggauss(points)[0]]
    assert len({mp.nstr(t, 20) for t in roots}) == points
    nodes, weights = [], []
    for p in range(panels):
        a = -z_max + p * h
        for t in roots:
            dp = mp.diff(lambda s: mp.legendre(points, s), t)
            w = 2 / ((1 - t * t) * dp * dp)
            z = a + h * (t + 1) / 2
            nodes.append(z)
            weights.append(h / 2 * w * mp.npdf(z))
    return nodes, weights


def main():
    counts = [int(a) for a in sys.argv[1:]] or [6, 8, 10, 12]
    print("P   nodes  |err E[1]|  |err E[z^2]|  |err E[z^4]|  |err E[z^6]|  |err E[z^8]|")
    for p in counts:
        x, w = rule(p)
        errs = []
        for j in range(5):
            exact = mp.fac2(2 * j - 1) if j > 0 else mp.mpf(1)
            errs.append(abs(mp.fsum(wi * xi ** (2 * j) for xi, wi in zip(x, w)) - exact))
        print(f"{p:<3d} {len(x):5d}  " + "  ".join(f"{mp.nstr(e, 2):>11s}" for e in errs))


if __name__ == "__main__":
    main()
