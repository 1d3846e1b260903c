// nn.Module: parameters, buffers and submodules registered by name, so that names, traversal
// order and state dicts are PyTorch's (`down.0.conv1.weight`, `bn.running_mean`).
import type { DType } from '../dtype';
import { keep } from '../memory';
import { native } from '../native';
import { noGrad } from '../autograd';
import type { MemoryFormat } from '../ops/shape';
import { Tensor } from '../tensor';
import { describe } from '../arguments';

/** Where `Module.to()` moves parameters and buffers. */
export interface ModuleToOptions {
  /** Where the parameters and buffers go (`'cuda'`, `'cpu'`, …). */
  device?: string;
  /** Floating-point parameters and buffers only, as in PyTorch (integer buffers keep their type). */
  dtype?: DType;
  /** For 4-d parameters, e.g. `'channelsLast'`. */
  memoryFormat?: MemoryFormat;
}

/** A state dict: tensors by their PyTorch names. */
export type StateDict = Record<string, Tensor>;

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true). */
  strict?: boolean;
}

/** What `loadStateDict(…, { strict: false })` skipped. */
export interface LoadStateDictResult {
  /** The module's keys the state dict lacks (they keep their values). */
  missingKeys: string[];
  /** The state dict's keys the module does not have (ignored). */
  unexpectedKeys: string[];
}

/** Thrown by `loadStateDict` for missing or unexpected keys, or shapes or dtypes that do not fit. */
export class StateDictError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'StateDictError';
}

const FLOATING: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

/**
 * Base class of every layer and model, like PyTorch's `nn.Module`. Subclasses register their
 * parameters, buffers and submodules in the constructor (in PyTorch's order, which fixes the
 * state-dict order and the random-number consumption of initialisation) and implement `forward`.
 * A module owns its tensors: they live until `dispose()`, whatever `tidy` scope built the module.
 */
export abstract class Module {
  /** Training mode (dropout active, batch norm using batch statistics). */
  training = true;
  private readonly parametersByName = new Map<string, Tensor | null>();
  private readonly buffersByName = new Map<string, { tensor: Tensor | null; persistent: boolean }>();
  private readonly modulesByName = new Map<string, Module | null>();

  /** Registers a trainable tensor (its `requiresGrad` is set) under `name`. Returns it. */
  protected registerParameter<T extends Tensor | null>(name: string, tensor: T): T {
    this.checkName(name);
    this.checkEntry('parameter', name, tensor, Tensor);
    if (tensor !== null) keep(tensor).requiresGrad_(true);
    this.parametersByName.set(name, tensor);
    return tensor;
  }

  /** Registers a state tensor that is not trained (e.g. `running_mean`). Returns it. */
  protected registerBuffer<T extends Tensor | null>(name: string, tensor: T, persistent = true): T {
    this.checkName(name);
    this.checkEntry('buffer', name, tensor, Tensor);
    if (tensor !== null) keep(tensor);
    this.buffersByName.set(name, { tensor, persistent });
    return tensor;
  }

  /** Registers a submodule under `name`. Returns it. */
  protected registerModule<M extends Module | null>(name: string, module: M): M {
    this.checkName(name);
    this.checkEntry('submodule', name, module, Module);
    this.modulesByName.set(name, module);
    return module;
  }

  /** Replaces the tensor of a registered buffer (e.g. a running statistic). */
  protected setBuffer(name: string, tensor: Tensor): void {
    const entry = this.buffersByName.get(name);
    if (entry === undefined) throw new RangeError(`${this.constructor.name}: no buffer named '${name}'`);
    entry.tensor?.dispose();
    entry.tensor = keep(tensor);
  }

  // Registered values come from user code too (a container's modules, a subclass's fields): a
  // number there would otherwise fail much later, in forward() or state_dict().
  private checkEntry(kind: string, name: string, value: unknown, type: typeof Tensor | typeof Module): void {
    if (value !== null && !(value instanceof type))
      throw new TypeError(`${this.constructor.name}: ${kind} '${name}' must be a ${type.name} or null, got ${describe(value)}`);
  }

  private checkName(name: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.'))
      throw new TypeError(`${this.constructor.name}: ${describe(name)} is not a valid name (a non-empty string without '.')`);
    if (this.parametersByName.has(name) || this.buffersByName.has(name) || this.modulesByName.has(name)) {
      throw new TypeError(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  /** The computation; subclasses define it. */
  abstract forward(...inputs: unknown[]): unknown;

  /** Direct submodules with their names. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [name, module] of this.modulesByName) if (module !== null) yield [name, module];
  }
  /** Direct submodules. */
  *children(): Generator<Module> {
    for (const [, module] of this.namedChildren()) yield module;
  }
  /** This module and every submodule, depth first, with dotted names ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, module] of this.namedChildren()) yield* module.namedModules(prefix === '' ? name : `${prefix}.${name}`);
  }
  /** This module and every submodule, depth first. */
  *modules(): Generator<Module> {
    for (const [, module] of this.namedModules()) yield module;
  }
  /** Every parameter with its dotted name, in PyTorch's order. */
  *namedParameters(prefix = '', recurse = true): Generator<[string, Tensor]> {
    for (const [name, tensor] of this.parametersByName) if (tensor !== null) yield [join(prefix, name), tensor];
    if (recurse) for (const [name, module] of this.namedChildren()) yield* module.namedParameters(join(prefix, name));
  }
  /** Every parameter, in PyTorch's order. */
  *parameters(recurse = true): Generator<Tensor> {
    for (const [, tensor] of this.namedParameters('', recurse)) yield tensor;
  }
  /** Every buffer with its dotted name. */
  *namedBuffers(prefix = '', recurse = true): Generator<[string, Tensor]> {
    for (const [name, { tensor }] of this.buffersByName) if (tensor !== null) yield [join(prefix, name), tensor];
    if (recurse) for (const [name, module] of this.namedChildren()) yield* module.namedBuffers(join(prefix, name));
  }
  /** Every buffer. */
  *buffers(recurse = true): Generator<Tensor> {
    for (const [, tensor] of this.namedBuffers('', recurse)) yield tensor;
  }

  /** Sets training mode here and in every submodule. Returns `this`. */
  train(mode = true): this {
    for (const module of this.modules()) module.training = mode;
    return this;
  }
  /** Evaluation mode: `train(false)`. Returns `this`. */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every submodule (children first) and then on this module. Returns `this`. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Clears the gradients: to null (default, as in PyTorch) or to zeros. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const parameter of this.parameters()) clearGrad(parameter, options.setToNone ?? true);
  }

  /**
   * Moves parameters and buffers in place (the same tensor objects, so optimizers keep working):
   * `model.to('cuda')`, `model.to({ dtype: 'float64' })`, `model.to({ memoryFormat: 'channelsLast' })`.
   */
  to(target: string | ModuleToOptions): this {
    const options: ModuleToOptions = typeof target === 'string' ? { device: target } : target;
    noGrad(() => {
      for (const tensor of [...this.parameters(), ...this.buffers()]) {
        const floating = FLOATING.includes(tensor.dtype);
        const moved = tensor.to({
          device: options.device,
          dtype: floating ? options.dtype : undefined,
          memoryFormat: tensor.ndim === 4 ? options.memoryFormat : undefined,
        });
        if (moved !== tensor) {
          native.setData(tensor, moved);
          moved.dispose();
        }
        const grad = tensor.grad;
        if (grad !== null) {
          const movedGrad = grad.to({ device: options.device, dtype: floating ? options.dtype : undefined });
          tensor.grad = movedGrad;
          if (movedGrad !== grad) movedGrad.dispose();
          grad.dispose();
        }
      }
    });
    return this;
  }

  /**
   * Parameters and persistent buffers by PyTorch name, e.g. `down.0.conv1.weight`,
   * `bn.running_mean`, `bn.num_batches_tracked`. The tensors share memory with the module's
   * (detached views); dispose them (or call this inside `tidy`) when done.
   */
  stateDict(): StateDict {
    const state: StateDict = {};
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, tensor] of module.parametersByName) if (tensor !== null) state[join(prefix, name)] = tensor.detach();
      for (const [name, { tensor, persistent }] of module.buffersByName)
        if (tensor !== null && persistent) state[join(prefix, name)] = tensor.detach();
    }
    return state;
  }

  /**
   * Copies `state` into the parameters and persistent buffers (converting between floating
   * types, as PyTorch does). With `strict` (default), missing or unexpected keys throw a
   * StateDictError that lists them all; a shape or dtype that does not fit always throws.
   */
  loadStateDict(state: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const own = new Map<string, Tensor>();
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, tensor] of module.parametersByName) if (tensor !== null) own.set(join(prefix, name), tensor);
      for (const [name, { tensor, persistent }] of module.buffersByName)
        if (tensor !== null && persistent) own.set(join(prefix, name), tensor);
    }
    const missingKeys = [...own.keys()].filter((key) => !(key in state));
    const unexpectedKeys = Object.keys(state).filter((key) => !own.has(key));
    const problems: string[] = [];
    if ((options.strict ?? true) && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      if (missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length > 0) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    }
    for (const [key, target] of own) {
      const source = state[key];
      if (source === undefined) continue;
      if (JSON.stringify(source.shape) !== JSON.stringify(target.shape)) {
        problems.push(`'${key}' has shape [${source.shape}] in the state dict but [${target.shape}] in the model`);
      } else if (FLOATING.includes(source.dtype) !== FLOATING.includes(target.dtype)) {
        problems.push(`'${key}' has dtype ${source.dtype} in the state dict but ${target.dtype} in the model`);
      }
    }
    if (problems.length > 0) throw new StateDictError(`loadStateDict() for ${this.constructor.name}: ${problems.join('; ')}`);
    noGrad(() => {
      for (const [key, target] of own) {
        const source = state[key];
        if (source !== undefined) native.copy_(target, source);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Number of parameter elements. */
  numParameters(): number {
    let count = 0;
    for (const parameter of this.parameters()) count += parameter.numel();
    return count;
  }

  /** Frees every parameter and buffer (and their gradients) of this module and its submodules. */
  dispose(): void {
    for (const tensor of [...this.parameters(), ...this.buffers()]) {
      if (!tensor.isDisposed) tensor.grad = null;
      tensor.dispose();
    }
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** Clears a parameter's gradient to null, or zeroes it in place. */
export function clearGrad(parameter: Tensor, setToNone: boolean): void {
  if (setToNone) {
    parameter.grad = null;
    return;
  }
  const grad = parameter.grad;
  if (grad === null) return;
  noGrad(() => grad.zero_());
  grad.dispose();
}

/**
 * `value` when it is a Module, else a TypeError naming `fn`'s argument `name` (for what must be a
 * module: a container's entries, the module DistributedDataParallel wraps; registerModule also
 * takes null, for optional submodules).
 */
export function moduleArg(fn: string, name: string, value: unknown): Module {
  if (!(value instanceof Module)) throw new TypeError(`${fn}(): argument '${name}' must be a Module, got ${describe(value)}`);
  return value;
}
