/** `crs <command>` as its own process in a test, killed at the end if still running. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Test } from 'tap';
import { packageRoot } from '../../common/paths.js';

export interface CrsProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

export function spawnCrs(t: Test, args: string[], env: Record<string, string>): CrsProcess {
  const child = spawn(process.execPath, ['--import=tsx', join(packageRoot, 'cli', 'run.ts'), ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, exited, output: () => output };
}
