import { Logger as GraphileLogger } from 'graphile-worker';
import type { Logger } from './log.js';

/** graphile-worker logs through our pino logger, so its lines are JSON like ours. */
export function toGraphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const fields = { graphileWorker: scope, ...meta };
    if (level === 'error') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else if (level === 'info') log.info(fields, message);
    else log.debug(fields, message);
  });
}
