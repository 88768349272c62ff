#!/usr/bin/env bash
# δ_NN prediction vs simulation (issue 5, validation items 2 and 3; docs/nn.md, docs/validation.md).
# Usage: tools/validation_nn.sh BIN [D] [SEEDS]   BIN: the deltacrit CLI; D: dimension (default 800);
# SEEDS: seeds per finite-d point (default 3). Prints the markdown section
# "## δ_NN: prediction vs simulation" on stdout, each number with the command that produced it.
# Runtime on one free core ≈ 3 minutes at the defaults (budget < 10 minutes).
set -euo pipefail
BIN=${1:?usage: tools/validation_nn.sh BIN [D] [SEEDS]}
D=${2:-800}
SEEDS=${3:-3}
exec /usr/bin/python3 - "$BIN" "$D" "$SEEDS" <<'PYEOF'
import json, math, shlex, subprocess, sys, time

BIN, D, SEEDS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
LINK = "min(z^2,4)"
t_start = time.time()

def run(args):
    cmd = [BIN] + args
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"command failed ({out.returncode}): {shlex.join(cmd)}\n{out.stdout}{out.stderr}")
    return json.loads(out.stdout), shlex.join(["deltacrit"] + args)

def pm(mean, se):
    return f"{mean:.4f} ± {se:.4f}"

print("## δ_NN: prediction vs simulation")
print()
print(f"Theory: `deltacrit nn` on the init law (R1)/(R2). Simulation: `deltacrit simulate hessian` at the same")
print(f"initialisation (0 GD steps, hard direction frozen), d = {D}, {SEEDS} seeds, mean ± standard error.")
print("The overlap is the squared overlap of the lowest eigenvector with θ_h ⊗ R^m. Finite-size error of a")
print("spiked model's outlier is O(d^-1/2) (≈ 0.035 relative at d = 800); below δ_BBP the lowest")
print("eigenvector must carry no macroscopic overlap. For m = 4 the Gauss–Hermite rule for u converges")
print("slowly from opposite sides for even and odd node counts: the prediction is the mean of the 8- and")
print("9-node rules (± half their difference).")
print()

configs = [
    dict(name="quadratic, m = 2, a = (1, 0.5), random:1, ridge 0.2", act="quadratic", m=2, a="fixed:1,0.5",
         init="random:1", ridge=0.2, above=16.0, below=0.7, u=[None]),
    dict(name="log cosh, m = 1, random:1", act="logcosh", m=1, a="fixed:1", init="random:1", ridge=0.0,
         above=8.0, below=0.8, u=[None]),
    dict(name="log cosh, m = 4, a = 1/4, random:1", act="logcosh", m=4, a="fixed:0.25,0.25,0.25,0.25",
         init="random:1", ridge=0.0, above=8.0, below=0.45, u=[8, 9]),
]
print("| configuration | δ_BBP = δ_NN (theory) | δ | λ_out theory | λ_min simulated | overlap theory | overlap simulated |")
print("|---|---|---|---|---|---|---|")
commands = []
for c in configs:
    base = ["nn", "--link", LINK, "--activation", c["act"], "--width", str(c["m"]), "--second-layer", c["a"],
            "--init", c["init"], "--ridge", str(c["ridge"]), "--hard", "1"]
    preds = []
    for u in c["u"]:
        extra = [] if u is None else ["--u-points", str(u)]
        j, cmd = run(base + extra + ["--find", "--delta", f"{c['below']},{c['above']}", "--format", "json"])
        preds.append(j)
        commands.append(cmd)
    def avg(key, idx):
        vals = [p["points"][idx][key] for p in preds]
        if any(v is None for v in vals):
            return None, 0.0
        return sum(vals) / len(vals), 0.5 * (max(vals) - min(vals))
    thr = [p["delta_nn"] for p in preds]
    thr_text = " / ".join(f"{t:.4g}" if isinstance(t, (int, float)) else str(t) for t in thr)
    sim_args = ["simulate", "hessian", "--link", LINK, "--activation", c["act"], "--width", str(c["m"]),
                "--second-layer", c["a"], "--init", c["init"], "--ridge", str(c["ridge"]), "--d", str(D),
                "--delta", f"{c['below']},{c['above']}", "--seeds", str(SEEDS), "--steps", "0", "--hard", "1",
                "--freeze-hard", "--nev", "1", "--format", "json"]
    s, cmd = run(sim_args)
    commands.append(cmd)
    for idx, delta in enumerate([c["below"], c["above"]]):
        lam, lam_q = avg("lambda_out", idx)
        ov, ov_q = avg("overlap", idx)
        edge, _ = avg("bulk_edge", idx)
        sp = s["points"][idx]
        lam_t = "no outlier (edge %.4f)" % edge if lam is None else (f"{lam:.4f}" + (f" ± {lam_q:.4f}" if lam_q else ""))
        ov_t = "-" if ov is None else (f"{ov:.4f}" + (f" ± {ov_q:.4f}" if ov_q else ""))
        print(f"| {c['name']} | {thr_text} | {delta:g} | {lam_t} | "
              f"{pm(sp['lowest_eigenvalues'], sp['lowest_eigenvalues_stderr'])} | {ov_t} | "
              f"{pm(sp['lowest_overlaps_theta'], sp['lowest_overlaps_theta_stderr'])} |")
print()

# Gradient descent from the small-init saddle (σ'(0) = 0): learned above δ_NN, not below.
print("Gradient descent from small:0.01 (square loss, full batch, hard direction not frozen), δ = 12 δ_NN and")
print("0.5 δ_NN, learning rate 0.1/|λ_out|, horizon 6 × the predicted escape time log d/(2r),")
print("r = min(ζ₋, 0) − λ_out (gradient-flow time = lr × steps). 'learned': final hard overlap > 0.3.")
print()
print("| configuration | δ_NN (S → 0) | δ | predicted escape time | escape time (overlap 0.1), per seed | max hard overlap, per seed | learned |")
print("|---|---|---|---|---|---|---|")
gd_configs = [
    dict(name="quadratic, m = 1", act="quadratic", m=1, a="fixed:1"),
    dict(name="log cosh, m = 2", act="logcosh", m=2, a="fixed:0.5,0.5"),
]
for c in gd_configs:
    base = ["nn", "--link", LINK, "--activation", c["act"], "--width", str(c["m"]), "--second-layer", c["a"],
            "--init", "small:0", "--hard", "1"]
    j, cmd = run(base + ["--find", "--format", "json"])
    commands.append(cmd)
    dnn = j["delta_nn"]
    above, below = 12 * dnn, 0.5 * dnn
    p, cmd = run(base + ["--delta", f"{above:.6g}", "--format", "json"])
    commands.append(cmd)
    lam = p["points"][0]["lambda_out"]
    t_esc = p["points"][0]["escape_time_relative_per_log_d"] * math.log(D)
    lr = 0.1 / abs(lam)
    steps = int(math.ceil(6 * t_esc / lr)) + 50
    for delta in (above, below):
        g, cmd = run(["simulate", "gd", "--link", LINK, "--activation", c["act"], "--width", str(c["m"]),
                      "--second-layer", c["a"], "--init", "small:0.01", "--d", str(D), "--delta", f"{delta:.6g}",
                      "--seeds", "2", "--hard", "1", "--steps", str(steps), "--lr", f"{lr:.6g}",
                      "--test-size", "0", "--format", "json"])
        commands.append(cmd)
        runs = g["points"][0]["runs"]
        esc, best, learned = [], [], []
        for r in runs:
            det = r.get("details", {})
            e = det.get("escape_step")
            esc.append("never" if e is None or e < 0 else f"{e * lr:.3g}")
            best.append(max(x["hard_overlap"] for x in det.get("series", [{"hard_overlap": float('nan')}])))
            learned.append(bool(det.get("learned")))
        print(f"| {c['name']} | {dnn:.4g} | {delta:.4g} | {t_esc:.3g} | {', '.join(esc)} | "
              f"{', '.join(f'{b:.3f}' for b in best)} | {', '.join('yes' if l else 'no' for l in learned)} |")
print()
print("Commands (deltacrit = " + BIN + "):")
print()
print("```")
for cmd in commands:
    print(cmd)
print("```")
print()
print(f"Total time {time.time() - t_start:.0f} s.")
PYEOF
