// PyTorch's file format (torch.save / torch.load): a ZIP archive holding a pickle and one record
// per storage. Written by libtorch's own pickler; read here by a restricted unpickler that, like
// torch.load(weights_only=True), builds tensors and containers and nothing else.
import * as fs from 'node:fs';

import { type DType, ELEMENT_SIZE } from '../dtype';
import { tidy } from '../memory';
import { native } from '../native';
import { Tensor } from '../tensor';
import { writeFileAtomic } from './atomic';
import { type PickleGlobal, PickleError, unpickle } from './pickle';
import { ArchiveError, ZipReader } from './zip';
import { pathArg } from '../arguments';

/** What a torch file holds: tensors inside dicts and lists, with numbers, strings, booleans and null. */
export type TorchValue = Tensor | number | string | boolean | null | TorchValue[] | { [key: string]: TorchValue };

/** Thrown for a file that is not a readable torch.save file; the message names the file and the fault. */
export class TorchFileError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'TorchFileError';
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** Saves tensors (in dicts and lists, with plain values) so that Python's `torch.load(file, weights_only=True)` reads them. Atomic. */
export function saveTorch(file: string, value: TorchValue): void {
  pathArg('save', 'file', file);
  checkSavable(value, '');
  writeFileAtomic(file, (write) => native.pickleSave(value, write));
}

function checkSavable(value: unknown, at: string): void {
  const where = at === '' ? 'the value' : `'${at}'`;
  if (value instanceof Tensor) {
    if (value.isDisposed) throw new TypeError(`torch.save(): ${where} is a disposed Tensor`);
    return;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return;
  if (Array.isArray(value)) {
    for (const [k, item] of value.entries()) checkSavable(item, `${at}[${k}]`);
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) checkSavable(item, at === '' ? key : `${at}.${key}`);
    return;
  }
  throw new TypeError(
    `torch.save(): ${where} is ${typeof value === 'function' ? 'a function' : `a ${value?.constructor?.name ?? typeof value}`}, which cannot be saved (tensors, plain objects, arrays, numbers, strings, booleans and null can)`,
  );
}

/**
 * Reads a file written by Python's `torch.save` (a state dict, or a checkpoint dict holding
 * state dicts and plain values) into CPU tensors. Refuses anything that is not data.
 */
export function loadTorch(file: string): TorchValue {
  pathArg('load', 'file', file);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new TorchFileError(`${file}: cannot open (${(error as Error).message})`);
  }
  const created: Tensor[] = [];
  try {
    const archive = new ZipReader(fd, file);
    const pickleName = archive.names().find((name) => name.endsWith('/data.pkl') || name === 'data.pkl');
    if (pickleName === undefined) throw new TorchFileError(`${file}: not a torch.save archive (no data.pkl record)`);
    const prefix = pickleName.slice(0, -'data.pkl'.length);
    const byteorder = archive.names().includes(`${prefix}byteorder`)
      ? new TextDecoder().decode(archive.read(`${prefix}byteorder`))
      : 'little';
    if (byteorder !== 'little')
      throw new TorchFileError(`${file}: saved with ${byteorder}-endian storages, which unet-torch does not read`);
    const storages = new Map<string, Tensor>();
    const loadStorage = (id: unknown): unknown => {
      if (!Array.isArray(id) || id[0] !== 'storage') throw new PickleError(`${file}: a persistent id that is not a storage`);
      const [, storageType, key, , numel] = id as [string, { dtype: DType }, string, string, number];
      const dtype = storageType?.dtype;
      if (dtype === undefined) throw new PickleError(`${file}: storage '${key}' has an unknown type`);
      let storage = storages.get(key);
      if (storage === undefined) {
        const bytes = archive.read(`${prefix}data/${key}`);
        if (bytes.byteLength < numel * ELEMENT_SIZE[dtype]) throw new TorchFileError(`${file}: storage '${key}' is truncated`);
        storage = native.fromBytes(bytes.subarray(0, numel * ELEMENT_SIZE[dtype]), [numel], dtype);
        created.push(storage);
        storages.set(key, storage);
      }
      return storage;
    };
    const rebuildTensor = (...args: unknown[]): Tensor => {
      const [storage, offset, size, stride] = args as [Tensor, number, number[], number[]];
      const tensor = native.asStrided(storage, size, stride, offset);
      created.push(tensor);
      return tensor;
    };
    const resolveGlobal = ({ module, name }: PickleGlobal): ((...args: unknown[]) => unknown) => {
      if (module === 'collections' && name === 'OrderedDict') return () => ({});
      if (module === 'torch._utils' && name === '_rebuild_tensor_v2') return rebuildTensor;
      if (module === 'torch._utils' && name === '_rebuild_parameter') return (data: unknown) => data;
      if (module === 'torch' && name in STORAGE_DTYPES) return Object.assign(() => undefined, { dtype: STORAGE_DTYPES[name] });
      throw new PickleError(
        `${file}: refuses the Python global ${module}.${name} (only tensors and containers are read, as with weights_only=True)`,
      );
    };
    const value = unpickle(archive.read(pickleName), { persistentLoad: loadStorage, resolveGlobal }, file) as TorchValue;
    // Tensors that reached the result are handed over; the storages they view stay alive through them.
    const reached = new Set<Tensor>();
    const visit = (v: unknown): void => {
      if (v instanceof Tensor) reached.add(v);
      else if (Array.isArray(v)) v.forEach(visit);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
    };
    visit(value);
    for (const tensor of created) if (!reached.has(tensor)) tensor.dispose();
    return value;
  } catch (error) {
    tidy(() => {
      for (const tensor of created) tensor.dispose();
    });
    if (error instanceof TorchFileError || error instanceof ArchiveError || error instanceof PickleError) throw error;
    throw new TorchFileError(`${file}: ${(error as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}
