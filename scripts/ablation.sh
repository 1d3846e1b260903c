#!/usr/bin/env bash
# The ablations of docs/results.md: each arm trains the `compact` U-Net for a fixed number of steps
# (not minutes, so that a busy machine changes the time but not the result) on the held-out split
# of `unet accuracy`, and prints its validation scores (which chose the recipe) and its test scores.
# The `start-*` arms are `npm start`'s: the nuclei recipe on the 16 sample images of
# examples/dsb2018/train (validation: 3 of them, seeded), 900 steps (about its 3 minutes), scored
# on the 4 images of examples/dsb2018/test; DATA_DIR is not used by them.
# ABLATION_SEED=N trains an arm with seed N instead of 0 (into ARM-seedN), to see what a seed moves;
# for the start-* arms it also draws the 3 validation images anew.
# usage: scripts/ablation.sh DATA_DIR [ARM...]      (DATA_DIR holds the benchmark sets, e.g. ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:?usage: scripts/ablation.sh DATA_DIR [ARM...]}"
shift
out="${ABLATION_OUT:-runs/ablation}"
steps="${ABLATION_STEPS:-1500}"
seed="${ABLATION_SEED:-0}"
# An arm's folder; seed 0's keeps the arm's name, as in the tables.
folder() { if [ "$seed" = 0 ]; then echo "$out/$1"; else echo "$out/$1-seed$seed"; fi; }

run() { # name set flags...
  local name="$1" set="$2"
  shift 2
  echo "== ablation $name ($set, $steps steps, seed $seed): $*"
  # The arm's row of the results table (printed after the set and again in the table at the end):
  # validation and test scores.
  node dist/cli/main.js accuracy "$data" --sets "$set" --protocols heldout --steps "$steps" --minutes 600 \
    --seed "$seed" --out "$(folder "$name")" "$@" | grep -F "| $set | heldout |" | tail -n 1
}

run_start() { # name flags...
  local name="$1" samples=examples/dsb2018 run
  shift
  run=$(folder "$name")
  echo "== ablation $name (npm start's sample nuclei, seed $seed): $*"
  # The progress (stderr) prints the choice with its validation scores; the summary (stdout) without.
  node dist/cli/main.js train --data "$samples/train" --out "$run" --overwrite --recipe nuclei --seed "$seed" "$@" 2>&1 >/dev/null |
    grep 'post-processing chosen'
  node dist/cli/main.js predict --model "$run" --out "$run/test-predictions" "$samples/test/images" 2>/dev/null >/dev/null
  node dist/cli/main.js eval --protocol ctc --pred "$run/test-predictions" --truth "$samples/test/labels" | tail -n 1
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
  # ISBI 2012: weights of the membrane map, then its post-processing.
  [isbi-paper]="isbi2012 --weights paper --no-watershed --keep best"
  [isbi-balance]="isbi2012 --weights balance --no-watershed --keep best"
  [isbi-falk]="isbi2012 --weights falk2019 --no-watershed --keep best"
  [isbi-w0-25]="isbi2012 --weights paper --w0 25 --no-watershed --keep best"
  [isbi-watershed]="isbi2012 --weights paper --watershed"
  [isbi-watershed-best]="isbi2012 --weights paper --watershed --keep best"
  # DSB2018 nuclei.
  [nuclei-cells]="dsb2018 --target cells --weights paper"
  [nuclei-borders]="dsb2018 --target borders --weights paper --border-width 1"
  [nuclei-borders-equal]="dsb2018 --target borders --weights paper --border-width 1 --image-sampling equal"
  [nuclei-zoom]="dsb2018 --target borders --weights paper --border-width 1 --zoom 0.7,1.4"
  [nuclei-zoom-wide]="dsb2018 --target borders --weights paper --border-width 1 --zoom 0.5,2"
  [nuclei-padded]="dsb2018 --target borders --weights paper --border-width 1 --preset padded --tile 320"
  # npm start (run_start): the nuclei recipe on the sample images.
  [start-recipe]="--steps 900"
  [start-foreground]="--steps 900 --background-weight 0.1"
  [start-lr2e-3]="--steps 900 --lr 0.002"
  [start-steps1200]="--steps 1200"
  [start-falk]="--steps 900 --weights falk2019"
  [start-percentile]="--steps 900 --normalise percentile"
  [start-cells]="--steps 900 --target cells"
  [start-border2]="--steps 900 --border-width 2"
  [start-tile412]="--steps 600 --tile 412"
  [start-balance]="--steps 900 --weights balance"
  [start-w0-5]="--steps 900 --w0 5"
  [start-zoom]="--steps 900 --zoom 0.7,1.4"
  # Fine-tuning the shipped nuclei model (trained on other DSB2018 images; these test images are
  # among its test images too) instead of training afresh.
  [start-init]="--steps 900 --init nuclei"
  [start-init-lr1e-4]="--steps 900 --init nuclei --lr 0.0001"
)
ORDER=(hela-cells hela-gaps-falk hela-borders hela-borders-falk hela-borders-w1 hela-borders-constant hela-borders-minmax
  u373-uniform u373-foreground u373-borders isbi-paper isbi-balance isbi-falk isbi-w0-25 isbi-watershed isbi-watershed-best nuclei-cells nuclei-borders nuclei-borders-equal nuclei-zoom nuclei-zoom-wide nuclei-padded
  start-recipe start-foreground start-lr2e-3 start-steps1200 start-falk start-percentile start-cells start-border2 start-tile412 start-balance start-w0-5 start-zoom start-init start-init-lr1e-4)

arms=("$@")
[ ${#arms[@]} -eq 0 ] && arms=("${ORDER[@]}")
for arm in "${arms[@]}"; do
  [ -n "${ARMS[$arm]+x}" ] || { echo "unknown arm '$arm'; known: ${ORDER[*]}" >&2; exit 2; }
  # shellcheck disable=SC2086
  case "$arm" in
  start-*) run_start "$arm" ${ARMS[$arm]} ;;
  *) run "$arm" ${ARMS[$arm]} ;;
  esac
done
