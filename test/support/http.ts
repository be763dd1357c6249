/**
 * HTTP for the bad-input tests: requests with a deadline (a hang is a failure, not a stuck
 * test), raw bytes over a socket (what node:http and fetch refuse to send), the contract's
 * error shape, and a digest of everything in the database the API could change.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type pg from 'pg';
import type { RunningApi } from '../../api/server.js';
import { encodeBody, type HttpClient, type HttpRequestOptions, type HttpResponse } from './api.js';

/** Rejects when the promise takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One request with a deadline, the path sent exactly as given: no URL normalisation (the
 * support client resolves `..` and `%2e%2e` before sending, as browsers do; an attacker
 * does not). A JSON body as in HttpClient.request. Fails, aborting the request, past `ms`.
 */
export function requestWithin(
  target: Pick<HttpClient, 'baseUrl'>,
  path: string,
  options: HttpRequestOptions = {},
  ms = 5_000,
): Promise<HttpResponse> {
  const url = new URL(target.baseUrl);
  const { headers, payload } = encodeBody(options);
  const method = options.method ?? (payload ? 'POST' : 'GET');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method, headers, signal: AbortSignal.timeout(ms) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            if (String(res.headers['content-type']).includes('json')) json = JSON.parse(text);
          } catch (err) {
            reject(
              new Error(`${method} ${path}: a JSON content type with a body that is not JSON`, {
                cause: err,
              }),
            );
            return;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err) =>
      reject(err.name === 'AbortError' ? new Error(`${method} ${path}: no answer within ${ms} ms`) : err),
    );
    req.end(payload);
  });
}

/** The contract's error codes (common/errors.ts), the only ones a client may ever see. */
export const ERROR_CODES = new Set([
  'invalid_request',
  'unsupported_media_type',
  'payload_too_large',
  'request_timeout',
  'headers_too_large',
  'expectation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'out_of_stock',
  'duplicate_customer',
  'order_id_conflict',
  'below_reserved',
  'already_redeemed',
  'rate_limited',
  'unavailable',
]);

/**
 * Why a body is not the contract's error {"error": {"code", "message", "details"?}} with a
 * known code and nothing else, or undefined when it is.
 */
export function errorShapeProblem(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return 'the body is not a JSON object';
  const keys = Object.keys(json);
  if (keys.length !== 1 || keys[0] !== 'error') return `top-level keys ${JSON.stringify(keys)}`;
  const error = (json as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return 'error is not an object';
  const { code, message, ...rest } = error as Record<string, unknown>;
  if (typeof code !== 'string' || !ERROR_CODES.has(code)) return `unknown code ${JSON.stringify(code)}`;
  if (typeof message !== 'string' || message === '') return 'no message';
  const extra = Object.keys(rest).filter((key) => key !== 'details');
  if (extra.length) return `unexpected error keys ${JSON.stringify(extra)}`;
  return undefined;
}

export interface RawResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
  /** Milliseconds from connecting to the complete answer. */
  ms: number;
}

export interface RawConnection {
  socket: Socket;
  /** Bytes written so far. */
  readonly written: number;
  /** Writes and resolves when the socket accepted the bytes (backpressure respected). */
  write(bytes: string | Buffer): Promise<void>;
  /** The first complete response on this connection (by Content-Length, or at close). */
  response: Promise<RawResponse>;
  /** Resolves with the milliseconds from connecting until the server closed the connection. */
  closed: Promise<number>;
  close(): void;
}

function parseResponse(raw: Buffer, started: number, atClose: boolean): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  const rest = raw.subarray(end + 4);
  if (length === undefined ? !atClose : rest.length < length) return undefined;
  const body = rest.subarray(0, length ?? rest.length).toString('utf8');
  let json: unknown;
  if ((headers['content-type'] ?? '').includes('json')) json = JSON.parse(body);
  return { status, headers, body, json, ms: Date.now() - started };
}

/** A TCP connection to the API for sending bytes exactly as given. */
export async function openRawConnection(baseUrl: string): Promise<RawConnection> {
  const url = new URL(baseUrl);
  const started = Date.now();
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  // A reset after the server answered is expected (it closes on bad input); the answer counts.
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  let written = 0;
  let settled = false;
  const response = new Promise<RawResponse>((resolve, reject) => {
    const attempt = (atClose: boolean) => {
      if (settled) return;
      const parsed = parseResponse(Buffer.concat(chunks), started, atClose);
      if (parsed) {
        settled = true;
        resolve(parsed);
      } else if (atClose) {
        settled = true;
        reject(new Error('the server closed the connection without an answer'));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      attempt(false);
    });
    socket.on('close', () => attempt(true));
  });
  // Nobody may await it (a test that only watches `closed`).
  response.catch(() => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  return {
    socket,
    get written() {
      return written;
    },
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        if (socket.destroyed) {
          reject(new Error('the connection is closed'));
          return;
        }
        written += Buffer.byteLength(bytes);
        socket.write(bytes, (err) => (err ? reject(err) : resolve()));
      }),
    response,
    closed,
    close: () => socket.destroy(),
  };
}

/** Sends the bytes on a new connection and returns the answer, within `ms`. */
export async function rawRequest(baseUrl: string, bytes: string | Buffer, ms = 5_000): Promise<RawResponse> {
  const connection = await openRawConnection(baseUrl);
  try {
    await connection.write(bytes).catch(() => undefined);
    return await within(connection.response, ms, 'raw request');
  } finally {
    connection.close();
  }
}

/**
 * A digest of every table of the crs schema (rows and a checksum of their text), read as the
 * owner: equal digests before and after a request mean the request changed nothing.
 */
export async function databaseDigest(owner: pg.Pool): Promise<Record<string, string>> {
  const { rows: tables } = await owner.query<{ name: string }>(
    `select table_name as name from information_schema.tables
      where table_schema = 'crs' and table_type = 'BASE TABLE' order by table_name`,
  );
  const columns = tables.map(
    ({ name }) =>
      `(select count(*) || ':' || md5(coalesce(string_agg(t::text, ',' order by t::text), ''))
          from crs.${JSON.stringify(name)} t) as ${JSON.stringify(name)}`,
  );
  const { rows } = await owner.query<Record<string, string>>(`select ${columns.join(', ')}`);
  return rows[0] ?? {};
}

/** How many requests the API answered with a 5xx so far (from its own request metrics). */
export async function serverErrorsAnswered(api: RunningApi): Promise<number> {
  const metric = await api.deps.metrics.requests.get();
  return metric.values
    .filter(({ labels }) => Number(labels['status']) >= 500)
    .reduce((sum, { value }) => sum + value, 0);
}
