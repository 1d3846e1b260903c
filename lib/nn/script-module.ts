// TorchScript modules from PyTorch (torch.jit.script or trace, then .save) as Modules: forward
// runs in libtorch's TorchScript interpreter; the parameters and buffers are our Tensors sharing
// the module's storage, so that our optimizers train the module itself and `stateDict` and
// `loadStateDict` work as for any Module.
import * as fs from 'node:fs';

import { native } from '../native';
import { checkOptions } from '../ops/options';
import type { Tensor } from '../tensor';
import { Module } from './module';

/** A submodule of a TorchScript module: a holder of its tensors under their names. */
class ScriptSubmodule extends Module {
  forward(): never {
    throw new TypeError('a submodule of a TorchScript module runs only as part of it: call the ScriptModule');
  }
  /** This submodule's child `name`, made on first use. */
  child(name: string): ScriptSubmodule {
    for (const [existing, module] of this.namedChildren()) if (existing === name) return module as ScriptSubmodule;
    return this.registerModule(name, new ScriptSubmodule());
  }
  /** Registers a tensor of the TorchScript module as a parameter or buffer here. */
  adopt(name: string, tensor: Tensor, kind: 'parameter' | 'buffer'): void {
    if (kind === 'parameter') this.registerParameter(name, tensor);
    else this.registerBuffer(name, tensor);
  }
}

/** Options of `torch.jit.load`. */
export interface ScriptLoadOptions {
  /** Where the module's tensors go ('cpu' by default, 'cuda', 'cuda:N'). */
  device?: string;
}

/**
 * A TorchScript module. `forward(...tensors)` returns a tensor, or an array for a module that
 * returns a tuple or list of tensors. `train()`/`eval()` set the module's own mode (drop-out,
 * batch norm); `save(file)` writes a TorchScript file PyTorch loads with `torch.jit.load`.
 */
export class ScriptModule extends Module {
  private handle: unknown;
  private readonly root = new ScriptSubmodule();

  private constructor(handle: unknown) {
    super();
    this.handle = handle;
    this.registerModule('module', this.root);
    const [parameterNames, parameters] = native.jitNamedParameters(handle);
    for (const [k, name] of parameterNames.entries()) this.place(name, parameters[k]!, 'parameter');
    const [bufferNames, buffers] = native.jitNamedBuffers(handle);
    for (const [k, name] of bufferNames.entries()) this.place(name, buffers[k]!, 'buffer');
    this.training = true;
  }

  /** Loads a TorchScript file (`torch.jit.save`, or `.save()` of a scripted or traced module). */
  static load(file: string, options: ScriptLoadOptions = {}): ScriptModule {
    options = checkOptions('torch.jit.load', options, ['device']);
    if (typeof file !== 'string' || file === '')
      throw new TypeError(`torch.jit.load(): argument 'file' must be a path, got ${String(file)}`);
    if (!fs.existsSync(file)) throw new Error(`torch.jit.load(): ${file}: no such file`);
    let handle: unknown;
    try {
      handle = native.jitLoad(file, options.device ?? 'cpu');
    } catch (error) {
      throw new Error(
        `torch.jit.load(): ${file} is not a TorchScript module PyTorch saved with torch.jit.save or ScriptModule.save (${(error as Error).message.split('\n')[0]})`,
      );
    }
    const module = new ScriptModule(handle);
    module.train(native.jitIsTraining(handle));
    return module;
  }

  // Our module tree mirrors the TorchScript one, so that names are PyTorch's (`conv1.weight`).
  private place(name: string, tensor: Tensor, kind: 'parameter' | 'buffer'): void {
    const path = name.split('.');
    let holder = this.root;
    for (const part of path.slice(0, -1)) holder = holder.child(part);
    holder.adopt(path[path.length - 1]!, tensor, kind);
  }

  private live(caller: string): unknown {
    if (this.handle === null) throw new Error(`ScriptModule.${caller}(): the module was disposed`);
    return this.handle;
  }

  /** Runs the module's `forward` on `inputs`. */
  forward(...inputs: Tensor[]): Tensor | Tensor[] {
    return native.jitForward(this.live('forward'), inputs);
  }

  /** Sets training mode in the TorchScript module and here. Returns `this`. */
  override train(mode = true): this {
    if (this.handle !== null) native.jitTrain(this.handle, mode);
    return super.train(mode);
  }

  /** Writes the module (with its current weights) as a TorchScript file. */
  save(file: string): void {
    native.jitSave(this.live('save'), file);
  }

  /** Names are PyTorch's: the `module.` prefix of the mirror tree is left out. */
  override *namedParameters(prefix = '', recurse = true): Generator<[string, Tensor]> {
    yield* this.root.namedParameters(prefix, recurse);
  }
  override *namedBuffers(prefix = '', recurse = true): Generator<[string, Tensor]> {
    yield* this.root.namedBuffers(prefix, recurse);
  }
  override stateDict(): Record<string, Tensor> {
    return this.root.stateDict();
  }
  override loadStateDict(...args: Parameters<Module['loadStateDict']>): ReturnType<Module['loadStateDict']> {
    return this.root.loadStateDict(...args);
  }

  /** TorchScript modules stay on the device they were loaded to: load again with `{ device }`. */
  override to(): never {
    throw new TypeError("ScriptModule.to(): a TorchScript module is moved at load: torch.jit.load(file, { device: 'cuda' })");
  }

  /** Frees the module and its tensors. */
  override dispose(): void {
    if (this.handle === null) return;
    super.dispose();
    native.jitDispose(this.handle);
    this.handle = null;
  }
}
