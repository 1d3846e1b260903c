// torch.distributed in TypeScript, on c10d itself (native/distributed.cc): the default process
// group over Gloo or NCCL, built exactly as PyTorch builds it so that Node and PyTorch ranks can
// share a group, and the collectives. Every call that waits on peers returns a Promise: the event loop
// keeps turning while a rank waits.
import { objectArg } from '../check';
import { native } from '../native';
import { div_ } from '../ops/math';
import { checkOptions, oneOf } from '../ops/options';
import { isContiguous } from '../ops/shape';
import { Tensor } from '../tensor';
import { resolveRendezvous } from './rendezvous';

export type { Rendezvous, RendezvousOptions } from './rendezvous';
export { resolveRendezvous } from './rendezvous';

/**
 * The communication backends: 'gloo' (CPU tensors, and CUDA tensors through the host) and 'nccl'
 * (CUDA tensors, GPU to GPU), which is built only against a CUDA libtorch with NCCL's headers.
 */
export type Backend = 'gloo' | 'nccl';
const BACKENDS: readonly Backend[] = ['gloo', 'nccl'];

/** Whether this build has the NCCL backend, as `torch.distributed.is_nccl_available()`. */
export function isNcclAvailable(): boolean {
  return native.distBackends().includes('nccl');
}

/**
 * The backend PyTorch users pick for `device`: NCCL for CUDA where this build has it, else Gloo.
 * Collectives of a group must then run on tensors of that device.
 */
export function backendFor(device: string): Backend {
  return device.startsWith('cuda') && isNcclAvailable() ? 'nccl' : 'gloo';
}

/** How `allReduce` and `reduceScatter` combine. Gloo has no average: `avg` sums and divides. */
export type ReduceOp = 'sum' | 'avg' | 'product' | 'min' | 'max';
const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'avg', 'product', 'min', 'max'];

/** PyTorch's default for Gloo: 30 minutes. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** Options of `initProcessGroup`, as in `torch.distributed.init_process_group`. */
export interface InitProcessGroupOptions {
  /** 'gloo' (the default): CPU tensors, and CUDA tensors through the host; 'nccl': CUDA tensors only. */
  backend?: Backend;
  /** 'env://' (the default: torchrun's variables) or 'tcp://host:port'. */
  initMethod?: string;
  /** This process's rank; from `RANK` with 'env://' when not given. */
  rank?: number;
  /** The number of ranks; from `WORLD_SIZE` with 'env://' when not given. */
  worldSize?: number;
  /** How long the rendezvous and each collective may wait for peers, in milliseconds (default 30 min). */
  timeout?: number;
}

/** A process group: the ranks that run collectives together. */
export class ProcessGroup {
  /** @internal */
  constructor(
    /** @internal */ readonly handle: unknown,
    /** This process's rank in the group. */
    readonly rank: number,
    /** The number of ranks. */
    readonly size: number,
    /** The backend its collectives run on; 'nccl' takes CUDA tensors only. */
    readonly backend: Backend,
  ) {}
}

let defaultGroup: ProcessGroup | null = null;

/** `group`, or the default group when it is not given; an error naming `fn` when there is none. */
export function processGroupOf(fn: string, group: ProcessGroup | undefined): ProcessGroup {
  if (group !== undefined) {
    if (!(group instanceof ProcessGroup)) throw new TypeError(`${fn}(): option 'group' must be a ProcessGroup, got ${String(group)}`);
    return group;
  }
  if (defaultGroup === null) throw new Error(`${fn}(): the default process group is not initialised: call initProcessGroup() first`);
  return defaultGroup;
}

function checkTensor(fn: string, argument: string, tensor: unknown): Tensor {
  if (!(tensor instanceof Tensor)) throw new TypeError(`${fn}(): argument '${argument}' must be a Tensor, got ${String(tensor)}`);
  if (!isContiguous(tensor)) throw new TypeError(`${fn}(): argument '${argument}' must be contiguous: call .contiguous() first`);
  return tensor;
}

function checkTensors(fn: string, argument: string, tensors: unknown): Tensor[] {
  if (!Array.isArray(tensors)) throw new TypeError(`${fn}(): argument '${argument}' must be an array of Tensors, got ${String(tensors)}`);
  return tensors.map((tensor, k) => checkTensor(fn, `${argument}[${k}]`, tensor));
}

/** Each of `tensors` must be shaped and typed like `like` (c10d's Gloo checks it with a fatal-looking log line). */
function checkLike(fn: string, argument: string, tensors: Tensor[], like: Tensor, likeName: string): void {
  const shape = like.shape.join(', ');
  for (const [k, tensor] of tensors.entries()) {
    if (tensor.dtype !== like.dtype || tensor.shape.join(', ') !== shape || tensor.device !== like.device) {
      throw new TypeError(
        `${fn}(): ${argument}[${k}] (${tensor.dtype} [${tensor.shape.join(', ')}] on ${tensor.device}) must match ` +
          `${likeName} (${like.dtype} [${shape}] on ${like.device})`,
      );
    }
  }
}

function reduceOp(fn: string, op: ReduceOp | undefined, tensors: Tensor[]): ReduceOp {
  const chosen = oneOf(fn, 'op', op ?? 'sum', REDUCE_OPS);
  if (chosen === 'avg' && tensors.some((t) => !['float32', 'float64', 'float16', 'bfloat16'].includes(t.dtype))) {
    throw new TypeError(`${fn}(): op 'avg' needs floating-point tensors`);
  }
  return chosen;
}

/**
 * Joins the default process group: waits until every rank has joined and connected to every
 * other (up to `timeout`; NCCL connects at the first collective instead). With 'env://' it reads
 * `MASTER_ADDR`, `MASTER_PORT`, `RANK` and `WORLD_SIZE`, and under torchrun joins the store its
 * agent hosts. PyTorch ranks started with `init_process_group` on the same address and backend
 * join the same group.
 */
export async function initProcessGroup(options: InitProcessGroupOptions = {}): Promise<ProcessGroup> {
  const fn = 'initProcessGroup';
  options = checkOptions(fn, options, ['backend', 'initMethod', 'rank', 'worldSize', 'timeout']);
  const { backend: _backend, timeout: _timeout, ...rendezvous } = options;
  if (defaultGroup !== null) throw new Error(`${fn}(): the default process group is already initialised; destroyProcessGroup() first`);
  const backend = oneOf(fn, 'backend', options.backend ?? 'gloo', BACKENDS);
  if (backend === 'nccl' && !isNcclAvailable()) {
    throw new Error(
      `${fn}(): backend 'nccl' is not in this build: it is built at install against a CUDA libtorch with NCCL's ` +
        "headers (`unet info` says why it was not); use backend 'gloo'",
    );
  }
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new RangeError(`${fn}(): option 'timeout' must be a positive integer of milliseconds, got ${String(timeout)}`);
  }
  const r = resolveRendezvous(rendezvous);
  let handle: unknown;
  try {
    handle = await native.distInitProcessGroup(backend, r.host, r.port, r.rank, r.worldSize, timeout, r.agentStore);
  } catch (error) {
    const store = `${r.agentStore ? "torchrun's store" : r.rank === 0 ? 'the store this rank hosts' : 'the store'} at ${r.host}:${r.port}`;
    throw new Error(
      `${fn}(): rank ${r.rank} of ${r.worldSize} could not join the ${backend} group through ${store}: ${(error as Error).message}`,
    );
  }
  defaultGroup = new ProcessGroup(handle, native.distRank(handle), native.distWorldSize(handle), backend);
  return defaultGroup;
}

/**
 * The device where `group`'s collectives take their tensors: this rank's GPU `device` for NCCL,
 * which reduces CUDA tensors only; the CPU for Gloo.
 */
export function collectiveDevice(group: ProcessGroup, device: string): string {
  return group.backend === 'nccl' ? device : 'cpu';
}

/** Whether `initProcessGroup` has run (and `destroyProcessGroup` not since). */
export function isInitialized(): boolean {
  return defaultGroup !== null;
}

/** The default process group, or null before `initProcessGroup`. */
export function defaultProcessGroup(): ProcessGroup | null {
  return defaultGroup;
}

/** This process's rank in `group` (the default group if not given). */
export function getRank(group?: ProcessGroup): number {
  return processGroupOf('getRank', group).rank;
}

/** The number of ranks of `group` (the default group if not given). */
export function getWorldSize(group?: ProcessGroup): number {
  return processGroupOf('getWorldSize', group).size;
}

/** Options naming the group of a collective. */
export interface GroupOptions {
  /** The default group if not given. */
  group?: ProcessGroup;
}

/** Options of `allReduce` and `reduceScatter`. */
export interface ReduceOptions extends GroupOptions {
  /** 'sum' by default. */
  op?: ReduceOp;
}

/** Options of `broadcast`. */
export interface BroadcastOptions extends GroupOptions {
  /** The rank whose tensor every rank receives (0 by default). */
  src?: number;
}

/** Resolves when every rank of the group has reached it. */
export async function barrier(options: GroupOptions = {}): Promise<void> {
  options = checkOptions('barrier', options, ['group']);
  await native.distBarrier(processGroupOf('barrier', options.group).handle);
}

/** Combines `tensor` across ranks, in place on every rank. */
export async function allReduce(tensor: Tensor, options: ReduceOptions = {}): Promise<void> {
  const fn = 'allReduce';
  options = checkOptions(fn, options, ['group', 'op']);
  const group = processGroupOf(fn, options.group);
  checkTensor(fn, 'tensor', tensor);
  const op = reduceOp(fn, options.op, [tensor]);
  await native.distAllReduce(group.handle, [tensor], op === 'avg' ? 'sum' : op);
  if (op === 'avg') div_(tensor, group.size);
}

/** Copies rank `src`'s `tensor` into `tensor` on every other rank. */
export async function broadcast(tensor: Tensor, options: BroadcastOptions = {}): Promise<void> {
  const fn = 'broadcast';
  options = checkOptions(fn, options, ['group', 'src']);
  const group = processGroupOf(fn, options.group);
  checkTensor(fn, 'tensor', tensor);
  await native.distBroadcast(group.handle, [tensor], options.src ?? 0);
}

/** Fills `outputs[r]` with rank r's `input` on every rank (one output per rank, each shaped like `input`). */
export async function allGather(outputs: Tensor[], input: Tensor, options: GroupOptions = {}): Promise<void> {
  const fn = 'allGather';
  options = checkOptions(fn, options, ['group']);
  const group = processGroupOf(fn, options.group);
  checkTensor(fn, 'input', input);
  checkLike(fn, 'outputs', checkTensors(fn, 'outputs', outputs), input, 'input');
  await native.distAllGather(group.handle, outputs, input);
}

/** Reduces `inputs[r]` over all ranks into `output` on rank r (one input per rank, each shaped like `output`). */
export async function reduceScatter(output: Tensor, inputs: Tensor[], options: ReduceOptions = {}): Promise<void> {
  const fn = 'reduceScatter';
  options = checkOptions(fn, options, ['group', 'op']);
  const group = processGroupOf(fn, options.group);
  checkTensor(fn, 'output', output);
  const checked = checkTensors(fn, 'inputs', inputs);
  checkLike(fn, 'inputs', checked, output, 'output');
  const op = reduceOp(fn, options.op, [output, ...checked]);
  await native.distReduceScatter(group.handle, output, checked, op === 'avg' ? 'sum' : op);
  if (op === 'avg') div_(output, group.size);
}

/**
 * The sum of `tensor` over the ranks, as a new tensor that carries the gradient back (PyTorch's
 * `torch.distributed.nn.functional.all_reduce`): the gradient of the input is the sum of every
 * rank's output gradient. It waits for the other ranks, as a layer of the forward pass does.
 */
export function differentiableAllReduce(tensor: Tensor, options: GroupOptions = {}): Tensor {
  const fn = 'differentiableAllReduce';
  options = checkOptions(fn, options, ['group']);
  const group = processGroupOf(fn, options.group);
  if (!(tensor instanceof Tensor)) throw new TypeError(`${fn}(): argument 'tensor' must be a Tensor, got ${String(tensor)}`);
  return native.distAllReduceSumWithGrad(group.handle, tensor);
}

/** Leaves `group` (the default group if not given); its connections close. */
export function destroyProcessGroup(group?: ProcessGroup): void {
  const chosen = processGroupOf('destroyProcessGroup', group);
  native.distDestroy(chosen.handle);
  if (chosen === defaultGroup) defaultGroup = null;
}

/**
 * The device of this local rank: 'cuda' becomes 'cuda:LOCAL_RANK' in a rank that torchrun (or
 * `--nproc-per-node`) started, as PyTorch scripts pick their GPU; any other device is kept.
 */
export function localDevice(device: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof device !== 'string') throw new TypeError(`localDevice(): argument 'device' must be a string, got ${typeof device}`);
  objectArg('localDevice', 'env', env);
  return device === 'cuda' && env.LOCAL_RANK !== undefined ? `cuda:${localRank(env)}` : device;
}

/** The local rank torchrun (or `unet train --nproc-per-node`) gives this process: `LOCAL_RANK`, 0 if unset. */
export function localRank(env: NodeJS.ProcessEnv = process.env): number {
  const value = objectArg<NodeJS.ProcessEnv>('localRank', 'env', env).LOCAL_RANK;
  if (value === undefined || value === '') return 0;
  const rank = Number(value);
  if (!Number.isInteger(rank) || rank < 0) throw new RangeError(`LOCAL_RANK must be an integer >= 0, got '${value}'`);
  return rank;
}
