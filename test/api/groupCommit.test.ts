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
  /** Lets the oldest running batch finish. */
  const releaseOldest = () => release.shift()?.();
  return { groupCommit, batches, releaseAll, releaseOldest };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('idle: an item goes at once, alone', async (t) => {
  const { groupCommit, batches, releaseAll } = recorder({ maxBatch: 10, maxInFlight: 2, maxQueued: 100 });
  const answer = groupCommit.submit(1);
  t.same(batches, [[1]], 'sent before any timer could fire');
  releaseAll();
  t.equal(await answer, 'done 1');
});

t.test(
  'under load a free slot waits, at most lingerMs, for a batch as big as the running ones',
  async (t) => {
    const { groupCommit, batches, releaseAll, releaseOldest } = recorder({
      maxBatch: 10,
      maxInFlight: 2,
      maxQueued: 100,
      lingerMs: 30,
    });
    const answers: Promise<string>[] = [];
    const submit = (i: number) => answers.push(groupCommit.submit(i));
    submit(0);
    t.same(batches, [[0]], 'nothing running: at once, even with a linger');
    submit(1);
    t.same(batches, [[0], [1]], 'running batches of one (light load): no wait either');
    for (let i = 2; i < 8; i += 1) submit(i);
    releaseAll();
    await tick();
    t.same(batches.slice(2), [[2, 3, 4, 5, 6, 7]], 'both slots were busy: the queue goes when one frees');

    // One batch of six runs; the free slot waits for six, not for the first to come back.
    submit(8);
    submit(9);
    await tick();
    t.equal(batches.length, 3, 'two of six: the free slot waits');
    const started = Date.now();
    while (batches.length < 4 && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 5));
    t.same(batches[3], [8, 9], 'after lingerMs what gathered goes');
    t.ok(Date.now() - started < 1_000, 'the wait is bounded by lingerMs, not by the running batch');

    // The six finish; [8, 9] runs on. A free slot waits only until two queue, with no timer.
    releaseOldest();
    await tick();
    submit(10);
    t.equal(batches.length, 4, 'one of two: waiting');
    submit(11);
    t.same(batches[4], [10, 11], 'as many as the running batch holds: at once');
    releaseAll();
    t.equal((await Promise.all(answers)).length, 12, 'every item answered');
    t.same(groupCommit.depth(), { queued: 0, inFlight: 0 });
  },
);

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
