// `unet train --nproc-per-node N`: starts N ranks of the same command on this machine, each with
// the variables torchrun sets (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
// MASTER_ADDR, MASTER_PORT), and waits for them. As torchrun does, the first rank to fail stops
// the others, and Ctrl-C reaches every rank.
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';

import { integerOption } from './args';
import { UsageError } from './command';

/** The launch flags, shared by the verbs that train or predict across ranks. */
export const LAUNCH_FLAGS = {
  'nproc-per-node': {
    type: 'string',
    placeholder: 'N',
    help: 'start N ranks on this machine (train: data-parallel over torch.distributed; predict: the images split)',
  },
  nnodes: { type: 'string', placeholder: 'N', help: 'machines taking part, each started with the same command (default 1)' },
  'node-rank': { type: 'string', placeholder: 'R', help: "this machine's index among them, 0 to N−1 (default 0)" },
  'master-addr': { type: 'string', placeholder: 'HOST', help: 'address of node 0, which hosts the rendezvous store (default 127.0.0.1)' },
  'master-port': { type: 'string', placeholder: 'PORT', help: 'its port (default 29500)' },
} as const;

/** The launch flags' values. */
export interface LaunchValues {
  'nproc-per-node'?: string;
  nnodes?: string;
  'node-rank'?: string;
  'master-addr'?: string;
  'master-port'?: string;
}

/** How to start the ranks of this machine. */
export interface LaunchPlan {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
}

/**
 * The launch this command asks for, or null: no `--nproc-per-node`, or this process is already a
 * rank (torchrun's or ours set RANK), in which case the launch flags are ignored.
 */
export function launchPlan(values: LaunchValues, env: NodeJS.ProcessEnv = process.env): LaunchPlan | null {
  const nprocPerNode = integerOption('nproc-per-node', values['nproc-per-node']);
  const others = (['nnodes', 'node-rank', 'master-addr', 'master-port'] as const).filter((flag) => values[flag] !== undefined);
  if (nprocPerNode === undefined) {
    if (others.length > 0) throw new UsageError(`--${others[0]} needs --nproc-per-node`);
    return null;
  }
  if (env.RANK !== undefined) return null;
  if (nprocPerNode < 1) throw new UsageError(`--nproc-per-node must be at least 1, got ${nprocPerNode}`);
  const nnodes = integerOption('nnodes', values.nnodes) ?? 1;
  if (nnodes < 1) throw new UsageError(`--nnodes must be at least 1, got ${nnodes}`);
  const nodeRank = integerOption('node-rank', values['node-rank']) ?? 0;
  if (nodeRank < 0 || nodeRank >= nnodes) throw new UsageError(`--node-rank must be from 0 to ${nnodes - 1}, got ${nodeRank}`);
  const masterPort = integerOption('master-port', values['master-port']) ?? 29500;
  if (masterPort < 1 || masterPort > 65535) throw new UsageError(`--master-port must be from 1 to 65535, got ${masterPort}`);
  return { nprocPerNode, nnodes, nodeRank, masterAddr: values['master-addr'] ?? '127.0.0.1', masterPort };
}

/**
 * This rank's share of `items` when several ranks split a list (item k goes to rank k mod N), from
 * torchrun's RANK and WORLD_SIZE; all of them in a single process.
 */
export function rankShare<T>(items: T[], env: NodeJS.ProcessEnv = process.env): T[] {
  const worldSize = Number(env.WORLD_SIZE ?? 1);
  const rank = Number(env.RANK ?? 0);
  if (!(Number.isInteger(worldSize) && worldSize >= 1 && Number.isInteger(rank) && rank >= 0 && rank < worldSize)) {
    throw new UsageError(`RANK (${env.RANK}) and WORLD_SIZE (${env.WORLD_SIZE}) must be integers with 0 <= RANK < WORLD_SIZE`);
  }
  return items.filter((_, k) => k % worldSize === rank);
}

/** The environment of local rank `localRank`, as torchrun would set it. */
export function rankEnvironment(plan: LaunchPlan, localRank: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    RANK: String(plan.nodeRank * plan.nprocPerNode + localRank),
    LOCAL_RANK: String(localRank),
    GROUP_RANK: String(plan.nodeRank),
    WORLD_SIZE: String(plan.nnodes * plan.nprocPerNode),
    LOCAL_WORLD_SIZE: String(plan.nprocPerNode),
    MASTER_ADDR: plan.masterAddr,
    MASTER_PORT: String(plan.masterPort),
  };
  // Ranks share the cores: libtorch's threads are split between them unless set (torchrun sets 1).
  env.OMP_NUM_THREADS ??= String(Math.max(1, Math.floor(os.availableParallelism() / plan.nprocPerNode)));
  return env;
}

/**
 * Runs `args` (this command line, launch flags included: a rank ignores them) in each local rank;
 * resolves with 0 when every rank succeeded, else the first failure's exit code.
 */
export function launchRanks(plan: LaunchPlan, args: string[]): Promise<number> {
  const threads = rankEnvironment(plan, 0).OMP_NUM_THREADS;
  process.stderr.write(
    `starting ${plan.nprocPerNode} rank(s) on node ${plan.nodeRank} of ${plan.nnodes} (world size ${plan.nnodes * plan.nprocPerNode}, ` +
      `${threads} thread(s) each, store ${plan.masterAddr}:${plan.masterPort})\n`,
  );
  const children: ChildProcess[] = [];
  return new Promise((resolve) => {
    let failure: number | null = null;
    let running = plan.nprocPerNode;
    const forward = (signal: NodeJS.Signals): void => {
      for (const child of children) child.kill(signal);
    };
    const onInterrupt = (): void => forward('SIGINT');
    const onExit = (): void => forward('SIGKILL');
    process.on('SIGINT', onInterrupt);
    process.on('exit', onExit);
    for (let localRank = 0; localRank < plan.nprocPerNode; localRank++) {
      // A process group of its own: Ctrl-C in a terminal reaches this launcher alone, which passes
      // it on once (a rank's second interrupt quits without a checkpoint).
      const env = rankEnvironment(plan, localRank);
      const child = spawn(process.execPath, [...process.execArgv, ...args], {
        env,
        stdio: 'inherit',
        detached: true,
      });
      children.push(child);
      child.on('exit', (code, signal) => {
        running -= 1;
        const status = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1);
        if (status !== 0 && failure === null) {
          failure = status;
          process.stderr.write(`unet: rank ${env.RANK} exited with ${status}: stopping the others\n`);
          forward('SIGTERM');
        }
        if (running === 0) {
          process.off('SIGINT', onInterrupt);
          process.off('exit', onExit);
          resolve(failure ?? 0);
        }
      });
    }
  });
}
