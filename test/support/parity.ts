// Checks operations against PyTorch: each case runs here and, with the same inputs, in the
// reference Python (one process per test file). Outputs are compared, and for cases with `grad`,
// so are the gradients of a random projection of the outputs (sum(out_k * p_k)) with respect to
// the named inputs.
import { type Tensor, torch } from '../../lib';
import { runPython } from './python';

export interface Tolerance {
  rtol: number;
  atol: number;
}
/** Equal bit for bit: the same libtorch runs the same kernels on both sides. */
export const BITWISE: Tolerance = { rtol: 0, atol: 0 };
/**
 * On CUDA, backward kernels that scatter with atomic adds (pooling, interpolation, grid sampling,
 * indexing) sum in a run-dependent order, so equal-up-to-rounding is the most either side can
 * promise even against itself.
 */
export const CUDA_TOLERANCE: Tolerance = { rtol: 1e-5, atol: 1e-6 };

/** 'cpu', and 'cuda' when a GPU is visible (the CUDA runs are skipped, with the reason printed, otherwise). */
export function parityDevices(): string[] {
  if (torch.cuda.isAvailable()) return ['cpu', 'cuda'];
  console.log('CUDA parity runs skipped: torch.cuda.isAvailable() is false (no NVIDIA GPU visible or a CPU libtorch)');
  return ['cpu'];
}

export interface ParityCase {
  name: string;
  inputs: Record<string, Tensor>;
  /**
   * Our computation; returns one tensor or several. Create the outputs in the order the Python
   * expression does: autograd orders gradient accumulation by creation, and a float sum's last
   * bit depends on that order.
   */
  ours: (inputs: Record<string, Tensor>) => Tensor | Tensor[];
  /** The same in Python: an expression over the input names, `torch` and `F`. */
  python: string;
  /** Inputs to differentiate with respect to. */
  grad?: string[];
  /** Bitwise unless stated, with the reason next to the case. */
  tolerance?: Tolerance;
}

export interface ParityResult {
  name: string;
  what: string;
  ours: Tensor;
  theirs: Tensor;
  tolerance: Tolerance;
}

const PYTHON = `
import functools
import json
import torch
import torch.nn.functional as F
cases = json.loads(bytes(inputs.pop("__cases").tolist()).decode())
device = cases[0]["device"] if cases else "cpu"
inputs = {key: value.to(device) for key, value in inputs.items()}
for case in cases:
    name = case["name"]
    env = {key: inputs[f"{name}/in/{key}"].clone().requires_grad_(key in case["grad"]) for key in case["inputs"]}
    result = eval(case["python"], {"torch": torch, "F": F, **env})
    results = list(result) if isinstance(result, (tuple, list)) else [result]
    for k, value in enumerate(results):
        outputs[f"{name}/out{k}"] = value
    if case["grad"]:
        # Summed in the same order as on the JS side, so that gradients accumulate identically.
        total = functools.reduce(lambda a, b: a + b, [(value * inputs[f"{name}/proj{k}"]).sum() for k, value in enumerate(results) if value.is_floating_point()])
        grads = torch.autograd.grad(total, [env[key] for key in case["grad"]])
        for key, value in zip(case["grad"], grads):
            outputs[f"{name}/grad/{key}"] = value
`;

function asList(value: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Runs every case here and in PyTorch, on `device` on both sides; returns the pairs to compare.
 * Call inside torch.tidy().
 */
export function runParity(cases: ParityCase[], device = 'cpu'): ParityResult[] {
  const shared: Record<string, Tensor> = {};
  const results: ParityResult[] = [];
  const pending: { name: string; what: string; ours: Tensor; tolerance: Tolerance }[] = [];
  for (const c of cases) {
    const grad = c.grad ?? [];
    const tolerance = device === 'cpu' ? (c.tolerance ?? BITWISE) : CUDA_TOLERANCE;
    const inputs = Object.fromEntries(
      Object.entries(c.inputs).map(([key, value]) => {
        const placed = value.to({ device });
        return [key, grad.includes(key) ? placed.detach().requiresGrad_(true) : placed];
      }),
    );
    for (const [key, value] of Object.entries(c.inputs)) shared[`${c.name}/in/${key}`] = value;
    const outputs = asList(c.ours(inputs));
    for (const [k, output] of outputs.entries()) pending.push({ name: c.name, what: `output ${k}`, ours: output, tolerance });
    if (grad.length > 0) {
      const projections = outputs.map((output) =>
        torch.randn(output.shape, { dtype: output.dtype.startsWith('float') ? output.dtype : 'float32', device }),
      );
      for (const [k, projection] of projections.entries()) shared[`${c.name}/proj${k}`] = projection;
      const total = outputs
        .map((output, k) => (output.dtype.startsWith('float') ? output.mul(projections[k]!).sum() : null))
        .filter((term): term is Tensor => term !== null)
        .reduce((sum, term) => sum.add(term));
      const grads = torch.autograd.grad(
        total,
        grad.map((key) => inputs[key]!),
      );
      for (const [k, value] of grads.entries()) pending.push({ name: c.name, what: `grad ${grad[k]}`, ours: value!, tolerance });
    }
  }
  const manifest = cases.map((c) => ({ name: c.name, python: c.python, inputs: Object.keys(c.inputs), grad: c.grad ?? [], device }));
  shared.__cases = torch.tensor(Array.from(Buffer.from(JSON.stringify(manifest))), { dtype: 'uint8' });
  const theirs = runPython(PYTHON, shared);
  for (const entry of pending) {
    const key = entry.what.startsWith('grad') ? `${entry.name}/grad/${entry.what.slice(5)}` : `${entry.name}/out${entry.what.slice(7)}`;
    const other = theirs[key];
    if (other === undefined) throw new Error(`PyTorch produced no ${entry.what} for case '${entry.name}'`);
    results.push({ ...entry, theirs: other });
  }
  return results;
}

/** Why a pair differs, or null when it matches: shape, dtype, then values within the tolerance. */
export function mismatch(result: ParityResult): string | null {
  const { ours, theirs, tolerance } = result;
  if (JSON.stringify(ours.shape) !== JSON.stringify(theirs.shape)) return `shape [${ours.shape}] vs PyTorch [${theirs.shape}]`;
  if (ours.dtype !== theirs.dtype) return `dtype ${ours.dtype} vs PyTorch ${theirs.dtype}`;
  const a = ours.toTypedArray() as ArrayLike<number | bigint>;
  const b = theirs.toTypedArray() as ArrayLike<number | bigint>;
  let worst = 0;
  let worstAt = -1;
  for (let k = 0; k < a.length; k += 1) {
    const x = Number(a[k]);
    const y = Number(b[k]);
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    const excess = Math.abs(x - y) - (tolerance.atol + tolerance.rtol * Math.abs(y));
    if (!(excess <= 0) && (worstAt < 0 || excess > worst)) {
      worst = excess;
      worstAt = k;
    }
  }
  return worstAt < 0
    ? null
    : `element ${worstAt}: ${Number(a[worstAt])} vs PyTorch ${Number(b[worstAt])} (tolerance rtol ${tolerance.rtol}, atol ${tolerance.atol})`;
}

/** One row per case and output: what mismatched, for a readable test failure. */
export function mismatches(results: ParityResult[]): string[] {
  return results.flatMap((result) => {
    const why = mismatch(result);
    return why === null ? [] : [`${result.name} ${result.what}: ${why}`];
  });
}
