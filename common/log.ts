import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat } from './config.js';

export type { Logger };

/**
 * Credentials as they appear inside free text: a bearer header, a token or signature in a
 * query string (our order links, S3 presigned URLs), the password of a connection URL.
 * Replaced wherever text from outside the logger's control is written (error messages and
 * stacks of libraries, URLs).
 */
const CREDENTIAL_PATTERNS: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [/([A-Za-z_-]*(?:token|signature|credential)=)[^&\s"'#]*/gi, '$1[redacted]'],
  [/(\bSignature=)[0-9a-f]{16,}/gi, '$1[redacted]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@"']*:)[^@/?#\s"']*@/gi, '$1[redacted]@'],
];

/** The text with every credential it visibly carries replaced by [redacted]. */
export function scrubSecrets(text: string): string {
  let scrubbed = text;
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

/** Fields that hold a secret whole: never written, whatever their value. */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'accessToken',
  'token',
  'password',
  'secretKey',
  'adminToken',
  'staffToken',
  'orderTokenKey',
  'couponCode',
];
/** Fields that hold a URL or a header set: written with their credentials scrubbed. */
const URL_FIELDS = ['url', 'href', 'link', 'databaseUrl', 'amqpUrl', 'redisUrl'];

const redactPaths = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-amz-security-token"]',
  ...URL_FIELDS.flatMap((field) => [field, `*.${field}`]),
];

function censor(value: unknown, path: string[]): unknown {
  const field = path[path.length - 1] ?? '';
  if (URL_FIELDS.includes(field) && typeof value === 'string') return scrubSecrets(value);
  return '[redacted]';
}

/** Every string in a serialized error (message, stack, causes, a library's own fields). */
function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1));
  const record = value as Record<string, unknown>;
  for (const [key, item] of Object.entries(record)) record[key] = scrubDeep(item, depth + 1);
  return record;
}

/** pino's error serializer (cause chain kept), with credentials scrubbed from all its text. */
const serializeError = (err: Error) => scrubDeep(pino.stdSerializers.errWithCause(err));

/**
 * One structured (JSON lines) logger per process. Secrets are kept out in two ways: fields
 * that hold one are redacted by name wherever they sit (one level deep), and text that may
 * carry one (error messages and stacks, URLs) has the credentials it shows scrubbed. Log
 * calls still never pass a secret on purpose; this is for the ones that do by accident.
 * `destination` defaults to stdout (tests capture the lines); `format: 'pretty'` makes the
 * lines readable (LOG_FORMAT, common/config.ts).
 */
export function makeLogger(options: {
  level: LevelWithSilent;
  component: string;
  destination?: DestinationStream;
  /** json (the default) or pretty: one readable line per entry, for a person at a terminal. */
  format?: LogFormat;
}): Logger {
  const settings = {
    level: options.level,
    base: { component: options.component },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor },
    serializers: { err: serializeError },
    hooks: {
      // The message string too: it is sometimes built from an error or a URL.
      logMethod(this: Logger, args: unknown[], method: (...args: unknown[]) => void) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg)),
        );
      },
    },
  };
  if (options.format === 'pretty') {
    // In this thread (no worker), after redaction: the same entries, made readable.
    const stream = pretty({
      colorize: options.destination === undefined && Boolean(process.stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,component',
      messageFormat: '[{component}] {msg}',
      hideObject: false,
      ...(options.destination && { destination: options.destination }),
      sync: true,
    });
    return pino(settings, stream);
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
