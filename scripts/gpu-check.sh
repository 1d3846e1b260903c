#!/usr/bin/env bash
# The CUDA proof on a GPU machine that has no Node.js (../shared/device/README.md): builds the
# addon against that machine's torch, then runs
#   bench     bench/gpu.js: CPU vs CUDA results, CUDA out of memory, torch.distributed over NCCL
#             (the collectives and DDP, one rank per GPU), the fused CUDA remap against torch ops,
#             train() with and without AMP and batches prepared ahead or when taken, the U-Net and
#             overlap-tile prediction (float32, float16) against PyTorch on the same card;
#             GPU_SECTIONS (comma-separated: results, oom, nccl, kernels, graphs, graphed-train,
#             augment, profile, train, predict, unet) runs fewer;
#   accuracy  the paper's network (preset ronneberger2015) with each set's recipe on the paper's
#             three sets (GPU_SETS, comma-separated, chooses fewer), GPU_MINUTES (default 1.5)
#             minutes of training each, at most GPU_STEPS (default 6000) steps, scored on the
#             held-out frames as docs/results.md's table;
#   all       both (the default). bench and accuracy each fit one 10-minute call; a warm machine
#             keeps the build. Measured on an H200 (2026-12-04): the build 38 s cold, 7 s warm;
#             bench about 200 s; accuracy about GPU_MINUTES + 1.2 minutes per set (loading, weight
#             maps, calibration and scoring run on the CPU), so GPU_MINUTES=1.2 ran past a 450 s
#             call during the last set's scoring: give it 3 × (GPU_MINUTES + 1.3) minutes.
#   What the sessions of 2026-12-04 left unmeasured, in one call of about 5 minutes (train() with
#   cudaGraphs; the ISBI 2012 row of docs/results.md "On a GPU"):
#     GPU_SECTIONS=graphed-train GPU_SETS=isbi2012 GPU_MINUTES=1.2 bash scripts/gpu-check.sh OUT all
#   here:   scripts/gpu-prepare.sh (fills .gpu/ and .device/ within the device tool's limits)
#   there:  source .device/setup.sh && bash scripts/gpu-check.sh OUTDIR [bench|accuracy|all]
#           (carry .device .gpu)
set -euo pipefail
out=${1:-/tmp/gpu-check}
what=${2:-all}
case "$what" in bench | accuracy | all) ;; *)
  echo "gpu-check.sh: the second argument must be bench, accuracy or all, got '$what'" >&2
  exit 2
  ;;
esac
mkdir -p "$out"
[ -e node_modules ] || cp -r .gpu/node_modules node_modules
[ -e dist ] || cp -r .gpu/dist dist
root=$("$TORCH_PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
start=$(date +%s)
# The record first: the build takes the NCCL backend's header folders and the nvcc from it.
node -e "const l = require('./scripts/libtorch.js'); l.writeRecord(l.findLibtorch({ install: false, log() {} }))"
build() { # $1: the nvcc for the CUDA kernels, or nothing
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIBTORCH_ROOT="$root" -DLIBTORCH_CUDA=ON \
    -DNCCL_INCLUDE_DIRS="$(node scripts/libtorch.js nccl-includes)" \
    -DUNET_NVCC="$1" -DUNET_CUDA_ARCHITECTURES="$(node scripts/libtorch.js cuda-architectures)" \
    -DCMAKE_JS_INC="$PWD/node_modules/node-api-headers/include;$PWD/node_modules/node-addon-api" \
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/build/Release" >>"$out/build.log" 2>&1 &&
    cmake --build build --parallel "$(nproc)" >>"$out/build.log" 2>&1
}
# Without the kernels if they do not compile there: the rest of the check still runs.
if ! build "$(node scripts/libtorch.js nvcc)"; then
  tail -40 "$out/build.log"
  echo "the build with the CUDA kernels failed (above): building without them, from scratch"
  rm -rf build
  build "" || { tail -40 "$out/build.log"; exit 1; }
fi
echo "addon built against $root in $(( $(date +%s) - start )) s"
node dist/cli/main.js info | tee "$out/info.txt"
# A failing part does not stop the next one; the exit status says whether any failed.
status=0
if [ "$what" != accuracy ]; then node bench/gpu.js 2>&1 | tee "$out/gpu.txt" || status=1; fi
if [ "$what" != bench ]; then
  # The runs (checkpoints of 120 MB) stay outside OUTDIR; the table and results.json come back.
  runs=/tmp/gpu-accuracy
  node dist/cli/main.js accuracy .gpu/data --sets "${GPU_SETS:-phc-c2dh-u373,dic-c2dh-hela,isbi2012}" --protocols heldout \
    --preset ronneberger2015 --device cuda --minutes "${GPU_MINUTES:-1.5}" --steps "${GPU_STEPS:-6000}" \
    --seed 0 --out "$runs" 2>&1 | tee "$out/accuracy.txt" || status=1
  if [ -f "$runs/results.json" ]; then cp "$runs/results.json" "$out/accuracy-results.json"; fi
fi
exit "$status"
