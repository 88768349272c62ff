#!/usr/bin/env python3
"""NumPy baseline for one full-batch GD step of the two-layer network (bench/bench_gd_step.cpp).

Same step as deltacrit's simulator: f = tanh(X W) a, square loss, residual r = f - y,
G = r[:, None] * a * tanh'(X W), grad = X^T G / n + ridge * W, W <- W - lr * grad.
Prints the median over several runs and the BLAS library NumPy actually loaded (pitfall 15:
Debian's python3-numpy uses the reference BLAS unless an optimised one is installed).

Usage: python3 bench/numpy_gd_step.py [--n 4000] [--d 1000] [--m 4] [--repeats 15]
"""
import argparse
import os
import re
import statistics
import sys
import time

import numpy as np


def loaded_blas():
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            m = re.search(r"(/\S*(?:blas|lapack|mkl|blis)\S*\.so[^\s]*)", line)
            if m:
                libs.add(os.path.realpath(m.group(1)))
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--d", type=int, default=1000)
    ap.add_argument("--m", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    n, d, m = args.n, args.d, args.m
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, d))
    theta = rng.standard_normal(d)
    theta /= np.linalg.norm(theta)
    y = (X @ theta) ** 2
    W = rng.standard_normal((d, m)) / np.sqrt(d)
    a = np.full(m, 1.0 / m)
    lr, ridge = 0.1, 0.0

    def step(W):
        U = X @ W
        T = np.tanh(U)
        f = T @ a
        r = f - y
        G = r[:, None] * a[None, :] * (1.0 - T * T)
        grad = X.T @ G / n + ridge * W
        return W - lr * grad

    step(W)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        W = step(W)
        times.append(time.perf_counter() - t0)
    print(f"numpy {np.__version__} python {sys.version.split()[0]}")
    print("blas libraries loaded: " + (", ".join(loaded_blas()) or "none found"))
    print(f"threads env: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '-')}")
    print(f"numpy_gd_step n={n} d={d} m={m} median_ms={1e3 * statistics.median(times):.3f} "
          f"min_ms={1e3 * min(times):.3f} repeats={args.repeats}")


if __name__ == "__main__":
    main()
