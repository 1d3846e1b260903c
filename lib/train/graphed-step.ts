// train()'s `cudaGraphs`: a step's forward pass, weighted loss and backward captured once in a
// CUDA graph and replayed for every later step, one launch instead of hundreds. It pays where
// steps are bound by kernel launches (the `compact` preset's step on an H200: 3.38 ms in a graph
// against 6.72 eager) and little where the GPU is busy (the paper's preset: 10.13 against 10.80).
import { graph as captureGraph, CUDAGraph } from '../cuda-graph';
import { dispose, keep, tidy } from '../memory';
import type { Optimizer } from '../optim/optimizer';
import { info } from '../runtime';
import type { Tensor } from '../tensor';
import type { Settings } from './options';
import { accumulateGradients, batchAfter, batchLoss, type ReadyBatch, seedDropout, type StepContext, StepLoss } from './step';

/** Eager steps of a run (or of its resumed part) before the capture: the optimizer's state, cuDNN's choices. */
const EAGER_STEPS = 2;

/**
 * Why `cudaGraphs` cannot run with these settings, or null. A graph replays fixed work on fixed
 * memory: no host reads inside it (GradScaler's check for infinities), one backward per optimizer
 * step (its gradients are assigned, not added), and no collectives of a process group inside it.
 */
export function cudaGraphsRefusal(settings: Settings, device: string): string | null {
  if (settings.accumulate > 1) return `needs 'accumulate' 1 (one backward per step), got ${settings.accumulate}`;
  if (settings.worldSize > 1) return "cannot be used with a 'processGroup' of more than one rank";
  if (settings.amp) return "cannot be used with 'amp' (the gradient scaler reads the device at every step)";
  if (!device.startsWith('cuda')) return `needs a CUDA device, got '${device}'`;
  const { cudaKernelsMissing } = info();
  if (cudaKernelsMissing !== null) return `needs the addon's CUDA code (unet info: CUDA kernels), not built here: ${cudaKernelsMissing}`;
  return null;
}

/**
 * The gradients of each step, as {@link accumulateGradients} computes them, replayed from a CUDA
 * graph after the run's first steps. The batch is drawn and augmented eagerly (from the same
 * seeds) and copied into the graph's inputs; the drop-out generator is seeded before each replay
 * as before each eager step. Once captured, the gradients live in the graph's memory and every
 * replay overwrites them, so the optimizer's `zeroGrad()` is not called again; the optimizer's
 * step, the schedule and validation run eagerly, as without a graph.
 */
export class GraphedGradients {
  private readonly graph = new CUDAGraph();
  private captured: { inputs: ReadyBatch; loss: Tensor } | null = null;

  /**
   * @param context what a step needs (the model, the batches, the settings; no scaler, one rank)
   * @param optimizer whose gradients are zeroed before the eager steps and the capture
   * @param firstStep the step the run (or its resumed part) begins after
   */
  constructor(
    private readonly context: StepContext,
    private readonly optimizer: Optimizer<{ lr: number }>,
    private readonly firstStep: number,
  ) {}

  /** Step `step`'s gradients in the parameters' `grad`, and its loss still on the device. */
  compute(step: number): StepLoss {
    if (this.captured === null && step <= this.firstStep + EAGER_STEPS) {
      this.optimizer.zeroGrad();
      return accumulateGradients(this.context, step);
    }
    const { batches, settings } = this.context;
    const batch = batches.take(step, 0);
    try {
      if (this.captured === null) this.capture(batch);
      else {
        const { inputs } = this.captured;
        inputs.input.copy_(batch.input);
        inputs.label.copy_(batch.label);
        inputs.weights.copy_(batch.weights);
      }
    } finally {
      dispose(batch);
    }
    seedDropout(settings, step, 0); // the replay reads the generator's seed
    this.graph.replay();
    const next = batchAfter(settings, step, 0, 0);
    if (next !== null) batches.prefetch(next.step, next.index);
    return new StepLoss([keep(this.captured!.loss.clone())]);
  }

  /** Frees the graph, its inputs and the gradients it wrote. */
  dispose(): void {
    if (this.captured === null) return;
    this.optimizer.zeroGrad();
    dispose([this.captured.inputs.input, this.captured.inputs.label, this.captured.inputs.weights, this.captured.loss]);
    this.captured = null;
    this.graph.reset();
  }

  // The capture queues the work without running it: compute() replays it for this step too. The
  // inputs are copies of this step's batch made outside the graph, so that they outlive it and
  // every later step's batch is copied into them.
  private capture(batch: ReadyBatch): void {
    const { model } = this.context;
    this.optimizer.zeroGrad(); // backward then assigns the gradients in the graph's memory
    const inputs = { input: keep(batch.input.clone()), label: keep(batch.label.clone()), weights: keep(batch.weights.clone()) };
    const loss = tidy(() =>
      captureGraph(
        this.graph,
        () => {
          const value = batchLoss((input) => model.forward(input), inputs);
          value.backward();
          return keep(value.detach());
        },
        inputs.input.device,
      ),
    );
    this.captured = { inputs, loss };
  }
}
