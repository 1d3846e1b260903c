// Where the ranks meet: the init method ('env://' or 'tcp://host:port') and torchrun's
// variables, read as torch.distributed.init_process_group reads them.
import { checkOptions } from '../ops/options';

/** The TCP store every rank joins, and this rank's place in the group. */
export interface Rendezvous {
  /** The store's host (`MASTER_ADDR`, or the URL's). */
  host: string;
  /** The store's port (`MASTER_PORT`, or the URL's). */
  port: number;
  /** This process's rank, from 0. */
  rank: number;
  /** The processes in the group. */
  worldSize: number;
  /**
   * torchrun's agent already hosts the store (`TORCHELASTIC_USE_AGENT_STORE=True`): every rank,
   * rank 0 included, joins it as a client. Otherwise rank 0 hosts it.
   */
  agentStore: boolean;
}

/** What `initProcessGroup` was given about the rendezvous. */
export interface RendezvousOptions {
  /** `'env://'` (default: torchrun's variables `MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`) or `'tcp://host:port'`. */
  initMethod?: string;
  /** This process's rank (default: `RANK`, or the URL's `rank`). */
  rank?: number;
  /** The processes in the group (default: `WORLD_SIZE`, or the URL's `world_size`). */
  worldSize?: number;
}

const FN = 'initProcessGroup';

function integerFrom(value: string | number | undefined, what: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isInteger(number) || number < min) {
    throw new RangeError(`${FN}(): ${what} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return number;
}

/**
 * The rendezvous of `initProcessGroup`. With `env://` (the default) the store's address comes
 * from `MASTER_ADDR` and `MASTER_PORT`, and the rank and world size, unless given, from `RANK`
 * and `WORLD_SIZE`, as torchrun sets them. With `tcp://host:port` the rank and world size are
 * given as options (or in the URL's query, `?rank=R&world_size=N`, as PyTorch allows).
 */
export function resolveRendezvous(options: RendezvousOptions = {}, env: NodeJS.ProcessEnv = process.env): Rendezvous {
  options = checkOptions(FN, options, ['initMethod', 'rank', 'worldSize']);
  if (env === null || typeof env !== 'object')
    throw new TypeError(`${FN}(): the environment must be an object of variables, got ${String(env)}`);
  const initMethod = options.initMethod ?? 'env://';
  if (typeof initMethod !== 'string') throw new TypeError(`${FN}(): option 'initMethod' must be a string, got ${String(initMethod)}`);
  let host: string;
  let port: number;
  let rank = integerFrom(options.rank, "option 'rank'", 0);
  let worldSize = integerFrom(options.worldSize, "option 'worldSize'", 1);
  if (initMethod === 'env://') {
    const missing = ['MASTER_ADDR', 'MASTER_PORT'].filter((name) => !env[name]);
    if (rank === undefined && !env.RANK) missing.push('RANK');
    if (worldSize === undefined && !env.WORLD_SIZE) missing.push('WORLD_SIZE');
    if (missing.length > 0) {
      throw new Error(
        `${FN}(): initMethod 'env://' needs the environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
          '(torchrun and `unet train --nproc-per-node` set them), or pass initMethod: "tcp://host:port" with rank and worldSize',
      );
    }
    host = env.MASTER_ADDR!;
    port = integerFrom(env.MASTER_PORT, 'MASTER_PORT', 0)!;
    rank ??= integerFrom(env.RANK, 'RANK', 0)!;
    worldSize ??= integerFrom(env.WORLD_SIZE, 'WORLD_SIZE', 1)!;
  } else if (initMethod.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(initMethod);
    } catch {
      throw new TypeError(`${FN}(): option 'initMethod' must look like 'tcp://host:port', got '${initMethod}'`);
    }
    if (url.port === '') throw new TypeError(`${FN}(): option 'initMethod' '${initMethod}' names no port ('tcp://host:port')`);
    host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    port = Number(url.port);
    rank ??= integerFrom(url.searchParams.get('rank') ?? undefined, "the URL's rank", 0);
    worldSize ??= integerFrom(url.searchParams.get('world_size') ?? undefined, "the URL's world_size", 1);
    if (rank === undefined || worldSize === undefined) {
      throw new TypeError(`${FN}(): initMethod '${initMethod}' needs the options 'rank' and 'worldSize'`);
    }
  } else {
    throw new TypeError(`${FN}(): option 'initMethod' must be 'env://' or 'tcp://host:port', got '${initMethod}'`);
  }
  if (port > 65535) throw new RangeError(`${FN}(): the store's port must be from 0 to 65535, got ${port}`);
  if (rank >= worldSize) throw new RangeError(`${FN}(): rank ${rank} is not below the world size ${worldSize}`);
  const agentStore = initMethod === 'env://' && env.TORCHELASTIC_USE_AGENT_STORE === 'True';
  return { host, port, rank, worldSize, agentStore };
}
