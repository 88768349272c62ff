#!/usr/bin/env bash
# δ_NN vs δ_alg per activation, width and link (issue 5, validation item 4; docs/nn.md).
# Usage: tools/nn_table.sh [BIN] [INITS]   BIN: the deltacrit CLI (default build/bin/deltacrit);
# INITS: space-separated --init values for the init phase-1 law (default "small:0.01 random:1").
# Prints a markdown table per init on stdout: δ_alg (alg analysis of the link), δ_NN and the ratio
# δ_NN/δ_alg; "none" = no transition (D unbounded below), "inf" = no negative outlier up to
# δ = 1000. Any finite δ_NN < δ_alg is flagged "BELOW δ_alg" (a bug or a modelling error).
set -euo pipefail
BIN=${1:-build/bin/deltacrit}
INITS=${2:-"small:0.01 random:1"}
PY=/usr/bin/python3
LINKS=("min(z^2,4)" "min(abs(z),2)" "sign(z1*z2)")
ACTS=(quadratic logcosh softplus he:2 tanh erf relu)
WIDTHS=(1 2 4)
for init in $INITS; do
  echo "### init law $init (square loss, second layer fixed:1/m, ridge 0, hard directions from the alg analysis)"
  echo
  echo "| link | activation | δ_alg | δ_NN m=1 | δ_NN m=2 | δ_NN m=4 | δ_NN/δ_alg (m=1, 2, 4) |"
  echo "|---|---|---|---|---|---|---|"
  for link in "${LINKS[@]}"; do
    for act in "${ACTS[@]}"; do
      row=""
      for m in "${WIDTHS[@]}"; do
        out=$(timeout 300 "$BIN" nn --link "$link" --activation "$act" --width "$m" --init "$init" --find --format json 2>&1 || true)
        row+="$out"$'\x1e'
      done
      LINK="$link" ACT="$act" "$PY" - "$row" <<'PYEOF'
import json, os, sys
runs = sys.argv[1].split("\x1e")[:-1]
alg, vals, ratios = None, [], []
for text in runs:
    try:
        j = json.loads(text)
    except ValueError:
        vals.append("error: " + text.strip().splitlines()[-1][:60] if text.strip() else "error")
        ratios.append("-")
        continue
    alg = j.get("delta_alg")
    nn = j.get("delta_nn")
    status = j.get("delta_nn_status", j.get("status"))
    if nn == "none":
        vals.append("none"); ratios.append("-")
    elif nn == "inf" or nn is None:
        vals.append(str(nn)); ratios.append("-")
    else:
        flag = "" if status == "success" else f" ({status})"
        if isinstance(alg, (int, float)) and nn < alg * (1 - 1e-6):
            flag += " BELOW δ_alg"
        vals.append(f"{nn:.5g}{flag}")
        ratios.append(f"{nn / alg:.3g}" if isinstance(alg, (int, float)) and alg > 0 else "-")
a = f"{alg:.5g}" if isinstance(alg, (int, float)) else str(alg)
print(f"| `{os.environ['LINK']}` | {os.environ['ACT']} | {a} | " + " | ".join(vals) + " | " + ", ".join(ratios) + " |")
PYEOF
    done
  done
  echo
done
