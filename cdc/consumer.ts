/**
 * The replication consumer behind `crs cdc`.
 *
 * One loop: make sure the slot exists (creating it means changes may have been missed, so
 * reconcile), stream from the slot's confirmed position, and for each batch of committed
 * transactions apply every effect (stock flag, render jobs, change feed) and only then
 * acknowledge the batch's end LSN. Any failure: the stream is dropped and started again from
 * the slot, so unacknowledged changes come again (effects are idempotent).
 *
 * Exclusivity is the slot itself, not a lock of ours: only one walsender can stream a slot, so
 * whoever's START_REPLICATION succeeds is the active consumer, and every other replica stands
 * by, asking again every CDC_STANDBY_RETRY_MS. A consumer that hangs (SIGSTOP, a stalled
 * event loop) or loses the network stops answering the server's keepalives; its walsender ends
 * after wal_sender_timeout, which frees the slot for a standby, whatever state the old
 * process's sockets are in (a session lock would be held until the server's TCP keepalive gave
 * up: hours). A woken old leader must not apply what it had in hand: before each batch it asks
 * Postgres who streams the slot (pg_replication_slots.active_pid) and stops unless it is its
 * own walsender. Between that check and the effects it can only freeze again with effects that
 * are harmless twice: flag values are versioned (an older one never overwrites a newer one),
 * render jobs are keyed by order id, and feed events carry stable ids (at least once).
 *
 * pg-logical-replication is used with its automatic acknowledgement and its timer both off:
 * by default it acknowledges every message as it arrives (before any effect is durable) and
 * again on a timer; and a reused service resumes from the last LSN it saw, not the last one
 * acknowledged. Here each stream gets a new service and starts at 0/0, which the server reads
 * as "from the slot's confirmed position".
 */
import { LogicalReplicationService } from 'pg-logical-replication';
import type { Redis } from 'ioredis';
import { backoffMs, sleep } from '../common/backoff.js';
import type { CdcConfig } from '../common/config.js';
import { isRetryable, pgSocketOptions, type Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import { EffectError, makeBatchApplier } from './applyBatch.js';
import type { ChangeFeed } from './changeFeed.js';
import { lsnNumber, lsnOf, type CdcMetrics } from './metrics.js';
import { TolerantPgoutputPlugin, type DecodedMessage } from './pgoutput.js';
import { reconcile } from './reconcile.js';
import { makeAssembler, type Transaction } from './transactions.js';

export interface CdcDeps {
  config: CdcConfig;
  pool: Pool;
  redis: Redis;
  feed: ChangeFeed;
  log: Logger;
  metrics: CdcMetrics;
  observe?: (kind: 'redis' | 'job', seconds: number) => void;
}

export type ConsumerRole = 'starting' | 'standby' | 'active' | 'stopped';

export interface Consumer {
  run(): Promise<void>;
  /** Finishes the batch in hand, acknowledges it and releases the slot. */
  stop(): Promise<void>;
  /** streaming: the replication stream is open (changes committed from now on are seen). */
  status(): {
    role: ConsumerRole;
    streaming: boolean;
    acknowledgedLsn: string | undefined;
    /** Set while the oldest received transaction has waited past CDC_STALL_MS. */
    stalled: { seconds: number; waitingOn: string } | undefined;
  };
  /**
   * Resolves true once every transaction whose commit record lies before `lsn` (e.g.
   * pg_current_wal_insert_lsn() read after a snapshot) has had its effects applied and been
   * acknowledged; false if that has not happened within `timeoutMs` (not streaming, or behind).
   */
  appliedThrough(lsn: string, timeoutMs: number): Promise<boolean>;
}

type Item = { kind: 'txn'; txn: Transaction; receivedAt: number } | { kind: 'keepalive'; lsn: string };

/** How long an answer "the slot is ours" is trusted (well below any wal_sender_timeout). */
const FENCE_FRESH_MS = 500;

/** Another process streams the slot: stand by (not a failure). */
class SlotBusyError extends Error {}

/**
 * Postgres is going away (a shutdown or restart, a failover) or out of reach while a batch
 * needs it. Retrying in place would hold the stream open, and a stopping server waits for its
 * walsender, which waits for us to confirm what it sent: a shutdown stuck for pg_ctl's whole
 * timeout. So the stream is dropped, the walsender ends, and whatever
 * was not applied comes again from the slot.
 */
const needsNewStream = (err: unknown) =>
  err instanceof EffectError ? err.dependency === 'postgres' && isRetryable(err.cause) : isRetryable(err);

/** START_REPLICATION on a slot another walsender streams: SQLSTATE 55006 (object_in_use). */
const isSlotInUse = (err: unknown) => (err as { code?: string } | undefined)?.code === '55006';

export function makeConsumer(deps: CdcDeps): Consumer {
  const { config, log, metrics } = deps;
  const applyBatch = makeBatchApplier({ ...deps, onStep: (step) => (waitingOn = step) });
  const stopping = new AbortController();
  let role: ConsumerRole = 'starting';
  /** Told once that another consumer streams the slot (not at every retry). */
  let standingBy = false;
  let acknowledgedLsn: string | undefined;
  let streaming = false;
  let running: Promise<void> | undefined;
  // The watchdog's view: since when the oldest transaction received and not yet applied has
  // waited (kept across stream restarts: the same transactions come again), and what the
  // consumer waits on now.
  let unappliedSince: number | undefined;
  let waitingOn = 'nothing';
  const stalled = () =>
    unappliedSince !== undefined && Date.now() - unappliedSince > config.stallMs
      ? { seconds: Math.round((Date.now() - unappliedSince) / 1000), waitingOn }
      : undefined;
  /** Said once: the slot is past max_slot_wal_keep_size and will be invalidated at a checkpoint. */
  let warnedUnreserved = false;
  /** Asks the server for its position now (a keepalive comes back and is acknowledged). */
  let askPosition: () => void = () => undefined;

  async function ensureSlot(): Promise<boolean> {
    const { rows } = await deps.pool.query<{ wal_status: string | null }>(
      'select wal_status from pg_replication_slots where slot_name = $1',
      [config.slotName],
    );
    const walStatus = rows[0]?.wal_status;
    if (walStatus === 'lost') {
      // Invalidated (it fell max_slot_wal_keep_size behind): START_REPLICATION would fail at
      // every try, for ever. What it held is gone anyway, so the slot is made anew and the
      // tables reconciled, as for a slot that was dropped (alert CrsLogicalSlotLost).
      log.error(
        { slot: config.slotName },
        'replication slot invalidated (max_slot_wal_keep_size exceeded); dropping it to start again',
      );
      await deps.pool
        .query('select pg_drop_replication_slot($1)', [config.slotName])
        .catch((err: unknown) => {
          // Another replica dropped it a moment ago (undefined_object): it is gone either way.
          if ((err as { code?: string }).code !== '42704') throw err;
        });
    } else if (rows.length > 0) {
      if (walStatus === 'unreserved' && !warnedUnreserved) {
        warnedUnreserved = true;
        log.warn(
          { slot: config.slotName },
          'replication slot about to be invalidated: WAL it needs is past max_slot_wal_keep_size',
        );
      }
      return false;
    }
    // PostgreSQL 17+ can keep a logical slot on the standbys (sync_replication_slots) so it
    // survives a failover, but only a slot created with failover = true; before 17 the
    // argument does not exist (and a failover means a new slot and a reconcile).
    const { rows: version } = await deps.pool.query<{ n: number }>(
      "select current_setting('server_version_num')::int as n",
    );
    const failover = (version[0]?.n ?? 0) >= 170000;
    try {
      await deps.pool.query(
        failover
          ? `select pg_create_logical_replication_slot($1, 'pgoutput', false, false, true)`
          : `select pg_create_logical_replication_slot($1, 'pgoutput')`,
        [config.slotName],
      );
    } catch (err) {
      // Another replica created it a moment ago (duplicate_object): it reconciles.
      if ((err as { code?: string }).code === '42710') return false;
      throw err;
    }
    log.warn(
      { slot: config.slotName, failover },
      'replication slot created; reconciling what it cannot replay',
    );
    return true;
  }

  /** Which walsender streams the slot now (undefined: none). */
  async function slotHolder(): Promise<number | undefined> {
    const { rows } = await deps.pool.query<{ pid: number | null }>(
      'select active_pid as pid from pg_replication_slots where slot_name = $1',
      [config.slotName],
    );
    return rows[0]?.pid ?? undefined;
  }

  /** One replication stream, until it ends, fails, the slot is lost to another, or we stop. */
  async function stream() {
    const service = new LogicalReplicationService(
      {
        connectionString: config.databaseUrl,
        application_name: 'crs-cdc',
        ...pgSocketOptions(config.network),
      },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } },
    );
    const plugin = new TolerantPgoutputPlugin({
      protoVersion: 1,
      publicationNames: [config.publicationName],
    });
    // The LSN of the message being assembled, so a skipped one can be found again in the WAL
    // (pg_logical_slot_peek_binary_changes, pg_waldump).
    let messageLsn = '';
    const assembler = makeAssembler((reason) => {
      metrics.skipped.inc();
      log.warn({ reason, lsn: messageLsn }, 'replication message skipped');
    });
    const queue: Item[] = [];
    let failure: unknown;
    let ended = false;
    let wake: () => void = () => undefined;
    const woken = () => new Promise<void>((resolve) => (wake = resolve));
    let nextWake = woken();
    const notify = () => {
      wake();
      nextWake = woken();
    };

    /**
     * Tells the server everything before `lsn` is done. pg-logical-replication reports the
     * LSN it is given plus one (as for a physical standby's "last byte + 1"); a logical
     * client reports the position itself (Postgres' own subscriber reports the commit's end
     * LSN). Plus one would skip, after a restart, a commit record that starts exactly there,
     * and a stopping server waits until the reported position equals what it sent (WalSndDone):
     * one byte past it, a shutdown hangs for pg_ctl's whole timeout.
     */
    const report = (lsn: string, ping = false) => {
      const n = lsnNumber(lsn);
      if (n === 0) return Promise.resolve(false);
      return service.acknowledge(lsnOf(n - 1), ping);
    };
    const acknowledge = async (lsn: string) => {
      if (acknowledgedLsn && lsnNumber(lsn) <= lsnNumber(acknowledgedLsn)) return;
      await report(lsn);
      acknowledgedLsn = lsn;
      metrics.acknowledgedLsn.set(lsnNumber(lsn));
    };

    // When the server was last heard (data or keepalive): a partition or a hung server sends
    // nothing, and the socket may never say so.
    let lastHeard = Date.now();
    service.on('data', (lsn: string, message: DecodedMessage) => {
      lastHeard = Date.now();
      // Stopping: finish what was received, take nothing new (it is not acknowledged, so
      // whoever streams next gets it).
      if (stopping.signal.aborted) return;
      let txn: Transaction | undefined;
      try {
        messageLsn = lsn;
        txn = assembler.push(message);
      } catch (err) {
        // Thrown here it would end the process (this runs in pg's socket reader), at every
        // restart: skip the message instead, like one that cannot be decoded.
        metrics.skipped.inc();
        log.warn({ err, lsn, tag: message.tag }, 'replication message skipped');
        return;
      }
      if (!txn) return;
      unappliedSince ??= Date.now();
      queue.push({ kind: 'txn', txn, receivedAt: Date.now() });
      if (queue.length >= config.queueMax && !failure) {
        // Backpressure: drop the stream; what is not acknowledged comes again later.
        failure = new Error(`more than ${config.queueMax} transactions waiting; restarting the stream`);
      }
      notify();
    });
    service.on('heartbeat', (lsn: string, _time: number, shouldRespond: boolean) => {
      lastHeard = Date.now();
      // Answer with what is really done, never with what was merely received.
      if (shouldRespond && acknowledgedLsn) report(acknowledgedLsn).catch(() => undefined);
      // Between transactions everything before this point has been received: once the queue
      // ahead of it is handled, the slot may move here (so idle WAL is not retained).
      if (!assembler.open) {
        queue.push({ kind: 'keepalive', lsn });
        notify();
      }
    });
    // Our walsender, once streaming: what pg_replication_slots.active_pid must still say
    // before each batch is applied.
    let walsender: Promise<number | undefined> | undefined;
    service.on('start', () => {
      streaming = true;
      role = 'active';
      metrics.leader.set(1);
      standingBy = false;
      log.info({ slot: config.slotName }, 'active consumer: streaming the slot');
      // Not known, no batch may be applied: a failed look restarts the stream.
      walsender = slotHolder().catch((err: unknown) => {
        failure ??= err;
        notify();
        return undefined;
      });
    });
    // An idle server says where it is only every wal_sender_timeout / 2; a status update with
    // "reply requested" gets its keepalive (with its position) at once. Only what is done is
    // ever reported, as for every acknowledgement.
    askPosition = () => {
      if (acknowledgedLsn) report(acknowledgedLsn, true).catch(() => undefined);
    };
    service.on('error', (err: unknown) => {
      failure ??= err;
      notify();
    });
    /**
     * Throws SlotBusyError when another walsender streams the slot (we were cut off). Asked
     * again only when FENCE_FRESH_MS have passed since the last answer (monotonic time, which
     * runs on while a process is frozen): losing the slot takes wal_sender_timeout (seconds)
     * without a word from us, so under load a query per batch would only repeat the answer.
     */
    let verifiedAt = -Infinity;
    const ensureStillStreaming = async () => {
      if (performance.now() - verifiedAt < FENCE_FRESH_MS) return;
      const mine = await walsender;
      const holder = await slotHolder();
      if (mine === undefined || holder !== mine) {
        throw new SlotBusyError(
          `the slot is streamed by walsender ${holder ?? 'none'}, not ours (${mine ?? 'unknown'}): ` +
            'another consumer took over while this one was cut off or frozen',
        );
      }
      verifiedAt = performance.now();
    };

    const subscription = service.subscribe(plugin, config.slotName, '0/00000000').then(
      () => {
        ended = true;
        notify();
      },
      (err: unknown) => {
        failure ??= err;
        notify();
      },
    );
    const onStop = () => notify();
    stopping.signal.addEventListener('abort', onStop);
    // A stop that came before the listener (while the stream was being opened) counts too.
    if (stopping.signal.aborted) notify();

    // The watchdog, every second: a silent server is asked for its position, and after
    // CDC_STREAM_TIMEOUT_MS of silence the stream is given up (it is probably cut off); a
    // transaction waiting past CDC_STALL_MS is reported (log, /readyz, metrics) and the stream
    // restarted. Every wait inside a batch is bounded (query, command and confirm timeouts),
    // so the loop sees the failure within one of them.
    let stallReported = false;
    const watchdog = setInterval(() => {
      const silentMs = Date.now() - lastHeard;
      if (streaming && silentMs > config.streamTimeoutMs / 2) askPosition();
      if (!failure && silentMs > config.streamTimeoutMs) {
        failure = new Error(`nothing heard from the server for ${silentMs} ms; restarting the stream`);
        notify();
        service.stop().catch(() => undefined);
      }
      const age = unappliedSince === undefined ? 0 : (Date.now() - unappliedSince) / 1000;
      metrics.oldestUnappliedSeconds.set(age);
      const stall = stalled();
      if (stall && !stallReported) {
        stallReported = true;
        metrics.stalls.inc();
        log.error(
          { waitingOn: stall.waitingOn, seconds: stall.seconds, queued: queue.length },
          'a committed transaction has waited too long to be applied; restarting the stream',
        );
        failure ??= new Error(`stalled for ${stall.seconds} s waiting on ${stall.waitingOn}`);
        notify();
      }
    }, 1_000);
    watchdog.unref();

    try {
      for (;;) {
        if (failure) throw failure;
        const batch: Transaction[] = [];
        let keepalive: string | undefined;
        while (queue.length > 0 && batch.length < config.batchMax) {
          const item = queue[0] as Item;
          if (item.kind === 'keepalive') {
            if (batch.length > 0) break;
            queue.shift();
            keepalive = item.lsn;
            continue;
          }
          queue.shift();
          batch.push(item.txn);
        }
        const nextUnapplied = () => {
          const first = queue.find((item) => item.kind === 'txn');
          return first?.kind === 'txn' ? first.receivedAt : undefined;
        };
        if (batch.length > 0) {
          for (let attempt = 0; ; attempt += 1) {
            try {
              waitingOn = "the slot's holder (postgres)";
              await ensureStillStreaming();
              await applyBatch(batch);
              break;
            } catch (err) {
              if (failure) throw failure;
              if (err instanceof SlotBusyError || needsNewStream(err)) throw err;
              log.warn({ err, attempt, transactions: batch.length }, 'batch not applied; retrying');
              waitingOn = `a retry after: ${err instanceof Error ? err.message : String(err)}`;
              await sleep(backoffMs(attempt), stopping.signal);
              if (stopping.signal.aborted) throw new Error('stopped with a batch not applied');
            }
          }
          waitingOn = 'the acknowledgement';
          await acknowledge((batch[batch.length - 1] as Transaction).endLsn);
          unappliedSince = nextUnapplied();
          waitingOn = 'nothing';
          continue;
        }
        if (keepalive && queue.length === 0) {
          await acknowledge(keepalive);
          metrics.lagSeconds.set(0);
          continue;
        }
        if (queue.length > 0) continue;
        if (stopping.signal.aborted || ended) return;
        await nextWake;
      }
    } finally {
      clearInterval(watchdog);
      streaming = false;
      askPosition = () => undefined;
      stopping.signal.removeEventListener('abort', onStop);
      await service.stop().catch(() => undefined);
      await subscription;
    }
  }

  async function run() {
    let attempt = 0;
    while (!stopping.signal.aborted) {
      try {
        if (await ensureSlot()) {
          metrics.reconciles.inc({ reason: 'slot_created' });
          const result = await reconcile(deps);
          log.info(result, 'reconciled after creating the slot');
        }
        // Told to stop while it made its slot or reconciled: do not start streaming.
        if (stopping.signal.aborted) break;
        await stream();
        attempt = 0;
      } catch (err) {
        if (stopping.signal.aborted) break;
        const wasActive = role === 'active';
        role = 'standby';
        metrics.leader.set(0);
        if (isSlotInUse(err) || err instanceof SlotBusyError) {
          if (wasActive) log.warn({ err }, 'lost the slot to another consumer; standing by');
          else if (!standingBy)
            log.info({ slot: config.slotName }, 'another consumer streams the slot; standing by');
          standingBy = true;
          attempt = 0;
          await sleep(config.standbyRetryMs, stopping.signal);
          continue;
        }
        metrics.reconnects.inc();
        const wait = backoffMs(attempt++, 200, 5_000);
        log.warn({ err, retryInMs: Math.round(wait) }, 'replication stream ended; starting again');
        await sleep(wait, stopping.signal);
      }
    }
    role = 'stopped';
    unappliedSince = undefined;
    metrics.leader.set(0);
  }

  return {
    run() {
      running ??= run();
      return running;
    },
    async stop() {
      stopping.abort();
      await running;
    },
    status: () => ({ role, streaming, acknowledgedLsn, stalled: stalled() }),
    async appliedThrough(lsn, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const target = lsnNumber(lsn);
      for (;;) {
        if (acknowledgedLsn && lsnNumber(acknowledgedLsn) >= target) return true;
        if (Date.now() >= deadline || stopping.signal.aborted) return false;
        askPosition();
        await sleep(Math.min(200, Math.max(0, deadline - Date.now())), stopping.signal);
      }
    },
  };
}
