/**
 * A complete change feed consumer (docs/change-feed.md): reads the crs.changes stream from where
 * it left off, skips events it has already handled (at least once: the same id may come twice),
 * handles each in commit order and remembers its place, so a restart or a crash resumes after
 * the last event handled. It depends on amqplib only: copy it and replace `handle`.
 *
 *   AMQP_URL=amqp://user:password@host:5672 npx tsx docs/examples/change-feed-consumer.ts \
 *     [--offset-file change-feed.offset] [--max N]
 *
 * The first run starts at the oldest retained event; each later run at the offset after the
 * one saved. It prints one line per event handled: {"offset", "id", "type", "subject"}.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

/** The envelope (CloudEvents 1.0, JSON); `data` is described by the schema at `dataschema`. */
interface ChangeEvent {
  specversion: '1.0';
  id: string;
  type: string; // crs.order.created.v2, crs.voucher.stored.v2, crs.order.redeemed.v2, crs.stock.changed.v2
  source: string;
  subject: string; // the order id, or the product id for stock.changed
  time: string;
  dataschema: string;
  commitlsn: string;
  txposition: number;
  data: Record<string, unknown>;
}

const { values } = parseArgs({
  options: { 'offset-file': { type: 'string', default: 'change-feed.offset' }, max: { type: 'string' } },
});
const offsetFile = values['offset-file'];
const max = values.max === undefined ? Infinity : Number(values.max);
const url = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const stream = process.env['CHANGE_STREAM'] ?? 'crs.changes.stream';

/** Your work. Make it idempotent, or record event ids with its effects (a unique key). */
function handle(event: ChangeEvent, offset: number): void {
  console.log(JSON.stringify({ offset, id: event.id, type: event.type, subject: event.subject }));
}

// Where to start: right after the last event handled, else the first one retained.
const saved = await readFile(offsetFile, 'utf8').then(
  (text) => Number(text),
  () => undefined,
);
const start = saved === undefined ? 'first' : saved + 1;

/** Recently handled ids: a republished event comes back soon after the first copy. */
const recent = new Set<string>();
const remember = (id: string) => {
  recent.add(id);
  if (recent.size > 100_000) recent.delete(recent.values().next().value as string);
};

let handled = 0;
let lastOffset = saved;
let saving = Promise.resolve();
function saveOffset(): Promise<void> {
  const offset = lastOffset;
  if (offset === undefined) return saving;
  // One write at a time, written aside and renamed: a crash leaves the old offset or the new
  // one, never half of one.
  saving = saving.then(async () => {
    await writeFile(`${offsetFile}.tmp`, String(offset));
    await rename(`${offsetFile}.tmp`, offsetFile);
  });
  return saving;
}

const connection = await amqp.connect(url);
const channel = await connection.createChannel();
// A stream consumer acknowledges, and its prefetch is how far ahead the broker may deliver.
await channel.prefetch(200);
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await saveOffset();
  await connection.close();
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

await channel.consume(
  stream,
  (message) => {
    if (!message || stopping) return;
    const offset = Number(message.properties.headers?.['x-stream-offset']);
    let event: ChangeEvent | undefined;
    try {
      event = JSON.parse(message.content.toString()) as ChangeEvent;
      if (event.specversion !== '1.0' || typeof event.id !== 'string') event = undefined;
    } catch {
      event = undefined;
    }
    if (!event) console.error(`offset ${offset}: not a change feed event, skipped`);
    else if (!recent.has(event.id)) {
      handle(event, offset);
      remember(event.id);
      handled += 1;
    }
    channel.ack(message);
    lastOffset = offset;
    // Saving every event costs a write each; every 100 loses at most 100 to replay, which
    // the id check above (or your idempotent handling) absorbs.
    if (handled >= max) void stop();
    else if (offset % 100 === 0) void saveOffset();
  },
  { noAck: false, arguments: { 'x-stream-offset': start } },
);
