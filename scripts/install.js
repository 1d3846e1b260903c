'use strict';
// `npm install` step: finds (or installs) libtorch, then builds the addon with cmake-js.
// A second run with nothing changed is an up-to-date check; ccache makes fresh builds cheap.

const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { findLibtorch, readRecord, writeRecord, LibtorchError } = require('./libtorch');

const projectRoot = path.resolve(__dirname, '..');

function log(message) {
  console.log(`unet-torch: ${message}`);
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Builds the addon with cmake-js; returns cmake-js's exit status. */
function buildAddon(found, clean) {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const args = [
    cmakeJs,
    clean ? 'rebuild' : 'build',
    '--parallel',
    String(Math.max(1, os.availableParallelism())),
    `--CDLIBTORCH_ROOT=${found.root}`,
    `--CDLIBTORCH_CUDA=${found.cuda ? 'ON' : 'OFF'}`,
    `--CDNCCL_INCLUDE_DIRS=${found.ncclIncludes.join(';')}`,
    `--CDUNET_NVCC=${found.nvcc ?? ''}`,
    `--CDUNET_CUDA_ARCHITECTURES=${found.cudaArchitectures ?? ''}`,
  ];
  if (hasCommand('ccache')) args.push('--CDCMAKE_CXX_COMPILER_LAUNCHER=ccache');
  else log('ccache not found: a fresh build compiles every file (apt-get install ccache makes rebuilds fast)');
  return spawnSync(process.execPath, args, { cwd: projectRoot, stdio: 'inherit' }).status;
}

function main() {
  let found = findLibtorch({ install: true, log });
  log(`libtorch ${found.version} (${found.cuda ? 'CUDA build' : 'CPU build'}) at ${found.root}`);
  log(`chosen because ${found.reason}`);
  log(
    found.ncclMissing === null ? 'distributed backends: gloo and nccl' : `distributed backend: gloo (nccl not built: ${found.ncclMissing})`,
  );
  log(
    found.cudaKernelsMissing === null
      ? `CUDA kernels: building them with ${found.nvcc} for ${found.cudaArchitectures}`
      : `CUDA kernels: not built (${found.cudaKernelsMissing}); CUDA augmentation runs on torch ops`,
  );
  const previous = readRecord();
  const clean = previous !== null && (previous.root !== found.root || previous.version !== found.version);
  if (clean) log(`libtorch changed from ${previous.version} at ${previous.root}: rebuilding from scratch`);
  let status = buildAddon(found, clean);
  if (status !== 0 && found.nvcc !== null) {
    // The kernels are an optimisation: an nvcc that cannot compile them must not cost the install.
    log(`the build with the CUDA kernels failed (the output above says why): building without them`);
    found = {
      ...found,
      nvcc: null,
      cudaArchitectures: null,
      cudaKernelsMissing: `${found.nvcc} did not compile them; npm install's output says why`,
    };
    // From scratch: the failed configuration stays in CMake's cache otherwise.
    status = buildAddon(found, true);
  }
  if (status !== 0) {
    throw new LibtorchError(
      `the addon did not build against ${found.root} (cmake-js exited with ${status}). ` +
        'Check that cmake >= 3.18 and a C++20 compiler (g++ 11+) are installed; the output above names the failing step.',
    );
  }
  writeRecord(found);
  log(`addon built: ${path.join('build', 'Release', 'unet_torch.node')}`);
}

try {
  main();
} catch (error) {
  if (error instanceof LibtorchError) {
    console.error(`unet-torch: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
