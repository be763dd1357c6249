/**
 * No secret in logs. The whole system runs as production runs it (api, cdc and renderer each
 * `crs <component>` in a process of its own, at LOG_LEVEL=trace, with the object store's
 * least-privilege keys) on real services; a full run (failed authentications, an order, its
 * SSE voucher event, the voucher fetched with the order token and through the signed link,
 * staff lookup and redemption, an admin stock change, presigned object store URLs) is made,
 * then every line every process wrote is searched for every secret the run used or knows, and
 * for anything shaped like a credential. And configuration errors name the variable, never
 * its value.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';
import t from 'tap';
import {
  ConfigError,
  loadApiConfig,
  loadCdcConfig,
  loadObjectStoreConfig,
  loadRendererConfig,
} from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { newSecret } from '../../devstack/secrets.js';
import { readHarness } from '../setup/harness.js';
import { makeHttpClient, orderBody } from '../support/api.js';
import { cdcEnv, waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { spawnCrs, type CrsProcess } from '../support/process.js';
import { rendererEnv } from '../support/renderer.js';
import { freePort, makeTestVhost, startTestRedis } from '../support/services.js';

const s3Key = (prefix: string) => ({
  accessKey: `${prefix}${randomBytes(6).toString('hex').toUpperCase()}`,
  secretKey: newSecret(),
});
const ready = (url: string) =>
  waitFor(
    `${url} to be ready`,
    async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200,
    60_000,
  );

t.test('a full run at LOG_LEVEL=trace logs no secret', async (t) => {
  const db = await makeTestDatabase(t);
  const redis = await startTestRedis(t);
  const amqpUrl = await makeTestVhost(t);
  const adminToken = newSecret();
  const staffToken = newSecret();
  const orderTokenKey = newSecret();
  const s3Admin = s3Key('ADMIN');
  const s3Api = s3Key('API');
  const s3Renderer = s3Key('RENDERER');

  // The object store as `crs services` runs it: its own process, a key per component.
  const s3Dir = await mkdtemp(join(tmpdir(), 'crs-s3-secrets-'));
  t.teardown(() => rm(s3Dir, { recursive: true, force: true }));
  const s3Port = await freePort();
  const s3Url = `http://127.0.0.1:${s3Port}`;
  const processes: Record<string, CrsProcess> = {};
  processes['s3-store'] = spawnCrs(t, ['s3-store'], {
    CRS_DATA_DIR: s3Dir,
    CRS_S3_PORT: String(s3Port),
    S3_ACCESS_KEY: s3Admin.accessKey,
    S3_SECRET_KEY: s3Admin.secretKey,
    CRS_S3_API_ACCESS_KEY: s3Api.accessKey,
    CRS_S3_API_SECRET_KEY: s3Api.secretKey,
    CRS_S3_RENDERER_ACCESS_KEY: s3Renderer.accessKey,
    CRS_S3_RENDERER_SECRET_KEY: s3Renderer.secretKey,
    S3_BUCKET: 'vouchers',
    AMQP_URL: amqpUrl,
    LOG_LEVEL: 'trace',
  });
  await waitFor('the S3 store', async () =>
    processes['s3-store']?.output().includes('local S3 store listening'),
  );
  const s3For = (key: { accessKey: string; secretKey: string }) => ({
    S3_ENDPOINT: s3Url,
    S3_ACCESS_KEY: key.accessKey,
    S3_SECRET_KEY: key.secretKey,
    S3_BUCKET: 'vouchers',
  });

  const cdcPort = await freePort();
  processes['cdc'] = spawnCrs(t, ['cdc'], {
    ...cdcEnv(db, { redisUrl: redis.url, amqpUrl, port: cdcPort }),
    LOG_LEVEL: 'trace',
  });
  const rendererPort = await freePort();
  processes['renderer'] = spawnCrs(
    t,
    ['renderer'],
    rendererEnv(db, s3For(s3Renderer), { RENDERER_PORT: String(rendererPort), LOG_LEVEL: 'trace' }),
  );
  const apiPort = await freePort();
  processes['api'] = spawnCrs(t, ['api'], {
    API_DATABASE_URL: db.urls.api,
    ADMIN_TOKEN: adminToken,
    STAFF_TOKEN: staffToken,
    ORDER_TOKEN_KEY: orderTokenKey,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    AMQP_URL: amqpUrl,
    LOG_LEVEL: 'trace',
    ...s3For(s3Api),
  });
  await ready(`http://127.0.0.1:${cdcPort}/readyz`);
  await ready(`http://127.0.0.1:${rendererPort}/readyz`);
  await ready(`http://127.0.0.1:${apiPort}/readyz`);
  await waitFor('the replication stream', async () => {
    const body = (await (await fetch(`http://127.0.0.1:${cdcPort}/readyz`)).json()) as {
      streaming?: boolean;
    };
    return body.streaming === true;
  });
  const http = makeHttpClient(`http://127.0.0.1:${apiPort}`);
  t.teardown(() => http.close());
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  // Failed authentications, with tokens that look like real ones.
  const wrong = { staff: newSecret(), admin: newSecret(), order: newSecret() };
  t.equal((await http.request('/api/vouchers/AAAA-BBBB-CCCC', { headers: bearer(wrong.staff) })).status, 401);
  t.equal(
    (
      await http.request('/api/admin/products/default', {
        method: 'PUT',
        headers: bearer(wrong.admin),
        body: { total: 5 },
      })
    ).status,
    401,
    'wrong staff and admin tokens are refused',
  );

  // An order, its voucher event over SSE (the token in the query, as EventSource sends it).
  const placed = await http.request('/api/orders', {
    body: orderBody({ firstName: 'Secret', lastName: 'Keeper' }),
  });
  t.equal(placed.status, 201, 'an order');
  const { orderId, accessToken } = placed.json as { orderId: string; accessToken: string };
  const refusedStatuses = [401, 404];
  t.ok(
    refusedStatuses.includes(
      (await http.request(`/api/orders/${orderId}`, { headers: bearer(wrong.order) })).status,
    ),
  );
  t.ok(
    refusedStatuses.includes(
      (await http.request(`/api/orders/${orderId}/events?token=${wrong.order}`)).status,
    ),
    'wrong order tokens are refused',
  );
  const events = await fetch(
    `http://127.0.0.1:${apiPort}/api/orders/${orderId}/events?token=${accessToken}`,
    {
      headers: { accept: 'text/event-stream' },
    },
  );
  t.equal(events.status, 200, 'the event stream, with ?token=');
  const reader = events.body!.getReader();
  let streamed = '';
  const link = await waitFor(
    'the voucher event',
    async () => {
      const { value } = await reader.read();
      streamed += Buffer.from(value ?? new Uint8Array()).toString('utf8');
      const data = /event: voucher\ndata: (.*)\n/.exec(streamed)?.[1];
      return data ? (JSON.parse(data) as { url: string }).url : undefined;
    },
    60_000,
  );
  await reader.cancel();
  const linkSignature = new URL(link, 'http://x').searchParams.get('signature') ?? '';
  t.ok(linkSignature.length > 20, 'a signed download link');

  const byToken = await http.request(`/api/orders/${orderId}/voucher`, { headers: bearer(accessToken) });
  t.equal(byToken.status, 200, 'the voucher with the order token');
  t.equal((await http.request(link)).status, 200, 'and through the signed link');
  const status = await http.request(`/api/orders/${orderId}?token=${accessToken}`);
  t.equal(status.status, 200, 'the order, with ?token=');

  // Staff and admin, with the right tokens.
  const { rows } = await db.owner.query<{ coupon_code: string }>(
    'select coupon_code from crs.orders where order_id = $1',
    [orderId],
  );
  const couponCode = rows[0]!.coupon_code;
  t.equal((await http.request(`/api/vouchers/${couponCode}`, { headers: bearer(staffToken) })).status, 200);
  t.equal(
    (
      await http.request(`/api/vouchers/${couponCode}/redeem`, {
        method: 'POST',
        headers: bearer(staffToken),
      })
    ).status,
    200,
    'staff look the coupon up and redeem it',
  );
  const stock = await http.request('/api/admin/products/default', {
    method: 'PUT',
    headers: bearer(adminToken),
    body: { total: 2000 },
  });
  t.equal(stock.status, 200, 'an admin changes the stock');

  // Presigned object store URLs, as a client would use them: the API's key signs a read
  // (allowed), the renderer's a read (denied, so the store logs the refusal).
  const presigned: string[] = [];
  for (const key of [s3Api, s3Renderer]) {
    const client = new Client({
      endPoint: '127.0.0.1',
      port: s3Port,
      useSSL: false,
      region: 'us-east-1',
      pathStyle: true,
      ...key,
    });
    const url = await client.presignedGetObject('vouchers', `orders/${orderId}.pdf`, 60);
    presigned.push(url);
    await fetch(url);
  }
  t.equal((await fetch(presigned[0]!)).status, 200, "the API key's presigned GET works");

  // Every process stops, so every line is written.
  for (const name of ['api', 'renderer', 'cdc', 's3-store']) {
    const running = processes[name]!;
    running.child.kill('SIGTERM');
    t.equal(await running.exited, 0, `${name} stopped cleanly`);
  }

  const harness = readHarness();
  const superuserPassword = decodeURIComponent(new URL(harness.superuserUrl).password);
  const secrets: Record<string, string> = {
    'the order access token': accessToken,
    'the coupon code': couponCode,
    ADMIN_TOKEN: adminToken,
    STAFF_TOKEN: staffToken,
    ORDER_TOKEN_KEY: orderTokenKey,
    'the superuser password': superuserPassword,
    "crs_owner's password": harness.passwords.owner,
    "crs_api's password": harness.passwords.api,
    "crs_cdc's password": harness.passwords.cdc,
    "crs_renderer's password": harness.passwords.renderer,
    "the store's admin secret key": s3Admin.secretKey,
    "the API's S3 secret key": s3Api.secretKey,
    "the renderer's S3 secret key": s3Renderer.secretKey,
    "the download link's signature": linkSignature,
    ...Object.fromEntries(
      presigned.map((url, i) => [
        `presigned URL ${i + 1}'s X-Amz-Signature`,
        new URL(url).searchParams.get('X-Amz-Signature')!,
      ]),
    ),
    // Not secrets of ours, but what an attacker presented is not for the log either.
    'the wrong staff token': wrong.staff,
    'the wrong admin token': wrong.admin,
    'the wrong order token': wrong.order,
  };
  const credentialShapes: Record<string, RegExp> = {
    'a bearer credential': /Bearer\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}/i,
    'a token in a query string': /[?&]token=(?!\[redacted\])[^&\s"]+/i,
    'a link signature': /[?&]signature=(?!\[redacted\])[^&\s"]+/i,
    'an S3 signature': /Signature=(?!\[redacted\])[0-9a-f]{64}/i,
    'a password in a URL': /:\/\/[^:/\s"@]+:(?!\[redacted\])[^@/\s"]+@/,
  };

  for (const [name, running] of Object.entries(processes)) {
    const output = running.output();
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    t.ok(lines.length >= 3, `${name}: ${lines.length} log lines to search`);
    const leaks = [
      ...Object.entries(secrets)
        .filter(([, value]) => value && output.includes(value))
        .map(([what]) => what),
      ...Object.entries(credentialShapes)
        .filter(([, shape]) => shape.test(output))
        .map(([what]) => `${what} (${shape(output, credentialShapes[what]!)})`),
    ];
    t.same(leaks, [], `${name}: no secret in its logs`);
  }
  const api = processes['api']!.output();
  t.match(
    api,
    /failed staff\/admin authentication/,
    'failed authentications are logged (without what was tried)',
  );
  t.ok(
    (api.match(/"msg":"request"/g) ?? []).length >= 10,
    'every request has its access log line (route pattern, not path)',
  );
  t.match(processes['renderer']!.output(), /"level":20/, 'the renderer logged at debug level');
  t.match(processes['s3-store']!.output(), /"level":20.*"msg":"request"/, 'the store logged each request');
  t.match(processes['s3-store']!.output(), /request denied by policy/, 'and the refused one');
});

/** The first match of a credential shape, shortened, to say what leaked. */
function shape(text: string, pattern: RegExp): string {
  return (pattern.exec(text)?.[0] ?? '').slice(0, 24) + '...';
}

t.test('configuration errors name the variable, never its value', async (t) => {
  const valid = {
    API_DATABASE_URL: 'postgres://crs_api:db-pass-is-fine@127.0.0.1:5432/crs',
    ADMIN_TOKEN: newSecret(),
    STAFF_TOKEN: newSecret(),
    ORDER_TOKEN_KEY: newSecret(),
  };
  const cases: { variable: string; secret: string; load: () => unknown }[] = [
    {
      variable: 'ADMIN_TOKEN',
      secret: 'tooShortAdminSecret1',
      load: () => loadApiConfig({ ...valid, ADMIN_TOKEN: 'tooShortAdminSecret1' }),
    },
    {
      variable: 'STAFF_TOKEN',
      secret: 'staff token with spaces and $ymbols that is long enough',
      load: () =>
        loadApiConfig({ ...valid, STAFF_TOKEN: 'staff token with spaces and $ymbols that is long enough' }),
    },
    {
      variable: 'ORDER_TOKEN_KEY',
      secret: 'k3y-but-short',
      load: () => loadApiConfig({ ...valid, ORDER_TOKEN_KEY: 'k3y-but-short' }),
    },
    {
      variable: 'API_DATABASE_URL',
      secret: 'Pa55-in-a-bad-url',
      load: () =>
        loadApiConfig({ ...valid, API_DATABASE_URL: 'postgres://crs_api:Pa55-in-a-bad-url@db:notaport/crs' }),
    },
    {
      variable: 'DATABASE_URL',
      secret: 'Pa55-in-mysql-url',
      load: () =>
        loadApiConfig({
          ...valid,
          API_DATABASE_URL: undefined,
          DATABASE_URL: 'mysql://crs_api:Pa55-in-mysql-url@db/crs',
        }),
    },
    {
      variable: 'CDC_DATABASE_URL',
      secret: 'cdc-Pa55',
      load: () =>
        loadCdcConfig({
          CDC_DATABASE_URL: 'postgresql://crs_cdc:cdc-Pa55@db:99999999/crs',
          REDIS_URL: 'redis://127.0.0.1:6379',
          AMQP_URL: 'amqp://127.0.0.1',
        }),
    },
    {
      variable: 'REDIS_URL',
      secret: 'redis-Pa55',
      load: () => loadApiConfig({ ...valid, REDIS_URL: 'http://:redis-Pa55@cache:6379' }),
    },
    {
      variable: 'AMQP_URL',
      secret: 'amqp-Pa55',
      load: () => loadApiConfig({ ...valid, AMQP_URL: 'amqp://crs:amqp-Pa55@mq:port/vhost' }),
    },
    {
      variable: 'S3_ENDPOINT',
      secret: 's3-secret-in-url',
      load: () =>
        loadObjectStoreConfig({
          S3_ENDPOINT: 'ftp://AKIA:s3-secret-in-url@minio:9000',
          S3_ACCESS_KEY: 'AKIA',
          S3_SECRET_KEY: 'fine',
        }),
    },
    {
      variable: 'S3_SECRET_KEY',
      secret: '',
      load: () =>
        loadRendererConfig({
          RENDERER_DATABASE_URL: 'postgres://crs_renderer:renderer-Pa55@db/crs',
          S3_ENDPOINT: 'http://minio:9000',
          S3_ACCESS_KEY: 'AKIA',
          S3_SECRET_KEY: '',
        }),
    },
  ];
  for (const { variable, secret, load } of cases) {
    let error: unknown;
    try {
      load();
    } catch (err) {
      error = err;
    }
    t.ok(error instanceof ConfigError, `${variable}: refused`);
    const message = String((error as Error | undefined)?.message);
    t.match(message, new RegExp(`^${variable}: `), `${variable}: the message names it (${message})`);
    if (secret) t.notOk(message.includes(secret), `${variable}: without its value`);
    t.notOk(JSON.stringify(error).includes(secret || '\u0000'), `${variable}: nor anywhere in the error`);
  }

  // A weird S3_SECRET_KEY is the object store's business: it loads, and is never shown.
  const weird = 'sécret with spaces\tand "quotes" / +=';
  const loaded = loadObjectStoreConfig({
    S3_ENDPOINT: 'http://minio:9000',
    S3_ACCESS_KEY: 'AKIA',
    S3_SECRET_KEY: weird,
  });
  t.equal(loaded.secretKey, weird, 'an unusual S3_SECRET_KEY is taken as it is');

  // And through the CLI, as an operator sees it: one line, the variable, no value.
  for (const [command, env, variable, secret] of [
    ['api', { ...valid, ADMIN_TOKEN: 'tooShortAdminSecret1' }, 'ADMIN_TOKEN', 'tooShortAdminSecret1'],
    [
      'cdc',
      {
        CDC_DATABASE_URL: 'postgres://crs_cdc:cli-cdc-Pa55@db:bad/crs',
        REDIS_URL: 'redis://x',
        AMQP_URL: 'amqp://x',
      },
      'CDC_DATABASE_URL',
      'cli-cdc-Pa55',
    ],
    [
      'renderer',
      {
        RENDERER_DATABASE_URL: 'postgres://crs_renderer:cli-renderer-Pa55@db/crs',
        S3_ENDPOINT: 'http://AKIA:cli-s3-secret@minio:bad',
        S3_ACCESS_KEY: 'AKIA',
        S3_SECRET_KEY: 'cli-s3-secret-key',
      },
      'S3_ENDPOINT',
      'cli-s3-secret',
    ],
  ] as [string, Record<string, string>, string, string][]) {
    const run = spawnCrs(t, [command], env);
    t.equal(await run.exited, 1, `crs ${command} stops`);
    const output = run.output().trim();
    t.equal(output.split('\n').length, 1, `crs ${command}: one line (${output})`);
    t.match(output, `configuration: ${variable}:`, `crs ${command}: naming ${variable}`);
    t.notOk(output.includes(secret), `crs ${command}: not its value`);
    t.notOk(
      Object.values(env).some((value) => value.length > 8 && output.includes(value)),
      `crs ${command}: nor any other value given`,
    );
  }
});

t.test('the logger keeps credentials out of what it is handed by accident', async (t) => {
  const lines: string[] = [];
  const log = makeLogger({
    level: 'trace',
    component: 'test',
    destination: { write: (line: string) => void lines.push(line) },
  });
  const token = newSecret();
  const password = newSecret();
  log.info({ req: { headers: { authorization: `Bearer ${token}`, cookie: `s=${token}` } } }, 'a request');
  log.info({ url: `http://h/api/orders/o-1/voucher?expires=1&signature=${token}` }, 'a link');
  log.info({ link: `http://h/api/orders/o-1/events?token=${token}` }, 'a stream');
  log.debug(
    { config: { adminToken: token, staffToken: token, orderTokenKey: token, secretKey: token } },
    'config',
  );
  log.warn(
    {
      err: new Error(`connect to postgres://crs_api:${password}@db/crs failed`, {
        cause: new Error(`?token=${token}`),
      }),
    },
    'an error with a connection string',
  );
  log.error(
    { err: Object.assign(new TypeError('Invalid URL'), { input: `amqp://crs:${password}@mq:x/` }) },
    'bad url',
  );
  log.info(`GET /x?X-Amz-Signature=${'ab'.repeat(32)}&X-Amz-Credential=AK%2F20260101 with Bearer ${token}`);
  const written = lines.join('');
  t.equal(lines.length, 7, 'every line written');
  t.notOk(written.includes(token), 'no token');
  t.notOk(written.includes(password), 'no password');
  t.notOk(written.includes('ab'.repeat(32)), 'no S3 signature');
  t.match(written, /postgres:\/\/crs_api:\[redacted\]@db\/crs/, 'a URL keeps all but its password');
  t.match(written, /"url":"http:\/\/h\/api\/orders\/o-1\/voucher\?expires=1&signature=\[redacted\]"/);
  t.match(written, /"adminToken":"\[redacted\]"/, 'secret fields are redacted by name');
});
