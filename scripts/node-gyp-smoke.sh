#!/usr/bin/env bash
# Builds the addon a second way, with node-gyp from binding.gyp, in a copy of the sources under
# build/node-gyp (node-gyp and cmake-js both want build/), then runs the smoke test on that build.
#   scripts/node-gyp-smoke.sh [LIBTORCH_ROOT]   default: the libtorch npm install chose
# Naming another libtorch (say a CUDA wheel's torch folder) checks that it links and loads here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch="$root/build/node-gyp"
rm -rf "$scratch"
mkdir -p "$scratch"
cp -r "$root/native" "$root/scripts" "$root/binding.gyp" "$root/package.json" "$scratch/"
ln -s "$root/node_modules" "$scratch/node_modules"
# Named explicitly: node-gyp rebuild starts from an empty build/, where no record is found.
libtorch=${1:-$(node -p "require('$root/build/libtorch.json').root")}
# Node's headers: where npm is configured to find them (npm's nodedir), else node-gyp downloads them.
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
nodedir_flag=()
[ -n "$nodedir" ] && [ "$nodedir" != undefined ] && nodedir_flag=(--nodedir="$nodedir")
(cd "$scratch" && LIBTORCH="$libtorch" CXX="${CXX:-$(command -v ccache >/dev/null && echo 'ccache g++' || echo g++)}" \
  "$root/node_modules/.bin/node-gyp" rebuild --jobs max "${nodedir_flag[@]}" >"$scratch/node-gyp.log" 2>&1) || {
  tail -40 "$scratch/node-gyp.log"
  echo "node-gyp build failed" >&2
  exit 1
}
LIBTORCH="$libtorch" node -e "require('$root/scripts/libtorch.js').writeRecord(require('$root/scripts/libtorch.js').findLibtorch(), '$scratch/build/libtorch.json')"
UNET_TORCH_ADDON="$scratch/build/Release/unet_torch.node" LIBTORCH="$libtorch" node "$root/scripts/smoke.js"
