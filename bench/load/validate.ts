/**
 * Refuses a LoadJob before anything is sent: the job arrives by IPC as untyped data, and a
 * load generator pointed at the wrong host or sized by a typo does real harm.
 */
import type { LoadJob } from './job.js';

export const MAX_CONCURRENCY = 2_000;
export const MAX_REQUESTS = 200_000;
/** Finnish mobile numbers +35840NNNNNNN with a 7-digit subscriber part. */
export const PHONE_MIN = 1_000_000;
export const PHONE_MAX = 9_999_999;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function fail(message: string): never {
  throw new Error(`invalid load job: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer in ${min}..${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** The target's origin; only plain http to this machine is allowed. */
export function checkTarget(target: unknown): URL {
  if (typeof target !== 'string') fail('target must be a URL string');
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    fail(`target ${JSON.stringify(target)} is not a URL`);
  }
  if (url.protocol !== 'http:') fail(`target must use http: (got ${url.protocol} in ${target})`);
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    fail(`target must be a loopback address (127.0.0.1, ::1, localhost), not ${url.hostname}`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    fail(`target must be a bare origin such as http://127.0.0.1:3000 (got ${target})`);
  }
  return url;
}

/** The phone of the i-th order of a job; refuses numbers outside the 7-digit range. */
export function phoneFor(phoneStart: number, i: number): string {
  const subscriber = phoneStart + i;
  if (subscriber < PHONE_MIN || subscriber > PHONE_MAX) {
    throw new Error(
      `phone numbers exhausted: phoneStart + ${i} = ${subscriber} is outside ${PHONE_MIN}..${PHONE_MAX}; ` +
        'use a lower phoneStart or a shorter run',
    );
  }
  return `+35840${String(subscriber).padStart(7, '0')}`;
}

/** Throws a clear Error unless `job` is a LoadJob within the generator's bounds. */
export function assertLoadJob(job: unknown): asserts job is LoadJob {
  if (!isRecord(job)) fail('expected an object');
  checkTarget(job['target']);
  integer(job['timeoutMs'], 'timeoutMs', 1, 3_600_000);

  const mode = job['mode'];
  if (!isRecord(mode)) fail('mode must be an object');
  let requestsUpperBound: number | undefined;
  if (mode['kind'] === 'closed') {
    integer(mode['concurrency'], 'mode.concurrency', 1, MAX_CONCURRENCY);
    integer(mode['durationMs'], 'mode.durationMs', 1, 24 * 3_600_000);
    if (mode['warmupMs'] !== undefined) integer(mode['warmupMs'], 'mode.warmupMs', 0, 3_600_000);
  } else if (mode['kind'] === 'open') {
    requestsUpperBound = integer(mode['requests'], 'mode.requests', 1, MAX_REQUESTS);
    integer(mode['spreadMs'], 'mode.spreadMs', 0, 24 * 3_600_000);
  } else {
    fail(`mode.kind must be 'closed' or 'open' (got ${JSON.stringify(mode['kind'])})`);
  }

  const request = job['request'];
  if (!isRecord(request)) fail('request must be an object');
  if (request['kind'] === 'order') {
    if (typeof request['productId'] !== 'string' || request['productId'] === '') {
      fail('request.productId must be a non-empty string');
    }
    const start = integer(request['phoneStart'], 'request.phoneStart', PHONE_MIN, PHONE_MAX);
    // Closed mode cannot know its request count; it refuses when it runs out (phoneFor).
    if (requestsUpperBound !== undefined && start + requestsUpperBound - 1 > PHONE_MAX) {
      fail(
        `request.phoneStart ${start} + ${requestsUpperBound} requests runs past ${PHONE_MAX}; ` +
          `use phoneStart <= ${PHONE_MAX - requestsUpperBound + 1}`,
      );
    }
  } else if (request['kind'] === 'noop') {
    if (typeof request['path'] !== 'string' || !request['path'].startsWith('/')) {
      fail('request.path must be a string starting with /');
    }
  } else {
    fail(`request.kind must be 'order' or 'noop' (got ${JSON.stringify(request['kind'])})`);
  }

  const follow = job['followVouchers'];
  if (follow !== undefined) {
    if (!isRecord(follow)) fail('followVouchers must be an object');
    integer(follow['timeoutMs'], 'followVouchers.timeoutMs', 1, 3_600_000);
    if (follow['every'] !== undefined) integer(follow['every'], 'followVouchers.every', 1, 1_000_000);
    if (request['kind'] !== 'order') fail('followVouchers needs request.kind order');
  }
  if (job['keepRecords'] !== undefined && typeof job['keepRecords'] !== 'boolean') {
    fail('keepRecords must be a boolean');
  }
}
