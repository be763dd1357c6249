import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { makeHttpClient, orderBody, startTestApi } from '../support/api.js';

const db = await makeTestDatabase(t);

t.test('liveness, readiness and metrics', async (t) => {
  const { http } = await startTestApi(t, db);
  const health = await http.request('/healthz');
  t.equal(health.status, 200);
  t.same(health.json, { status: 'ok' });
  const ready = await http.request('/readyz');
  t.equal(ready.status, 200);
  t.same(ready.json, {
    status: 'ready',
    checks: { postgres: 'ok' },
    degraded: { redis: 'not configured', rabbitmq: 'not configured' },
  });

  await http.request('/api/orders', { body: orderBody() });
  const metrics = await http.request('/metrics');
  t.equal(metrics.status, 200);
  t.match(metrics.headers['content-type'], /text\/plain/);
  t.match(
    metrics.text,
    /crs_http_requests_total\{method="POST",route="\/api\/orders",status="201",code=""\} 1/,
  );
  t.match(metrics.text, /crs_orders_total\{outcome="reserved"\} 1/);
  t.match(metrics.text, /crs_place_order_seconds_bucket/);
  t.match(metrics.text, /crs_api_process_cpu_seconds_total/);
});

t.test("every response carries a request id, the caller's when well-formed", async (t) => {
  const { http } = await startTestApi(t, db);
  const given = await http.request('/healthz', { headers: { 'x-request-id': 'trace-abc.123' } });
  t.equal(given.headers['x-request-id'], 'trace-abc.123');
  const hostile = await http.request('/healthz', { headers: { 'x-request-id': 'a b<script>' } });
  t.match(hostile.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  t.equal(hostile.headers['x-content-type-options'], 'nosniff');
});

t.test('readiness fails when the database is unreachable', async (t) => {
  const { http } = await startTestApi(t, { urls: { ...db.urls, api: db.urls.api.replace(/:\d+\//, ':1/') } });
  const ready = await http.request('/readyz');
  t.equal(ready.status, 503);
  t.equal(ready.json.error.code, 'unavailable');
  t.match(ready.json.error.details.checks.postgres, /unreachable/);
  t.equal(ready.headers['retry-after'], '1');
  const order = await http.request('/api/orders', { body: orderBody() });
  t.equal(order.status, 503, 'an order that cannot be decided is a 503');
  t.equal(order.json.error.code, 'unavailable');
  t.equal(order.headers['retry-after'], '1');
});

t.test('a lock held too long becomes a 503, nothing written, and the retry succeeds', async (t) => {
  const { http, adminToken } = await startTestApi(t, db);
  await http.request('/api/admin/products/held', {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}` },
    body: { total: 3 },
  });
  const body = orderBody({ productId: 'held', orderId: 'held-order-0001' });
  const holder = await db.owner.connect();
  try {
    await holder.query('begin');
    await holder.query(`select * from crs.stock_shards where product_id = 'held' for update`);
    const res = await http.request('/api/orders', { body });
    t.equal(res.status, 503);
    t.equal(res.json.error.code, 'unavailable');
  } finally {
    await holder.query('rollback');
    holder.release();
  }
  const { rows } = await db.owner.query(
    `select count(*)::int as n from crs.orders where product_id = 'held'`,
  );
  t.equal(rows[0].n, 0, 'nothing was written');
  const retry = await http.request('/api/orders', { body });
  t.equal(retry.status, 201, 'the same order id succeeds on retry');
});

t.test(
  'stopping drains: in-flight requests finish, readiness fails, new connections are refused',
  async (t) => {
    const { api, http, adminToken } = await startTestApi(t, db);
    await http.request('/api/admin/products/drain', {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminToken}` },
      body: { total: 5 },
    });
    // Hold the stock so the order is in flight when the stop begins.
    const holder = await db.owner.connect();
    await holder.query('begin');
    await holder.query(`select * from crs.stock_shards where product_id = 'drain' for update`);
    const inFlight = http.request('/api/orders', { body: orderBody({ productId: 'drain' }) });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopping = api.stop();
    t.equal(api.deps.lifecycle.draining, true);
    await holder.query('rollback');
    holder.release();
    const res = await inFlight;
    t.equal(res.status, 201, 'the in-flight order completed');
    await stopping;
    await t.rejects(http.request('/healthz'), 'no longer listening');
  },
);

t.test('readiness waits for the schema this release ships (crs migrate before the rollout)', async (t) => {
  const behind = await makeTestDatabase(t);
  const { http } = await startTestApi(t, behind);
  t.equal((await http.request('/readyz')).status, 200, 'migrated: ready');
  // As if the newest migration had not been applied yet.
  const { rows } = await behind.owner.query<{ name: string }>(
    `delete from crs_migrations.applied
      where kind = 'versioned' and name = (select max(name) from crs_migrations.applied where kind = 'versioned')
      returning name`,
  );
  const ready = await http.request('/readyz');
  t.equal(ready.status, 503, `not ready without ${rows[0]?.name}`);
  t.match(
    ready.json.error.details.checks.postgres,
    /^schema behind: the database is at migration \d+, this release needs \d+ \(run crs migrate\)$/,
  );
  // A process that has seen the schema current keeps its Kubernetes readiness (schemas only
  // move forward); one that never has is gated on it even with postgres excluded.
  t.equal((await http.request('/readyz?exclude=postgres')).status, 200, 'seen current before: ready');
  const fresh = await startTestApi(t, behind);
  const gated = await fresh.http.request('/readyz?exclude=postgres');
  t.equal(gated.status, 503, 'a new process with the schema behind is not ready, postgres excluded or not');
  t.match(gated.json.error.details.checks.postgres, /^schema behind/);
});

t.test('readiness says which checks may be excluded', async (t) => {
  const { http } = await startTestApi(t, db);
  const bad = await http.request('/readyz?exclude=redis&exclude=postgres');
  t.equal(bad.status, 400);
  t.same(bad.json.error.details, [
    { field: 'exclude', message: '"redis" is not a check that may be excluded (postgres)' },
  ]);
});

t.test('probes and metrics answer on their exact paths only (the ingress refuses those)', async (t) => {
  const { http } = await startTestApi(t, db);
  for (const path of ['/metrics', '/healthz', '/readyz']) {
    t.equal((await http.request(path)).status, 200, path);
    for (const variant of [`${path}/`, path.toUpperCase(), `${path}/.`]) {
      const res = await http.request(variant);
      t.not(res.status, 200, `${variant}: ${res.status}`);
      t.notMatch(
        res.text,
        /crs_http_requests_total|"status":"(ok|ready)"/,
        `${variant} says nothing of the process`,
      );
    }
  }
});

t.test('API_PROBE_PORT: probes and metrics alone on a port of their own', async (t) => {
  const { api, http } = await startTestApi(t, db, { API_PROBE_PORT: '0' });
  t.ok(api.probesUrl, `probes at ${api.probesUrl}`);
  const probes = makeHttpClient((api.probesUrl as string).replace('localhost', '127.0.0.1'));
  t.teardown(() => probes.close());
  t.equal((await probes.request('/healthz')).status, 200);
  t.equal((await probes.request('/readyz')).status, 200);
  t.match((await probes.request('/metrics')).text, /crs_http_requests_total/);
  t.equal((await probes.request('/api/stock')).status, 404, 'nothing of the API there');
  t.equal((await probes.request('/')).status, 404, 'no pages there');
  t.equal((await http.request('/readyz')).status, 200, 'the API port still answers them (the contract)');
  const { api: without } = await startTestApi(t, db);
  t.equal(without.probesUrl, undefined, 'no second port unless asked');
});
