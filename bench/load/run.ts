/**
 * runLoad: runs a LoadJob in a generator process of its own (generator.ts) and resolves with
 * its result. The child is killed if it outlives a hard deadline, so a wedged run can never
 * keep loading the service after its caller has given up on it.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../common/paths.js';
import type { GeneratorReply, LoadJob, LoadPhase, LoadResult, PhaseMessage } from './job.js';
import { assertLoadJob } from './validate.js';

/** Slack past the job's own bounds for process start-up (tsx compiles) and the reply. */
const DEADLINE_SLACK_MS = 30_000;

// generator.ts beside this file when run from source (through tsx), generator.js from dist/.
const fromSource = import.meta.url.endsWith('.ts');
const generatorPath = fileURLToPath(
  new URL(fromSource ? './generator.ts' : './generator.js', import.meta.url),
);

/** The longest a job can legitimately take: its schedule, then the last request's and voucher's bounds. */
export function hardDeadlineMs(job: LoadJob): number {
  const schedule =
    job.mode.kind === 'closed' ? (job.mode.warmupMs ?? 0) + job.mode.durationMs : job.mode.spreadMs;
  return schedule + job.timeoutMs + (job.followVouchers?.timeoutMs ?? 0) + DEADLINE_SLACK_MS;
}

function isPhase(message: unknown): message is PhaseMessage {
  return typeof message === 'object' && message !== null && 'phase' in message;
}

function isReply(message: unknown): message is GeneratorReply {
  return (
    typeof message === 'object' && message !== null && typeof (message as { ok?: unknown }).ok === 'boolean'
  );
}

export function runLoad(
  job: LoadJob,
  opts: { label?: string; onPhase?: (phase: LoadPhase) => void } = {},
): Promise<LoadResult> {
  const what = opts.label ? `load job ${opts.label}` : 'load job';
  try {
    // Refused here too, so that a bad job fails before a process is started.
    assertLoadJob(job);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return new Promise<LoadResult>((resolve, reject) => {
    const child = fork(generatorPath, opts.label ? [opts.label] : [], {
      execArgv: fromSource ? ['--import=tsx'] : [],
      // `--import=tsx` resolves from the working directory: the package's, wherever the caller is.
      cwd: packageRoot,
      // stdout too, in case; the generator itself writes only progress lines to stderr.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      fn();
    };
    const deadlineMs = hardDeadlineMs(job);
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      settle(() =>
        reject(new Error(`${what}: the generator ran past its hard deadline of ${deadlineMs} ms`)),
      );
    }, deadlineMs);
    // The deadline must not keep the caller's process alive on its own.
    deadline.unref();

    child.on('message', (message: unknown) => {
      if (isPhase(message)) {
        opts.onPhase?.(message.phase);
        return;
      }
      if (!isReply(message)) {
        settle(() => reject(new Error(`${what}: the generator sent an unexpected message`)));
      } else if (message.ok) {
        settle(() => resolve(message.result));
      } else {
        const error = message.error;
        settle(() => reject(new Error(`${what} failed in the generator: ${error}`)));
      }
    });
    child.once('error', (err) => {
      child.kill('SIGKILL');
      settle(() => reject(new Error(`${what}: could not run the generator: ${err.message}`, { cause: err })));
    });
    child.once('exit', (code, signal) => {
      settle(() =>
        reject(new Error(`${what}: the generator exited (code ${code}, signal ${signal}) without an answer`)),
      );
    });
    child.send(job);
  });
}
