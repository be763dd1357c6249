/**
 * Exactly one active consumer per slot: the active one holds a session-level advisory lock on
 * a connection of its own; standbys try for it every second. When the active process dies its
 * session ends, the lock is free and a standby takes over. (The slot is exclusive too: a
 * second walsender on it is refused, so even a stale leader cannot double-consume.)
 */
import pg from 'pg';
import type { Logger } from '../common/log.js';

export interface Leadership {
  /** Resolves once this process is the leader, or with false if `signal` aborted first. */
  acquire(signal: AbortSignal): Promise<boolean>;
  /** Rejects-free promise that settles when leadership is lost (its connection ended). */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

export function makeLeadership(options: {
  connectionString: string;
  slotName: string;
  log: Logger;
  retryMs?: number;
}): Leadership {
  let client: pg.Client | undefined;
  let markLost: () => void = () => undefined;
  let lost = new Promise<void>((resolve) => (markLost = resolve));
  const retryMs = options.retryMs ?? 1_000;

  return {
    get lost() {
      return lost;
    },
    async acquire(signal) {
      let announced = false;
      while (!signal.aborted) {
        try {
          if (!client) {
            const fresh = new pg.Client({
              connectionString: options.connectionString,
              application_name: 'crs-cdc-leadership',
            });
            fresh.on('error', (err) => options.log.warn({ err }, 'leadership connection error'));
            await fresh.connect();
            client = fresh;
          }
          const { rows } = await client.query<{ ok: boolean }>(
            `select pg_try_advisory_lock(hashtextextended('crs.cdc:' || $1, 0)) as ok`,
            [options.slotName],
          );
          if (rows[0]?.ok) {
            lost = new Promise<void>((resolve) => (markLost = resolve));
            const held = client;
            held.once('end', () => {
              if (client === held) client = undefined;
              markLost();
            });
            return true;
          }
          if (!announced) {
            options.log.info({ slot: options.slotName }, 'another consumer is active; standing by');
            announced = true;
          }
        } catch (err) {
          options.log.warn({ err }, 'could not try for leadership; retrying');
          await client?.end().catch(() => undefined);
          client = undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
      return false;
    },
    async release() {
      const held = client;
      client = undefined;
      await held?.end().catch(() => undefined);
    },
  };
}
