#!/usr/bin/env bash
# Fresh Debian 12 -> installed dependencies, a Release build in build/, and the demo.
#   ./scripts/bootstrap.sh            # everything
#   ./scripts/bootstrap.sh --no-demo  # deps + build only
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

run_demo=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) run_demo=0 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "bootstrap.sh: unknown argument '$arg' (accepted: --no-demo)" >&2; exit 2 ;;
  esac
done

# 1. Debian packages: install only what is missing.
mapfile -t wanted < <(grep -vE '^\s*(#|$)' scripts/deps-debian.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. Build (ccache keys are made relative to the checkout so clean clones share the cache).
export CCACHE_BASEDIR="$here"
export CCACHE_NOHASHDIR=1
cmake --preset default
cmake --build --preset default -j "$(nproc)"

# 3. Demo: δ_alg for classic links, with timings.
if ((run_demo)); then
  ./build/bin/deltacrit demo
fi
