/**
 * `crs start` (npm start) as a user runs it, on a data directory and ports of its own:
 * it starts Postgres, migrates, serves the API, prints URL and tokens, stops cleanly on
 * SIGTERM, keeps its state for the next start, and a Ctrl-C during startup stops what it
 * had started.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../common/paths.js';
import { loadOrCreateSecrets } from '../../devstack/secrets.js';
import { makeHttpClient } from '../support/api.js';

const dataDir = await mkdtemp(join(tmpdir(), 'crs-start-'));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));
// Below the kernel's ephemeral range (32768 and up), where the other test files' servers on
// OS-chosen free ports live: `crs start` would take a Redis it finds on its port for its own.
const port = 21000 + (process.pid % 1000);
const env = {
  PATH: process.env['PATH'] ?? '',
  CRS_DATA_DIR: dataDir,
  CRS_PG_PORT: String(port + 1000),
  CRS_REDIS_PORT: String(port + 2000),
  CRS_AMQP_PORT: String(port + 3000),
  CRS_S3_PORT: String(port + 4000),
  PORT: String(port),
  STOCK: '7',
};

function start() {
  const child = spawn(process.execPath, ['--import=tsx', join(packageRoot, 'cli', 'run.ts'), 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const banner = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 90 s:\n${output}`)), 90_000);
    child.stdout.on('data', () => {
      if (output.includes('send tokens as')) {
        clearTimeout(timer);
        resolve(output);
      }
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before the banner:\n${output}`)));
  });
  return { child, exited, banner, output: () => output };
}

/** The environment of each component `crs start` runs (its children `crs <component>`), by name. */
function componentEnvirons(parent: number): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/);
  for (const pid of children.filter(Boolean)) {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const name = args[args.length - 1] as string;
    if (!['api', 'cdc', 'renderer'].includes(name)) continue;
    const entries = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
    found.set(name, Object.fromEntries(entries));
  }
  return found;
}

t.test('npm start runs the system, prints where to open it, stops cleanly, keeps state', async (t) => {
  const first = start();
  const banner = await first.banner;
  t.match(banner, new RegExp(`running: http://localhost:${port}/`));
  t.match(banner, /Admin token: [A-Za-z0-9_-]{43}\n/);
  t.match(banner, /Staff token: [A-Za-z0-9_-]{43}\n/);
  const adminToken = /Admin token: (\S+)/.exec(banner)?.[1] ?? '';

  await t.test('each component holds only its own secrets', async (t) => {
    const secrets = await loadOrCreateSecrets(dataDir);
    const environs = componentEnvirons(first.child.pid as number);
    t.same([...environs.keys()].sort(), ['api', 'cdc', 'renderer'], 'three components, read from /proc');
    const api = environs.get('api') ?? {};
    const cdc = environs.get('cdc') ?? {};
    const renderer = environs.get('renderer') ?? {};
    for (const [name, env] of environs) {
      t.notOk(env['DATABASE_URL'], `${name}: no owner's database URL`);
      const values = Object.values(env).join('\n');
      for (const [secret, value] of Object.entries(secrets)) {
        const own =
          (name === 'api' && /^s3Api|^adminToken$|^staffToken$|^orderTokenKey$|^apiPassword$/.test(secret)) ||
          (name === 'cdc' && secret === 'cdcPassword') ||
          (name === 'renderer' && /^s3Renderer|^rendererPassword$/.test(secret));
        if (!own) t.notOk(values.includes(value), `${name}: does not hold ${secret}`);
      }
    }
    t.match(api['API_DATABASE_URL'], /^postgres(ql)?:\/\/crs_api:/, 'the API connects as crs_api');
    t.equal(api['S3_ACCESS_KEY'], secrets.s3ApiAccessKey, "the API signs with the API's S3 key");
    t.ok(api['ADMIN_TOKEN'] && api['STAFF_TOKEN'] && api['ORDER_TOKEN_KEY'], 'the API holds the tokens');
    t.match(cdc['CDC_DATABASE_URL'], /^postgres(ql)?:\/\/crs_cdc:/, 'the CDC consumer connects as crs_cdc');
    t.notOk(
      cdc['S3_ACCESS_KEY'] ?? cdc['ADMIN_TOKEN'] ?? cdc['API_DATABASE_URL'],
      'the CDC consumer holds nothing else',
    );
    t.match(
      renderer['RENDERER_DATABASE_URL'],
      /^postgres(ql)?:\/\/crs_renderer:/,
      'the renderer connects as crs_renderer',
    );
    t.equal(
      renderer['S3_ACCESS_KEY'],
      secrets.s3RendererAccessKey,
      "the renderer signs with the renderer's S3 key",
    );
    t.notOk(
      renderer['AMQP_URL'] ?? renderer['REDIS_URL'] ?? renderer['ADMIN_TOKEN'],
      'the renderer holds nothing else',
    );
  });

  const http = makeHttpClient(`http://127.0.0.1:${port}`);
  t.teardown(() => http.close());
  const page = await http.request('/', { headers: { accept: 'text/html' } });
  t.equal(page.status, 200, 'the printed address opens the order page');
  t.match(page.text, /<h1 id="product-name">Free reservation<\/h1>/);
  t.same((await http.request('/api/stock')).json, {
    productId: 'default',
    name: 'Free reservation',
    total: 7,
    remaining: 7,
    available: true,
  });
  const order = await http.request('/api/orders', {
    body: { firstName: 'Aino', lastName: 'Virtanen', phone: '+358 40 123 4567' },
  });
  t.equal(order.status, 201);
  // CDC runs too: the stock flag in Redis follows the order.
  const deadline = Date.now() + 20_000;
  let viaFlag = await http.request('/api/stock');
  while (
    !(viaFlag.headers['x-stock-source'] === 'redis' && viaFlag.json.remaining === 6) &&
    Date.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    viaFlag = await http.request('/api/stock');
  }
  t.equal(viaFlag.headers['x-stock-source'], 'redis', 'stock read from the CDC flag');
  t.equal(viaFlag.json.remaining, 6);
  // ... and the renderer: the order gets its voucher, downloadable.
  let status = '';
  let self: { status: number; json: { status: string; voucher?: { url: string } } } | undefined;
  while (status !== 'voucher_ready' && Date.now() < deadline + 20_000) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    self = await http.request(`/api/orders/${order.json.orderId}`, {
      headers: { authorization: `Bearer ${order.json.accessToken}` },
    });
    status = self.json.status;
  }
  t.equal(status, 'voucher_ready', 'the voucher was rendered and stored');
  const pdf = await http.request(self?.json.voucher?.url ?? '');
  t.equal(pdf.headers['content-type'], 'application/pdf');
  const admin = await http.request('/api/admin/products/default', {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}` },
    body: { total: 9 },
  });
  t.equal(admin.status, 200, 'the printed admin token works');

  first.child.kill('SIGTERM');
  t.equal(await first.exited, 0, 'exit code 0 after SIGTERM');
  for (const name of ['CRS_PG_PORT', 'CRS_REDIS_PORT', 'CRS_AMQP_PORT', 'CRS_S3_PORT'] as const) {
    t.notOk(await listening(Number(env[name])), `stopped: nothing listens on ${name} ${env[name]}`);
  }

  const second = start();
  await second.banner;
  const stock = await http.request('/api/stock');
  t.same(
    [stock.json.total, stock.json.remaining],
    [9, 8],
    'state survived the restart; STOCK applied only once',
  );
  second.child.kill('SIGINT');
  t.equal(await second.exited, 0, 'exit code 0 after SIGINT');

  // Ctrl-C while it is still starting (a fresh clone's first run once left Postgres, Redis,
  // RabbitMQ and the store running, with nobody to stop them): it stops what it started.
  const third = start();
  void third.banner.catch(() => undefined);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (third.output().includes('"component":"start"')) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
  third.child.kill('SIGINT');
  t.equal(await third.exited, 0, 'exit code 0 after SIGINT during startup');
  t.notMatch(third.output(), /Cloud reservation system is running/, 'stopped before it was up');
  // Asked on their ports: Postgres keeps its data elsewhere when it runs as another user.
  for (const name of ['CRS_PG_PORT', 'CRS_REDIS_PORT', 'CRS_AMQP_PORT', 'CRS_S3_PORT'] as const) {
    t.notOk(await listening(Number(env[name])), `nothing listens on ${name} ${env[name]} any more`);
  }
});

/** Whether something accepts connections on a loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
