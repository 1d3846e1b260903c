#!/usr/bin/env bash
# Whether this CPU's kernels round as a plain AVX2 CPU's do: trains `npm start`'s nuclei recipe for
# a few steps twice from the same seed, once as libtorch dispatches here and once with oneDNN (the
# CPU convolutions) held to AVX2, and prints both runs' losses side by side. Where they differ, a
# figure of docs/results.md run on a CPU of another instruction set moves within a seed's noise
# instead of repeating bit for bit (docs/results.md, "Reproducing a figure").
# usage: scripts/isa-sensitivity.sh [STEPS]   (default 6; `unet info` names this CPU and its kernels)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-6}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

node dist/cli/main.js info | grep '^CPU '
train() { # name, then environment assignments
  local name="$1"
  shift
  env "$@" node dist/cli/main.js train --data examples/dsb2018/train --recipe nuclei --steps "$steps" --out "$out/$name" >/dev/null 2>&1
}
train dispatched
train avx2 ONEDNN_MAX_CPU_ISA=AVX2
node -e '
const fs = require("node:fs");
const losses = (run) => fs.readFileSync(`${process.argv[1]}/${run}/metrics.jsonl`, "utf8").trim().split("\n")
  .map((line) => JSON.parse(line)).filter((record) => record.loss !== undefined && record.step !== undefined).map((record) => record.loss);
const [dispatched, avx2] = [losses("dispatched"), losses("avx2")];
console.log("step  loss as dispatched    loss with oneDNN at AVX2");
dispatched.forEach((loss, k) => console.log(`${String(k + 1).padStart(4)}  ${String(loss).padEnd(20)}  ${avx2[k]}${loss === avx2[k] ? "" : "  (differs)"}`));
const same = dispatched.every((loss, k) => loss === avx2[k]);
console.log(same ? "the same bits: this CPU rounds as an AVX2 CPU does" : "different bits: runs here and on an AVX2 CPU part from the first step");
' "$out"
