/**
 * Pins a running stack to some of the machine's cores (taskset, every thread of every process
 * of the trees listening on its ports), so a benchmark can show how throughput scales with
 * cores. Processes forked later (Postgres backends) inherit their parent's affinity.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { processesListeningOn } from './cpuTime.js';

/** Every core of the machine, as taskset's list ("0-1"). */
export const allCores = () => `0-${availableParallelism() - 1}`;

/** Pins the processes listening on `ports` (and their descendants) to `cores`; how many it pinned. */
export function pinStack(ports: number[], cores: string): number {
  let pinned = 0;
  for (const pid of processesListeningOn(ports)) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
      pinned += 1;
    } catch {
      // Gone since it was listed (a backend that ended): nothing to pin.
    }
  }
  return pinned;
}
