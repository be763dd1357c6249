/**
 * `crs faults`: the fault-injection drill. The whole system runs as in production, every
 * component a process of its own (two API instances, the CDC consumer, the renderer, and the
 * backing services), under a steady load of orders, while the faults of faultPlan.ts happen
 * one after the other. After each one the drill times how long the system takes to converge
 * (every order accepted until the component was back has its voucher), and at the end it
 * checks the promise: every accepted order is in Postgres once, rendered, stored once, and
 * fetchable by its owner; nothing oversold; the stock flag equals the table.
 */
import { mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { dataDir } from '../../common/paths.js';
import { localPostgres, localRabbitMq, localRedis } from '../../deploy/local/stack.js';
import { loadOrCreateSecrets } from '../../deploy/local/secrets.js';
import { startBenchStack, type BenchStack, type StackLayout } from '../stack.js';
import { faultPlan, type FaultControls } from './faultPlan.js';
import { brokenInvariants, countStores, vouchersOutstanding } from './invariants.js';
import { startOrderLoad } from './orderLoad.js';
import { makeSupervisor } from './supervisor.js';
import { makeVoucherFollowers } from './voucherFollowers.js';

type Env = Record<string, string | undefined>;

/** Ports of their own: the drill may run beside `npm start`, the tests and `crs bench`. */
export const FAULTS_LAYOUT: StackLayout = {
  folder: 'faults',
  dataDirVar: 'CRS_FAULTS_DATA_DIR',
  ports: { pg: 30359, redis: 30399, amqp: 30750, s3: 30920, api: 3920, cdc: 3921, renderer: 3922 },
};
const SECOND_API_PORT = 3923;
const PRODUCT_ID = 'fault-drill';

export interface FaultRunOptions {
  quick: boolean;
  outDir: string;
  log: Logger;
}

/** How hard and how long: the full drill, and the short one CI runs. */
const SETTINGS = {
  full: { rate: 30, outageMs: 10_000, gapMs: 8_000, tailMs: 10_000, followEvery: 4 },
  quick: { rate: 12, outageMs: 4_000, gapMs: 3_000, tailMs: 3_000, followEvery: 3 },
};
/** Bounds: the drill never runs longer than this, whatever happens. */
const MAX_LOAD_MS = 15 * 60_000;
const CONVERGE_BOUND_MS = 180_000;

interface FaultRecord {
  name: string;
  /** From the fault to the component being back. */
  outageMs: number;
  /** From the component being back to every order accepted until then having its voucher. */
  convergedMs: number | undefined;
  /** Requests retried while it lasted (answered 503, or no answer). */
  retried: number;
}

export async function runFaults(env: Env, options: FaultRunOptions): Promise<number> {
  const { log } = options;
  const settings = options.quick ? SETTINGS.quick : SETTINGS.full;
  const started = Date.now();
  // A bucket of its own each run (the database is fresh too): objects of an earlier drill
  // would count as orphans. The store is not running between drills.
  const folder = env[FAULTS_LAYOUT.dataDirVar] ?? join(dataDir(env), FAULTS_LAYOUT.folder);
  rmSync(join(folder, 's3', 'vouchers'), { recursive: true, force: true });
  const stack = await startBenchStack(
    { ...env, CRS_S3_FAULT_REFUSE_MS: String(settings.outageMs) },
    log,
    FAULTS_LAYOUT,
  );
  // Ctrl-C or a SIGTERM ends the drill early, but always through the teardown below.
  const interrupted = new AbortController();
  const interrupt = () => {
    log.warn('faults: interrupted; stopping the stack');
    interrupted.abort();
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    return await drill(stack, settings, { ...options, signal: interrupted.signal });
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    await stack.stop();
    log.info({ seconds: Math.round((Date.now() - started) / 1000) }, 'faults: stack stopped');
  }
}

async function drill(
  stack: BenchStack,
  settings: (typeof SETTINGS)['full'],
  options: FaultRunOptions & { signal: AbortSignal },
): Promise<number> {
  const { log, signal } = options;
  const stillOn = () => {
    if (signal.aborted) throw new Error('the drill was interrupted');
  };
  const stateDir = stack.env['CRS_DATA_DIR'] as string;
  const logDir = join(stateDir, 'logs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  // Component logs go to files (one per start), so the drill's own progress stays readable.
  let starts = 0;
  const logFile = (name: string) => openSync(join(logDir, `${name}-${(starts += 1)}.log`), 'a');
  // The owner pool outlives a Postgres restart: its broken idle connections must not crash us.
  stack.owner.on('error', () => undefined);
  stack.superuser.on('error', () => undefined);

  const apiPorts = [FAULTS_LAYOUT.ports.api, SECOND_API_PORT];
  const targets = apiPorts.map((port) => `http://127.0.0.1:${port}`);
  const supervisor = makeSupervisor((name) => {
    const api = /^api(\d)$/.exec(name);
    return api
      ? stack.component('api', { PORT: String(apiPorts[Number(api[1]) - 1]) }, logFile(name))
      : stack.component(name as 'cdc' | 'renderer', {}, logFile(name));
  }, log);
  for (const name of ['cdc', 'renderer', 'api1', 'api2']) await supervisor.launch(name);

  // Stock enough for the faults; after them it is cut so that the tail sells out for real.
  const setStock = async (total: number) => {
    const put = await fetch(`${targets[0]}/api/admin/products/${PRODUCT_ID}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.vars['ADMIN_TOKEN']}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Fault drill', total }),
    });
    if (put.status >= 300)
      throw new Error(`could not set the drill's stock: ${put.status} ${await put.text()}`);
  };
  await setStock((MAX_LOAD_MS / 1000) * settings.rate);

  const secrets = await loadOrCreateSecrets(stateDir);
  const controls: FaultControls = {
    killAndRestart: (name) => supervisor.restart(name, 'kill -9'),
    restartApi: (index) => supervisor.restart(`api${index + 1}`, 'stop'),
    postgres: localPostgres(stack.env, secrets),
    redis: localRedis(stack.env),
    rabbitmq: localRabbitMq(stack.env),
    async refuseWrites(ms) {
      const pid = Number(readFileSync(join(stateDir, 's3', 's3-store.pid'), 'utf8'));
      process.kill(pid, 'SIGUSR2');
      await sleep(ms, signal);
    },
  };

  const followers = makeVoucherFollowers(targets);
  let reservedCount = 0;
  const load = startOrderLoad({
    targets,
    productId: PRODUCT_ID,
    ratePerSecond: settings.rate,
    durationMs: MAX_LOAD_MS,
    settleMs: 120_000,
    requestTimeoutMs: 10_000,
    onReserved(order) {
      reservedCount += 1;
      if (order.token && reservedCount % settings.followEvery === 0)
        followers.follow(order.orderId, order.token);
    },
  });
  log.info({ rate: settings.rate }, 'faults: load started');

  try {
    const records: FaultRecord[] = [];
    for (const fault of faultPlan(settings.outageMs)) {
      await sleep(settings.gapMs, signal);
      stillOn();
      const before = retries(load);
      const at = Date.now();
      log.info(`faults: ${fault.name}`);
      await fault.inject(controls);
      const back = Date.now();
      const convergedMs = await converge(stack, back, signal);
      records.push({
        name: fault.name,
        outageMs: back - at,
        convergedMs,
        retried: retries(load) - before,
      });
      log.info(
        `faults: ${fault.name}: back after ${seconds(back - at)}, converged ${convergedMs === undefined ? 'NOT within bound' : `after ${seconds(convergedMs)}`}`,
      );
    }
    // Half of the tail's orders find stock: the drill ends sold out, under load.
    const { rows } = await stack.owner.query<{ n: string }>(
      'select count(*) as n from crs.orders where product_id = $1',
      [PRODUCT_ID],
    );
    await setStock(Number(rows[0]?.n ?? 0) + Math.round((settings.rate * settings.tailMs) / 2000));
    await sleep(settings.tailMs, signal);
    stillOn();
    load.stop();
    const tally = await load.done;
    const endOfLoad = Date.now();
    const finalConvergeMs = await converge(stack, endOfLoad, signal);
    await followers.finish(Date.now() + 60_000);
    // The flag follows the table within moments once the stream is caught up; a job whose
    // voucher is stored may still be finishing (or be rerun after a kill -9 left it locked).
    await waitForFlag(stack, 30_000);
    await waitForJobs(stack, 60_000);

    const counts = await countStores(
      {
        owner: stack.owner,
        redisUrl: stack.vars['REDIS_URL'] as string,
        s3: {
          endpoint: stack.vars['S3_ENDPOINT'] as string,
          accessKey: stack.vars['S3_ACCESS_KEY'] as string,
          secretKey: stack.vars['S3_SECRET_KEY'] as string,
          bucket: stack.vars['S3_BUCKET'] as string,
        },
        productId: PRODUCT_ID,
        target: targets[0] as string,
      },
      load.orders,
    );
    const problems = brokenInvariants(counts, tally.reserved);
    // The drift guard mends a flag the stream got wrong; the drill wants the stream itself
    // right, so each repair it logged is a problem too.
    const repairs = countLogLines(logDir, 'cdc-', DRIFT_REPAIRED);
    if (repairs > 0) problems.push(`the drift guard had to rewrite ${repairs} stock flags`);
    if (tally.undecided > 0) problems.push(`${tally.undecided} orders never got a decision`);
    if (tally.unexpected.length > 0) {
      problems.push(
        `${tally.unexpected.length} answers outside the contract: ${JSON.stringify(tally.unexpected.slice(0, 5))}`,
      );
    }
    if (followers.delivered.size !== followers.followed) {
      problems.push(
        `${followers.followed - followers.delivered.size} of ${followers.followed} voucher events not delivered`,
      );
    }
    if (finalConvergeMs === undefined) problems.push('vouchers did not catch up after the load');
    for (const crash of supervisor.crashes) {
      problems.push(`${crash.name} exited on its own (code ${crash.code}) and was restarted`);
    }
    for (const record of records) {
      if (record.convergedMs === undefined) problems.push(`no convergence after ${record.name}`);
    }

    const summary =
      `faults: ${tally.attempted} orders attempted, ${tally.reserved} accepted, ${tally.outOfStock} out of stock, ` +
      `${counts.ordersInPostgres} in Postgres, ${counts.vouchersRecorded} vouchers recorded, ` +
      `${counts.objectsInBucket} objects, ${counts.fetchable} fetchable, ` +
      `${followers.delivered.size}/${followers.followed} events delivered, ${counts.lost} lost, ` +
      `${counts.duplicated} duplicated, ${counts.oversold} oversold, ${tally.unavailable} answered 503 ` +
      `(retried), ${tally.connectionErrors} connection errors (retried), ${tally.replays} replays, ` +
      `${tally.unexpected.length} unexpected, ${supervisor.crashes.length} crashes; converged after: ` +
      records
        .map((r) => `${r.name} ${r.convergedMs === undefined ? 'never' : seconds(r.convergedMs)}`)
        .join(', ');
    console.log(summary);
    for (const problem of problems) console.log(`faults: BROKEN: ${problem}`);

    await mkdir(options.outDir, { recursive: true });
    await writeFile(
      join(options.outDir, `faults${options.quick ? '-quick' : ''}.json`),
      JSON.stringify(
        {
          settings,
          tally,
          counts,
          faults: records,
          followers: {
            followed: followers.followed,
            delivered: followers.delivered.size,
            reconnects: followers.reconnects,
            waiting: followers.waiting().slice(0, 50),
          },
          crashes: supervisor.crashes,
          problems,
          summary,
        },
        null,
        2,
      ),
    );
    return problems.length === 0 ? 0 : 1;
  } finally {
    // However it ends, no customer goes on retrying and no stream stays open.
    supervisor.retire();
    load.abandon();
    await followers.finish(Date.now());
  }
}

/** Waits until every order accepted until `since` has its voucher; undefined past the bound. */
async function converge(stack: BenchStack, since: number, signal: AbortSignal): Promise<number | undefined> {
  const deadline = since + CONVERGE_BOUND_MS;
  while (Date.now() < deadline && !signal.aborted) {
    const outstanding = await vouchersOutstanding(stack.owner, PRODUCT_ID, new Date(since)).catch(() => -1);
    if (outstanding === 0) return Date.now() - since;
    await sleep(250);
  }
  return undefined;
}

/** The cdc's log message for a flag rewritten by the drift guard (cdc/stockDriftGuard.ts). */
const DRIFT_REPAIRED = 'stock flag disagreed with the tables at two checks in a row';

/** Lines containing `text` in the log files of one component (every start of it). */
function countLogLines(logDir: string, prefix: string, text: string): number {
  return readdirSync(logDir)
    .filter((file) => file.startsWith(prefix))
    .reduce((sum, file) => sum + readFileSync(join(logDir, file), 'utf8').split(text).length - 1, 0);
}

async function waitForFlag(stack: BenchStack, boundMs: number) {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    const stock = await fetch(`http://127.0.0.1:${FAULTS_LAYOUT.ports.api}/api/stock?productId=${PRODUCT_ID}`)
      .then((r) => r.json() as Promise<{ remaining?: number }>)
      .catch(() => undefined);
    const { rows } = await stack.owner
      .query<{ remaining: number }>(`select remaining from crs.get_stock($1)`, [PRODUCT_ID])
      .catch(() => ({ rows: [] }));
    if (stock?.remaining !== undefined && stock.remaining === rows[0]?.remaining) return;
    await sleep(250);
  }
}

async function waitForJobs(stack: BenchStack, boundMs: number) {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    const { rows } = await stack.owner
      .query<{ n: string }>(
        `select count(*) as n from graphile_worker.jobs where task_identifier = 'render_voucher'`,
      )
      .catch(() => ({ rows: [{ n: '-1' }] }));
    if (rows[0]?.n === '0') return;
    await sleep(250);
  }
}

/** Requests sent again so far (after a 503 or without an answer). */
function retries(load: ReturnType<typeof startOrderLoad>): number {
  return load.orders.reduce((sum, order) => sum + order.attempts, 0) - load.orders.length;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
