/**
 * Keeps the drill's components running the way Kubernetes does: one that exits on its own is
 * started again, and the exit is recorded, because a component that dies of a fault it should
 * have ridden out (a Postgres restart, a broker away) is itself a finding. Exits the drill
 * causes (kill -9, a restart) are not crashes.
 */
import type { Child } from '../common/componentProcess.js';
import type { Logger } from '../common/log.js';

export interface Crash {
  name: string;
  code: number | null;
  at: number;
}

export interface Supervisor {
  launch(name: string): Promise<Child>;
  /** Sends the signal, waits for the exit, starts it again; not counted as a crash. */
  restart(name: string, how: 'kill -9' | 'stop'): Promise<void>;
  /** The running process of a component (the latest start). */
  current(name: string): Child | undefined;
  crashes: Crash[];
  /** From now on exits are the drill's own (teardown). */
  retire(): void;
}

export function makeSupervisor(start: (name: string) => Promise<Child>, log: Logger): Supervisor {
  const current = new Map<string, Child>();
  const expected = new WeakSet<Child>();
  const crashes: Crash[] = [];
  let retired = false;

  async function launch(name: string): Promise<Child> {
    const child = await start(name);
    current.set(name, child);
    void child.exited.then((code) => {
      if (retired || expected.has(child)) return;
      crashes.push({ name, code, at: Date.now() });
      log.error({ component: name, code }, 'faults: a component exited on its own; starting it again');
      launch(name).catch((err: unknown) => log.error({ err, component: name }, 'faults: could not restart'));
    });
    return child;
  }

  return {
    launch,
    crashes,
    current: (name) => current.get(name),
    async restart(name, how) {
      const child = current.get(name);
      if (child) {
        expected.add(child);
        if (how === 'kill -9') {
          child.process.kill('SIGKILL');
          await child.exited;
        } else {
          await child.stop(15_000);
        }
      }
      await launch(name);
    },
    retire() {
      retired = true;
    },
  };
}
