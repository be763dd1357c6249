/**
 * `crs bench --quick` as CI runs it: the three scenarios, short, on the bench's own stack
 * (.data/bench, ports of its own). Only invariants are checked here, never speed: no oversell,
 * every buyer answered, every voucher stored and its event delivered, every intake request
 * answered as expected.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../common/paths.js';

const out = t.testdir();
const started = Date.now();
const child = spawn(
  process.execPath,
  ['--import=tsx', join(packageRoot, 'cli', 'run.ts'), 'bench', '--quick', '--out', out],
  {
    cwd: packageRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let stdout = '';
child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
t.comment(`crs bench --quick took ${Math.round((Date.now() - started) / 1000)} s`);

t.equal(code, 0, 'crs bench --quick exits 0 (no invariant broken)');
t.notMatch(stdout, /INVARIANT BROKEN/);
t.match(stdout, /^crs bench: 3 scenario\(s\) in \d+ s, 0 invariant\(s\) broken/m);

const read = async (name: string) =>
  (JSON.parse(await readFile(join(out, `${name}.json`), 'utf8')) as { result: unknown }).result;

t.test('intake: every request of every path answered as expected', async (t) => {
  type Cell = {
    variant: string;
    clients: number;
    cores?: number;
    answered: number;
    errors: number;
    cpu?: { stack: number; generator: number; byComponent: Record<string, number> };
  };
  const result = (await read('intake')) as {
    cells: Cell[];
    scalingCells: Cell[];
    cpuMicrosPerOrder: Record<string, unknown>;
    scaling: { cells: { cores: number }[] };
  };
  t.equal(result.cells.length, 10, 'five paths at two levels');
  for (const cell of result.cells) {
    t.equal(cell.errors, 0, `${cell.variant} at ${cell.clients} clients`);
    t.ok(cell.answered > 0, `${cell.variant} at ${cell.clients} clients answered`);
    // CPU accounted from /proc: the database is in every path, so a path's stack used some.
    const expected =
      cell.variant.includes('HTTP') && cell.variant !== 'HTTP ceiling' ? 'postgres' : undefined;
    t.ok(cell.cpu && cell.cpu.stack > 0, `${cell.variant} at ${cell.clients} clients: CPU per order counted`);
    if (expected) t.ok((cell.cpu?.byComponent[expected] ?? 0) > 0, `and ${expected} is in it`);
  }
  t.equal(result.scalingCells.length, 4, 'two paths, the stack on one core and on all');
  for (const cell of result.scalingCells) t.equal(cell.errors, 0, `${cell.variant} on ${cell.cores} core(s)`);
  t.same(
    result.scaling.cells.map((c) => c.cores),
    [1, availableParallelism()],
  );
  for (const key of ['batched', 'original', 'httpCeiling', 'databaseCeiling', 'originalDatabase']) {
    t.type(result.cpuMicrosPerOrder[key], 'number', `cpuMicrosPerOrder.${key}`);
  }
});

t.test('flash sale: exactly the stock, every buyer answered, every voucher stored', async (t) => {
  const r = (await read('flash-sale')) as Record<string, number>;
  t.equal(r['answered'], r['buyers'], 'every buyer answered');
  t.equal(r['reserved'], r['stock'], '201 answers = stock');
  t.equal(r['orders'], r['stock'], 'orders in Postgres = stock (no oversell)');
  t.equal(r['vouchers'], r['orders'], 'a voucher for every order');
  t.ok(r['refusedByFlag']! > 0, 'some refusals never reached Postgres');
  const slo = r as unknown as { sloCapacity: Record<string, number>; sloTrials: Record<string, number>[] };
  t.ok(slo.sloTrials.length >= 1, 'the SLO capacity search ran trials');
  for (const trial of slo.sloTrials) t.ok(trial['orders']! <= trial['stock']!, 'no trial oversold');
  t.ok(slo.sloCapacity['httpCeilingPerSecond']! > 0, 'the trivial route was measured in the same run');
});

t.test('pipeline: every order answered, every voucher stored and announced', async (t) => {
  const rates = (await read('pipeline')) as Record<string, number>[];
  t.equal(rates.length, 1);
  for (const r of rates) {
    t.equal(r['answered'], r['orders'], 'every order answered and in Postgres');
    t.equal(r['vouchersStored'], r['orders'], 'a voucher stored for every order');
    t.equal(r['vouchersReceived'], r['followed'], 'a voucher event for every followed order');
    t.ok(r['followed']! > 0, 'orders were followed');
  }
});

t.test('charts and tables are written', async (t) => {
  for (const file of [
    'intake-throughput.svg',
    'intake-latency.svg',
    'intake-scaling.svg',
    'flash-sale-latency.svg',
    'pipeline-latency.svg',
  ]) {
    t.match(await readFile(join(out, file), 'utf8'), /^<svg/, file);
  }
  t.match(await readFile(join(out, 'results.md'), 'utf8'), /### intake/);
});
