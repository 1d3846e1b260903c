// Mixed precision: the autocast scope and a GradScaler that behaves as PyTorch's
// torch.amp.GradScaler (dynamic scale, steps skipped on inf/NaN gradients, state dict).
import { finiteNumberArg, functionArg, positiveIntegerArg } from './check';
import { full } from './creation';
import { checkOptions } from './ops/options';
import type { DType } from './dtype';
import { isPromiseLike, keep, tidy } from './memory';
import { native } from './native';
import type { Optimizer } from './optim/optimizer';
import type { Tensor } from './tensor';

/** Options of `autocast`. */
export interface AutocastOptions {
  /** 'cuda' (float16 by default) or 'cpu' (bfloat16 by default). */
  deviceType?: 'cuda' | 'cpu';
  /** The lower precision to run in: float16 or bfloat16 (default: the device type's). */
  dtype?: DType;
  /** Turn autocast on (default true) or off for the scope. */
  enabled?: boolean;
  /** Cache casted weights for the scope (default true). */
  cacheEnabled?: boolean;
}

/**
 * Runs `fn` with autocast on (PyTorch's `with torch.autocast(device_type)`): eligible ops run in
 * float16 or bfloat16, the rest in float32. Synchronous, nestable, restored when `fn` throws.
 */
export function autocast<R>(fn: () => R, options: AutocastOptions = {}): R {
  functionArg('autocast', 'fn', fn);
  options = checkOptions('autocast', options, ['deviceType', 'dtype', 'enabled', 'cacheEnabled']);
  const deviceType = options.deviceType ?? 'cuda';
  const dtype = options.dtype ?? (deviceType === 'cuda' ? 'float16' : 'bfloat16');
  const previous = {
    enabled: native.autocastEnabled(deviceType),
    dtype: native.autocastDtype(deviceType),
    cache: native.autocastCacheEnabled(),
  };
  native.setAutocast(deviceType, options.enabled ?? true, dtype);
  native.autocastIncrementNesting();
  native.setAutocastCacheEnabled(options.cacheEnabled ?? true);
  try {
    const result = fn();
    if (isPromiseLike(result)) throw new TypeError('autocast(): fn returned a Promise; the scope is synchronous and has already ended');
    return result;
  } finally {
    if (native.autocastDecrementNesting() === 0) native.clearAutocastCache();
    native.setAutocast(deviceType, previous.enabled, previous.dtype);
    native.setAutocastCacheEnabled(previous.cache);
  }
}

/** Options of `GradScaler` (PyTorch's defaults). */
export interface GradScalerOptions {
  /** The device of the scale and of the gradients it checks (default `'cuda'`). */
  device?: string;
  /** The first scale (default 2^16). */
  initScale?: number;
  /** The scale's multiplier after `growthInterval` clean steps (default 2; above 1). */
  growthFactor?: number;
  /** The scale's multiplier after a step with inf or NaN gradients (default 0.5; below 1). */
  backoffFactor?: number;
  /** Clean steps before the scale grows (default 2000). */
  growthInterval?: number;
  /** False makes every method a pass-through, for one code path with and without mixed precision (default true). */
  enabled?: boolean;
}

type Stage = 'ready' | 'unscaled' | 'stepped';
interface OptimizerRecord {
  stage: Stage;
  foundInfPerDevice: Map<string, Tensor>;
}

/**
 * Scales the loss so that float16 gradients do not underflow, unscales them before the optimizer
 * step, skips steps whose gradients hold inf or NaN, and adapts the scale: halved after such a
 * step, doubled after `growthInterval` clean steps. Use: `scaler.scale(loss).backward();
 * scaler.step(optimizer); scaler.update();`.
 */
export class GradScaler {
  /** The device of the scale. */
  readonly device: string;
  /** Whether it scales at all. */
  readonly enabled: boolean;
  /** The scale's multiplier after `growthInterval` clean steps. */
  growthFactor: number;
  /** The scale's multiplier after a step with inf or NaN gradients. */
  backoffFactor: number;
  /** Clean steps before the scale grows. */
  growthInterval: number;
  private readonly initScale: number;
  private scaleTensor: Tensor | null = null;
  private growthTracker: Tensor | null = null;
  private records = new Map<object, OptimizerRecord>();

  /**
   * A scaler at `initScale`; the scale tensor is made at the first use, on the loss's device.
   * @param options The device, the first scale and how it grows and backs off.
   */
  constructor(options: GradScalerOptions = {}) {
    const fn = 'GradScaler';
    options = checkOptions(fn, options, ['device', 'initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'enabled']);
    this.device = options.device ?? 'cuda';
    this.enabled = options.enabled ?? true;
    this.initScale = finiteNumberArg(fn, 'initScale', options.initScale ?? 2.0 ** 16);
    this.growthFactor = finiteNumberArg(fn, 'growthFactor', options.growthFactor ?? 2.0);
    this.backoffFactor = finiteNumberArg(fn, 'backoffFactor', options.backoffFactor ?? 0.5);
    this.growthInterval = positiveIntegerArg(fn, 'growthInterval', options.growthInterval ?? 2000);
    if (!(this.growthFactor > 1)) throw new RangeError('GradScaler: growthFactor must be > 1');
    if (!(this.backoffFactor < 1)) throw new RangeError('GradScaler: backoffFactor must be < 1');
  }

  private lazyInit(device: string): void {
    if (this.scaleTensor !== null) return;
    this.scaleTensor = keep(full([], this.initScale, { dtype: 'float32', device }));
    this.growthTracker = keep(full([], 0, { dtype: 'int32', device }));
  }

  private record(optimizer: object): OptimizerRecord {
    let record = this.records.get(optimizer);
    if (record === undefined) {
      record = { stage: 'ready', foundInfPerDevice: new Map() };
      this.records.set(optimizer, record);
    }
    return record;
  }

  /** `outputs` times the current scale (outputs unchanged when disabled). */
  scale(outputs: Tensor): Tensor {
    if (!this.enabled) return outputs;
    this.lazyInit(outputs.device);
    return tidy(() => outputs.mul(this.scaleTensor!.to({ device: outputs.device })));
  }

  /** Divides the optimizer's gradients by the scale in place (e.g. before clipping them), once per step. */
  unscale_(optimizer: Optimizer<{ lr: number }>): void {
    if (!this.enabled) return;
    if (this.scaleTensor === null) throw new Error('GradScaler.unscale_(): scale() was never called, so there is nothing to unscale');
    const record = this.record(optimizer);
    if (record.stage === 'unscaled') throw new Error('GradScaler.unscale_(): already called on this optimizer since the last update()');
    if (record.stage === 'stepped') throw new Error('GradScaler.unscale_(): called after step()');
    tidy(() => {
      const invScale = this.scaleTensor!.to('float64').reciprocal().to('float32');
      const byDevice = new Map<string, Tensor[]>();
      for (const group of optimizer.paramGroups) {
        for (const parameter of group.params) {
          const grad = parameter.grad;
          if (grad === null) continue;
          if (grad.dtype === 'float16')
            throw new TypeError('GradScaler.unscale_(): attempting to unscale float16 gradients (keep the parameters in float32)');
          const list = byDevice.get(grad.device) ?? [];
          list.push(grad);
          byDevice.set(grad.device, list);
        }
      }
      for (const [device, grads] of byDevice) {
        const foundInf = keep(full([], 0.0, { dtype: 'float32', device }));
        native.ampUnscale_(grads, foundInf, invScale.to({ device }));
        record.foundInfPerDevice.set(device, foundInf);
      }
    });
    record.stage = 'unscaled';
  }

  /** Unscales (unless done), then runs `optimizer.step()` unless a gradient was inf or NaN. True when it stepped. */
  step(optimizer: Optimizer<{ lr: number }>): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    const record = this.record(optimizer);
    if (record.stage === 'stepped') throw new Error('GradScaler.step(): already called on this optimizer since the last update()');
    if (record.stage === 'ready') this.unscale_(optimizer);
    if (record.foundInfPerDevice.size === 0)
      throw new Error('GradScaler.step(): no inf checks were recorded for this optimizer (no gradients?)');
    let found = 0;
    for (const foundInf of record.foundInfPerDevice.values()) found += foundInf.item() as number;
    const stepped = found === 0;
    if (stepped) optimizer.step();
    record.stage = 'stepped';
    return stepped;
  }

  /** Adapts the scale from this iteration's inf checks (or sets `newScale`). Call once per iteration. */
  update(newScale?: number): void {
    if (!this.enabled) return;
    if (this.scaleTensor === null) throw new Error('GradScaler.update(): scale() was never called');
    tidy(() => {
      if (newScale !== undefined) {
        this.scaleTensor!.fill_(newScale);
      } else {
        const foundInfs = [...this.records.values()].flatMap((record) =>
          [...record.foundInfPerDevice.values()].map((t) => t.to({ device: this.scaleTensor!.device })),
        );
        if (foundInfs.length === 0) throw new Error('GradScaler.update(): no inf checks were recorded before update()');
        const combined = foundInfs.slice(1).reduce((sum, t) => sum.add_(t), foundInfs[0]!.clone());
        native.ampUpdateScale_(
          this.scaleTensor!,
          this.growthTracker!,
          combined,
          this.growthFactor,
          this.backoffFactor,
          this.growthInterval,
        );
      }
    });
    for (const record of this.records.values()) for (const t of record.foundInfPerDevice.values()) t.dispose();
    this.records = new Map();
  }

  /** The current scale (1 when disabled). */
  getScale(): number {
    if (!this.enabled) return 1.0;
    return this.scaleTensor === null ? this.initScale : (this.scaleTensor.item() as number);
  }

  /** PyTorch's layout: scale, growth_factor, backoff_factor, growth_interval, _growth_tracker. */
  stateDict(): Record<string, number> {
    if (!this.enabled) return {};
    return {
      scale: this.getScale(),
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.growthTracker === null ? 0 : (this.growthTracker.item() as number),
    };
  }

  /** Restores a state written by `stateDict()` (or by PyTorch's `GradScaler.state_dict()`). */
  loadStateDict(state: Record<string, number>): void {
    if (!this.enabled) return;
    if (Object.keys(state).length === 0)
      throw new Error('GradScaler.loadStateDict(): the state dict is empty (saved from a disabled scaler?)');
    this.growthFactor = state.growth_factor!;
    this.backoffFactor = state.backoff_factor!;
    this.growthInterval = state.growth_interval!;
    this.lazyInit(this.device);
    this.scaleTensor!.fill_(state.scale!);
    this.growthTracker!.fill_(state._growth_tracker!);
  }

  /** Frees the scale and tracker tensors. */
  dispose(): void {
    this.scaleTensor?.dispose();
    this.growthTracker?.dispose();
    for (const record of this.records.values()) for (const t of record.foundInfPerDevice.values()) t.dispose();
  }
}
