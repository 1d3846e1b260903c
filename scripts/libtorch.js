'use strict';
// Finds the libtorch the addon builds and loads against, in the documented order:
//   1. LIBTORCH: an unpacked libtorch or a torch package folder;
//   2. a Python that imports torch: TORCH_PYTHON, else python3;
//   3. the project-local venv (.venv), created with a pinned torch when missing.
// Plain CommonJS with no dependencies: it runs at install time, before TypeScript is compiled,
// and from binding.gyp through node-gyp's command expansion.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const projectRoot = path.resolve(__dirname, '..');
const venvDir = path.join(projectRoot, '.venv');
const venvPython = path.join(venvDir, 'bin', 'python');
const recordFile = path.join(projectRoot, 'build', 'libtorch.json');

/** The torch releases `npm install` puts into the project venv. */
const PINNED_TORCH = { cpu: 'torch==2.13.0+cpu', cuda: 'torch==2.14.1' };
/**
 * What the PyTorch reference in reference/ needs beside torch (pip name → import name); onnx and
 * onnxruntime check exported models independently of onnxruntime-node.
 */
const REFERENCE_PACKAGES = {
  numpy: 'numpy',
  scipy: 'scipy',
  safetensors: 'safetensors',
  'scikit-image': 'skimage',
  onnx: 'onnx',
  onnxruntime: 'onnxruntime',
};

class LibtorchError extends Error {}

function readVersion(root) {
  const buildVersion = path.join(root, 'build-version');
  if (fs.existsSync(buildVersion)) return fs.readFileSync(buildVersion, 'utf8').trim();
  const versionPy = path.join(root, 'version.py');
  if (fs.existsSync(versionPy)) {
    const match = /__version__\s*=\s*['"]([^'"]+)['"]/.exec(fs.readFileSync(versionPy, 'utf8'));
    if (match) return match[1];
  }
  return 'unknown';
}

/** What native/nccl_backend.cc includes, directly or through libtorch's CUDA headers. */
const NCCL_BACKEND_HEADERS = [
  'nccl.h',
  'cuda_runtime_api.h',
  'crt/host_config.h',
  'cublas_v2.h',
  'cublasLt.h',
  'cusparse.h',
  'cusolverDn.h',
];

/**
 * The include folders of NCCL's and CUDA's headers for the CUDA libtorch at `root`, looked for in
 * NCCL_INCLUDE_DIR, the nvidia packages beside a pip torch (site-packages/nvidia/NAME/include: the
 * nvidia-nccl and CUDA packages torch depends on) and the CUDA toolkit (CUDA_HOME, else
 * /usr/local/cuda). Returns the folders, or the headers no folder holds.
 */
function ncclHeaders(root) {
  const candidates = [];
  if (process.env.NCCL_INCLUDE_DIR) candidates.push(path.resolve(process.env.NCCL_INCLUDE_DIR));
  const nvidia = path.join(root, '..', 'nvidia');
  if (fs.existsSync(nvidia)) for (const name of fs.readdirSync(nvidia).sort()) candidates.push(path.join(nvidia, name, 'include'));
  candidates.push(path.join(process.env.CUDA_HOME || '/usr/local/cuda', 'include'));
  const includes = [];
  const missing = [];
  for (const header of NCCL_BACKEND_HEADERS) {
    const folder = candidates.find((candidate) => fs.existsSync(path.join(candidate, header)));
    if (folder === undefined) missing.push(header);
    else if (!includes.includes(folder)) includes.push(folder);
  }
  return missing.length === 0 ? { includes, missing } : { includes: [], missing };
}

/**
 * The CUDA toolkit that builds the addon's own kernels (native/*.cu): its nvcc, beside the
 * cuda_runtime_api.h that native/augment_cuda.cc includes through c10's CUDA headers.
 * Looked for in CUDACXX (an nvcc), CUDA_HOME, CUDA_PATH, /usr/local/cuda and the nvcc on PATH;
 * null when none has both.
 */
function cudaToolkit() {
  const roots = [];
  if (process.env.CUDACXX)
    roots.push({ nvcc: path.resolve(process.env.CUDACXX), root: path.dirname(path.dirname(path.resolve(process.env.CUDACXX))) });
  for (const root of [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda']) {
    if (root) roots.push({ nvcc: path.join(root, 'bin', 'nvcc'), root });
  }
  const onPath = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) roots.push({ nvcc: onPath, root: path.dirname(path.dirname(fs.realpathSync(onPath))) });
  const found = roots.find(({ nvcc, root }) => fs.existsSync(nvcc) && fs.existsSync(path.join(root, 'include', 'cuda_runtime_api.h')));
  return found === undefined ? null : { nvcc: found.nvcc };
}

/**
 * The GPU architectures nvcc compiles for: UNET_CUDA_ARCHITECTURES (CMake's list syntax), else
 * those of the GPUs nvidia-smi sees, else every architecture CUDA 13 supports, as machine code,
 * plus PTX of the newest for GPUs yet to come.
 */
function cudaArchitectures() {
  if (process.env.UNET_CUDA_ARCHITECTURES) return process.env.UNET_CUDA_ARCHITECTURES;
  const query = spawnSync('nvidia-smi', ['--query-gpu=compute_cap', '--format=csv,noheader'], { encoding: 'utf8' });
  const visible =
    query.status === 0
      ? [
          ...new Set(
            query.stdout
              .split('\n')
              .map((line) => line.trim().replace('.', ''))
              .filter((cap) => /^\d+$/.test(cap)),
          ),
        ]
      : [];
  return visible.length > 0 ? visible.join(';') : '75-real;80-real;86-real;89-real;90-real;100-real;120';
}

/** Describes the libtorch at `root`, or explains why it is not one. */
function describe(root, source, reason, python) {
  const lib = path.join(root, 'lib');
  const include = path.join(root, 'include');
  if (!fs.existsSync(path.join(lib, 'libtorch_cpu.so')) || !fs.existsSync(path.join(include, 'torch'))) {
    throw new LibtorchError(
      `${root} is not a libtorch: expected lib/libtorch_cpu.so and include/torch inside it (${source}). ` +
        'Point LIBTORCH at an unpacked libtorch or at the torch folder of a Python installation.',
    );
  }
  const cuda = fs.existsSync(path.join(lib, 'libtorch_cuda.so'));
  const nccl = cuda ? ncclHeaders(root) : null;
  const toolkit = cuda ? cudaToolkit() : null;
  return {
    root,
    lib,
    includes: [include, path.join(include, 'torch', 'csrc', 'api', 'include')],
    version: readVersion(root),
    cuda,
    // The NCCL backend is built when these are found; otherwise ncclMissing says why not.
    ncclIncludes: nccl?.includes ?? [],
    ncclMissing:
      nccl === null
        ? 'the libtorch has no CUDA'
        : nccl.missing.length > 0
          ? `no folder holds ${nccl.missing.join(', ')} (install nvidia-nccl and the CUDA headers, or set NCCL_INCLUDE_DIR and CUDA_HOME)`
          : null,
    // The addon's own CUDA kernels are built with this nvcc, for these architectures; otherwise
    // cudaKernelsMissing says why not, and CUDA augmentation runs on torch ops.
    nvcc: toolkit?.nvcc ?? null,
    cudaArchitectures: toolkit === null ? null : cudaArchitectures(),
    cudaKernelsMissing: !cuda
      ? 'the libtorch has no CUDA'
      : toolkit === null
        ? 'no CUDA toolkit found (nvcc and cuda_runtime_api.h: set CUDACXX or CUDA_HOME, or put nvcc on PATH)'
        : null,
    source,
    reason,
    python: python ?? null,
  };
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', ...options });
}

/** The torch package folder of `python`, or null when that Python has no torch. */
function torchOfPython(python) {
  const probe = run(python, ['-c', 'import os, torch; print(os.path.dirname(torch.__file__))']);
  if (probe.error || probe.status !== 0) return null;
  return probe.stdout.trim().split('\n').pop();
}

function gpuVisible() {
  try {
    return fs.readdirSync('/proc/driver/nvidia/gpus').length > 0;
  } catch {
    return run('nvidia-smi', ['-L']).status === 0;
  }
}

function pipArguments(log) {
  if (process.env.UNET_TORCH_PIP_ARGS) {
    log(`libtorch: pip arguments from UNET_TORCH_PIP_ARGS: ${process.env.UNET_TORCH_PIP_ARGS}`);
    return process.env.UNET_TORCH_PIP_ARGS.split(/\s+/).filter(Boolean);
  }
  const flavour = gpuVisible() ? 'cuda' : 'cpu';
  log(`libtorch: ${flavour === 'cuda' ? 'an NVIDIA GPU is visible' : 'no NVIDIA GPU is visible'}, installing ${PINNED_TORCH[flavour]}`);
  return ['--retries', '0', PINNED_TORCH[flavour], ...Object.keys(REFERENCE_PACKAGES)];
}

function createVenv(log) {
  const basePython = process.env.TORCH_PYTHON || 'python3';
  log(`libtorch: creating ${venvDir} with ${basePython} -m venv`);
  const venv = run(basePython, ['-m', 'venv', venvDir], { stdio: 'inherit' });
  if (venv.error || venv.status !== 0) {
    throw new LibtorchError(
      `could not create the venv ${venvDir} with '${basePython} -m venv'. ` +
        'Install Python 3.10+ with the venv module (Debian: apt-get install python3-venv), ' +
        'or set LIBTORCH to an unpacked libtorch.',
    );
  }
  const pip = run(venvPython, ['-m', 'pip', 'install', ...pipArguments(log)], { stdio: 'inherit' });
  if (pip.error || pip.status !== 0) {
    throw new LibtorchError(
      `pip could not install torch into ${venvDir}. Set UNET_TORCH_PIP_ARGS to the pip arguments that ` +
        'work on this machine (for example an --index-url and a torch version), or set LIBTORCH or TORCH_PYTHON.',
    );
  }
}

/**
 * Installs the reference packages a project venv made by an earlier version lacks (a package added
 * to REFERENCE_PACKAGES since); pip failing here costs only the tests that use the package.
 */
function completeVenv(log) {
  // One Python start for all of them: it prints the pip names whose module is not installed.
  const probe = [
    'import importlib.util',
    `packages = ${JSON.stringify(REFERENCE_PACKAGES)}`,
    'print(" ".join(name for name, module in packages.items() if importlib.util.find_spec(module) is None))',
  ].join('\n');
  const result = run(venvPython, ['-c', probe]);
  if (result.error || result.status !== 0) return;
  const missing = result.stdout.trim().split(/\s+/).filter(Boolean);
  if (missing.length === 0) return;
  log(`libtorch: installing ${missing.join(', ')} into ${venvDir} (the reference needs them)`);
  const pip = run(venvPython, ['-m', 'pip', 'install', '--retries', '0', ...missing], { stdio: 'inherit' });
  if (pip.error || pip.status !== 0)
    log(`libtorch: pip could not install ${missing.join(', ')}; the tests that compare with them will fail`);
}

/**
 * Finds libtorch. With `install: true` it may create the project venv; otherwise it only looks.
 * Returns { root, lib, includes, version, cuda, ncclIncludes, ncclMissing, nvcc, cudaArchitectures,
 * cudaKernelsMissing, source, reason, python }.
 */
function findLibtorch({ install = false, log = () => {} } = {}) {
  if (process.env.LIBTORCH) {
    const root = path.resolve(process.env.LIBTORCH);
    return describe(root, 'LIBTORCH', 'the LIBTORCH environment variable names it', referencePython());
  }
  const explicitPython = process.env.TORCH_PYTHON;
  if (explicitPython) {
    const root = torchOfPython(explicitPython);
    if (!root) {
      throw new LibtorchError(
        `TORCH_PYTHON=${explicitPython} does not import torch. Install torch into that Python, or unset TORCH_PYTHON.`,
      );
    }
    return describe(root, 'TORCH_PYTHON', `TORCH_PYTHON=${explicitPython} imports torch`, explicitPython);
  }
  const systemRoot = torchOfPython('python3');
  if (systemRoot) return describe(systemRoot, 'python3', 'python3 on PATH imports torch', 'python3');
  let venvRoot = fs.existsSync(venvPython) ? torchOfPython(venvPython) : null;
  if (!venvRoot && install) {
    createVenv(log);
    venvRoot = torchOfPython(venvPython);
  }
  if (venvRoot && install) completeVenv(log);
  if (!venvRoot) {
    throw new LibtorchError(
      'no libtorch found: LIBTORCH is unset, no Python imports torch, and the project venv has none. ' +
        'Run `npm install` (it creates .venv with torch), or set LIBTORCH or TORCH_PYTHON.',
    );
  }
  return describe(venvRoot, 'venv', `the project venv ${venvDir} holds torch`, venvPython);
}

/** The Python that runs the PyTorch reference: one that imports torch, if any. */
function referencePython() {
  for (const candidate of [process.env.TORCH_PYTHON, 'python3', venvPython]) {
    if (candidate && (candidate !== venvPython || fs.existsSync(venvPython)) && torchOfPython(candidate)) return candidate;
  }
  return null;
}

function readRecord() {
  try {
    return JSON.parse(fs.readFileSync(recordFile, 'utf8'));
  } catch {
    return null;
  }
}

function writeRecord(found, file = recordFile) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(found, null, 2)}\n`);
  fs.renameSync(temporary, file);
}

module.exports = { findLibtorch, readRecord, writeRecord, readVersion, recordFile, LibtorchError, REFERENCE_PACKAGES };

/** node-gyp's C++ sources: native/*.cc, without the NCCL backend where it cannot be built. */
function addonSources(found) {
  const sources = fs.readdirSync(path.join(projectRoot, 'native')).filter((file) => file.endsWith('.cc'));
  // node-gyp has no rule for nvcc: its builds leave the CUDA kernels out (CMake builds them).
  return sources
    .filter((file) => (file !== 'nccl_backend.cc' || found.ncclIncludes.length > 0) && file !== 'augment_cuda.cc')
    .map((file) => `native/${file}`);
}

// binding.gyp and scripts/gpu-check.sh ask through command expansion:
// node scripts/libtorch.js includes|lib|libraries|sources|defines|nccl-includes|nvcc|cuda-architectures
if (require.main === module) {
  const record = readRecord();
  // A record written before the CUDA kernel fields existed is described again.
  const found = record && 'cudaKernelsMissing' in record ? record : findLibtorch();
  const what = process.argv[2];
  if (what === 'includes') process.stdout.write([...found.includes, ...found.ncclIncludes].join(' '));
  else if (what === 'sources') process.stdout.write(addonSources(found).join(' '));
  else if (what === 'defines') process.stdout.write(found.ncclIncludes.length > 0 ? 'UNET_WITH_NCCL' : '');
  else if (what === 'nccl-includes') process.stdout.write(found.ncclIncludes.join(';'));
  else if (what === 'nvcc') process.stdout.write(found.nvcc ?? '');
  else if (what === 'cuda-architectures') process.stdout.write(found.cudaArchitectures ?? '');
  else if (what === 'lib') process.stdout.write(found.lib);
  else if (what === 'libraries') {
    const names = found.cuda ? ['torch', 'torch_cpu', 'c10', 'torch_cuda', 'c10_cuda'] : ['torch', 'torch_cpu', 'c10'];
    process.stdout.write(names.map((name) => `-l${name}`).join(' '));
  } else process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
}
