// Bad calls: each throws the expected error class with a message that names the function and the
// argument, and the process goes on.
import { Tensor, torch } from '../lib';
import * as metrics from '../lib/metrics';
import { native } from '../lib/native';

type Case = [string, () => unknown, new (...args: never[]) => Error, RegExp];

const disposed = torch.ones([1]);
disposed.dispose();
const x = torch.ones([2, 3]);
const ints = torch.tensor([1, 2, 3]);

const cases: Case[] = [
  ['string as other', () => x.add('a' as never), TypeError, /add\(\): argument 'other' must be a live Tensor or a number, got a string/],
  [
    'plain object as input',
    () => native.neg({} as never),
    TypeError,
    /neg\(\): argument 'input' must be a Tensor, got an object that is not a Tensor/,
  ],
  [
    'foreign object with the same shape',
    () => native.neg({ shape: [1], dtype: 'float32' } as never),
    TypeError,
    /argument 'input' must be a Tensor/,
  ],
  [
    'object made from the prototype',
    () => native.neg(Object.create(Tensor.prototype) as never),
    TypeError,
    /argument 'input' must be a Tensor/,
  ],
  [
    'null as input',
    () => native.sum(null as never, undefined, false, undefined),
    TypeError,
    /sum\(\): argument 'input' must be a Tensor, got null/,
  ],
  [
    'undefined as other',
    () => native.matmul(x, undefined as never),
    TypeError,
    /matmul\(\): argument 'other' must be a Tensor, got undefined/,
  ],
  ['disposed input', () => disposed.mul(2), TypeError, /mul\(\): argument 'input' must be a live Tensor, got a disposed Tensor/],
  [
    'disposed other',
    () => x.add(disposed),
    TypeError,
    /add\(\): argument 'other' must be a live Tensor or a number, got a disposed Tensor/,
  ],
  ['shape mismatch', () => x.add(torch.ones([4])), Error, /add\(\): The size of tensor a \(3\) must match the size of tensor b \(4\)/],
  ['matmul shapes', () => x.matmul(x), Error, /matmul\(\): mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/],
  [
    'unknown dtype',
    () => torch.zeros([1], { dtype: 'float128' as never }),
    TypeError,
    /zeros\(\): argument 'dtype' must be a dtype \('float32'/,
  ],
  ['dtype of the wrong type', () => torch.ones([1], { dtype: 5 as never }), TypeError, /ones\(\): argument 'dtype' must be a dtype/],
  [
    'unknown device',
    () => torch.zeros([1], { device: 'tpu' }),
    TypeError,
    /zeros\(\): argument 'device' must be a device \('cpu', 'cuda' or 'cuda:N'\), got a string/,
  ],
  ['malformed cuda index', () => torch.zeros([1], { device: 'cuda:x' }), TypeError, /argument 'device' must be a device/],
  ['to() an unknown device', () => x.to('gpu'), TypeError, /toDevice\(\): argument 'device' must be a device/],
  ['negative size', () => torch.zeros([-1]), Error, /zeros\(\): .*negative/i],
  ['fractional size', () => torch.zeros([1.5]), TypeError, /zeros\(\): argument 'size' must be an integer, got the number 1.5/],
  ['size as a string', () => torch.ones('3' as never), TypeError, /ones\(\): argument 'size' must be an array of integers, got a string/],
  ['reshape to the wrong size', () => x.reshape([4]), Error, /reshape\(\): shape '\[4\]' is invalid for input of size 6/],
  ['item of many elements', () => x.item(), Error, /item\(\): a Tensor with 6 elements cannot be converted to Scalar/],
  ['ragged nested array', () => torch.tensor([[1, 2], [3]]), RangeError, /torch.tensor\(\): argument 'data' is ragged/],
  ['mixed booleans and numbers', () => torch.tensor([true, 1]), TypeError, /mixes booleans and numbers/],
  ['string data', () => torch.tensor('abc' as never), TypeError, /torch.tensor\(\): argument 'data' must be a number/],
  ['Uint16Array data', () => torch.tensor(new Uint16Array(2)), TypeError, /fromTypedArray\(\): argument 'data' must be an Int8Array/],
  [
    'typed array shape mismatch',
    () => native.fromTypedArray(new Float32Array(3), [2, 2]),
    RangeError,
    /argument 'shape' holds 4 elements but 'data' has 3/,
  ],
  [
    'backward of a non-scalar',
    () => torch.ones([2], { requiresGrad: true }).mul(2).backward(),
    Error,
    /backward\(\): grad can be implicitly created only for scalar outputs/,
  ],
  ['backward without grad', () => x.sum().backward(), Error, /backward\(\): element 0 of tensors does not require grad/],
  ['requiresGrad on an integer tensor', () => ints.requiresGrad_(true), Error, /Only Tensors of floating point/],
  [
    'requiresGrad set to a string',
    () => ((x as { requiresGrad: unknown }).requiresGrad = 'yes'),
    TypeError,
    /setRequiresGrad\(\): argument 'requiresGrad' must be a boolean, got a string/,
  ],
  ['new Tensor()', () => new (Tensor as unknown as new () => Tensor)(), TypeError, /Tensor cannot be constructed with `new`/],
  [
    'manualSeed with a negative seed',
    () => torch.manualSeed(-1),
    TypeError,
    /manualSeed\(\): argument 'seed' must be a non-negative integer/,
  ],
  ['setNumThreads(0)', () => torch.setNumThreads(0), Error, /setNumThreads\(\): threads must be positive/],
  ['tidy without a function', () => torch.tidy(3 as never), TypeError, /tidy\(\): argument 'fn' must be a function/],
  ['endScope with no scope', () => native.endScope([]), Error, /endScope\(\): no tidy\(\) scope is open/],
  ['div by a tensor of another device', () => x.div(torch.ones([3], { device: 'cuda:7' })), Error, /argument 'device' is 'cuda:7' but/],
  // Found by the fuzzer (npm run bench fuzz): null options were read as an object.
  [
    'isbiScores with null options',
    () => metrics.isbiScores([], null as never),
    TypeError,
    /isbiScores\(\): options must be an object, got null/,
  ],
];

describe('bad calls throw clear errors and the process lives on', () => {
  test.each(cases)('%s', (_name, call, errorClass, message) => {
    let thrown: unknown;
    try {
      call();
    } catch (error) {
      thrown = error;
    }
    // By name: jest runs tests in their own realm, whose TypeError is not the addon's.
    expect((thrown as Error).constructor.name).toBe(errorClass.name);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toMatch(/Exception raised from|registered at/);
  });

  test(`${cases.length} distinct cases`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(torch.tidy(() => x.add(1).sum().item())).toBe(12);
  });
});
