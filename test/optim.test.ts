// Optimizers, schedulers, gradient clipping, GradScaler and nn.init against PyTorch.
import { type Tensor, nn, optim, torch } from '../lib';
import { runPython } from './support/python';

const sched = optim.lrScheduler;

// A small problem with real gradients: loss = sum((W x - y)^2) + sum(b^2 x) over fixed data.
function makeProblem(): { params: Tensor[]; loss: () => Tensor; data: Record<string, Tensor> } {
  const data = {
    w: torch.randn([4, 3], { dtype: 'float64' }),
    b: torch.randn([4], { dtype: 'float64' }),
    x: torch.randn([3, 5], { dtype: 'float64' }),
    y: torch.randn([4, 5], { dtype: 'float64' }),
  };
  const params = [torch.keep(data.w.clone().requiresGrad_(true)), torch.keep(data.b.clone().requiresGrad_(true))];
  const loss = (): Tensor => params[0]!.matmul(data.x).sub(data.y).pow(2).sum().add(params[1]!.pow(2).mul(data.x.sum()).sum());
  return { params, loss, data };
}

const PYTHON_PROBLEM = `
params = [inputs["w"].clone().requires_grad_(True), inputs["b"].clone().requires_grad_(True)]
x, y = inputs["x"], inputs["y"]
def loss():
    return (params[0] @ x - y).pow(2).sum() + (params[1].pow(2) * x.sum()).sum()
`;

const OPTIMIZERS: [string, (p: Tensor[]) => optim.Optimizer<{ lr: number }>, string][] = [
  ['SGD', (p) => new optim.SGD(p, { lr: 0.01 }), 'torch.optim.SGD(params, lr=0.01, foreach=False)'],
  [
    'SGD momentum weight decay',
    (p) => new optim.SGD(p, { lr: 0.01, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }),
    'torch.optim.SGD(params, lr=0.01, momentum=0.9, dampening=0.1, weight_decay=1e-3, foreach=False)',
  ],
  [
    'SGD nesterov',
    (p) => new optim.SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true }),
    'torch.optim.SGD(params, lr=0.01, momentum=0.9, nesterov=True, foreach=False)',
  ],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.01 }), 'torch.optim.Adam(params, lr=0.01, foreach=False)'],
  [
    'Adam amsgrad weight decay',
    (p) => new optim.Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.01, betas: [0.8, 0.99] }),
    'torch.optim.Adam(params, lr=0.01, amsgrad=True, weight_decay=0.01, betas=(0.8, 0.99), foreach=False)',
  ],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01 }), 'torch.optim.AdamW(params, lr=0.01, foreach=False)'],
  ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01 }), 'torch.optim.RMSprop(params, lr=0.01, foreach=False)'],
  [
    'RMSprop centered momentum',
    (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.01 }),
    'torch.optim.RMSprop(params, lr=0.01, centered=True, momentum=0.5, weight_decay=0.01, foreach=False)',
  ],
];

describe('optimizers', () => {
  // One PyTorch process runs every optimizer on the same data; each test compares one of them.
  let data: Record<string, Tensor>;
  let theirs: Record<string, Tensor>;
  beforeAll(() => {
    torch.manualSeed(21);
    const problem = makeProblem();
    data = problem.data;
    torch.dispose(problem.params);
    theirs = runPython(
      `${PYTHON_PROBLEM.replace(/^params = .*$/m, '')}
def run(make):
    global params
    params = [inputs["w"].clone().requires_grad_(True), inputs["b"].clone().requires_grad_(True)]
    optimizer = make(params)
    for step in range(50):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    return params
${OPTIMIZERS.map(([name, , python]) => `outputs["${name}.w"], outputs["${name}.b"] = run(lambda params: ${python})`).join('\n')}`,
      data,
    );
  });
  afterAll(() => torch.dispose([data, theirs]));

  test.each(OPTIMIZERS)('%s over 50 steps equals PyTorch bit for bit', (name, make) => {
    const params = [torch.keep(data.w!.clone().requiresGrad_(true)), torch.keep(data.b!.clone().requiresGrad_(true))];
    const loss = (): Tensor => params[0]!.matmul(data.x!).sub(data.y!).pow(2).sum().add(params[1]!.pow(2).mul(data.x!.sum()).sum());
    const optimizer = make(params);
    for (let step = 0; step < 50; step += 1) {
      optimizer.zeroGrad();
      torch.tidy(() => loss().backward());
      optimizer.step();
    }
    expect(params[0]!.equal(theirs[`${name}.w`]!)).toBe(true);
    expect(params[1]!.equal(theirs[`${name}.b`]!)).toBe(true);
    optimizer.dispose();
    torch.dispose(params);
  });

  test('stateDict/loadStateDict resumes exactly; PyTorch names; parameter groups', () => {
    torch.manualSeed(22);
    const run = (stepsBefore: number, resume: boolean): Tensor[] => {
      const { params, loss, data } = makeProblem();
      let optimizer = new optim.Adam([{ params: [params[0]!] }, { params: [params[1]!], lr: 0.05 }], { lr: 0.01 });
      for (let step = 0; step < 20; step += 1) {
        if (resume && step === stepsBefore) {
          const saved = optimizer.stateDict();
          expect(Object.keys(saved.state[0]!)).toEqual(['step', 'exp_avg', 'exp_avg_sq']);
          expect(saved.param_groups[1]).toMatchObject({ lr: 0.05, betas: [0.9, 0.999], weight_decay: 0, params: [1] });
          const fresh = new optim.Adam([{ params: [params[0]!] }, { params: [params[1]!] }], { lr: 0.3 });
          fresh.loadStateDict(saved);
          torch.dispose(Object.values(saved.state).flatMap((s) => Object.values(s)));
          optimizer.dispose();
          optimizer = fresh;
        }
        optimizer.zeroGrad();
        torch.tidy(() => loss().backward());
        optimizer.step();
      }
      optimizer.dispose();
      torch.dispose(data);
      return params;
    };
    const straight = run(0, false);
    torch.manualSeed(22);
    const resumed = run(9, true);
    expect(straight[0]!.equal(resumed[0]!)).toBe(true);
    expect(straight[1]!.equal(resumed[1]!)).toBe(true);
    torch.dispose([straight, resumed]);
  });

  test('clipGradNorm_ and clipGradValue_ equal PyTorch', () => {
    torch.manualSeed(23);
    const { params, loss, data } = makeProblem();
    torch.tidy(() => loss().backward());
    const total = nn.utils.clipGradNorm_(params, 1.5);
    const theirs = runPython(
      `${PYTHON_PROBLEM}
loss().backward()
outputs["total"] = torch.nn.utils.clip_grad_norm_(params, 1.5, foreach=False)
outputs["gw"], outputs["gb"] = params[0].grad.clone(), params[1].grad.clone()
torch.nn.utils.clip_grad_value_(params, 0.1, foreach=False)
outputs["vw"] = params[0].grad`,
      data,
    );
    expect(total.equal(theirs.total!)).toBe(true);
    torch.tidy(() => {
      expect(params[0]!.grad!.equal(theirs.gw!)).toBe(true);
      expect(params[1]!.grad!.equal(theirs.gb!)).toBe(true);
      nn.utils.clipGradValue_(params, 0.1);
      expect(params[0]!.grad!.equal(theirs.vw!)).toBe(true);
    });
    torch.dispose([params, data, theirs, total]);
  });
});

describe('learning-rate schedulers', () => {
  const CASES: [string, (o: optim.SGD) => { step(): void }, string][] = [
    ['StepLR', (o) => new sched.StepLR(o, 7, 0.5), 'S.StepLR(o, 7, 0.5)'],
    ['MultiStepLR', (o) => new sched.MultiStepLR(o, [5, 12, 12, 20], 0.3), 'S.MultiStepLR(o, [5, 12, 12, 20], 0.3)'],
    ['ExponentialLR', (o) => new sched.ExponentialLR(o, 0.93), 'S.ExponentialLR(o, 0.93)'],
    ['CosineAnnealingLR', (o) => new sched.CosineAnnealingLR(o, 10, 0.001), 'S.CosineAnnealingLR(o, 10, 0.001)'],
    ['PolynomialLR (poly 0.9)', (o) => new sched.PolynomialLR(o, 25, 0.9), 'S.PolynomialLR(o, 25, 0.9)'],
    ['LinearLR', (o) => new sched.LinearLR(o, 0.1, 1.0, 8), 'S.LinearLR(o, 0.1, 1.0, 8)'],
    [
      'SequentialLR warm-up then cosine',
      (o) => new sched.SequentialLR(o, [new sched.LinearLR(o, 0.1, 1, 5), new sched.CosineAnnealingLR(o, 25)], [5]),
      'S.SequentialLR(o, [S.LinearLR(o, 0.1, 1, 5), S.CosineAnnealingLR(o, 25)], [5])',
    ],
    ['OneCycleLR', (o) => new sched.OneCycleLR(o, 0.1, { totalSteps: 51 }), 'S.OneCycleLR(o, 0.1, total_steps=51)'],
    [
      'OneCycleLR three-phase linear',
      (o) => new sched.OneCycleLR(o, 0.2, { totalSteps: 51, threePhase: true, annealStrategy: 'linear' }),
      'S.OneCycleLR(o, 0.2, total_steps=51, three_phase=True, anneal_strategy="linear")',
    ],
  ];

  // One PyTorch process runs every schedule; each test compares one of them.
  let theirs: Record<string, Tensor>;
  beforeAll(() => {
    theirs = runPython(`import warnings
warnings.simplefilter("ignore")
import torch.optim.lr_scheduler as S
def run(make):
    p = torch.zeros(1, requires_grad=True)
    o = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    s = make(o)
    values = [o.param_groups[0]["lr"], o.param_groups[0]["momentum"]]
    for step in range(50):
        o.step()
        s.step()
        values += [o.param_groups[0]["lr"], o.param_groups[0]["momentum"]]
    return torch.tensor(values, dtype=torch.float64)
${CASES.map(([name, , python]) => `outputs["${name}"] = run(lambda o: ${python})`).join('\n')}`);
  });
  afterAll(() => torch.dispose(theirs));

  test.each(CASES)('%s: 50 steps of learning rates (and momenta) equal PyTorch', (name, make) => {
    const p = torch.zeros([1], { requiresGrad: true });
    const optimizer = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    const scheduler = make(optimizer);
    const ours: number[] = [optimizer.paramGroups[0]!.lr, optimizer.paramGroups[0]!.momentum];
    for (let step = 0; step < 50; step += 1) {
      optimizer.step();
      scheduler.step();
      ours.push(optimizer.paramGroups[0]!.lr, optimizer.paramGroups[0]!.momentum);
    }
    const expected = Array.from(theirs[name]!.toTypedArray() as Float64Array);
    // Bitwise except where JS's Math.cos and libm's cos differ in the last bit: 1e-12 relative.
    for (const [k, value] of ours.entries()) expect(Math.abs(value - expected[k]!)).toBeLessThanOrEqual(1e-12 * Math.abs(expected[k]!));
    p.dispose();
  });

  test('a schedule resumed from state dicts continues exactly', () => {
    const run = (resumeAt: number | null): number[] => {
      const p = torch.zeros([1], { requiresGrad: true });
      let optimizer = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
      let scheduler = new sched.SequentialLR(
        optimizer,
        [new sched.LinearLR(optimizer, 0.1, 1, 5), new sched.CosineAnnealingLR(optimizer, 20)],
        [5],
      );
      const rates: number[] = [];
      for (let step = 0; step < 25; step += 1) {
        if (step === resumeAt) {
          const saved = { optimizer: optimizer.stateDict(), scheduler: scheduler.stateDict() };
          optimizer = new optim.SGD([p], { lr: 0.7 });
          optimizer.loadStateDict(saved.optimizer);
          scheduler = new sched.SequentialLR(
            optimizer,
            [new sched.LinearLR(optimizer, 0.1, 1, 5), new sched.CosineAnnealingLR(optimizer, 20)],
            [5],
          );
          scheduler.loadStateDict(saved.scheduler);
          optimizer.paramGroups[0]!.lr = saved.optimizer.param_groups[0]!.lr as number;
        }
        optimizer.step();
        scheduler.step();
        rates.push(optimizer.paramGroups[0]!.lr);
      }
      p.dispose();
      return rates;
    };
    expect(run(12)).toEqual(run(null));
  });

  test('ReduceLROnPlateau follows the same decisions as PyTorch', () => {
    const metrics = [1, 0.9, 0.95, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6];
    const p = torch.zeros([1], { requiresGrad: true });
    const optimizer = new optim.SGD([p], { lr: 0.1 });
    const scheduler = new sched.ReduceLROnPlateau(optimizer, { patience: 2, factor: 0.5, cooldown: 1, minLr: 0.01 });
    const ours = metrics.map((metric) => {
      scheduler.step(metric);
      return optimizer.paramGroups[0]!.lr;
    });
    const theirs = runPython(`import torch.optim.lr_scheduler as S
o = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
s = S.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1, min_lr=0.01)
values = []
for m in ${JSON.stringify(metrics)}:
    s.step(m)
    values.append(o.param_groups[0]["lr"])
outputs["values"] = torch.tensor(values, dtype=torch.float64)`);
    expect(ours).toEqual(Array.from(theirs.values!.toTypedArray() as Float64Array));
    torch.dispose([p, theirs]);
  });

  test('a bad setting is named when the optimizer, schedule or scaler is built, before any rate becomes NaN', () => {
    const p = torch.zeros([1], { requiresGrad: true });
    const sgd = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    const cases: [() => unknown, RegExp][] = [
      [
        () => new optim.SGD([p], { lrr: 1 } as never),
        /SGD\(\): unknown option 'lrr'; known options: lr, momentum, dampening, weightDecay, nesterov, maximize/,
      ],
      [() => new optim.AdamW([p], { beta: [0.9, 0.9] } as never), /AdamW\(\): unknown option 'beta'/],
      [() => new optim.RMSprop([{ params: [p], lR: 1 } as never]), /RMSprop\(\): unknown option 'lR' in parameter group 0/],
      [() => new optim.SGD([{ params: 5 } as never]), /SGD\(\): argument 'params' must hold Tensors or groups/],
      [() => new sched.StepLR(null as never, 5), /StepLR\(\): argument 'optimizer' must be an Optimizer, got null/],
      [() => new sched.StepLR(sgd, 0), /StepLR\(\): argument 'stepSize' must be a positive integer, got the number 0/],
      [() => new sched.CosineAnnealingLR(sgd, 0), /CosineAnnealingLR\(\): argument 'tMax' must be a positive integer, got the number 0/],
      [() => new sched.ExponentialLR(sgd, 'a' as never), /ExponentialLR\(\): argument 'gamma' must be a finite number, got the string 'a'/],
      [() => new sched.MultiStepLR(sgd, [2, -1]), /MultiStepLR\(\): argument 'milestones\[1\]' must be a non-negative integer/],
      [() => new sched.PolynomialLR(sgd, 0), /PolynomialLR\(\): argument 'totalIters' must be a positive integer/],
      [() => new sched.LinearLR(sgd, Number.NaN), /LinearLR\(\): argument 'startFactor' must be a finite number, got the number NaN/],
      [() => new sched.SequentialLR(sgd, [1 as never], []), /SequentialLR\(\): argument 'schedulers\[0\]' must be an LRScheduler/],
      [() => new sched.OneCycleLR(sgd, 1, { totalStep: 10 } as never), /OneCycleLR\(\): unknown option 'totalStep'/],
      [() => new sched.OneCycleLR(sgd, '1' as never, { totalSteps: 10 }), /OneCycleLR\(\): argument 'maxLr' must be a finite number/],
      [() => new sched.ReduceLROnPlateau(sgd, { factr: 0.5 } as never), /ReduceLROnPlateau\(\): unknown option 'factr'/],
      [
        () => new sched.ReduceLROnPlateau(sgd, { patience: -1 }),
        /ReduceLROnPlateau\(\): argument 'patience' must be a non-negative integer/,
      ],
      [() => new sched.ReduceLROnPlateau(sgd, { minLr: [1, 2] }), /argument 'minLr' must hold one number per parameter group \(1\), got 2/],
      [() => new torch.amp.GradScaler({ initscale: 8 } as never), /GradScaler\(\): unknown option 'initscale'/],
      [() => new torch.amp.GradScaler({ growthInterval: 0 }), /GradScaler\(\): argument 'growthInterval' must be a positive integer/],
    ];
    for (const [build, message] of cases) expect(build).toThrow(message);
    // A group's params may be any iterable, as model.parameters() is; each optimizer has betas of its own.
    const model = new nn.Linear(2, 2);
    const adam = new optim.Adam([{ params: model.parameters(), lr: 0.5 }]);
    expect(adam.paramGroups[0]!.params).toHaveLength(2);
    adam.paramGroups[0]!.betas[0] = 0.1;
    expect(new optim.Adam([p]).paramGroups[0]!.betas).toEqual([0.9, 0.999]);
    expect(sgd.paramGroups[0]!.lr).toBe(0.1);
    adam.dispose();
    sgd.dispose();
    model.dispose();
    p.dispose();
  });
});

describe('GradScaler', () => {
  test('skips the steps with inf/NaN gradients and adapts the scale as PyTorch does', () => {
    // Gradient multipliers per iteration; Infinity and NaN inject non-finite gradients.
    const multipliers = [1, 1, Infinity, 1, 1, 1, NaN, 1, 1, 1, 1, 1];
    const p = torch.ones([3], { requiresGrad: true });
    const optimizer = new optim.SGD([p], { lr: 0.1 });
    const scaler = new torch.amp.GradScaler({ device: 'cpu', initScale: 1024, growthInterval: 3 });
    const scales: number[] = [];
    const stepped: boolean[] = [];
    for (const multiplier of multipliers) {
      optimizer.zeroGrad();
      torch.tidy(() =>
        scaler
          .scale(
            p
              .mul(torch.tensor([1, 2, 3]))
              .sum()
              .mul(multiplier),
          )
          .backward(),
      );
      stepped.push(scaler.step(optimizer));
      scaler.update();
      scales.push(scaler.getScale());
    }
    const theirs = runPython(`p = torch.ones(3, requires_grad=True)
o = torch.optim.SGD([p], lr=0.1)
scaler = torch.amp.GradScaler("cpu", init_scale=1024, growth_interval=3)
scales = []
for m in [${multipliers.map((m) => (Number.isNaN(m) ? 'float("nan")' : m === Infinity ? 'float("inf")' : String(m))).join(', ')}]:
    o.zero_grad()
    scaler.scale((p * torch.tensor([1., 2., 3.])).sum() * m).backward()
    scaler.step(o)
    scaler.update()
    scales.append(scaler.get_scale())
outputs["scales"] = torch.tensor(scales, dtype=torch.float64)
outputs["p"] = p`);
    expect(scales).toEqual(Array.from(theirs.scales!.toTypedArray() as Float64Array));
    expect(stepped).toEqual(multipliers.map((m) => Number.isFinite(m)));
    expect(p.equal(theirs.p!)).toBe(true);
    expect(scaler.stateDict()).toEqual({
      scale: scales.at(-1),
      growth_factor: 2,
      backoff_factor: 0.5,
      growth_interval: 3,
      _growth_tracker: 2,
    });
    scaler.dispose();
    optimizer.dispose();
    torch.dispose([p, theirs]);
  });

  test('autocast on the CPU runs matmul in bfloat16 and restores the previous state', () => {
    torch.tidy(() => {
      const a = torch.randn([4, 4]);
      const inside = torch.amp.autocast(() => a.matmul(a), { deviceType: 'cpu' });
      expect(inside.dtype).toBe('bfloat16');
      expect(a.matmul(a).dtype).toBe('float32');
      expect(() => torch.amp.autocast(() => Promise.resolve(1), { deviceType: 'cpu' })).toThrow(/autocast\(\): fn returned a Promise/);
      expect(torch.amp.autocast(() => a.matmul(a), { deviceType: 'cpu', enabled: false }).dtype).toBe('float32');
    });
  });
});

describe('nn.init', () => {
  test('each initialiser draws what PyTorch draws after the same seed', () => {
    torch.manualSeed(31);
    const t = (shape: number[]): Tensor => torch.empty(shape);
    const ours = torch.tidy(() => ({
      ku: nn.init.kaimingUniform_(t([8, 4, 3, 3]), { a: Math.sqrt(5) }),
      kn: nn.init.kaimingNormal_(t([8, 4, 3, 3]), { mode: 'fan_out', nonlinearity: 'relu' }),
      xu: nn.init.xavierUniform_(t([6, 5]), nn.init.calculateGain('tanh')),
      xn: nn.init.xavierNormal_(t([6, 5])),
      tn: nn.init.truncNormal_(t([40, 40]), 0, 1, -2, 2),
      tnNarrow: nn.init.truncNormal_(t([30, 30]), 0, 1, 0.5, 0.9),
      or: nn.init.orthogonal_(t([5, 8]), 2),
      ort: nn.init.orthogonal_(t([8, 3, 2])),
      un: nn.init.uniform_(t([7]), -3, 2),
      no: nn.init.normal_(t([7]), 1, 0.5),
    }));
    const theirs = runPython(`import torch.nn.init as I
import math
torch.manual_seed(31)
e = torch.empty
outputs["ku"] = I.kaiming_uniform_(e(8, 4, 3, 3), a=math.sqrt(5))
outputs["kn"] = I.kaiming_normal_(e(8, 4, 3, 3), mode="fan_out", nonlinearity="relu")
outputs["xu"] = I.xavier_uniform_(e(6, 5), gain=I.calculate_gain("tanh"))
outputs["xn"] = I.xavier_normal_(e(6, 5))
outputs["tn"] = I.trunc_normal_(e(40, 40), 0, 1, -2, 2)
outputs["tnNarrow"] = I.trunc_normal_(e(30, 30), 0, 1, 0.5, 0.9)
outputs["or"] = I.orthogonal_(e(5, 8), 2)
outputs["ort"] = I.orthogonal_(e(8, 3, 2))
outputs["un"] = I.uniform_(e(7), -3, 2)
outputs["no"] = I.normal_(e(7), 1, 0.5)`);
    for (const [key, value] of Object.entries(ours)) expect([key, value.equal(theirs[key]!)]).toEqual([key, true]);
    torch.dispose([ours, theirs]);
  });
});
