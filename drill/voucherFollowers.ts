/**
 * Customers waiting for their voucher the way the page does: an event stream per order that,
 * when it breaks (its API instance restarted, RabbitMQ away), is opened again on the next
 * instance. A voucher stored while nobody listened must still arrive: the API checks the
 * database first on every subscription.
 */
import { setMaxListeners } from 'node:events';
import { sleep } from '../common/backoff.js';

export interface VoucherFollowers {
  follow(orderId: string, token: string): void;
  /** Order ids whose `voucher` event arrived. */
  delivered: Set<string>;
  /** Order ids still waiting. */
  waiting(): string[];
  followed: number;
  /** Streams opened again after a break. */
  reconnects: number;
  /** Waits until every followed order got its event, or the deadline passes; then closes all. */
  finish(deadline: number): Promise<void>;
}

export function makeVoucherFollowers(targets: string[]): VoucherFollowers {
  const delivered = new Set<string>();
  const followedIds: string[] = [];
  const running = new Set<Promise<void>>();
  const abort = new AbortController();
  // Every open stream listens on this one signal.
  setMaxListeners(0, abort.signal);
  let followed = 0;
  let reconnects = 0;

  async function followOne(orderId: string, token: string, first: number) {
    for (let attempt = 0; !abort.signal.aborted; attempt += 1) {
      const target = targets[(first + attempt) % targets.length] as string;
      if (attempt > 0) reconnects += 1;
      try {
        const response = await fetch(
          `${target}/api/orders/${orderId}/events?token=${encodeURIComponent(token)}`,
          { headers: { accept: 'text/event-stream' }, signal: abort.signal },
        );
        if (response.ok && response.body) {
          const decoder = new TextDecoder();
          let text = '';
          for await (const chunk of response.body) {
            text += decoder.decode(chunk as Uint8Array, { stream: true });
            if (text.includes('event: voucher')) {
              delivered.add(orderId);
              await response.body.cancel().catch(() => undefined);
              return;
            }
          }
        } else {
          await response.body?.cancel().catch(() => undefined);
        }
      } catch {
        // refused, reset or aborted: open it again below
      }
      if (!abort.signal.aborted) await sleep(500 + Math.random() * 1000);
    }
  }

  return {
    delivered,
    get followed() {
      return followed;
    },
    get reconnects() {
      return reconnects;
    },
    waiting: () => followedIds.filter((orderId) => !delivered.has(orderId)),
    follow(orderId, token) {
      followed += 1;
      followedIds.push(orderId);
      const following = followOne(orderId, token, followed);
      running.add(following);
      void following.finally(() => running.delete(following));
    },
    async finish(deadline) {
      while (running.size > 0 && Date.now() < deadline) await sleep(250);
      abort.abort();
      await Promise.all(running);
    },
  };
}
