// The optimizer base: parameter groups with their hyperparameters, per-parameter state, and
// state dicts laid out as PyTorch's (`state`, `param_groups`, snake_case names), so that a
// checkpoint resumes exactly and can be read by PyTorch.
import { noGrad } from '../autograd';
import { keep, tidy } from '../memory';
import { clearGrad } from '../nn/module';
import { Tensor } from '../tensor';
import { describe } from '../arguments';
import { isIterable, iterableArg, objectArg } from '../check';
import { checkOptions } from '../ops/options';
import type { TorchValue } from '../io/torch-file';

/** Per-parameter optimizer state: tensors (moments, step counters) and plain values. */
export type ParamState = Record<string, Tensor | number | boolean | null>;

/** A parameter group as given: its parameters and any hyperparameters that differ from the defaults. */
export type ParamGroupInput<H> = {
  /** The group's parameters. */
  params: Iterable<Tensor>;
} & Partial<H>;

/** A parameter group: its parameters and its full hyperparameters. */
export type ParamGroup<H> = {
  /** The group's parameters. */
  params: Tensor[];
} & H;

/** An optimizer's state dict, with PyTorch's layout: parameters are numbered across groups. */
export type OptimizerStateDict = {
  /** Each parameter's state, keyed by its number (parameters without state are left out). */
  state: Record<string, ParamState>;
  /** Each group's hyperparameters by their PyTorch names, and `params`: its parameters' numbers. */
  param_groups: Record<string, TorchValue>[];
};

// A hyperparameter as a state dict holds it (numbers, booleans, strings, null and lists of them).
function hyperparameter(key: string, value: unknown): TorchValue {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((item, k) => hyperparameter(`${key}[${k}]`, item));
  throw new TypeError(`stateDict(): hyperparameter '${key}' is ${describe(value)}, which a state dict cannot hold`);
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * An optimizer's hyperparameters: `options` over `defaults`, an option whose name the defaults
 * do not have refused (a misspelt `lrr` would otherwise be ignored).
 */
export function withDefaults<H extends object>(fn: string, defaults: H, options: Partial<H>): H {
  return { ...defaults, ...checkOptions<Partial<H>>(fn, options, Object.keys(defaults) as (keyof H & string)[]) };
}

/**
 * Base of SGD, Adam, AdamW and RMSprop. `step()` updates every parameter that has a gradient,
 * without recording for autograd and freeing its temporaries.
 */
export abstract class Optimizer<
  H extends {
    /** The learning rate, which schedules change. */
    lr: number;
  },
> {
  /** The parameter groups, each with its parameters and its full hyperparameters (`lr`, …); schedules change `lr` here. */
  readonly paramGroups: ParamGroup<H>[];
  /** Each parameter's state (momentum buffers, Adam's averages, …), created at its first update. */
  readonly state = new Map<Tensor, ParamState>();

  /** Gathers the parameters into groups, each with `defaults` where it gives no value of its own. */
  protected constructor(
    params: Iterable<Tensor> | ParamGroupInput<H>[],
    /** The hyperparameters a group takes where it gives none. */
    readonly defaults: H,
  ) {
    const list = Array.isArray(params)
      ? params
      : [...iterableArg<Tensor>(new.target.name, 'params', params, 'an iterable of Tensors or parameter groups')];
    for (const [k, item] of list.entries()) {
      if (!(item instanceof Tensor) && (item === null || typeof item !== 'object' || !isIterable((item as { params?: unknown }).params))) {
        throw new TypeError(
          `${new.target.name}(): argument 'params' must hold Tensors or groups { params: Iterable<Tensor> }, got ${describe(item)} at ${k}`,
        );
      }
    }
    const groups: ParamGroupInput<H>[] =
      list.length > 0 && !(list[0] instanceof Tensor)
        ? (list as ParamGroupInput<H>[])
        : [{ params: list as Tensor[] } as unknown as ParamGroupInput<H>];
    this.paramGroups = [];
    const seen = new Set<Tensor>();
    const known = ['params', ...Object.keys(objectArg(new.target.name, 'defaults', defaults))];
    for (const [k, group] of groups.entries()) {
      const unknown = Object.keys(group).find((key) => !known.includes(key));
      if (unknown !== undefined)
        throw new TypeError(
          `${new.target.name}(): unknown option '${unknown}' in parameter group ${k}; known options: ${known.join(', ')}`,
        );
      const tensors = [...group.params];
      for (const tensor of tensors) {
        if (!(tensor instanceof Tensor)) throw new TypeError(`${this.constructor.name}: params must be Tensors`);
        if (seen.has(tensor)) throw new TypeError(`${this.constructor.name}: a parameter appears in more than one group`);
        seen.add(tensor);
      }
      this.paramGroups.push({ ...defaults, ...group, params: tensors });
    }
    if (seen.size === 0) throw new RangeError(`${this.constructor.name}: got an empty parameter list`);
  }

  /** Clears the gradients of every parameter: to null (default, as in PyTorch) or to zeros. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const group of this.paramGroups) for (const parameter of group.params) clearGrad(parameter, options.setToNone ?? true);
  }

  /** One update of every parameter with a gradient. With `closure`, re-evaluates the loss first and returns it. */
  step(closure?: () => number): number | undefined {
    const loss = closure === undefined ? undefined : closure();
    noGrad(() =>
      tidy(() => {
        for (const group of this.paramGroups) {
          for (const parameter of group.params) {
            const grad = parameter.grad;
            if (grad === null) continue;
            let state = this.state.get(parameter);
            if (state === undefined) {
              state = this.initState(parameter, group);
              for (const value of Object.values(state)) if (value instanceof Tensor) keep(value);
              this.state.set(parameter, state);
            }
            this.update(parameter, grad, state, group);
          }
        }
      }),
    );
    return loss;
  }

  /** The state a parameter starts with (tensors here are kept until the optimizer is disposed). */
  protected abstract initState(parameter: Tensor, group: ParamGroup<H>): ParamState;
  /** Updates one parameter in place; runs without autograd, inside a tidy scope. */
  protected abstract update(parameter: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<H>): void;

  /** Sets a state tensor that replaces an earlier one (e.g. a momentum buffer made on the first step). */
  protected setState(state: ParamState, key: string, value: Tensor): void {
    const previous = state[key];
    if (previous instanceof Tensor && previous !== value) previous.dispose();
    state[key] = keep(value);
  }

  /** PyTorch's layout: `state` by parameter number, `param_groups` with snake_case hyperparameters. */
  stateDict(): OptimizerStateDict {
    const state: Record<string, ParamState> = {};
    const groups: Record<string, TorchValue>[] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const numbers: number[] = [];
      for (const parameter of group.params) {
        const own = this.state.get(parameter);
        if (own !== undefined) {
          state[index] = Object.fromEntries(
            Object.entries(own).map(([key, value]) => [snakeCase(key), value instanceof Tensor ? value.detach() : value]),
          );
        }
        numbers.push(index);
        index += 1;
      }
      const { params: _params, ...hyper } = group;
      groups.push({
        ...Object.fromEntries(Object.entries(hyper).map(([key, value]) => [snakeCase(key), hyperparameter(key, value)])),
        params: numbers,
      });
    }
    return { state, param_groups: groups };
  }

  /** Restores hyperparameters and state from `stateDict()` (or a PyTorch optimizer's state dict of the same kind). */
  loadStateDict(dict: OptimizerStateDict): void {
    if (dict.param_groups.length !== this.paramGroups.length) {
      throw new RangeError(
        `${this.constructor.name}.loadStateDict(): the state dict has ${dict.param_groups.length} parameter groups, this optimizer ${this.paramGroups.length}`,
      );
    }
    const parameters = this.paramGroups.flatMap((group) => group.params);
    dict.param_groups.forEach((saved, k) => {
      const group = this.paramGroups[k]!;
      const numbers = saved.params as number[];
      if (numbers.length !== group.params.length) {
        throw new RangeError(
          `${this.constructor.name}.loadStateDict(): group ${k} has ${numbers.length} parameters in the state dict, ${group.params.length} here`,
        );
      }
      for (const [key, value] of Object.entries(saved)) if (key !== 'params') (group as Record<string, unknown>)[camelCase(key)] = value;
    });
    for (const [number, saved] of Object.entries(dict.state)) {
      const parameter = parameters[Number(number)];
      if (parameter === undefined) throw new RangeError(`${this.constructor.name}.loadStateDict(): no parameter number ${number}`);
      const previous = this.state.get(parameter);
      if (previous !== undefined) for (const value of Object.values(previous)) if (value instanceof Tensor) value.dispose();
      const restored: ParamState = {};
      for (const [key, value] of Object.entries(saved)) {
        // Copies, as PyTorch's load_state_dict makes: the optimizer never shares memory with the
        // dict. Moments follow their parameter's device and dtype; `step` stays as saved.
        restored[camelCase(key)] =
          value instanceof Tensor
            ? keep(tidy(() => (key === 'step' ? value.clone() : value.to({ device: parameter.device, dtype: parameter.dtype }).clone())))
            : value;
      }
      this.state.set(parameter, restored);
    }
  }

  /** Frees the state tensors (moments, buffers). */
  dispose(): void {
    for (const state of this.state.values()) for (const value of Object.values(state)) if (value instanceof Tensor) value.dispose();
    this.state.clear();
  }
}
