/**
 * The API on a real socket (127.0.0.1, ephemeral port) against a test database, plus a small
 * HTTP client with a bounded connection pool for tests that fire thousands of requests.
 */
import { Agent, request } from 'node:http';
import type { Test } from 'tap';
import { startApi, type RunningApi } from '../../api/server.js';
import { loadApiConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { newSecret } from '../../devstack/secrets.js';
import type { TestDatabase } from './database.js';
import { makeWeb } from '../../web/pageRoutes.js';

export interface TestApi {
  api: RunningApi;
  baseUrl: string;
  adminToken: string;
  staffToken: string;
  http: HttpClient;
}

export async function startTestApi(
  t: Test,
  db: Pick<TestDatabase, 'urls'>,
  env: Record<string, string> = {},
): Promise<TestApi> {
  const adminToken = newSecret();
  const staffToken = newSecret();
  const config = loadApiConfig({
    API_DATABASE_URL: db.urls.api,
    ADMIN_TOKEN: adminToken,
    STAFF_TOKEN: staffToken,
    ORDER_TOKEN_KEY: newSecret(),
    PORT: '0',
    HOST: '127.0.0.1',
    RATE_LIMIT: 'off',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    SHUTDOWN_GRACE_MS: '2000',
    ...env,
  });
  const api = await startApi(config, makeLogger({ level: config.logLevel, component: 'api' }), {
    pages: makeWeb,
  });
  const http = makeHttpClient(api.url.replace('localhost', '127.0.0.1'));
  t.teardown(async () => {
    http.close();
    await api.stop();
  });
  return { api, baseUrl: http.baseUrl, adminToken, staffToken, http };
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read fields freely
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
}

export interface HttpClient {
  baseUrl: string;
  request(path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  close(): void;
}

/** A request's body as bytes, with the headers it implies (JSON unless given as bytes). */
export function encodeBody(options: HttpRequestOptions): {
  headers: Record<string, string>;
  payload?: Buffer;
} {
  const headers: Record<string, string> = { ...options.headers };
  let payload: Buffer | undefined;
  if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) {
    payload = Buffer.from(options.body);
  } else if (options.body !== undefined) {
    payload = Buffer.from(JSON.stringify(options.body));
    headers['content-type'] ??= 'application/json';
  }
  if (payload) headers['content-length'] = String(payload.length);
  return payload ? { headers, payload } : { headers };
}

export function makeHttpClient(baseUrl: string, maxSockets = 128): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    baseUrl,
    close: () => agent.destroy(),
    request(path, options = {}) {
      const { headers, payload } = encodeBody(options);
      return new Promise((resolve, reject) => {
        const req = request(
          new URL(path, baseUrl),
          { method: options.method ?? (payload ? 'POST' : 'GET'), headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              if (String(res.headers['content-type']).includes('json')) {
                json = JSON.parse(text);
              }
              resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}

/** A valid order body; each call gets a distinct customer (phone) unless given. */
let customerCounter = 0;
export function orderBody(overrides: Record<string, unknown> = {}) {
  customerCounter += 1;
  const subscriber = String(1_000_000 + ((process.pid * 7919 + customerCounter) % 8_999_999));
  return {
    firstName: 'Aino',
    lastName: 'Virtanen',
    phone: `+358 40 ${subscriber}`,
    ...overrides,
  };
}

export interface EventStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Resolves with the next event of this name (data parsed as JSON). */
  next(event: string, timeoutMs?: number): Promise<unknown>;
  close(): void;
}

/** Opens a Server-Sent Events stream and parses events as they come. */
export function openEventStream(baseUrl: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<EventStream>((resolve, reject) => {
    const req = request(
      new URL(path, baseUrl),
      { headers: { accept: 'text/event-stream', ...headers } },
      (res) => {
        const received: { event: string; data: unknown }[] = [];
        const waiters: { event: string; resolve: (data: unknown) => void }[] = [];
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!event || data === undefined) continue;
            const parsed = { event, data: JSON.parse(data) as unknown };
            const waiter = waiters.findIndex((w) => w.event === event);
            if (waiter >= 0) waiters.splice(waiter, 1)[0]?.resolve(parsed.data);
            else received.push(parsed);
          }
        });
        res.on('error', () => undefined);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          next(event, timeoutMs = 15_000) {
            const index = received.findIndex((r) => r.event === event);
            if (index >= 0) return Promise.resolve(received.splice(index, 1)[0]?.data);
            return new Promise((ok, fail) => {
              const timer = setTimeout(
                () => fail(new Error(`no ${event} event within ${timeoutMs} ms`)),
                timeoutMs,
              );
              waiters.push({ event, resolve: (data) => (clearTimeout(timer), ok(data)) });
            });
          },
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
