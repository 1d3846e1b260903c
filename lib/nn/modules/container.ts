// Containers: Sequential, ModuleList and ModuleDict, named '0', '1', … or by key as in PyTorch.
import type { Tensor } from '../../tensor';
import { Module, moduleArg } from '../module';
import { iterableArg, objectArg } from '../../check';

/** Runs its modules in order, each on the previous one's output. */
export class Sequential extends Module {
  private readonly layers: Module[];

  /** The modules in the order they run, registered as '0', '1', …. */
  constructor(...modules: Module[]) {
    super();
    this.layers = modules.map((module, index) => this.registerModule(String(index), moduleArg('Sequential', `modules[${index}]`, module)));
  }

  /** How many modules it holds. */
  get length(): number {
    return this.layers.length;
  }
  /** The module at `index` (negative counts from the end), or undefined past either end. */
  at(index: number): Module | undefined {
    return this.layers.at(index);
  }
  /** Its modules in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  /** Intermediate results are freed as soon as the next layer has used them. */
  forward(input: Tensor): Tensor {
    let output = input;
    for (const layer of this.layers) {
      const next = layer.forward(output) as Tensor;
      if (output !== input && next !== output) output.dispose();
      output = next;
    }
    return output;
  }
}

/** A list of modules, registered as '0', '1', …; it has no forward of its own. */
export class ModuleList extends Module {
  private readonly items: Module[] = [];

  /** A list of the given modules, registered as '0', '1', …. */
  constructor(modules: Iterable<Module> = []) {
    super();
    for (const [index, module] of [...iterableArg<unknown>('ModuleList', 'modules', modules, 'an iterable of Modules')].entries())
      this.append(moduleArg('ModuleList', `modules[${index}]`, module));
  }

  /** Adds `module` at the end, registered under the next index; returns the list. */
  append(module: Module): this {
    this.items.push(this.registerModule(String(this.items.length), moduleArg('ModuleList.append', 'module', module)));
    return this;
  }
  /** How many modules it holds. */
  get length(): number {
    return this.items.length;
  }
  /** The module at `index` (negative counts from the end), or undefined past either end. */
  at(index: number): Module | undefined {
    return this.items.at(index);
  }
  /** Its modules in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }
  forward(): never {
    throw new TypeError('ModuleList has no forward(); iterate over it and call its modules');
  }
}

/** Modules by key, registered under their keys in insertion order; it has no forward of its own. */
export class ModuleDict extends Module {
  private readonly items = new Map<string, Module>();

  /** The given modules, registered under their keys. */
  constructor(modules: Record<string, Module> = {}) {
    super();
    for (const [key, module] of Object.entries(objectArg<Record<string, unknown>>('ModuleDict', 'modules', modules)))
      this.set(key, moduleArg('ModuleDict', `modules['${key}']`, module));
  }

  /** Registers `module` under `key`, which must not be taken yet; returns the dict. */
  set(key: string, module: Module): this {
    this.items.set(key, this.registerModule(key, moduleArg('ModuleDict.set', 'module', module)));
    return this;
  }
  /** The module under `key`, or undefined. */
  get(key: string): Module | undefined {
    return this.items.get(key);
  }
  /** The keys in insertion order. */
  keys(): IterableIterator<string> {
    return this.items.keys();
  }
  /** The [key, module] pairs in insertion order. */
  entries(): IterableIterator<[string, Module]> {
    return this.items.entries();
  }
  forward(): never {
    throw new TypeError('ModuleDict has no forward(); call its modules');
  }
}
