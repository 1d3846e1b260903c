// Learning-rate schedulers, each computing the rate the way PyTorch's `torch.optim.lr_scheduler`
// does (the same recursive forms), so that a schedule here equals PyTorch's step for step.
import { pyPow } from '../runtime';
import type { TorchValue } from '../io/torch-file';
import { describe } from '../arguments';
import { arrayArg, finiteNumberArg, nonNegativeIntegerArg, positiveIntegerArg } from '../check';
import { checkOptions } from '../ops/options';
import { Optimizer } from './optimizer';

/** An optimizer of any kind: schedules only read and write its groups' learning rates. */
export type AnyOptimizer = Optimizer<{
  /** The learning rate. */
  lr: number;
}>;
/** A parameter group as schedules see it, with the learning rates they record. */
export type Group = AnyOptimizer['paramGroups'][number] & {
  /**
   * The rate schedules start from (PyTorch's `initial_lr`): the group's rate when the first schedule
   * was built on the optimizer, or OneCycleLR's starting rate.
   */
  initialLr?: number;
  /** OneCycleLR's highest rate (`max_lr`). */
  maxLr?: number;
  /** OneCycleLR's final rate (`min_lr`). */
  minLr?: number;
};

// A schedule's settings are checked when it is built: a zero or a string there would otherwise set
// the rates to NaN at some later step, and the training would go on with them.
function optimizerArg(fn: string, value: unknown): AnyOptimizer {
  if (!(value instanceof Optimizer)) throw new TypeError(`${fn}(): argument 'optimizer' must be an Optimizer, got ${describe(value)}`);
  return value as AnyOptimizer;
}
/** One finite number for every parameter group, or one each. */
function perGroup(fn: string, name: string, value: unknown, groups: number): number[] {
  if (!Array.isArray(value)) return Array<number>(groups).fill(finiteNumberArg(fn, name, value));
  if (value.length !== groups)
    throw new RangeError(`${fn}(): argument '${name}' must hold one number per parameter group (${groups}), got ${value.length}`);
  return value.map((each: unknown, k) => finiteNumberArg(fn, `${name}[${k}]`, each));
}
function milestonesArg(fn: string, value: unknown): number[] {
  return arrayArg<unknown>(fn, 'milestones', value).map((epoch, k) => nonNegativeIntegerArg(fn, `milestones[${k}]`, epoch));
}

/** Python's `%`: the result has the divisor's sign. */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
function bisectRight(sorted: number[], value: number): number {
  let k = 0;
  while (k < sorted.length && sorted[k]! <= value) k += 1;
  return k;
}

/** A scheduler's state dict: its own fields, with PyTorch's names. */
export type SchedulerStateDict = Record<string, TorchValue>;

/**
 * Base of the epoch-indexed schedulers. The constructor takes the first step (epoch 0), as in
 * PyTorch; call `step()` after each `optimizer.step()`.
 */
export abstract class LRScheduler {
  /** The epochs (or steps) taken; 0 once the constructor's first step is done. */
  lastEpoch = -1;
  /** Each group's rate before any schedule (its `initialLr`). */
  readonly baseLrs: number[];
  /** The calls of `step()` (PyTorch's `_step_count`). */
  protected stepCount = 0;
  /** True during the constructor's first step. */
  protected isInitial = false;
  private lastLr: number[] = [];

  /**
   * Records each group's starting rate (`initialLr`) the first time a schedule is built on the optimizer.
   * @param optimizer The optimizer whose groups' rates it sets.
   */
  protected constructor(readonly optimizer: AnyOptimizer) {
    optimizerArg(new.target.name, optimizer);
    for (const group of this.groups) group.initialLr ??= group.lr;
    this.baseLrs = this.groups.map((group) => group.initialLr!);
  }

  /** The optimizer's parameter groups, whose `lr` the schedule sets. */
  protected get groups(): Group[] {
    return this.optimizer.paramGroups as Group[];
  }

  /** Subclasses call this at the end of their constructor. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.isInitial = true;
    try {
      this.step();
    } finally {
      this.isInitial = false;
    }
  }

  /** The rates for `lastEpoch`, from the current ones (PyTorch's chainable `get_lr`). */
  protected abstract getLr(): number[];

  /** Advances one epoch (or step) and sets the new rates. */
  step(): void {
    this.stepCount += 1;
    this.updateLr();
  }

  /** Sets the rates of `epoch` (internal to SequentialLR's milestones). */
  updateLr(epoch?: number): void {
    if (epoch === undefined) this.lastEpoch += 1;
    else this.lastEpoch = epoch;
    const values = epoch === undefined ? this.getLr() : (this.closedFormLr?.() ?? this.getLr());
    for (const [k, group] of this.groups.entries()) group.lr = values[k]!;
    this.lastLr = this.groups.map((group) => group.lr);
  }

  /** The closed form of the schedule, used when jumping to an epoch. */
  protected closedFormLr?(): number[];

  /** The rates the last step set. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The rates the groups hold now: what a step that changes nothing returns. */
  protected currentLrs(): number[] {
    return this.groups.map((group) => group.lr);
  }

  /** The scheduler's position and settings, with PyTorch's field names. */
  stateDict(): SchedulerStateDict {
    return {
      ...this.ownState(),
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      _step_count: this.stepCount,
      _last_lr: [...this.lastLr],
    };
  }

  /** Restores a position and settings written by `stateDict()` (or by PyTorch's `state_dict()`). */
  loadStateDict(state: SchedulerStateDict): void {
    this.lastEpoch = state.last_epoch as number;
    this.stepCount = state._step_count as number;
    this.lastLr = [...(state._last_lr as number[])];
    this.baseLrs.splice(0, this.baseLrs.length, ...(state.base_lrs as number[]));
  }

  /** Subclass settings for the state dict. */
  protected ownState(): SchedulerStateDict {
    return {};
  }
}

/** Multiplies the rate by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  /**
   * A schedule that multiplies the rate by `gamma` every `stepSize` epochs; it takes epoch 0's step.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param stepSize Epochs between two multiplications.
   * @param gamma The factor (default 0.1).
   */
  constructor(
    optimizer: AnyOptimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    positiveIntegerArg('StepLR', 'stepSize', stepSize);
    finiteNumberArg('StepLR', 'gamma', gamma);
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.currentLrs();
    return this.groups.map((group) => group.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * pyPow(this.gamma, Math.floor(this.lastEpoch / this.stepSize)));
  }
  protected override ownState(): SchedulerStateDict {
    return { step_size: this.stepSize, gamma: this.gamma };
  }
}

/** Multiplies the rate by `gamma` at each milestone epoch. */
export class MultiStepLR extends LRScheduler {
  /** The epochs at which the rate is multiplied by `gamma`, ascending. */
  readonly milestones: number[];
  /**
   * A schedule that multiplies the rate by `gamma` at each milestone; it takes epoch 0's step.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param milestones The epochs at which the rate is multiplied.
   * @param gamma The factor (default 0.1).
   */
  constructor(
    optimizer: AnyOptimizer,
    milestones: number[],
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    this.milestones = milestonesArg('MultiStepLR', milestones).sort((a, b) => a - b);
    finiteNumberArg('MultiStepLR', 'gamma', gamma);
    this.initialStep();
  }
  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.currentLrs();
    return this.groups.map((group) => group.lr * pyPow(this.gamma, hits));
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * pyPow(this.gamma, bisectRight(this.milestones, this.lastEpoch)));
  }
  protected override ownState(): SchedulerStateDict {
    return {
      milestones: Object.fromEntries(this.milestones.map((m) => [m, this.milestones.filter((n) => n === m).length])),
      gamma: this.gamma,
    };
  }
}

/** Multiplies the rate by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  /**
   * A schedule that multiplies the rate by `gamma` each epoch; it takes epoch 0's step.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param gamma The factor each epoch.
   */
  constructor(
    optimizer: AnyOptimizer,
    readonly gamma: number,
  ) {
    super(optimizer);
    finiteNumberArg('ExponentialLR', 'gamma', gamma);
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.isInitial) return this.currentLrs();
    return this.groups.map((group) => group.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * pyPow(this.gamma, this.lastEpoch));
  }
  protected override ownState(): SchedulerStateDict {
    return { gamma: this.gamma };
  }
}

/** Cosine annealing from the base rate to `etaMin` over `tMax` epochs (SGDR without restarts). */
export class CosineAnnealingLR extends LRScheduler {
  /**
   * A half cosine from the base rate down to `etaMin` over `tMax` epochs; it takes epoch 0's step.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param tMax Epochs from the base rate down to `etaMin` (PyTorch's `T_max`).
   * @param etaMin The lowest rate (default 0).
   */
  constructor(
    optimizer: AnyOptimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    positiveIntegerArg('CosineAnnealingLR', 'tMax', tMax);
    finiteNumberArg('CosineAnnealingLR', 'etaMin', etaMin);
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch, tMax, etaMin } = this;
    if (this.isInitial) return this.currentLrs();
    if (this.stepCount === 1 && lastEpoch > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((lastEpoch * Math.PI) / tMax))) / 2);
    }
    if (pyMod(lastEpoch - 1 - tMax, 2 * tMax) === 0) {
      return this.groups.map((group, k) => group.lr + ((this.baseLrs[k]! - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return this.groups.map(
      (group) =>
        ((1 + Math.cos((Math.PI * lastEpoch) / tMax)) / (1 + Math.cos((Math.PI * (lastEpoch - 1)) / tMax))) * (group.lr - etaMin) + etaMin,
    );
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
  protected override ownState(): SchedulerStateDict {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }
}

/** Polynomial decay to zero over `totalIters` (nnU-Net's "poly" schedule is power 0.9). */
export class PolynomialLR extends LRScheduler {
  /**
   * A polynomial decay to 0 over `totalIters` epochs; it takes epoch 0's step.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param totalIters Epochs until the rate reaches 0 (default 5).
   * @param power The polynomial's power (default 1: linear).
   */
  constructor(
    optimizer: AnyOptimizer,
    readonly totalIters = 5,
    readonly power = 1.0,
  ) {
    super(optimizer);
    positiveIntegerArg('PolynomialLR', 'totalIters', totalIters);
    finiteNumberArg('PolynomialLR', 'power', power);
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.isInitial || this.lastEpoch > this.totalIters) return this.currentLrs();
    const decay = pyPow((1.0 - this.lastEpoch / this.totalIters) / (1.0 - (this.lastEpoch - 1) / this.totalIters), this.power);
    return this.groups.map((group) => group.lr * decay);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * pyPow(1.0 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters, this.power));
  }
  protected override ownState(): SchedulerStateDict {
    return { total_iters: this.totalIters, power: this.power };
  }
}

/** Scales the rate linearly from `startFactor` to `endFactor` over `totalIters` (warm-up). */
export class LinearLR extends LRScheduler {
  /**
   * A linear change of the rate's factor from `startFactor` to `endFactor`; it takes epoch 0's step.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param startFactor The base rate's multiplier at the first epoch, in (0, 1] (default 1/3).
   * @param endFactor Its multiplier from `totalIters` on, in [0, 1] (default 1).
   * @param totalIters Epochs from one factor to the other (default 5).
   */
  constructor(
    optimizer: AnyOptimizer,
    readonly startFactor = 1.0 / 3,
    readonly endFactor = 1.0,
    readonly totalIters = 5,
  ) {
    super(optimizer);
    finiteNumberArg('LinearLR', 'startFactor', startFactor);
    finiteNumberArg('LinearLR', 'endFactor', endFactor);
    positiveIntegerArg('LinearLR', 'totalIters', totalIters);
    if (startFactor > 1.0 || startFactor <= 0) throw new RangeError('LinearLR: startFactor must be in (0, 1]');
    if (endFactor > 1.0 || endFactor < 0) throw new RangeError('LinearLR: endFactor must be in [0, 1]');
    this.initialStep();
  }
  protected getLr(): number[] {
    const { startFactor, endFactor, totalIters, lastEpoch } = this;
    if (lastEpoch === 0) return this.groups.map((group) => group.lr * startFactor);
    if (this.isInitial || lastEpoch > totalIters) return this.currentLrs();
    return this.groups.map(
      (group) => group.lr * (1.0 + (endFactor - startFactor) / (totalIters * startFactor + (lastEpoch - 1) * (endFactor - startFactor))),
    );
  }
  protected override closedFormLr(): number[] {
    const { startFactor, endFactor, totalIters, lastEpoch } = this;
    return this.baseLrs.map((base) => base * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, lastEpoch)) / totalIters));
  }
  protected override ownState(): SchedulerStateDict {
    return { start_factor: this.startFactor, end_factor: this.endFactor, total_iters: this.totalIters };
  }
}

/** Runs `schedulers` one after another, switching at the `milestones` (e.g. LinearLR warm-up then cosine). */
export class SequentialLR extends LRScheduler {
  /**
   * Runs `schedulers` one after another, switching at `milestones`; it takes epoch 0's step with the first.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param schedulers The schedules, in order, each built on `optimizer`.
   * @param milestones The epochs at which the next schedule takes over, one fewer than `schedulers`.
   */
  constructor(
    optimizer: AnyOptimizer,
    readonly schedulers: LRScheduler[],
    readonly milestones: number[],
  ) {
    super(optimizer);
    for (const [k, scheduler] of arrayArg<unknown>('SequentialLR', 'schedulers', schedulers).entries()) {
      if (!(scheduler instanceof LRScheduler))
        throw new TypeError(`SequentialLR(): argument 'schedulers[${k}]' must be an LRScheduler, got ${describe(scheduler)}`);
    }
    milestonesArg('SequentialLR', milestones);
    if (schedulers.length < 1) throw new RangeError('SequentialLR: expects at least one scheduler');
    if (milestones.length !== schedulers.length - 1) {
      throw new RangeError(
        `SequentialLR: expects one milestone fewer than schedulers, got ${schedulers.length} schedulers and ${milestones.length} milestones`,
      );
    }
    for (const scheduler of schedulers) {
      if (scheduler.optimizer !== optimizer) throw new TypeError('SequentialLR: every scheduler must belong to the same optimizer');
    }
    this.lastEpoch = 0;
    for (const group of this.groups) group.lr = group.initialLr!;
    for (const scheduler of schedulers) scheduler.lastEpoch -= 1;
    const first = schedulers[bisectRight(milestones, 0)]!;
    (first as unknown as { initialStep(): void }).initialStep();
    this.lastLrOf = first.getLastLr();
  }
  private lastLrOf: number[];

  protected getLr(): number[] {
    return this.currentLrs();
  }

  override step(): void {
    this.lastEpoch += 1;
    const index = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[index]!;
    if (index > 0 && this.milestones[index - 1] === this.lastEpoch) scheduler.updateLr(0);
    else scheduler.step();
    this.lastLrOf = scheduler.getLastLr();
  }

  override getLastLr(): number[] {
    return [...this.lastLrOf];
  }

  override stateDict(): SchedulerStateDict {
    return {
      last_epoch: this.lastEpoch,
      _milestones: [...this.milestones],
      _last_lr: this.getLastLr(),
      _schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  override loadStateDict(state: SchedulerStateDict): void {
    this.lastEpoch = state.last_epoch as number;
    this.lastLrOf = [...(state._last_lr as number[])];
    for (const [k, s] of (state._schedulers as SchedulerStateDict[]).entries()) this.schedulers[k]!.loadStateDict(s);
  }
}

/** Options of `OneCycleLR`. */
export interface OneCycleOptions {
  /** The steps of the whole cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  /** With `stepsPerEpoch`, the cycle's length when `totalSteps` is not given. */
  epochs?: number;
  /** With `epochs`, the cycle's length when `totalSteps` is not given. */
  stepsPerEpoch?: number;
  /** The share of the cycle spent raising the rate (default 0.3). */
  pctStart?: number;
  /** `'cos'` (default) or `'linear'` annealing between the rates. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (or Adam's first beta) inversely to the rate (default true). */
  cycleMomentum?: boolean;
  /** The lowest momentum, at the peak rate (default 0.85). */
  baseMomentum?: number;
  /** The highest momentum, at the start and end (default 0.95). */
  maxMomentum?: number;
  /** The starting rate is `maxLr / divFactor` (default 25). */
  divFactor?: number;
  /** The final rate is the starting rate / `finalDivFactor` (default 1e4). */
  finalDivFactor?: number;
  /** Go back down to the starting rate before annealing to the final one (default false). */
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: 'initialLr' | 'maxLr' | 'minLr';
  endLr: 'initialLr' | 'maxLr' | 'minLr';
  startMomentum: 'maxMomentum' | 'baseMomentum';
  endMomentum: 'maxMomentum' | 'baseMomentum';
}

/** The 1cycle policy (Smith): rate up to `maxLr` and back down, momentum the other way, per batch. */
export class OneCycleLR extends LRScheduler {
  /** The steps of the whole cycle. */
  readonly totalSteps: number;
  private readonly phases: Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;
  private readonly cycleMomentum: boolean;
  private readonly momentumBounds: { baseMomentum: number; maxMomentum: number }[];

  /**
   * The 1cycle schedule up to `maxLr` and down again; it sets each group's starting rate and momentum.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param maxLr The peak rate, one for all groups or one per group.
   * @param options The cycle's length, shape and momentum.
   */
  constructor(optimizer: AnyOptimizer, maxLr: number | number[], options: OneCycleOptions = {}) {
    const fn = 'OneCycleLR';
    const groups = optimizerArg(fn, optimizer).paramGroups as Group[];
    options = checkOptions(fn, options, [
      'totalSteps',
      'epochs',
      'stepsPerEpoch',
      'pctStart',
      'annealStrategy',
      'cycleMomentum',
      'baseMomentum',
      'maxMomentum',
      'divFactor',
      'finalDivFactor',
      'threePhase',
    ]);
    const maxLrs = perGroup(fn, 'maxLr', maxLr, groups.length);
    const divFactor = finiteNumberArg(fn, 'divFactor', options.divFactor ?? 25.0);
    const finalDivFactor = finiteNumberArg(fn, 'finalDivFactor', options.finalDivFactor ?? 1e4);
    groups.forEach((group, k) => {
      group.initialLr = maxLrs[k]! / divFactor;
      group.maxLr = maxLrs[k]!;
      group.minLr = group.initialLr / finalDivFactor;
    });
    super(optimizer);
    if (options.totalSteps !== undefined) this.totalSteps = options.totalSteps;
    else if (options.epochs !== undefined && options.stepsPerEpoch !== undefined) this.totalSteps = options.epochs * options.stepsPerEpoch;
    else throw new TypeError('OneCycleLR: give totalSteps, or epochs and stepsPerEpoch');
    if (!Number.isInteger(this.totalSteps) || this.totalSteps <= 0)
      throw new RangeError(`OneCycleLR: expected a positive integer number of steps, got ${this.totalSteps}`);
    const pctStart = options.pctStart ?? 0.3;
    if (!(pctStart >= 0 && pctStart <= 1)) throw new RangeError(`OneCycleLR: pctStart must be in [0, 1], got ${pctStart}`);
    this.phases = options.threePhase
      ? [
          {
            endStep: pctStart * this.totalSteps - 1,
            startLr: 'initialLr',
            endLr: 'maxLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'baseMomentum',
          },
          {
            endStep: 2 * pctStart * this.totalSteps - 2,
            startLr: 'maxLr',
            endLr: 'initialLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
          { endStep: this.totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          {
            endStep: pctStart * this.totalSteps - 1,
            startLr: 'initialLr',
            endLr: 'maxLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'baseMomentum',
          },
          { endStep: this.totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    const strategy = options.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear')
      throw new TypeError(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got '${String(strategy)}'`);
    this.anneal =
      strategy === 'cos'
        ? (start, end, pct) => end + ((start - end) / 2.0) * (Math.cos(Math.PI * pct) + 1)
        : (start, end, pct) => (end - start) * pct + start;
    this.cycleMomentum = options.cycleMomentum ?? true;
    const baseMomentum = finiteNumberArg(fn, 'baseMomentum', options.baseMomentum ?? 0.85);
    const maxMomentum = finiteNumberArg(fn, 'maxMomentum', options.maxMomentum ?? 0.95);
    this.momentumBounds = this.groups.map(() => ({ baseMomentum, maxMomentum }));
    if (this.cycleMomentum) {
      const first = this.groups[0] as Group & { momentum?: number; betas?: [number, number] };
      if (first.momentum === undefined && first.betas === undefined) {
        throw new TypeError('OneCycleLR: cycleMomentum needs an optimizer with momentum or betas');
      }
      for (const group of this.groups as (Group & { momentum?: number; betas?: [number, number] })[]) {
        if (group.betas !== undefined) group.betas = [maxMomentum, group.betas[1]];
        else group.momentum = maxMomentum;
      }
    }
    this.initialStep();
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new RangeError(`OneCycleLR: tried to step ${stepNum} times; the total number of steps is ${this.totalSteps}`);
    }
    return this.groups.map((group, k) => {
      let startStep = 0;
      let lr = 0;
      let momentum = 0;
      const bounds = { ...group, ...this.momentumBounds[k]! } as unknown as Record<string, number>;
      for (let p = 0; p < this.phases.length; p += 1) {
        const phase = this.phases[p]!;
        const endStep = phase.endStep;
        if (stepNum <= endStep || p === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (endStep - startStep);
          lr = this.anneal(bounds[phase.startLr]!, bounds[phase.endLr]!, pct);
          if (this.cycleMomentum) momentum = this.anneal(bounds[phase.startMomentum]!, bounds[phase.endMomentum]!, pct);
          break;
        }
        startStep = phase.endStep;
      }
      if (this.cycleMomentum) {
        const g = group as Group & { momentum?: number; betas?: [number, number] };
        if (g.betas !== undefined) g.betas = [momentum, g.betas[1]];
        else g.momentum = momentum;
      }
      return lr;
    });
  }

  protected override ownState(): SchedulerStateDict {
    return { total_steps: this.totalSteps };
  }
}

/** Options of `ReduceLROnPlateau`. */
export interface ReduceLROnPlateauOptions {
  /** Whether the watched metric should go down ('min', e.g. a loss) or up ('max', e.g. a Dice score). */
  mode?: 'min' | 'max';
  /** The rate is multiplied by it when lowered (default 0.1; below 1). */
  factor?: number;
  /** Epochs without improvement tolerated before the rate is lowered (default 10). */
  patience?: number;
  /** The least change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** `'rel'` (default): the change relative to the best; `'abs'`: the change itself. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs after a lowering during which no epoch counts as bad (default 0). */
  cooldown?: number;
  /** The lowest rate, one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** A lowering smaller than this is skipped (default 1e-8). */
  eps?: number;
}

/** Multiplies the rate by `factor` when a metric has stopped improving for `patience` epochs. */
export class ReduceLROnPlateau {
  /** Whether the metric should go down or up. */
  readonly mode: 'min' | 'max';
  /** The rate's multiplier when lowered. */
  readonly factor: number;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** The least change that counts as an improvement. */
  readonly threshold: number;
  /** Whether `threshold` is relative or absolute. */
  readonly thresholdMode: 'rel' | 'abs';
  /** Epochs after a lowering during which no epoch counts as bad. */
  readonly cooldown: number;
  /** The lowest rate of each group. */
  readonly minLrs: number[];
  /** A lowering smaller than this is skipped. */
  readonly eps: number;
  /** The metrics reported by `step()`. */
  lastEpoch = 0;
  /** The best metric so far. */
  best: number;
  /** Epochs since the last improvement (reset by a lowering and during cooldown). */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  private lastLr: number[];

  /**
   * A schedule that lowers the rate when the metric given to `step()` stops improving.
   * @param optimizer The optimizer whose groups' rates it sets.
   * @param options The mode, factor, patience, threshold, cooldown and lowest rates.
   */
  constructor(
    readonly optimizer: AnyOptimizer,
    options: ReduceLROnPlateauOptions = {},
  ) {
    const fn = 'ReduceLROnPlateau';
    optimizerArg(fn, optimizer);
    options = checkOptions(fn, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    this.mode = options.mode ?? 'min';
    this.factor = finiteNumberArg(fn, 'factor', options.factor ?? 0.1);
    if (this.factor >= 1.0) throw new RangeError('ReduceLROnPlateau: factor should be < 1.0');
    this.patience = nonNegativeIntegerArg(fn, 'patience', options.patience ?? 10);
    this.threshold = finiteNumberArg(fn, 'threshold', options.threshold ?? 1e-4);
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new TypeError(`ReduceLROnPlateau: mode must be 'min' or 'max', got '${String(this.mode)}'`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs')
      throw new TypeError(`ReduceLROnPlateau: thresholdMode must be 'rel' or 'abs'`);
    this.cooldown = nonNegativeIntegerArg(fn, 'cooldown', options.cooldown ?? 0);
    this.minLrs = perGroup(fn, 'minLr', options.minLr ?? 0, optimizer.paramGroups.length);
    this.eps = finiteNumberArg(fn, 'eps', options.eps ?? 1e-8);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((group) => group.lr);
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1.0 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1.0) : a > best + this.threshold;
  }

  /** Reports this epoch's metric; lowers the rate after `patience` epochs without improvement. */
  step(metric: number): void {
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((group, k) => {
        const newLr = Math.max(group.lr * this.factor, this.minLrs[k]!);
        if (group.lr - newLr > this.eps) group.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((group) => group.lr);
  }

  /** The rates the last step left. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The scheduler's position (best metric, bad epochs, cooldown), with PyTorch's field names. */
  stateDict(): SchedulerStateDict {
    return {
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      cooldown_counter: this.cooldownCounter,
      last_epoch: this.lastEpoch,
      _last_lr: [...this.lastLr],
    };
  }

  /** Restores a position written by `stateDict()` (or by PyTorch's `state_dict()`). */
  loadStateDict(state: SchedulerStateDict): void {
    this.best = state.best as number;
    this.numBadEpochs = state.num_bad_epochs as number;
    this.cooldownCounter = state.cooldown_counter as number;
    this.lastEpoch = state.last_epoch as number;
    this.lastLr = [...(state._last_lr as number[])];
  }
}
