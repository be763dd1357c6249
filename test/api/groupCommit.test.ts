/**
 * The group commit's own rules, with a `run` that records its batches: no wait when idle,
 * batches bounded, failures confined to their batch, a bounded queue.
 */
import t from 'tap';
import { QueueFullError, makeGroupCommit } from '../../api/orders/groupCommit.js';

function recorder(options: {
  maxBatch: number;
  maxInFlight: number;
  maxQueued: number;
  lingerMs?: number;
  failOn?: number;
}) {
  const batches: number[][] = [];
  let release: (() => void)[] = [];
  const groupCommit = makeGroupCommit<number, string>({
    ...options,
    async run(items) {
      batches.push(items);
      // Each batch waits until the test lets it go, so the test decides what is in flight.
      await new Promise<void>((resolve) => release.push(resolve));
      if (options.failOn !== undefined && items.includes(options.failOn)) throw new Error('batch failed');
      return items.map((i) => `done ${i}`);
    },
  });
  const releaseAll = () => {
    const now = release;
    release = [];
    for (const go of now) go();
  };
  return { groupCommit, batches, releaseAll };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('idle: an item goes at once, alone', async (t) => {
  const { groupCommit, batches, releaseAll } = recorder({ maxBatch: 10, maxInFlight: 2, maxQueued: 100 });
  const answer = groupCommit.submit(1);
  t.same(batches, [[1]], 'sent before any timer could fire');
  releaseAll();
  t.equal(await answer, 'done 1');
});

t.test('under load a free slot gathers for lingerMs, never longer; idle it never waits', async (t) => {
  const { groupCommit, batches, releaseAll } = recorder({
    maxBatch: 10,
    maxInFlight: 2,
    maxQueued: 100,
    lingerMs: 30,
  });
  const first = groupCommit.submit(0);
  t.same(batches, [[0]], 'nothing running: at once, even with a linger');
  // One batch runs: the second slot is free but gathers instead of sending 1 alone.
  const gathered = [1, 2, 3].map((i) => groupCommit.submit(i));
  await tick();
  t.same(batches, [[0]], 'the free slot waits for more');
  const started = Date.now();
  while (batches.length < 2 && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 5));
  t.same(batches, [[0], [1, 2, 3]], 'after the linger, what gathered goes as one batch');
  t.ok(Date.now() - started < 1_000, 'the wait is bounded by lingerMs, not by the running batch');
  releaseAll();
  t.same(await Promise.all([first, ...gathered]), ['done 0', 'done 1', 'done 2', 'done 3']);

  // A full batch does not wait.
  const running = groupCommit.submit(100);
  const full = Array.from({ length: 10 }, (_, i) => groupCommit.submit(200 + i));
  t.same(batches.slice(2), [[100], full.map((_, i) => 200 + i)], 'maxBatch reached: sent at once');
  releaseAll();
  await Promise.all([running, ...full]);
  t.same(groupCommit.depth(), { queued: 0, inFlight: 0 });
});

t.test('busy: waiting items form batches of at most maxBatch, in arrival order', async (t) => {
  const { groupCommit, batches, releaseAll } = recorder({ maxBatch: 3, maxInFlight: 1, maxQueued: 100 });
  const answers = Array.from({ length: 8 }, (_, i) => groupCommit.submit(i));
  t.same(groupCommit.depth(), { queued: 7, inFlight: 1 });
  for (let round = 0; round < 4; round += 1) {
    releaseAll();
    await tick();
  }
  t.same(batches, [[0], [1, 2, 3], [4, 5, 6], [7]]);
  t.same(
    await Promise.all(answers),
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `done ${i}`),
  );
  t.same(groupCommit.depth(), { queued: 0, inFlight: 0 });
});

t.test('a failed batch fails its own items only', async (t) => {
  const { groupCommit, releaseAll } = recorder({ maxBatch: 2, maxInFlight: 1, maxQueued: 100, failOn: 2 });
  const answers = [0, 1, 2, 3, 4].map((i) => groupCommit.submit(i).catch((err: Error) => err.message));
  for (let round = 0; round < 3; round += 1) {
    releaseAll();
    await tick();
  }
  t.same(await Promise.all(answers), ['done 0', 'batch failed', 'batch failed', 'done 3', 'done 4']);
});

t.test('beyond maxQueued waiting items, submit refuses at once', async (t) => {
  const { groupCommit, releaseAll } = recorder({ maxBatch: 10, maxInFlight: 1, maxQueued: 2 });
  const accepted = [groupCommit.submit(1), groupCommit.submit(2), groupCommit.submit(3)];
  await t.rejects(groupCommit.submit(4), QueueFullError);
  releaseAll();
  await tick();
  releaseAll();
  t.same(await Promise.all(accepted), ['done 1', 'done 2', 'done 3']);
});
