/**
 * Process entries next to a bench module, the same from the TypeScript sources (tsx) and from
 * the compiled dist/ tree: the sibling gets the caller's own extension and the loaders this
 * process runs with.
 */
import { fileURLToPath } from 'node:url';

export function siblingEntry(callerUrl: string, name: string): { script: string; execArgv: string[] } {
  const extension = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return { script: fileURLToPath(new URL(`./${name}${extension}`, callerUrl)), execArgv: process.execArgv };
}
