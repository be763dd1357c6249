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
import { sleep } from '../common/backoff.js';
import { readChangeStream } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { dataDir } from '../common/paths.js';
import { localPostgres, localRabbitMq, localRedis } from '../devstack/stack.js';
import { loadOrCreateSecrets } from '../devstack/secrets.js';
import { startBenchStack, type BenchStack, type StackLayout } from '../bench/stack.js';
import { faultPlan, type FaultControls } from './faultPlan.js';
import { cdcRole } from './cdcRole.js';
import { brokenInvariants, countStores, vouchersOutstanding } from './invariants.js';
import { startOrderLoad } from './orderLoad.js';
import { startPartitionProxy, type PartitionProxy } from './partitionProxy.js';
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
/** The standby CDC consumer's and the second renderer's probe ports. */
const STANDBY_CDC_PORT = 3924;
const SECOND_RENDERER_PORT = 3925;
const PRODUCT_ID = 'fault-drill';

export interface FaultRunOptions {
  quick: boolean;
  outDir: string;
  log: Logger;
}

/** How hard and how long: the full drill, and the short one CI runs. */
const SETTINGS = {
  full: {
    rate: 30,
    outageMs: 10_000,
    hangMs: { freeze: 40_000, partition: 30_000 },
    gapMs: 8_000,
    tailMs: 10_000,
    followEvery: 4,
  },
  // Hangs last as long here as in the full drill: shorter, they would end before the other
  // replica can take over (wal_sender_timeout and a retry for the CDC, measured 13-16 s; a
  // renderer's 20 s lease lapsing plus a sweep and a render, 21-22 s), and would test nothing
  // the kill -9 does not. A 20 s cut-off once made the renderer's takeover "never".
  quick: {
    rate: 12,
    outageMs: 4_000,
    hangMs: { freeze: 40_000, partition: 30_000 },
    gapMs: 3_000,
    tailMs: 3_000,
    followEvery: 3,
  },
};
/** Bounds: the drill never runs longer than this, whatever happens. */
const MAX_LOAD_MS = 15 * 60_000;
const CONVERGE_BOUND_MS = 180_000;

interface FaultRecord {
  name: string;
  /** From the fault to the component being back. */
  outageMs: number;
  /**
   * Freezes and cut-offs another replica covers: from the fault to the standby consumer
   * streaming, or to every order accepted before the fault having its voucher (the renderer's
   * jobs taken over). Undefined when that did not happen while the fault lasted.
   */
  takeoverMs?: number | undefined;
  /** From the component being back to every order accepted until then having its voucher. */
  convergedMs: number | undefined;
  /** Requests retried while it lasted (answered 503, or no answer). */
  retried: number;
  /** What was wrong right after it (e.g. two consumers streaming). */
  problem?: string;
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
  // Each CDC consumer, the first renderer and the first API reach Postgres (and the
  // consumers RabbitMQ) through a partition proxy of their own, which a partition fault cuts.
  const links = await startLinks(stack, ['cdc', 'cdc2', 'renderer', 'api1']);
  try {
    return await drill(stack, links, settings, { ...options, signal: interrupted.signal });
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    await stack.stop();
    for (const link of links.values()) await Promise.all([link.postgres.close(), link.rabbitmq?.close()]);
    log.info({ seconds: Math.round((Date.now() - started) / 1000) }, 'faults: stack stopped');
  }
}

async function drill(
  stack: BenchStack,
  links: Map<string, Link>,
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
  // Two CDC consumers (one streams, one stands by) and two renderers, as on Kubernetes.
  const cdcPorts: Record<string, number> = { cdc: FAULTS_LAYOUT.ports.cdc, cdc2: STANDBY_CDC_PORT };
  const roleOf = (port: number) => cdcRole(`http://127.0.0.1:${port}`);
  const supervisor = makeSupervisor((name) => {
    const link = links.get(name);
    const viaProxy = (variable: string, kind: 'postgres' | 'rabbitmq') => {
      const proxy = link?.[kind];
      const url = stack.vars[variable];
      return proxy && url ? { [variable]: proxy.rewrite(url) } : {};
    };
    const api = /^api(\d)$/.exec(name);
    if (api) {
      const port = { PORT: String(apiPorts[Number(api[1]) - 1]) };
      return stack.component('api', { ...port, ...viaProxy('API_DATABASE_URL', 'postgres') }, logFile(name));
    }
    if (name.startsWith('cdc')) {
      const env = {
        CDC_PORT: String(cdcPorts[name]),
        ...viaProxy('CDC_DATABASE_URL', 'postgres'),
        ...viaProxy('AMQP_URL', 'rabbitmq'),
      };
      // Both ready: the second one stands by.
      return stack.component('cdc', env, logFile(name));
    }
    const port = name === 'renderer2' ? { RENDERER_PORT: String(SECOND_RENDERER_PORT) } : {};
    return stack.component(
      'renderer',
      { ...port, ...viaProxy('RENDERER_DATABASE_URL', 'postgres') },
      logFile(name),
    );
  }, log);
  for (const name of ['cdc', 'cdc2', 'renderer', 'renderer2', 'api1', 'api2']) await supervisor.launch(name);
  const activeCdc = async () => {
    for (const name of Object.keys(cdcPorts))
      if ((await roleOf(cdcPorts[name] as number)) === 'active') return name;
    return undefined;
  };
  /** Undefined once exactly one consumer streams; else, past the bound, what they report. */
  const oneActiveCdc = async (boundMs: number) => {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const roles = await Promise.all(Object.values(cdcPorts).map(roleOf));
      if (roles.filter((role) => role === 'active').length === 1) return undefined;
      if (Date.now() > deadline || signal.aborted) return JSON.stringify(roles);
      await sleep(250);
    }
  };

  // Stock enough for the faults; after them it is cut so that the tail sells out for real.
  const putStock = (total: number) =>
    fetch(`${targets[0]}/api/admin/products/${PRODUCT_ID}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.vars['ADMIN_TOKEN']}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Fault drill', total }),
    });
  const setStock = async (total: number) => {
    const put = await putStock(total);
    if (put.status >= 300)
      throw new Error(`could not set the drill's stock: ${put.status} ${await put.text()}`);
  };
  /**
   * Leaves `room` units above what is reserved. Orders go on meanwhile: a total that more
   * orders than that overtook is refused (409 below_reserved, with what is reserved by then),
   * and set again above that.
   */
  const leaveRoom = async (room: number) => {
    const { rows } = await stack.owner.query<{ n: string }>(
      'select count(*) as n from crs.orders where product_id = $1',
      [PRODUCT_ID],
    );
    let total = Number(rows[0]?.n ?? 0) + room;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const put = await putStock(total);
      if (put.status < 300) return;
      const body = (await put.json()) as { error?: { code?: string; details?: { reserved?: number } } };
      if (body.error?.code !== 'below_reserved')
        throw new Error(`could not cut the stock: ${JSON.stringify(body)}`);
      total = (body.error.details?.reserved ?? total) + room;
    }
    throw new Error('could not cut the stock: orders kept overtaking it');
  };
  await setStock((MAX_LOAD_MS / 1000) * settings.rate);

  const secrets = await loadOrCreateSecrets(stateDir);
  /**
   * While a component hangs or is cut off: how soon the other replica takes over (the
   * standby consumer streams; every order accepted before the fault has its voucher),
   * watched until `until` passes.
   */
  const watchTakeover = (name: 'cdc' | 'renderer' | 'api', at: number, until: () => boolean, hung?: string) =>
    (async () => {
      while (!until() && !signal.aborted) {
        if (name === 'cdc') {
          const active = await activeCdc();
          if (active && active !== hung) return Date.now() - at;
        } else {
          const outstanding = await vouchersOutstanding(stack.owner, PRODUCT_ID, new Date(at)).catch(
            () => -1,
          );
          if (outstanding === 0) return Date.now() - at;
        }
        await sleep(250);
      }
      return undefined;
    })();
  /** Holds a fault for `ms`, timing the takeover meanwhile; `end` ends the fault. */
  const hold = async (name: 'cdc' | 'renderer' | 'api', ms: number, end: () => void, hung?: string) => {
    const at = Date.now();
    let over = false;
    const takeover = watchTakeover(name, at, () => over, hung);
    try {
      await sleep(ms, signal);
    } finally {
      over = true;
      end();
    }
    return { takeoverMs: await takeover };
  };
  const controls: FaultControls = {
    async killAndRestart(name) {
      await supervisor.restart(name === 'cdc' ? ((await activeCdc()) ?? 'cdc') : name, 'kill -9');
    },
    async freeze(name, ms) {
      const target = name === 'cdc' ? ((await activeCdc()) ?? 'cdc') : 'renderer';
      const child = supervisor.current(target);
      if (!child) throw new Error(`${target} is not running`);
      // A renderer is frozen (or cut off) while it runs a job: else nothing waits on a takeover.
      if (name === 'renderer') await whileRunningJobs(FAULTS_LAYOUT.ports.renderer);
      child.process.kill('SIGSTOP');
      return hold(name, ms, () => child.process.kill('SIGCONT'), target);
    },
    async partition(name, link, ms) {
      const target = name === 'cdc' ? ((await activeCdc()) ?? 'cdc') : name === 'api' ? 'api1' : 'renderer';
      const proxy = links.get(target)?.[link];
      if (!proxy) throw new Error(`${target} has no ${link} link to cut`);
      if (name === 'renderer') await whileRunningJobs(FAULTS_LAYOUT.ports.renderer);
      proxy.cut();
      // A consumer cut off from RabbitMQ keeps the slot (the feed waits): nobody takes over.
      const covered = name !== 'api' && link === 'postgres';
      if (!covered) {
        await sleep(ms, signal).finally(() => proxy.heal());
        return {};
      }
      return hold(name, ms, () => proxy.heal(), target);
    },
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
    for (const fault of faultPlan(settings.outageMs, settings.hangMs)) {
      await sleep(settings.gapMs, signal);
      stillOn();
      const before = retries(load);
      const at = Date.now();
      log.info(`faults: ${fault.name}`);
      const takeover = (await fault.inject(controls)) ?? {};
      const back = Date.now();
      const convergedMs = await converge(stack, back, signal);
      records.push({
        name: fault.name,
        outageMs: back - at,
        ...(fault.takeover && { takeoverMs: takeover.takeoverMs }),
        convergedMs,
        retried: retries(load) - before,
      });
      const tookOver = fault.takeover
        ? `, taken over ${takeover.takeoverMs === undefined ? 'NOT while it lasted' : `after ${seconds(takeover.takeoverMs)}`}`
        : '';
      log.info(
        `faults: ${fault.name}: back after ${seconds(back - at)}${tookOver}, converged ${convergedMs === undefined ? 'NOT within bound' : `after ${seconds(convergedMs)}`}`,
      );
      if (fault.name.startsWith('cdc')) {
        // A woken or healed consumer learns at its next look that the slot is not its own.
        const roles = await oneActiveCdc(30_000);
        if (roles)
          (records[records.length - 1] as FaultRecord).problem = `after it the consumers report ${roles}`;
      }
    }
    // Half of the tail's orders find stock: the drill ends sold out, under load.
    await leaveRoom(Math.round((settings.rate * settings.tailMs) / 2000));
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
        feed: {
          amqpUrl: stack.vars['AMQP_URL'] as string,
          stream: readChangeStream(stack.vars).name ?? 'crs.changes.stream',
        },
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
      if ('takeoverMs' in record && record.takeoverMs === undefined) {
        problems.push(`nobody took over while ${record.name} lasted`);
      }
      if (record.problem) problems.push(`${record.name}: ${record.problem}`);
    }

    const summary =
      `faults: ${tally.attempted} orders attempted, ${tally.reserved} accepted, ${tally.outOfStock} out of stock, ` +
      `${counts.ordersInPostgres} in Postgres, ${counts.vouchersRecorded} vouchers recorded, ` +
      `${counts.objectsInBucket} objects, ${counts.fetchable} fetchable, ` +
      `${followers.delivered.size}/${followers.followed} events delivered, ${counts.lost} lost, ` +
      `${counts.duplicated} duplicated, ${counts.oversold} oversold, ` +
      `change stream: ${counts.feedMissing} missing, ${counts.feedRepeated} repeated (same id), ` +
      `${tally.unavailable} answered 503 ` +
      `(retried), ${tally.connectionErrors} connection errors (retried), ${tally.replays} replays, ` +
      `${tally.unexpected.length} unexpected, ${supervisor.crashes.length} crashes; converged after: ` +
      records
        .map((r) => `${r.name} ${r.convergedMs === undefined ? 'never' : seconds(r.convergedMs)}`)
        .join(', ') +
      '; taken over after: ' +
      records
        .filter((r) => 'takeoverMs' in r)
        .map((r) => `${r.name} ${r.takeoverMs === undefined ? 'never' : seconds(r.takeoverMs)}`)
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
    // Healed, so the teardown's SIGTERMs are heard and answered.
    for (const link of links.values()) {
      link.postgres.heal();
      link.rabbitmq?.heal();
    }
  }
}

interface Link {
  postgres: PartitionProxy;
  rabbitmq?: PartitionProxy;
}

/** A proxy to Postgres for each component named (and to RabbitMQ for the CDC consumers). */
async function startLinks(stack: BenchStack, names: string[]): Promise<Map<string, Link>> {
  const postgres = stack.vars['DATABASE_URL'] as string;
  const rabbitmq = stack.vars['AMQP_URL'] as string;
  const links = new Map<string, Link>();
  for (const name of names) {
    links.set(name, {
      postgres: await startPartitionProxy(postgres),
      ...(name.startsWith('cdc') && { rabbitmq: await startPartitionProxy(rabbitmq) }),
    });
  }
  return links;
}

/** Returns as soon as the renderer on this port runs a job (at most ~5 s from now). */
async function whileRunningJobs(port: number) {
  for (let tries = 0; tries < 250; tries += 1) {
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) })
      .then((response) => response.text())
      .catch(() => '');
    if (/^crs_renderer_jobs_running [1-9]/m.test(metrics)) return;
    await sleep(20);
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
