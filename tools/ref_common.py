"""Shared helpers for the reference-value scripts tools/ref_*.py.

Every reference entry is computed twice, by routes that share no code path (a closed form and a
quadrature, or two quadratures in different variables / libraries); the entry records both values,
their discrepancy and an accuracy estimate derived from it.

JSON schema of one entry (all files):
  id          stable identifier used by the C++ tests
  quantity    what the value is (e.g. "delta_alg", "trivial_c", "psi", "overlap")
  value       float, or the string "inf"
  value_text  the primary value with more digits than a double holds (when computed with mpmath)
  method      how the primary value was computed
  cross_check {method, value, abs_diff}: the independent second route
  accuracy    estimated absolute error of `value`: max(cross-check discrepancy, 2 ulp of value)
  source      arXiv id / closed form, when there is one
  script      the script that produced the entry
plus the inputs (link, k, noise, delta, q, T, ...) as separate keys.
"""
import json
import math
import sys

import mpmath as mp

DBL_EPS = 2.0 ** -52


def accuracy_from(value, other):
    """Absolute accuracy estimate: the cross-check discrepancy, floored at 2 ulp of the value."""
    if isinstance(value, str) or isinstance(other, str):
        return 0.0
    diff = abs(float(value) - float(other))
    return max(diff, 2.0 * DBL_EPS * abs(float(value)))


def entry(script, id_, quantity, value, method, check_value, check_method, source=None,
          accuracy=None, **inputs):
    """Builds one JSON entry. `value` may be an mpf (kept to 25 digits in value_text), a float,
    or math.inf (written as the string "inf")."""
    e = {"id": id_, "quantity": quantity}
    e.update(inputs)
    if isinstance(value, str) or (not isinstance(value, mp.mpf) and math.isinf(value)):
        e["value"] = "inf"
        e["cross_check"] = {"method": check_method,
                            "value": "inf" if (isinstance(check_value, str) or
                                               math.isinf(float(check_value))) else float(check_value)}
        e["accuracy"] = 0.0 if accuracy is None else accuracy
    else:
        e["value"] = float(value)
        if isinstance(value, mp.mpf):
            e["value_text"] = mp.nstr(value, 25)
        diff = abs(float(mp.mpf(value) - mp.mpf(check_value)))
        e["cross_check"] = {"method": check_method, "value": float(check_value), "abs_diff": diff}
        acc = accuracy_from(value, check_value)
        e["accuracy"] = acc if accuracy is None else max(acc, accuracy)
    e["method"] = method
    if source:
        e["source"] = source
    e["script"] = script
    return e


def write(doc, out=None):
    """Writes the document as pretty JSON to `out` (a path) or stdout."""
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


def header(script, description, conventions):
    import numpy
    import scipy
    return {
        "description": description,
        "conventions": conventions,
        "script": script,
        "regenerate": f"/usr/bin/python3 {script} > tests/data/{script.split('/')[-1][:-3]}.json",
        "generated_with": {"python": sys.version.split()[0], "mpmath": mp.__version__,
                           "numpy": numpy.__version__, "scipy": scipy.__version__},
        "accuracy_meaning": "estimated absolute error of value: the discrepancy between the two "
                            "independent routes, floored at 2 ulp",
        "entries": [],
    }


def phi(x):
    """Standard normal density, mpmath."""
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def Q(x):
    """Standard normal upper tail P(z > x), mpmath."""
    return mp.erfc(x / mp.sqrt(2)) / 2
