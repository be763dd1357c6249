/**
 * Server-Sent Event streams: the headers, a heartbeat comment that keeps proxies from closing
 * an idle stream, a bounded lifetime (EventSource reconnects and the route checks again), a
 * cap on open streams per process, per client address and per order, and an end when the
 * process drains. The per-client caps (with RATE_LIMIT on) keep one client from taking every
 * stream of a process.
 */
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { AppError } from '../common/errors.js';
import type { ApiConfig } from '../common/config.js';

const HEARTBEAT_MS = 15_000;
/** A stream is closed after this long; EventSource reconnects and checks again. */
const STREAM_LIFETIME_MS = 10 * 60_000;

/** The process's open streams: their closers, how many each owner holds, and whether it drains. */
export interface StreamLifecycle {
  /** Set when the process is stopping: readiness fails so load balancers drain it. */
  draining: boolean;
  streams: Set<() => void>;
  streamOwners: Map<string, number>;
}

type StreamCaps = Pick<
  ApiConfig,
  'maxEventStreams' | 'maxEventStreamsPerAddress' | 'maxEventStreamsPerOrder' | 'rateLimit'
>;

export interface EventStreamHandle {
  send(event: string, data: unknown): void;
  /** Runs when the stream ends, whoever ends it. */
  onClose(cleanup: () => void): void;
}

/** Who a stream counts against, beyond the process: its client's address, its order. */
export type StreamOwner = { address: string } | { order: string };

const ownerKey = (owner: StreamOwner) => ('address' in owner ? `a:${owner.address}` : `o:${owner.order}`);

/**
 * Refuses with 503 when this process holds as many streams as it may, or is draining; with
 * 429 when one of `owners` (an address, an order) holds as many as one may (RATE_LIMIT on).
 */
export function checkStreamCapacity(
  deps: { config: StreamCaps; lifecycle: StreamLifecycle },
  owners: StreamOwner[] = [],
): void {
  if (deps.lifecycle.streams.size >= deps.config.maxEventStreams || deps.lifecycle.draining) {
    throw new AppError('unavailable', 'Too many open event streams; retry shortly.', {
      status: 503,
      headers: { 'Retry-After': '5' },
    });
  }
  if (!deps.config.rateLimit) return;
  for (const owner of owners) {
    const cap =
      'address' in owner ? deps.config.maxEventStreamsPerAddress : deps.config.maxEventStreamsPerOrder;
    if ((deps.lifecycle.streamOwners.get(ownerKey(owner)) ?? 0) >= cap) {
      throw new AppError('rate_limited', 'Too many open event streams for this client; close one first.', {
        status: 429,
        headers: { 'Retry-After': '10' },
      });
    }
  }
}

export function startEventStream(
  ctx: Context,
  deps: { lifecycle: StreamLifecycle },
  owners: StreamOwner[] = [],
): EventStreamHandle {
  const stream = new PassThrough();
  const counted = deps.lifecycle.streamOwners;
  for (const key of owners.map(ownerKey)) counted.set(key, (counted.get(key) ?? 0) + 1);
  const cleanups: (() => void)[] = [];
  const heartbeat = setInterval(() => stream.write(': heartbeat\n\n'), HEARTBEAT_MS);
  const lifetime = setTimeout(() => close(), STREAM_LIFETIME_MS);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearTimeout(lifetime);
    for (const cleanup of cleanups) cleanup();
    deps.lifecycle.streams.delete(close);
    for (const key of owners.map(ownerKey)) {
      const left = (counted.get(key) ?? 1) - 1;
      if (left > 0) counted.set(key, left);
      else counted.delete(key);
    }
    stream.end();
  };
  deps.lifecycle.streams.add(close);
  // The response closes when the client goes away (or the stream ends); a client that left
  // while the route was still checking is gone already.
  ctx.res.on('close', close);
  if (ctx.req.socket.destroyed) queueMicrotask(close);

  ctx.status = 200;
  ctx.set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  ctx.body = stream;
  stream.write('retry: 3000\n\n');
  return {
    send(event, data) {
      if (!closed) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(cleanup) {
      if (closed) cleanup();
      else cleanups.push(cleanup);
    },
  };
}
