// torch.nn.parallel.DistributedDataParallel on c10d's own Reducer (native/distributed.cc), the
// engine behind PyTorch's DDP: gradients are averaged across ranks in buckets while backward
// runs, each bucket's all-reduce starting as soon as its gradients are ready.
import { isGradEnabled } from '../autograd';
import { type ProcessGroup, processGroupOf } from '../distributed';
import { native } from '../native';
import { checkOptions } from '../ops/options';
import { Tensor } from '../tensor';
import { Module, moduleArg } from './module';

/** Options of `DistributedDataParallel`, as PyTorch names them. */
export interface DistributedDataParallelOptions {
  /** The group whose ranks train together (the default group if not given). */
  processGroup?: ProcessGroup;
  /** The size of a gradient bucket, in MiB (25, as in PyTorch). */
  bucketCapMb?: number;
  /** Copy rank 0's buffers (batch norm statistics) to every rank before each forward pass (true). */
  broadcastBuffers?: boolean;
  /** Allow parameters that receive no gradient in some iterations (false; costs a graph walk per step). */
  findUnusedParameters?: boolean;
}

const MIB = 1024 * 1024;
// PyTorch's broadcast bucket for parameters and buffers, and its first gradient bucket.
const BROADCAST_BUCKET_BYTES = 250 * MIB;
const FIRST_BUCKET_BYTES = 1 * MIB;

function tensorsIn(value: unknown, found: Tensor[] = []): Tensor[] {
  if (value instanceof Tensor) found.push(value);
  else if (Array.isArray(value)) for (const element of value) tensorsIn(element, found);
  else if (value !== null && typeof value === 'object') for (const element of Object.values(value)) tensorsIn(element, found);
  return found;
}

/**
 * Data-parallel training, as PyTorch's `DistributedDataParallel`. Wrapping broadcasts rank 0's
 * parameters and buffers to every rank, so that all ranks start equal; each rank then runs
 * `forward` and `backward` on its own batch, and backward leaves every rank with the gradients
 * averaged over all ranks, so that the same optimizer step keeps the replicas equal. Buffers are
 * copied from rank 0 before each forward pass. The wrapped module is `module` (state-dict names
 * start with `module.`, as in PyTorch).
 *
 * Wrapping and backward wait for every rank, as in PyTorch: every rank must wrap the same model
 * and run the same number of backward passes.
 */
export class DistributedDataParallel<M extends Module = Module> extends Module {
  /** The wrapped module. */
  readonly module: M;
  private readonly group: ProcessGroup;
  private readonly broadcastBuffers: boolean;
  private readonly findUnusedParameters: boolean;
  private reducer: unknown;
  private requireBackwardGradSync = true;
  private requireForwardParamSync = true;

  /** Wraps `module` and broadcasts rank 0's parameters and buffers to every rank (a collective: every rank must wrap). */
  constructor(module: M, options: DistributedDataParallelOptions = {}) {
    super();
    const fn = 'DistributedDataParallel';
    options = checkOptions(fn, options, ['processGroup', 'bucketCapMb', 'broadcastBuffers', 'findUnusedParameters']);
    moduleArg(fn, 'module', module);
    const group = processGroupOf(fn, options.processGroup);
    const bucketCapMb = options.bucketCapMb ?? 25;
    if (typeof bucketCapMb !== 'number' || !(bucketCapMb > 0)) {
      throw new RangeError(`${fn}(): option 'bucketCapMb' must be a positive number, got ${String(bucketCapMb)}`);
    }
    this.module = this.registerModule('module', module);
    this.group = group;
    this.broadcastBuffers = options.broadcastBuffers ?? true;
    this.findUnusedParameters = options.findUnusedParameters ?? false;
    const parameters = [...module.parameters()];
    if (parameters.length === 0) throw new TypeError(`${fn}(): the module has no parameters to train`);
    // PyTorch's order, so that PyTorch ranks can wrap beside these: check, copy rank 0's state, bucket.
    native.ddpVerifyParameters(group.handle, parameters);
    native.distBroadcastCoalesced(group.handle, [...parameters, ...module.buffers()], BROADCAST_BUCKET_BYTES, 0);
    this.reducer = native.ddpReducer(
      group.handle,
      parameters,
      Math.round(bucketCapMb * MIB),
      FIRST_BUCKET_BYTES,
      this.findUnusedParameters,
    );
  }

  /** Runs the wrapped module, preparing the gradients' all-reduce of the backward pass that follows. */
  forward(...inputs: unknown[]): unknown {
    if (this.reducer === null) throw new Error('DistributedDataParallel: disposed');
    const syncing = isGradEnabled() && this.requireBackwardGradSync;
    if (syncing) native.ddpPrepareForForward(this.reducer);
    // After the first iteration the buckets follow the order in which gradients arrived.
    if (isGradEnabled()) native.ddpRebuildBuckets(this.reducer);
    if (this.broadcastBuffers && this.requireForwardParamSync && this.group.size > 1) {
      const buffers = [...this.module.buffers()];
      if (buffers.length > 0) native.distBroadcastCoalesced(this.group.handle, buffers, BROADCAST_BUCKET_BYTES, 0);
    }
    const output = this.module.forward(...inputs);
    this.requireForwardParamSync = syncing;
    if (syncing) native.ddpPrepareForBackward(this.reducer, this.findUnusedParameters ? tensorsIn(output) : []);
    return output;
  }

  /**
   * Runs `fn` with the gradients' all-reduce off, for gradient accumulation: a backward pass of a
   * forward pass run inside `fn` only accumulates local gradients; the next synchronised backward
   * averages the sum. `fn` may return a Promise; the synchronisation resumes when it settles.
   */
  noSync<R>(fn: () => R): R {
    const previous = this.requireBackwardGradSync;
    this.requireBackwardGradSync = false;
    let result: R;
    try {
      result = fn();
    } catch (error) {
      this.requireBackwardGradSync = previous;
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => {
        this.requireBackwardGradSync = previous;
      }) as R;
    }
    this.requireBackwardGradSync = previous;
    return result;
  }

  /** Releases the Reducer and returns the wrapped module, which keeps its tensors: its gradients are no longer averaged. */
  unwrap(): M {
    if (this.reducer !== null) native.ddpRelease(this.reducer);
    this.reducer = null;
    return this.module;
  }

  /** Releases the Reducer, then frees the wrapped module's tensors. */
  override dispose(): void {
    this.unwrap();
    super.dispose();
  }
}
