/**
 * The load generator process (forked by run.ts): receives one LoadJob by IPC, runs it, sends
 * back a GeneratorReply and exits. A process of its own so that the generator's event loop
 * and garbage collector never share a CPU budget or a heap with the service it measures.
 *
 *   argv[2]: an optional label for the progress lines on stderr.
 */
import { executeJob } from './execute.js';
import type { GeneratorReply, PhaseMessage } from './job.js';

const label = process.argv[2] ? ` ${process.argv[2]}` : '';
const log = (line: string) => process.stderr.write(`[load${label}] ${line}\n`);

const send = process.send?.bind(process);
if (!send) {
  log('not started with an IPC channel; run it through runLoad()');
  process.exit(2);
}

function reply(message: GeneratorReply, exitCode: number): void {
  // Exit only once the message is written: undici sockets and timers must not keep us alive.
  send?.(message, undefined, {}, () => process.exit(exitCode));
}

// The parent gone means nobody will read the result: stop loading the service at once.
process.on('disconnect', () => process.exit(1));

process.once('message', (job: unknown) => {
  const phase = (phase: PhaseMessage['phase']) => send?.({ phase } satisfies PhaseMessage);
  executeJob(job, log, phase).then(
    (result) => reply({ ok: true, result }, 0),
    (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }, 1),
  );
});
