import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';

/** Stops the process a pid file names (SIGTERM, then waits up to 5 s) and removes the file. */
export async function stopByPidFile(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  try {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100; i += 1) {
      process.kill(pid, 0); // throws once the process is gone
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch {
    // gone (or never there)
  }
  await rm(pidFile, { force: true });
}
