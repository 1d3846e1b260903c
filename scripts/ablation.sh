#!/usr/bin/env bash
# The ablations of docs/results.md: each arm trains the `compact` U-Net for a fixed number of steps
# (not minutes, so that a busy machine changes the time but not the result) on the held-out split
# of `unet accuracy`, and prints its validation scores (which chose the recipe) and its test scores.
# usage: scripts/ablation.sh DATA_DIR [ARM...]      (DATA_DIR holds the benchmark sets, e.g. ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:?usage: scripts/ablation.sh DATA_DIR [ARM...]}"
shift
out="${ABLATION_OUT:-runs/ablation}"
steps="${ABLATION_STEPS:-1500}"

run() { # name set flags...
  local name="$1" set="$2"
  shift 2
  echo "== ablation $name ($set, $steps steps): $*"
  node dist/cli/main.js accuracy "$data" --sets "$set" --protocols heldout --steps "$steps" --minutes 600 \
    --out "$out/$name" "$@" | tail -n 1
}

declare -A ARMS=(
  # DIC-HeLa: how touching cells are separated.
  [hela-cells]="dic-c2dh-hela --target cells --weights paper"
  [hela-gaps-falk]="dic-c2dh-hela --target cells --gaps --weights falk2019"
  [hela-borders]="dic-c2dh-hela --target borders --weights paper --border-width 2"
  [hela-borders-falk]="dic-c2dh-hela --target borders --weights falk2019 --border-width 2"
  [hela-borders-w1]="dic-c2dh-hela --target borders --weights paper --border-width 1"
  [hela-borders-constant]="dic-c2dh-hela --target borders --weights paper --border-width 2 --schedule constant"
  [hela-borders-minmax]="dic-c2dh-hela --target borders --weights paper --border-width 2 --normalise minmax"
  # PhC-U373: sparse cells.
  [u373-uniform]="phc-c2dh-u373 --background-weight 1"
  [u373-foreground]="phc-c2dh-u373 --background-weight 0.1"
  [u373-borders]="phc-c2dh-u373 --background-weight 0.1 --target borders --border-width 2"
  # ISBI 2012: weights of the membrane map.
  [isbi-paper]="isbi2012 --weights paper"
  [isbi-balance]="isbi2012 --weights balance"
  # DSB2018 nuclei.
  [nuclei-cells]="dsb2018 --target cells --weights paper"
  [nuclei-borders]="dsb2018 --target borders --weights paper --border-width 1"
)
ORDER=(hela-cells hela-gaps-falk hela-borders hela-borders-falk hela-borders-w1 hela-borders-constant hela-borders-minmax
  u373-uniform u373-foreground u373-borders isbi-paper isbi-balance nuclei-cells nuclei-borders)

arms=("$@")
[ ${#arms[@]} -eq 0 ] && arms=("${ORDER[@]}")
for arm in "${arms[@]}"; do
  [ -n "${ARMS[$arm]+x}" ] || { echo "unknown arm '$arm'; known: ${ORDER[*]}" >&2; exit 2; }
  # shellcheck disable=SC2086
  run "$arm" ${ARMS[$arm]}
done
