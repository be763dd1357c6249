/**
 * The load generator against a real local HTTP service: a small node:http server that plays
 * the reservation API's contract (201 for the first N customers, 409 out_of_stock after,
 * a voucher event 50 ms after the events stream opens). The generator runs as its own process,
 * as the benchmarks run it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { summarize } from '../../bench/load/percentiles.js';
import { runLoad } from '../../bench/load/run.js';

const STOCK = 120;
const VOUCHER_AFTER_MS = 50;

const phones = new Set<string>();
const tokens = new Map<string, string>();

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  req.setEncoding('utf8');
  for await (const chunk of req) text += chunk as string;
  return text;
}

async function placeOrder(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = JSON.parse(await readBody(req)) as { phone?: unknown };
  const phone = String(body.phone);
  if (phones.has(phone)) return json(res, 409, { error: { code: 'duplicate_customer' } });
  phones.add(phone);
  if (phones.size > STOCK) return json(res, 409, { error: { code: 'out_of_stock' } });
  const orderId = `o${phones.size}`;
  const accessToken = `token-${orderId}`;
  tokens.set(orderId, accessToken);
  json(res, 201, {
    orderId,
    status: 'reserved',
    accessToken,
    links: { events: `/api/orders/${orderId}/events` },
  });
}

function events(orderId: string, url: URL, res: ServerResponse): void {
  if (tokens.get(orderId) !== url.searchParams.get('token')) {
    return json(res, 401, { error: { code: 'unauthorized' } });
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
  res.write('retry: 3000\n\n: heartbeat\n\n');
  const timer = setTimeout(() => {
    res.write(`event: voucher\ndata: ${JSON.stringify({ orderId, url: `/v/${orderId}` })}\n\n`);
  }, VOUCHER_AFTER_MS);
  res.on('close', () => clearTimeout(timer));
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const stream = /^\/api\/orders\/([^/]+)\/events$/.exec(url.pathname);
  if (req.method === 'POST' && url.pathname === '/api/orders') {
    placeOrder(req, res).catch(() => json(res, 400, { error: { code: 'invalid_request' } }));
  } else if (req.method === 'GET' && url.pathname === '/noop') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  } else if (req.method === 'GET' && stream?.[1]) {
    events(stream[1], url, res);
  } else {
    json(res, 404, { error: { code: 'not_found' } });
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => {
  server.closeAllConnections();
  server.close();
});
const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

t.test('closed mode keeps 4 clients busy for the duration and counts every request', async (t) => {
  const result = await runLoad(
    {
      target,
      request: { kind: 'noop', path: '/noop' },
      mode: { kind: 'closed', concurrency: 4, durationMs: 500 },
      timeoutMs: 2_000,
    },
    { label: 'test-closed' },
  );
  t.ok(result.answered > 0, `answered ${result.answered}`);
  t.equal(result.sent, result.answered + sum(result.errors), 'every request answered or failed');
  t.equal(result.byStatus['200'], result.answered);
  t.equal(result.latency.count, result.answered);
  t.ok(result.elapsedMs >= 450, `elapsed ${result.elapsedMs} ms`);
  t.ok(result.perSecond > 0);
});

t.test('open mode sends 200 orders on schedule and follows the vouchers of the 201s', async (t) => {
  phones.clear();
  const result = await runLoad(
    {
      target,
      request: { kind: 'order', productId: 'p1', phoneStart: 5_000_000 },
      mode: { kind: 'open', requests: 200, spreadMs: 400 },
      timeoutMs: 5_000,
      followVouchers: { timeoutMs: 5_000 },
      keepRecords: true,
    },
    { label: 'test-open' },
  );
  t.equal(result.sent, 200);
  t.equal(result.answered, 200);
  t.same(result.errors, {});
  t.same(result.byStatus, { '201': STOCK, '409': 200 - STOCK });
  t.same(result.byCode, { out_of_stock: 200 - STOCK });
  t.ok(
    Math.abs(result.okPerSecond * 200 - result.perSecond * STOCK) < 1e-6 * result.perSecond,
    'ok rate is the 201 share',
  );

  const records = result.records ?? [];
  t.equal(records.length, 200);
  const first = records[0]?.scheduledMs ?? NaN;
  const offBySchedule = records.filter((r, i) => Math.abs(r.scheduledMs - first - i * 2) > 1e-6);
  t.same(offBySchedule, [], 'arrivals every 400/200 = 2 ms');
  t.ok(
    records.every((r) => r.sentMs >= r.scheduledMs && r.answeredMs >= r.sentMs),
    'sent at or after its time',
  );
  t.equal(new Set(records.map((r) => r.orderId).filter(Boolean)).size, STOCK, 'one order per 201');

  t.equal(result.vouchersReceived, STOCK);
  t.equal(result.vouchersMissing, 0);
  t.equal(result.voucherLatency?.count, STOCK, 'one voucher latency per 201');
  t.ok((result.voucherLatency?.p50 ?? 0) >= VOUCHER_AFTER_MS, 'voucher latency includes the 50 ms');
  t.ok(
    records
      .filter((r) => r.status === 201)
      .every((r) => (r.voucherMs ?? 0) >= r.answeredMs + VOUCHER_AFTER_MS - 1),
    'each 201 record has its voucher time',
  );
});

t.test("percentiles are HdrHistogram's, within its 0.1 % precision", async (t) => {
  // 1..1000 ms shuffled: percentile p is about the value ceil(p/100 * 1000).
  const values = Array.from({ length: 1000 }, (_, i) => ((i * 389) % 1000) + 1);
  const s = summarize(values);
  const near = (actual: number, expected: number) => Math.abs(actual - expected) <= expected * 0.001;
  t.equal(s.count, 1000);
  for (const [name, expected] of [
    ['mean', 500.5],
    ['p50', 500],
    ['p90', 900],
    ['p95', 950],
    ['p99', 990],
    ['p999', 999],
    ['max', 1000],
  ] as const) {
    t.ok(near(s[name], expected), `${name} ${s[name]} is ${expected} within 0.1 %`);
  }
  t.ok(near(s.distribution[0]![1], 1) && s.distribution[0]![0] === 0, 'the distribution starts at the least');
  t.same(s.distribution.at(-1)![0], 99.999);
  t.ok(near(s.distribution.at(-1)![1], 1000), 'and ends at the most');
  t.ok(s.distribution.length >= 50 && s.distribution.length <= 70, 'about 60 points');
  const ps = s.distribution.map(([p]) => p);
  t.ok(
    ps.every((p, i) => i === 0 || p > (ps[i - 1] ?? 0)),
    'percentiles increase',
  );
  t.ok(ps.filter((p) => p >= 99).length >= 20, 'the tail gets its share of points');
  const one = summarize([7]);
  t.ok(
    [one.p50, one.p999, one.max, one.mean].every((v) => near(v, 7)),
    'one sample is every percentile',
  );
  t.match(summarize([]), { count: 0, p99: 0, distribution: [] });
  t.ok(near(summarize([0.25]).p50, 0.25), 'sub-millisecond latencies keep their microseconds');
});

t.test('a job is refused before anything is sent', async (t) => {
  const job = {
    request: { kind: 'noop', path: '/noop' },
    mode: { kind: 'closed', concurrency: 1, durationMs: 100 },
    timeoutMs: 1_000,
  } as const;
  await t.rejects(runLoad({ ...job, target: 'http://example.com' }), /loopback/);
  await t.rejects(runLoad({ ...job, target: 'http://10.0.0.1:3000' }), /loopback/);
  await t.rejects(runLoad({ ...job, target: 'https://127.0.0.1:3000' }), /http:/);
  await t.rejects(
    runLoad({ ...job, target, mode: { kind: 'closed', concurrency: 2_001, durationMs: 100 } }),
    /concurrency/,
  );
  await t.rejects(
    runLoad({
      ...job,
      target,
      request: { kind: 'order', productId: 'p1', phoneStart: 9_999_950 },
      mode: { kind: 'open', requests: 100, spreadMs: 100 },
    }),
    /phoneStart/,
  );
});

t.test('closed mode refuses to run past the last phone number', async (t) => {
  await t.rejects(
    runLoad({
      target,
      request: { kind: 'order', productId: 'p1', phoneStart: 9_999_990 },
      mode: { kind: 'closed', concurrency: 2, durationMs: 2_000 },
      timeoutMs: 1_000,
    }),
    /phone numbers exhausted/,
  );
});
