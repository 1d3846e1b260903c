'use strict';
// The seeded fuzzer of the public API: calls every function of torch, torch.nn.functional,
// torch.cuda, the tensor methods, the module, optimizer and schedule constructors (a schedule
// also on a real optimizer) and GradScaler's, the package entry's functions and its namespaces
// (unet, data, labels, predict, training, weightmap, augment, metrics, onnx, amp, cpu) and the
// U-Net's size methods with wrong types, shapes, dtypes, devices, disposed tensors, NaN/Inf,
// empty and huge sizes. A case passes when the call returns
// or throws (or its Promise rejects) with an Error whose message comes from the library's own
// checks; anything else (a non-Error thrown, an unchecked JavaScript TypeError, an abort, a
// crash, a call that never ends) is a failure, and a crash or a hang shows as this process dying
// or timing out, which the caller checks.
//   node test/support/fuzz.js SEED COUNT   → prints JSON { cases, returned, threw, failures }
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');

const library = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));
const { torch, nn, optim, augment, weightMap, weightedCrossEntropy, createUNet, predictProbabilities, metrics } = library;

const [seed = 0, count = 0] = process.argv.slice(2).map(Number);
// Functions that write files get a scratch folder as their working directory.
process.chdir(fs.mkdtempSync(path.join(os.tmpdir(), 'unet-fuzz-')));

let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];

// Sizes stay either small or beyond any allocation (2^80 elements): in between, an allocation
// could succeed and exhaust the machine, which is not what is being tested.
const VALUES = [
  () => undefined,
  () => null,
  () => NaN,
  () => Infinity,
  () => -Infinity,
  () => -1,
  () => 0,
  () => 1,
  () => 2,
  () => 2.5,
  () => 2 ** 53,
  () => -(2 ** 31),
  () => 1e300,
  () => 'abc',
  () => '',
  () => 'float32',
  () => 'int64',
  () => 'cuda:99',
  () => 'cpu',
  () => true,
  () => false,
  () => [],
  () => [1, 2],
  () => [[1], [2, 3]],
  () => [NaN],
  () => ['a'],
  () => [-1, 5],
  () => [2 ** 40, 2 ** 40],
  () => ({}),
  () => ({ dtype: 'nope' }),
  () => ({ foo: 1 }),
  () => ({ device: 'cuda:5' }),
  () => ({ dim: 7 }),
  () => () => 1,
  () => Symbol('s'),
  () => 10n,
  () => torch.rand([3, 4]),
  () => torch.arange(0, 3, 1),
  () => torch.ones([2, 2], { dtype: 'bool' }),
  () => torch.tensor(1.5),
  () => torch.zeros([0, 3]),
  () => torch.rand([1, 1, 8, 8]),
  () => torch.full([2, 3], NaN),
  () => torch.full([2], Infinity),
  () => torch.rand([2, 3]).requiresGrad_(),
  () => {
    const gone = torch.rand([2, 2]);
    gone.dispose();
    return gone;
  },
];
const argument = () => pick(VALUES)();

function targets() {
  const list = [];
  const add = (owner, prefix) => {
    for (const [name, value] of Object.entries(owner))
      if (typeof value === 'function' && !/^[A-Z]/.test(name)) list.push([`${prefix}${name}`, (...args) => value(...args)]);
  };
  add(torch, 'torch.');
  add(torch.nn.functional, 'F.');
  add(torch.cuda, 'torch.cuda.');
  add(augment, 'augment.');
  add(metrics, 'metrics.');
  add(library.onnx, 'onnx.');
  add(library.unet, 'unet.');
  for (const namespace of ['data', 'labels', 'predict', 'training', 'weightmap', 'amp', 'cpu']) add(library[namespace], `${namespace}.`);
  // The package entry's own functions (readers, writers, pictures, post-processing), not its classes.
  add(library, '');
  list.push(['torch.jit.load', (...args) => torch.jit.load(...args)]);
  // torch.distributed's synchronous functions; its async ones would start a rendezvous that waits for peers.
  const { distributed } = torch;
  for (const name of ['getRank', 'getWorldSize', 'destroyProcessGroup', 'differentiableAllReduce', 'resolveRendezvous', 'localRank'])
    list.push([`torch.distributed.${name}`, (...args) => distributed[name](...args)]);
  const receiver = torch.keep(torch.rand([3, 4]));
  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(receiver)).filter(
    (name) => name !== 'constructor' && typeof receiver[name] === 'function' && name !== 'dispose',
  );
  for (const name of methods) list.push([`Tensor.${name}`, (...args) => receiver.clone()[name](...args)]);
  // Error classes are not fuzzed: they take any message, as Error does.
  for (const [name, Module] of Object.entries(nn))
    if (typeof Module === 'function' && /^[A-Z]/.test(name) && !(Module.prototype instanceof Error))
      list.push([`new nn.${name}`, (...args) => new Module(...args)]);
  for (const [name, Optimizer] of Object.entries(optim))
    if (typeof Optimizer === 'function' && /^[A-Z]/.test(name)) list.push([`new optim.${name}`, (...args) => new Optimizer(...args)]);
  // Schedules, alone and on a real optimizer, so that their own settings are reached too.
  const scheduled = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 0.1, momentum: 0.9 });
  for (const [name, Schedule] of Object.entries(optim.lrScheduler))
    if (typeof Schedule === 'function' && /^[A-Z]/.test(name)) {
      list.push([`new optim.lrScheduler.${name}`, (...args) => new Schedule(...args)]);
      list.push([`new optim.lrScheduler.${name}(optimizer)`, (...args) => new Schedule(scheduled, ...args)]);
    }
  list.push(['new amp.GradScaler', (...args) => new library.amp.GradScaler(...args)]);
  list.push(['weightMap', (...args) => weightMap(...args)]);
  list.push(['weightedCrossEntropy', (...args) => weightedCrossEntropy(...args)]);
  list.push(['createUNet', (...args) => createUNet(...args)]);
  const tiny = createUNet('compact', { depth: 2, baseChannels: 2 });
  list.push(['UNet.forward', (...args) => tiny.forward(...args)]);
  for (const name of ['outputSize', 'inputSizeFor', 'isValidInputSize', 'smallerInputSize', 'marginFor'])
    list.push([`UNet.${name}`, (...args) => tiny[name](...args)]);
  list.push(['predictProbabilities', (...args) => predictProbabilities(tiny, ...args)]);
  return list;
}

const all = targets();
/** @type {{ cases: number, returned: number, threw: number, failures: string[] }} */
const summary = { cases: 0, returned: 0, threw: 0, failures: [] };

/**
 * Counts a thrown or rejected `error`; an error JavaScript raised inside the library (a property
 * of undefined, a non-function called) means the input was never checked: that fails like a
 * non-Error thrown.
 */
function judge(name, args, error) {
  summary.threw += 1;
  if (process.env.FUZZ_SHOW && random() < 0.05)
    process.stderr.write(
      `${name}: ${error instanceof Error ? error.constructor.name : typeof error}: ${String(error instanceof Error ? error.message : error).slice(0, 160)}\n`,
    );
  const unchecked =
    error instanceof Error &&
    /Cannot read propert|is not a function|is not iterable|Cannot convert|Cannot destructure|Maximum call stack/.test(error.message);
  if (!(error instanceof Error) || typeof error.message !== 'string' || error.message.length === 0 || unchecked) {
    summary.failures.push(
      `${name}(${args.map((a) => (a instanceof library.Tensor ? 'Tensor' : typeof a)).join(', ')}): ${error instanceof Error ? error.message : `threw ${String(error)}`}`,
    );
  }
}

async function fuzz() {
  for (let k = 0; k < count; k += 1) {
    const [name, call] = pick(all);
    const args = Array.from({ length: Math.floor(random() * 4) }, argument);
    summary.cases += 1;
    /** @type {PromiseLike<unknown> | null} */
    let pending = null;
    try {
      torch.tidy(() => {
        const result = call(...args);
        // tidy() refuses a Promise; it is taken out and awaited below.
        if (result && typeof result.then === 'function') pending = result;
        else return result;
      });
    } catch (error) {
      judge(name, args, error);
      continue;
    }
    // A Promise is judged by how it settles: a rejection counts as a throw (the functions that
    // would wait for peers are not fuzzed, so every one settles).
    if (pending) {
      try {
        await pending;
      } catch (error) {
        judge(name, args, error);
        continue;
      }
    }
    summary.returned += 1;
  }
  process.stdout.write(JSON.stringify(summary));
}

fuzz();
