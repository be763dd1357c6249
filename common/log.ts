import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * One structured (JSON lines) logger per process. Secrets are redacted by path so a token
 * that reaches a log call by accident is never written.
 */
export function makeLogger(options: { level: LevelWithSilent; component: string }): Logger {
  return pino({
    level: options.level,
    base: { component: options.component },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'accessToken',
        '*.accessToken',
        'password',
        '*.password',
        'token',
        '*.token',
      ],
      censor: '[redacted]',
    },
    serializers: { err: pino.stdSerializers.errWithCause },
  });
}
