/**
 * Components as child processes (of `crs start`, the benchmarks, the fault drill), each run as
 * `crs <component>` exactly as Kubernetes runs them, with the environment given. Here, not in
 * the local stack's folder, because `crs start` loads it with the CLI, which the production
 * image runs without devstack/.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  stop(timeoutMs: number): Promise<void>;
}

export function spawnComponent(
  name: string,
  env: Record<string, string | undefined>,
  /** Another entry than `crs <name>` (the benchmarks' own API). */
  entry?: { script: string; execArgv: string[] },
  /** Where its stdout and stderr go: this process's own, or an open file. */
  output: 'inherit' | number = 'inherit',
): Child {
  const script = entry?.script ?? process.argv[1];
  if (!script) throw new Error('cannot find the crs script to run components with');
  // execArgv carries loaders (tsx in tests), so sources and compiled code both work.
  const args = entry ? [...entry.execArgv, script] : [...process.execArgv, script, name];
  const child = spawn(process.execPath, args, {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', output, output],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    process: child,
    exited,
    async stop(timeoutMs) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until GET url answers 200, or throws after timeoutMs. */
export async function waitUntilReady(url: string, timeoutMs: number, child?: Child) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child?.exited.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`${child?.name} exited during start-up`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
