/**
 * Rate limits shared through one real Redis by two API instances (as two replicas behind a
 * load balancer): per client address and per customer key on orders, per token on the staff
 * API, per address on failed staff/admin authentication (bearer API and web sign-in alike);
 * Redis stopped: orders still accepted and each instance limits on its own; RATE_LIMIT=off:
 * no 429 ever.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { startApi } from '../../api/server.js';
import { makeLocalRateLimiter, makeRateLimiter, type RateRule } from '../../http/rateLimit.js';
import { makeApiMetrics } from '../../http/metrics.js';
import { loadApiConfig } from '../../common/config.js';
import { newSecret } from '../../devstack/secrets.js';
import { makeTestDatabase } from '../support/database.js';
import { makeHttpClient, orderBody, type HttpClient } from '../support/api.js';
import { startTestRedis } from '../support/services.js';
import { makeWeb } from '../../web/pageRoutes.js';

const db = await makeTestDatabase(t);
const redisServer = await startTestRedis(t);
const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
redis.on('error', () => undefined);
t.teardown(() => redis.disconnect());

const adminToken = newSecret();
const staffToken = newSecret();
const orderTokenKey = newSecret();
const silent = pino({ level: 'silent' });

interface Instance {
  http: HttpClient;
  /** Every log line the instance wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text, to search for secrets. */
  logText: () => string;
}

/** One API instance (a replica) on the shared database and Redis, its log captured. */
async function startInstance(t: Test, env: Record<string, string>): Promise<Instance> {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  // No redaction here: the test proves the code never hands a token to the log at all.
  const log = pino({ level: 'info', base: { component: 'api' } }, sink);
  const config = loadApiConfig({
    API_DATABASE_URL: db.urls.api,
    ADMIN_TOKEN: adminToken,
    STAFF_TOKEN: staffToken,
    ORDER_TOKEN_KEY: orderTokenKey,
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redisServer.url,
    SHUTDOWN_GRACE_MS: '1000',
    ...env,
  });
  const api = await startApi(config, log, { pages: makeWeb });
  const http = makeHttpClient(api.url.replace('localhost', '127.0.0.1'));
  t.teardown(async () => {
    http.close();
    await api.stop();
  });
  const logText = () => chunks.join('');
  return {
    http,
    logText,
    get logs() {
      return logText()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

/** Two replicas with the same limits. */
async function twoInstances(t: Test, env: Record<string, string>) {
  await redis.flushall();
  return [await startInstance(t, env), await startInstance(t, env)] as const;
}

const rl = (env: Record<string, string>) => ({ RATE_LIMIT: 'on', ...env });
const order = (http: HttpClient, body: unknown, headers: Record<string, string> = {}) =>
  http.request('/api/orders', { body, headers }).then((r) => r.status);
const staff = { authorization: `Bearer ${staffToken}` };
const admin = { authorization: `Bearer ${adminToken}` };
const NO_VOUCHER = '/api/vouchers/ZZZZZZ-ZZZZZZ-ZZZZZZ';

async function orderCount(): Promise<number> {
  const { rows } = await db.owner.query<{ n: number }>('select count(*)::int as n from crs.orders');
  return rows[0]?.n ?? 0;
}

t.test('the GCRA: the limit at once, then one more per interval; keys expire', async (t) => {
  await redis.flushall();
  const limiter = makeRateLimiter({ redis, log: silent, metrics: makeApiMetrics({ defaultMetrics: false }) });
  const rule: RateRule = { name: 'unit', limit: 2, periodMs: 2_000 };
  const first = await limiter.consume(rule, 'k');
  t.match(first, { allowed: true, limit: 2, remaining: 1 });
  t.match(await limiter.consume(rule, 'k'), { allowed: true, remaining: 0 });
  const refused = await limiter.consume(rule, 'k');
  t.equal(refused.allowed, false);
  t.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 1_000, `retry after ${refused.retryAfterMs} ms`);
  t.equal((await limiter.peek(rule, 'k')).allowed, false, 'peek agrees and counts nothing');
  const ttl = await redis.pttl('crs:rl:unit:k');
  t.ok(ttl > 0 && ttl <= 2_000, `the key expires by itself (${ttl} ms)`);
  await new Promise((resolve) => setTimeout(resolve, 1_050));
  t.equal((await limiter.consume(rule, 'k')).allowed, true, 'one interval later: one more');
  t.equal((await limiter.consume(rule, 'k')).allowed, false, 'and only one');
  t.equal((await limiter.peek(rule, 'other')).allowed, true, 'keys are separate');
  t.equal(await redis.exists('crs:rl:unit:other'), 0, 'peek writes nothing');

  // The in-process fallback is the same algorithm.
  let clock = 1_000_000;
  const local = makeLocalRateLimiter({ now: () => clock });
  const perMinute: RateRule = { name: 'unit', limit: 3, periodMs: 60_000 };
  const seen = [];
  for (let i = 0; i < 4; i += 1) seen.push((await local.consume(perMinute, 'k')).allowed);
  t.same(seen, [true, true, true, false]);
  t.equal((await local.consume(perMinute, 'k')).retryAfterMs, 20_000, 'next one in 60 s / 3');
  clock += 20_000;
  t.equal((await local.consume(perMinute, 'k')).allowed, true);
  t.equal((await local.consume(perMinute, 'k')).allowed, false);
  const limitOf7: RateRule = { name: 'seven', limit: 7, periodMs: 60_000 };
  const burst = [];
  for (let i = 0; i < 8; i += 1) burst.push((await limiter.consume(limitOf7, 'k')).allowed);
  t.same(burst, [true, true, true, true, true, true, true, false], 'no request lost to rounding');
});

t.test('two replicas share the per-address order limit', async (t) => {
  const [a, b] = await twoInstances(t, rl({ RATE_LIMIT_ORDERS_PER_MINUTE: '5' }));
  const statuses = [
    await order(a.http, orderBody()),
    await order(a.http, orderBody()),
    await order(a.http, orderBody()),
    await order(b.http, orderBody()),
    await order(b.http, orderBody()),
    await order(b.http, orderBody()),
  ];
  t.same(statuses, [201, 201, 201, 201, 201, 429], '3 on A + 3 on B: the 6th is refused');
  const limited = await a.http.request('/api/orders', { body: orderBody() });
  t.equal(limited.status, 429);
  t.equal(limited.json.error.code, 'rate_limited', "the contract's shape");
  const retryAfter = Number(limited.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= 12, `Retry-After ${retryAfter} (one interval: 60 s / 5)`);
  t.equal(limited.headers['ratelimit-limit'], '5');
  t.equal(limited.headers['ratelimit-remaining'], '0');
  const allowed = await b.http.request('/api/stock');
  t.equal(allowed.status, 200, 'reads are not limited');
  t.same(await redis.keys('crs:rl:orders-per-address:*'), ['crs:rl:orders-per-address:127.0.0.1']);
});

t.test('one customer key is limited across addresses and replicas, JSON and form alike', async (t) => {
  const [a, b] = await twoInstances(
    t,
    rl({
      TRUST_PROXY: 'on',
      RATE_LIMIT_ORDERS_PER_MINUTE: '100',
      RATE_LIMIT_CUSTOMER_ORDERS_PER_MINUTE: '3',
    }),
  );
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const before = await orderCount();
  // One customer, written three ways: the key is the normalised phone.
  const statuses = [
    await order(a.http, orderBody({ phone: '+358 40 765 4321' }), from('203.0.113.1')),
    await order(b.http, orderBody({ phone: '+358407654321' }), from('203.0.113.2')),
    await order(a.http, orderBody({ phone: '040 765 4321' }), from('203.0.113.3')),
    await order(b.http, orderBody({ phone: '+358 40 7654321' }), from('203.0.113.4')),
  ];
  t.same(statuses, [201, 409, 409, 429], 'the duplicates count too; the 4th attempt is refused');
  t.equal(await order(a.http, orderBody(), from('203.0.113.4')), 201, 'another customer from there is fine');
  t.equal(await order(a.http, { firstName: '' }, from('203.0.113.5')), 400, 'an invalid body: 400, not 429');

  // The web form takes the same path (takeOrder): refused as HTML with Retry-After.
  const page = await a.http.request('/', { headers: from('203.0.113.6') });
  const cookie = ([] as string[])
    .concat(page.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const orderId = /name="orderId" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const form = await a.http.request('/api/orders', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...from('203.0.113.6') },
    body: new URLSearchParams({ ...orderBody({ phone: '+358407654321' }), orderId, _csrf: csrf }).toString(),
  });
  t.equal(form.status, 429);
  t.ok(Number(form.headers['retry-after']) >= 1);

  const keys = await redis.keys('crs:rl:orders-per-customer:*');
  t.equal(keys.length, 2, 'one key per customer');
  t.notOk(
    keys.some((key) => key.includes('358407654321') || key.includes('7654321')),
    `no phone number in Redis (${keys.join(' ')})`,
  );
  t.equal((await orderCount()) - before, 2, 'one order for that customer, one for the other');
});

t.test('the staff API is limited per token across replicas; the key is not the token', async (t) => {
  const [a, b] = await twoInstances(t, rl({ RATE_LIMIT_STAFF_PER_MINUTE: '3' }));
  const lookups = [
    (await a.http.request(NO_VOUCHER, { headers: staff })).status,
    (await b.http.request(NO_VOUCHER, { headers: staff })).status,
    (await a.http.request(NO_VOUCHER, { headers: staff })).status,
  ];
  t.same(lookups, [404, 404, 404]);
  const limited = await b.http.request(`${NO_VOUCHER}/redeem`, { method: 'POST', headers: staff });
  t.equal(limited.status, 429);
  t.equal(limited.json.error.code, 'rate_limited');
  t.ok(Number(limited.headers['retry-after']) >= 1);
  const adminPut = await a.http.request('/api/admin/products/rl-staff', {
    method: 'PUT',
    headers: admin,
    body: { total: 1 },
  });
  t.equal(adminPut.status, 201, 'another token has its own allowance');
  t.equal(adminPut.headers['ratelimit-remaining'], '2');
  const keys = await redis.keys('crs:rl:staff-per-token:*');
  t.equal(keys.length, 2);
  t.notOk(
    keys.some((key) => key.includes(staffToken) || key.includes(adminToken)),
    'tokens never reach Redis',
  );
});

t.test('failed staff/admin authentication is logged without the token and limited per address', async (t) => {
  const [a, b] = await twoInstances(t, rl({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3' }));
  const wrong = [
    'wrong-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    'wrong-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  ];

  // No credential at all guesses nothing: 401, not counted.
  for (let i = 0; i < 4; i += 1) t.equal((await a.http.request(NO_VOUCHER)).status, 401);
  t.equal((await a.http.request(NO_VOUCHER, { headers: staff })).status, 404, 'not counted');

  const bad = (token: string) => ({ authorization: `Bearer ${token}` });
  t.equal((await a.http.request(NO_VOUCHER, { headers: bad(wrong[0] as string) })).status, 401);
  t.equal(
    (
      await b.http.request('/api/admin/products/x', {
        method: 'PUT',
        headers: bad(wrong[1] as string),
        body: { total: 1 },
      })
    ).status,
    401,
  );
  // The third failure: a web sign-in on the other replica.
  const signInPage = await b.http.request('/admin', { headers: { accept: 'text/html' } });
  const cookie = ([] as string[])
    .concat(signInPage.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(signInPage.text)?.[1] ?? '';
  const signIn = (token: string) =>
    b.http.request('/admin/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ token, _csrf: csrf }).toString(),
    });
  t.equal((await signIn('web-guess-cccccccccccccccccccccccccccc')).status, 401);

  // Now even the right token is refused, on either replica, by bearer or by form.
  const right = await a.http.request(NO_VOUCHER, { headers: staff });
  t.equal(right.status, 429, 'the right staff token: 429');
  t.equal(right.json.error.code, 'rate_limited');
  t.ok(Number(right.headers['retry-after']) >= 1);
  const rightAdmin = await b.http.request('/api/admin/products/x', {
    method: 'PUT',
    headers: admin,
    body: { total: 1 },
  });
  t.equal(rightAdmin.status, 429, 'the right admin token: 429');
  t.equal((await signIn(adminToken)).status, 429, 'the right token in the sign-in form: 429');
  const { rows } = await db.owner.query("select count(*)::int as n from crs.products where product_id = 'x'");
  t.equal(rows[0].n, 0, 'nothing was written');
  t.equal((await a.http.request('/api/stock')).status, 200, 'other routes are not affected');

  const failures = [...a.logs, ...b.logs].filter(
    (line) => line['msg'] === 'failed staff/admin authentication',
  );
  t.equal(failures.length, 3, 'each failure logged once');
  for (const line of failures) {
    t.equal(line['level'], 40, 'at warn');
    t.match(line, { role: /^(staff|admin)$/, ip: '127.0.0.1', requestId: /\S/ });
  }
  t.same(failures.map((line) => line['role']).sort(), ['admin', 'admin', 'staff']);
  const everything = a.logText() + b.logText();
  for (const secret of [...wrong, 'web-guess-cccccccccccccccccccccccccccc', staffToken, adminToken]) {
    t.notOk(everything.includes(secret), 'no token in the logs');
  }
});

t.test('Redis stopped: orders are still accepted and each replica limits on its own', async (t) => {
  const own = await startTestRedis(t);
  const replica = await startInstance(t, rl({ REDIS_URL: own.url, RATE_LIMIT_ORDERS_PER_MINUTE: '3' }));
  t.equal(await order(replica.http, orderBody()), 201, 'through Redis');
  await own.stop();

  const started = Date.now();
  const statuses: number[] = [];
  for (let i = 0; i < 4; i += 1) statuses.push(await order(replica.http, orderBody()));
  const ms = Date.now() - started;
  t.same(statuses, [201, 201, 201, 429], 'accepted, and the local limit holds');
  t.ok(ms < 3_000, `no request waited on Redis (${ms} ms for 4)`);
  const warnings = replica.logs.filter((line) =>
    String(line['msg']).startsWith('rate limits: Redis unreachable'),
  );
  t.equal(warnings.length, 1, 'the outage is logged once');
  const metrics = await replica.http.request('/metrics');
  const local = /crs_rate_limit_local_decisions_total\{limit="orders-per-address"\} (\d+)/.exec(metrics.text);
  t.ok(Number(local?.[1]) >= 4, `local decisions counted (${local?.[1]})`);

  // Redis back: the limits are shared again (the replica notices within its retry).
  await own.start();
  const back = Date.now();
  while (
    !replica.logs.some((line) => String(line['msg']).startsWith('rate limits: Redis answers again')) &&
    Date.now() - back < 10_000
  ) {
    await order(replica.http, orderBody());
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.ok(
    replica.logs.some((line) => String(line['msg']).startsWith('rate limits: Redis answers again')),
    'the recovery is logged',
  );
});

t.test('Redis slow: an order waits for it at most the short deadline', async (t) => {
  await redis.flushall();
  const replica = await startInstance(t, rl({}));
  t.equal(await order(replica.http, orderBody()), 201, 'through Redis');
  // Every client of this Redis (the replica's too) stalls for 1.5 s.
  await redis.call('CLIENT', 'PAUSE', '1500', 'ALL');
  const started = Date.now();
  t.equal(await order(replica.http, orderBody()), 201, 'accepted while Redis stalls');
  const ms = Date.now() - started;
  t.ok(ms < 1_000, `answered in ${ms} ms, not after the stall`);
  t.ok(
    replica.logs.some((line) => String(line['msg']).startsWith('rate limits: Redis unreachable or slow')),
    'logged',
  );
  await redis.call('CLIENT', 'UNPAUSE');
});

t.test('RATE_LIMIT=off: no 429 ever, and nothing in Redis', async (t) => {
  const off = {
    RATE_LIMIT: 'off',
    RATE_LIMIT_ORDERS_PER_MINUTE: '1',
    RATE_LIMIT_CUSTOMER_ORDERS_PER_MINUTE: '1',
    RATE_LIMIT_STAFF_PER_MINUTE: '1',
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '1',
  };
  const [a, b] = await twoInstances(t, off);
  const statuses: number[] = [];
  const sameCustomer = orderBody();
  for (let i = 0; i < 3; i += 1) {
    statuses.push(await order(a.http, orderBody()), await order(b.http, orderBody()));
    statuses.push(await order(i % 2 ? a.http : b.http, { ...sameCustomer, orderId: `rl-off-${i}-order` }));
    statuses.push((await a.http.request(NO_VOUCHER, { headers: { authorization: 'Bearer wrong' } })).status);
    statuses.push((await b.http.request(NO_VOUCHER, { headers: staff })).status);
  }
  t.notOk(statuses.includes(429), `no 429 (${statuses.join(' ')})`);
  t.same(await redis.keys('crs:rl:*'), []);
});
