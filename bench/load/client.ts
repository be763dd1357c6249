/**
 * The HTTP side of a load job: one undici Pool for the requests under test, sized to the
 * job's concurrency with pipelining 1 (one request per connection at a time, as browsers
 * do), and a separate pool for the long-lived voucher event streams so that they never take
 * a connection the measured requests need.
 */
import { Pool } from 'undici';
import type { LoadJob } from './job.js';
import { makeSseParser } from './sse.js';
import { phoneFor } from './validate.js';

/** Open voucher streams at once; more wait in undici's queue (and their latency shows it). */
const MAX_EVENT_CONNECTIONS = 4_096;
/** Pause before reopening an events stream that was refused or ended without the voucher. */
const EVENTS_RETRY_MS = 1_000;

/** An HTTP answer, reduced to what a load result counts. */
export interface Answer {
  status: number;
  /** `error.code` of a JSON error body. */
  code?: string;
  orderId?: string;
  accessToken?: string;
}

export interface LoadClient {
  /** Sends request number i; rejects with a RequestFailure when no answer came. */
  send(i: number): Promise<Answer>;
  /** performance.now() when the order's `voucher` event arrived, or undefined if it did not in time. */
  awaitVoucher(orderId: string, accessToken: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/** A request that ended without an HTTP answer; `key` is what LoadResult.errors counts. */
export class RequestFailure extends Error {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`request failed: ${key}`, options);
  }
}

/** The stable name of a transport error: undici's and Node's codes (UND_ERR_SOCKET, ECONNREFUSED). */
function errorKey(err: unknown): string {
  if (err instanceof RequestFailure) return err.key;
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return 'error';
}

/** Runs `fn` with a signal that aborts after `ms`; an abort is reported as RequestFailure('timeout'). */
async function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fn(controller.signal);
  } catch (err) {
    throw new RequestFailure(controller.signal.aborted ? 'timeout' : errorKey(err), { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads the fields a result records from a JSON body: error.code, orderId, accessToken. */
function readAnswer(status: number, body: unknown): Answer {
  const answer: Answer = { status };
  if (typeof body !== 'object' || body === null) return answer;
  const { error, orderId, accessToken } = body as {
    error?: unknown;
    orderId?: unknown;
    accessToken?: unknown;
  };
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') answer.code = code;
  }
  if (typeof orderId === 'string') answer.orderId = orderId;
  if (typeof accessToken === 'string') answer.accessToken = accessToken;
  return answer;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function makeLoadClient(job: LoadJob, connections: number): LoadClient {
  const origin = new URL(job.target).origin;
  // Timeouts are ours (withTimeout), so that every kind of slowness is counted as 'timeout'.
  const pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
  const events = job.followVouchers
    ? new Pool(origin, {
        connections: MAX_EVENT_CONNECTIONS,
        pipelining: 1,
        headersTimeout: 0,
        bodyTimeout: 0,
      })
    : undefined;
  const request = job.request;

  const send = (i: number): Promise<Answer> => {
    // Built before the request so that running out of phone numbers fails the job, not the request.
    const body =
      request.kind === 'order'
        ? JSON.stringify({
            productId: request.productId,
            firstName: 'Bench',
            lastName: `Buyer ${i}`,
            phone: phoneFor(request.phoneStart, i),
          })
        : undefined;
    return withTimeout(job.timeoutMs, async (signal) => {
      const response =
        request.kind === 'order'
          ? await pool.request({
              path: '/api/orders',
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'application/json' },
              body,
              signal,
            })
          : await pool.request({ path: request.path, method: 'GET', signal });
      const type = response.headers['content-type'];
      if (typeof type === 'string' && type.includes('json')) {
        return readAnswer(response.statusCode, parseJson(await response.body.text()));
      }
      // The body must be consumed either way, or the connection is not reused.
      await response.body.dump();
      return { status: response.statusCode };
    });
  };

  /** One events stream: the voucher time, or undefined when it ended or was refused first. */
  const listenOnce = async (orderId: string, token: string, signal: AbortSignal) => {
    if (!events) return undefined;
    const response = await events.request({
      path: `/api/orders/${encodeURIComponent(orderId)}/events?token=${encodeURIComponent(token)}`,
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      signal,
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return undefined;
    }
    let arrived: number | undefined;
    const parser = makeSseParser((event) => {
      if (event === 'voucher' && arrived === undefined) arrived = performance.now();
    });
    response.body.setEncoding('utf8');
    for await (const chunk of response.body) {
      parser.push(chunk as string);
      // Leaving the loop destroys the body, which closes this stream's connection.
      if (arrived !== undefined) break;
    }
    return arrived;
  };

  const awaitVoucher = async (orderId: string, token: string) => {
    if (!events || !job.followVouchers) return undefined;
    const deadline = performance.now() + job.followVouchers.timeoutMs;
    // Like EventSource: a stream refused (503 when the API holds too many) or ended is reopened.
    while (performance.now() < deadline) {
      try {
        const arrived = await withTimeout(Math.max(1, deadline - performance.now()), (signal) =>
          listenOnce(orderId, token, signal),
        );
        if (arrived !== undefined) return arrived;
      } catch {
        // timed out or the connection failed: the loop condition decides whether to retry
      }
      await sleep(Math.min(EVENTS_RETRY_MS, Math.max(0, deadline - performance.now())));
    }
    return undefined;
  };

  return {
    send,
    awaitVoucher,
    async close() {
      // destroy, not close: anything still open at the end has been counted already.
      await Promise.all([pool.destroy(), events?.destroy()]);
    },
  };
}
