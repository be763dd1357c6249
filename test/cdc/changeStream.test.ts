/**
 * The change feed kept in its RabbitMQ stream, for consumers that come later: one started after
 * 1,000 orders reads every one of them from `first`, in commit order; one restarted from a
 * saved offset reads from there on; a time reads from that time. Then `crs cdc tail` and the
 * guide's example consumer (docs/examples/change-feed-consumer.ts), as people run them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import t from 'tap';
import { readChangeStream, type StreamRecord, type StreamStart } from '../../cdc/changeStream.js';
import { lsnKey } from '../../common/stockFlag.js';
import { readNetwork } from '../../common/config.js';
import { packageRoot } from '../../common/paths.js';
import { makeTestDatabase } from '../support/database.js';
import { placeOrders, startTestCdc, waitFor } from '../support/cdc.js';
import { makeTestVhost, startTestRedis } from '../support/services.js';

const db = await makeTestDatabase(t);
const redisServer = await startTestRedis(t);
const amqpUrl = await makeTestVhost(t);
const redis = new Redis(redisServer.url);
t.teardown(() => redis.disconnect());
await startTestCdc(t, db, { redisUrl: redisServer.url, amqpUrl });
const STREAM = 'crs.changes.stream';

async function read(from: StreamStart, types: string[] = []): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  await readChangeStream({
    url: amqpUrl,
    network: readNetwork({}),
    stream: STREAM,
    from,
    follow: false,
    types,
    onEvent: (record) => void records.push(record),
  });
  return records;
}
const orderIdOf = (record: StreamRecord) => (record.event.data as { orderId: string }).orderId;

/** Runs `crs` with `args`; its output and exit code. */
function crs(
  args: string[],
  env: Record<string, string>,
  until?: (stdout: string) => boolean,
  onStderr?: (stderr: string) => void,
) {
  const child = spawn(process.execPath, ['--import=tsx', join(packageRoot, 'cli', 'run.ts'), ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (until?.(stdout)) child.kill('SIGINT');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onStderr?.(stderr);
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

await db.owner.query(`select crs.upsert_product('streamed', 'Streamed', 2000)`);
const first = await placeOrders(db, { productId: 'streamed', count: 1000, concurrency: 16 });

t.test('a consumer started after 1,000 orders reads all of them from first, in commit order', async (t) => {
  t.equal(first.reserved.length, 1000);
  const records = await waitFor('1,000 order.created events in the stream', async () => {
    const found = await read('first', ['order.created']);
    return found.length >= 1000 ? found : undefined;
  });
  t.equal(records.length, 1000, 'no more, no less (no fault here to repeat any)');
  t.same(new Set(records.map(orderIdOf)), new Set(first.reserved), 'every order, none missing');
  let disorder = 0;
  for (let i = 1; i < records.length; i += 1) {
    const [a, b] = [records[i - 1]!, records[i]!];
    const before = [lsnKey(String(a.event['commitlsn'])), Number(a.event['txposition'])] as const;
    const after = [lsnKey(String(b.event['commitlsn'])), Number(b.event['txposition'])] as const;
    if (b.offset <= a.offset || after[0] < before[0] || (after[0] === before[0] && after[1] <= before[1])) {
      disorder += 1;
    }
  }
  t.equal(disorder, 0, 'offsets and (commitlsn, txposition) both increase');
  t.ok(
    records.every((r) => r.event.type === 'crs.order.created.v2' && r.event.subject === orderIdOf(r)),
    'typed and about its order',
  );
});

t.test('restarted from a saved offset, a consumer reads from there on', async (t) => {
  const all = await read('first');
  t.ok(all.length > 1000, `${all.length} events (orders and stock)`);
  const saved = all[599]!.offset;
  const resumed = await read({ offset: saved + 1 });
  t.same(
    resumed.map((r) => r.event.id),
    all.slice(600).map((r) => r.event.id),
    'exactly the events after the saved one',
  );
  t.same(
    await read({ offset: all[all.length - 1]!.offset + 1 }),
    [],
    'past the end: nothing, and it returns',
  );
});

t.test('from a time: the events from then on', async (t) => {
  const before = await read('first');
  // Stream chunks carry the time they were written (to the second): leave a gap, then a wave.
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  const since = new Date(Date.now() - 1_000);
  const wave = await placeOrders(db, { productId: 'streamed', count: 20 });
  await waitFor('the wave in the stream', async () => {
    const ids = new Set((await read('first', ['order.created'])).map(orderIdOf));
    return wave.reserved.every((id) => ids.has(id)) || undefined;
  });
  const fromTime = await read({ time: since }, ['order.created']);
  t.same(new Set(fromTime.map(orderIdOf)), new Set(wave.reserved), 'only the wave');
  const oldIds = new Set(before.map((r) => r.event.id));
  t.notOk(
    fromTime.some((r) => oldIds.has(r.event.id)),
    'nothing from before the time',
  );
});

t.test('crs cdc tail prints CloudEvents as JSON lines, filtered by type, and follows', async (t) => {
  const env = { AMQP_URL: amqpUrl };
  const tail = await crs(['cdc', 'tail', '--from', 'first', '--type', 'order.*'], env);
  t.equal(tail.code, 0, tail.stderr);
  const lines = tail.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.equal(lines.length, 1020, 'the 1,020 orders, no stock.changed');
  t.ok(lines.every((line) => line['specversion'] === '1.0' && line['type'] === 'crs.order.created.v2'));
  t.ok(
    lines.every((line) => Number.isInteger(line['streamoffset'])),
    'each with its stream offset',
  );
  t.match(tail.stderr, /1020 events, last offset \d+/);

  const last = lines[lines.length - 1]!;
  const after = await crs(['cdc', 'tail', '--from', String(Number(last['streamoffset']) + 1)], env);
  t.equal(after.code, 0);
  t.notOk(after.stdout.includes('crs.order.created.v2'), 'from an offset: only what came after it');

  const refused = await crs(['cdc', 'tail', '--from', 'yesterday'], env);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /--from: "yesterday" is not a place in the stream/);
  const unknownType = await crs(['cdc', 'tail', '--type', 'Order!'], env);
  t.equal(unknownType.code, 1);
  t.match(unknownType.stderr, /--type: "Order!" is not a topic pattern/);

  // --follow: a new order appears, then Ctrl-C ends it cleanly.
  let ready!: () => void;
  const attached = new Promise<void>((resolve) => (ready = resolve));
  const following = crs(
    ['cdc', 'tail', '--from', 'next', '--follow', '--type', 'order.created'],
    env,
    (out) => out.includes('"subject":"o-f0110e-'),
    (err) => err.includes('following (Ctrl-C to stop)') && ready(),
  );
  await attached;
  await placeOrders(db, { productId: 'streamed', count: 1, prefix: 'f0110e' });
  const followed = await following;
  t.equal(followed.code, 0, 'stopped by Ctrl-C, exit 0');
  const seen = followed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { subject: string });
  t.same(
    seen.map((e) => e.subject),
    ['o-f0110e-0'],
    'only the new order',
  );
});

t.test("the guide's example consumer reads everything, and resumes where it stopped", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'crs-feed-consumer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const offsetFile = join(dir, 'offset');
  const example = join(packageRoot, 'docs', 'examples', 'change-feed-consumer.ts');
  const run = (max: number) =>
    new Promise<{ code: number | null; lines: { offset: number; id: string; type: string }[] }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import=tsx', example, '--offset-file', offsetFile, '--max', String(max)],
        {
          env: { PATH: process.env['PATH'] ?? '', AMQP_URL: amqpUrl },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', (code) =>
        resolve({
          code,
          lines: out
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line)),
        }),
      );
    });
  const all = await read('first');
  const firstRun = await run(700);
  t.equal(firstRun.code, 0);
  t.equal(firstRun.lines.length, 700);
  t.equal(
    Number(readFileSync(offsetFile, 'utf8')),
    firstRun.lines[699]!.offset,
    'the offset handled last is saved',
  );
  const secondRun = await run(all.length - 700);
  t.equal(secondRun.code, 0);
  t.same(
    [...firstRun.lines, ...secondRun.lines].map((line) => line.id),
    all.map((r) => r.event.id),
    'the two runs together: every event once, in order',
  );
});
