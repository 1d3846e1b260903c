#!/usr/bin/env bash
# The CUDA proof on a GPU machine that has no Node.js (../shared/device/README.md): builds the
# addon against that machine's torch, then runs bench/gpu.js (CPU vs CUDA results, CUDA out of
# memory, train() with and without AMP and batches prepared ahead, the U-Net against PyTorch on
# the same card).
#   here:   ../shared/device/pack.sh; copy node-addon-api, node-api-headers and the runtime
#           packages (pngjs, tiff, iobuffer, pako) into .gpu/node_modules; npm run build:ts
#   there:  source .device/setup.sh && bash scripts/gpu-check.sh OUTDIR   (carry .device .gpu dist)
set -euo pipefail
out=${1:-/tmp/gpu-check}
mkdir -p "$out"
[ -e node_modules ] || cp -r .gpu/node_modules node_modules
root=$("$TORCH_PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
start=$(date +%s)
# The record first: the build takes the NCCL backend's header folders from it.
node -e "const l = require('./scripts/libtorch.js'); l.writeRecord(l.findLibtorch({ install: false, log() {} }))"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIBTORCH_ROOT="$root" -DLIBTORCH_CUDA=ON \
  -DNCCL_INCLUDE_DIRS="$(node scripts/libtorch.js nccl-includes)" \
  -DCMAKE_JS_INC="$PWD/node_modules/node-api-headers/include;$PWD/node_modules/node-addon-api" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/build/Release" >"$out/build.log" 2>&1
cmake --build build --parallel "$(nproc)" >>"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
echo "addon built against $root in $(( $(date +%s) - start )) s"
node bench/gpu.js 2>&1 | tee "$out/gpu.txt"
