/**
 * `crs faults --quick` as CI runs it: every fault of the drill (crashes, outages, hangs and
 * partitions), with short outages, under a light load, on the drill's own stack (.data/faults, ports of its own), every component a
 * process of its own. Only invariants are checked (nothing lost, duplicated or oversold,
 * every voucher stored, announced and fetchable, every refusal a 503 that a retry cured),
 * never how fast the system converged.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { spawnCrs } from '../support/process.js';

const out = t.testdir();
const started = Date.now();
const drill = spawnCrs(t, ['faults', '--quick', '--out', out], {
  ...(process.env as Record<string, string>),
  LOG_LEVEL: 'warn',
});
const code = await drill.exited;
const stdout = drill.output();
t.comment(`crs faults --quick took ${Math.round((Date.now() - started) / 1000)} s`);
t.comment(stdout.split('\n').find((line) => line.startsWith('faults: ') && line.includes('attempted')) ?? '');

interface Result {
  tally: {
    attempted: number;
    reserved: number;
    outOfStock: number;
    undecided: number;
    unexpected: unknown[];
  };
  counts: Record<string, number>;
  faults: { name: string; convergedMs?: number; takeoverMs?: number }[];
  followers: { followed: number; delivered: number };
  problems: string[];
}
// Read before the first top-level assertion: tap ends its root test once it is idle after one,
// and the subtests below would come too late.
const written = await readFile(join(out, 'faults-quick.json'), 'utf8').catch(() => undefined);

if (code !== 0) t.comment(stdout.slice(-4000));
t.equal(code, 0, 'crs faults --quick exits 0 (no invariant broken)');
t.notMatch(stdout, /BROKEN/);
t.ok(written, 'the drill wrote its result');
const result = JSON.parse(
  written ?? '{"faults":[],"tally":{},"counts":{},"followers":{},"problems":[]}',
) as Result;

t.test('every fault happened and the system converged after each', async (t) => {
  t.equal(result.faults.length, 15, 'fifteen faults');
  for (const fault of result.faults) t.type(fault.convergedMs, 'number', `converged after ${fault.name}`);
});

t.test('hangs and cut-offs: another replica took over while each lasted', async (t) => {
  const covered = result.faults.filter((fault) => 'takeoverMs' in fault);
  t.same(
    covered.map((fault) => fault.name.replace(/ \d+ s$/, '')),
    ['cdc SIGSTOP', 'renderer SIGSTOP', 'cdc cut off from postgres', 'renderer cut off from postgres'],
  );
  for (const fault of covered) t.type(fault.takeoverMs, 'number', `taken over during ${fault.name}`);
});

t.test('accepted = in Postgres = recorded = stored = fetchable; nothing lost or doubled', async (t) => {
  const { tally, counts } = result;
  t.ok(tally.reserved > 0, 'orders were accepted');
  t.ok(tally.outOfStock > 0, 'the drill ended sold out');
  t.equal(tally.undecided, 0, 'every order decided');
  t.same(tally.unexpected, [], 'every refusal was a 503 or out of stock');
  t.equal(counts['ordersInPostgres'], tally.reserved);
  t.equal(counts['vouchersRecorded'], tally.reserved);
  t.equal(counts['objectsInBucket'], tally.reserved);
  t.equal(counts['fetchable'], tally.reserved);
  t.equal(counts['renderJobsLeft'], 0);
  t.equal(counts['lost'], 0);
  t.equal(counts['duplicated'], 0);
  t.equal(counts['oversold'], 0);
  t.equal(counts['feedMissing'], 0, 'every order in the change stream, no gap');
  t.equal(counts['feedConflicting'], 0, 'repeats in the change stream only under the same id');
  t.equal(result.followers.delivered, result.followers.followed, 'every followed voucher event delivered');
  t.same(result.problems, []);
});
