// CUDA graphs (torch.cuda.CUDAGraph, torch.cuda.graph): refused with the reason where they cannot
// run; where a GPU and the addon's CUDA code are, a captured computation replays with the values
// its inputs hold, a host read inside the capture is an error that leaves the graph usable, and a
// captured training step of the compact U-Net gives the eager steps' losses.
import { createUNet, optim, type Tensor, torch } from '../lib';
import { native } from '../lib/native';

const F = torch.nn.functional;
const built = native.cudaKernelsBuilt();
const canGraph = built && torch.cuda.isAvailable();

describe('CUDA graphs', () => {
  (built ? test.skip : test)('an addon built without its CUDA code says so', () => {
    expect(() => new torch.cuda.CUDAGraph()).toThrow(/built without its CUDA code, which CUDA graphs are part of/);
  });

  (built && !torch.cuda.isAvailable() ? test : test.skip)('without a GPU, a graph says CUDA is not available', () => {
    expect(() => new torch.cuda.CUDAGraph()).toThrow(/cudaGraphNew\(\): CUDA is not available: no NVIDIA GPU is visible/);
  });

  (canGraph ? test : test.skip)('a replay recomputes the captured work from the values the inputs hold', () => {
    const graph = new torch.cuda.CUDAGraph();
    const x = torch.zeros([4], { device: 'cuda' });
    const y = torch.tidy(() => torch.cuda.graph(graph, () => torch.keep(x.mul(2).add(1))));
    x.copy_(torch.tensor([1, 2, 3, 4], { device: 'cuda' }));
    graph.replay();
    expect(Array.from(y.cpu().toTypedArray() as Float32Array)).toEqual([3, 5, 7, 9]);
    x.fill_(-1);
    graph.replay();
    expect(Array.from(y.cpu().toTypedArray() as Float32Array)).toEqual([-1, -1, -1, -1]);
    // Reading a value back waits on the host, which a capture forbids; the graph captures again after reset().
    graph.reset();
    expect(() => torch.cuda.graph(graph, () => x.sum().item())).toThrow();
    graph.reset();
    const z = torch.tidy(() => torch.cuda.graph(graph, () => torch.keep(x.neg())));
    graph.replay();
    expect(Array.from(z.cpu().toTypedArray() as Float32Array)).toEqual([1, 1, 1, 1]);
    graph.reset();
    torch.dispose([x, y, z]);
  });

  (canGraph ? test : test.skip)('a captured SGD step of the compact U-Net gives the eager steps’ losses', () => {
    // Drop-out off (eval mode) on both sides, so that the two runs draw no random numbers.
    const make = (): ReturnType<typeof createUNet> => {
      torch.manualSeed(81);
      return createUNet('compact').to('cuda').eval();
    };
    torch.manualSeed(82);
    const size = 188 + 64;
    const eagerModel = make();
    const x = torch.randn([1, 1, size, size], { device: 'cuda' });
    const target = torch.randint(0, 2, [1, eagerModel.outputSize(size), eagerModel.outputSize(size)], { device: 'cuda' });
    const step = (model: ReturnType<typeof createUNet>, optimizer: optim.SGD): Tensor => {
      const loss = F.crossEntropy(model.forward(x), target);
      loss.backward();
      optimizer.step();
      return loss;
    };
    const eagerOptimizer = new optim.SGD(eagerModel.parameters(), { lr: 0.01, momentum: 0.99 });
    const eager: number[] = [];
    for (let k = 0; k < 6; k += 1) {
      eagerOptimizer.zeroGrad();
      eager.push(torch.tidy(() => step(eagerModel, eagerOptimizer).item() as number));
    }
    const graphedModel = make();
    const optimizer = new optim.SGD(graphedModel.parameters(), { lr: 0.01, momentum: 0.99 });
    // One eager step first: it makes the momentum buffers outside the graph.
    optimizer.zeroGrad();
    const first = torch.tidy(() => step(graphedModel, optimizer).item() as number);
    optimizer.zeroGrad(); // the captured backward then writes its gradients into the graph's memory
    const graph = new torch.cuda.CUDAGraph();
    const loss = torch.tidy(() => torch.cuda.graph(graph, () => torch.keep(step(graphedModel, optimizer))));
    const graphed = [first];
    for (let k = 0; k < 5; k += 1) {
      graph.replay();
      graphed.push(loss.item() as number);
    }
    for (const [k, value] of graphed.entries()) expect([k, Math.abs(value - eager[k]!) <= 1e-4 * Math.abs(eager[k]!)]).toEqual([k, true]);
    graph.reset();
    optimizer.zeroGrad();
    eagerOptimizer.zeroGrad();
    torch.dispose([x, target, loss]);
    eagerModel.dispose();
    graphedModel.dispose();
  });
});
