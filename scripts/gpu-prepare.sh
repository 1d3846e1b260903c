#!/usr/bin/env bash
# Prepares scripts/gpu-check.sh for a GPU machine that has no Node.js, no network and no
# ../shared, within the device tool's 64 MiB: builds dist/, then fills .gpu/ (git-ignored) with
# dist/ less the browser bundle (dist/web, 42 MB), the packages the library and the CLI load plus
# the addon build's headers, and the paper's three data sets; packs Node.js into .device/.
#   scripts/gpu-prepare.sh [DATA]   (default ../shared/data)
# Then one device run, carrying .device and .gpu:
#   source .device/setup.sh && bash scripts/gpu-check.sh "$OUT" [bench|accuracy|all]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data}
cd "$root"
npm run --silent build:ts
rm -rf .gpu
mkdir -p .gpu/node_modules .gpu/data
tar -C dist --exclude=./web -cf - . | (mkdir -p .gpu/dist && tar -C .gpu/dist -xf -)
# Every package a loaded library and CLI hold in require's cache: the list cannot fall behind
# the dependencies.
packages=$(node -e "
require('./dist/index.js');
require('./dist/cli/main.js');
const names = Object.keys(require.cache)
  .filter((file) => file.includes('/node_modules/'))
  .map((file) => file.split('/node_modules/').pop().split('/'))
  .map((parts) => (parts[0].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]));
console.log([...new Set(names)].join(' '));
")
for package in $packages node-addon-api node-api-headers; do
  mkdir -p ".gpu/node_modules/$(dirname "$package")"
  cp -r "node_modules/$package" ".gpu/node_modules/$package"
done
for set in isbi2012 dic-c2dh-hela phc-c2dh-u373; do cp -r "$data/$set" .gpu/data/; done
"$root/../shared/device/pack.sh"
echo "packages: $packages node-addon-api node-api-headers"
du -sh .device .gpu
