/**
 * The whole way on real services: an order over HTTP, CDC queues its job, the renderer draws
 * and stores the PDF, the local S3 store publishes MinIO's notification, the API pushes the
 * SSE voucher event, and the download is a PDF with the name, the code and a QR of the code.
 * Then staff redeem it, once.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import t from 'tap';
import { openEventStream, orderBody } from '../support/api.js';
import { startWholeSystem } from '../support/system.js';

const run = promisify(execFile);
// jsqr is CommonJS with its function as the default export's default.
type Decode = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR = ((jsQRModule as unknown as { default?: Decode }).default ?? jsQRModule) as unknown as Decode;

const { db, amqpUrl, http, staffToken, baseUrl } = await startWholeSystem(t);
const staff = { authorization: `Bearer ${staffToken}` };

/** Text of a PDF (pdftotext) and the QR codes on its first page (pdftoppm + jsQR). */
async function readPdf(pdf: Buffer) {
  const dir = await mkdtemp(join(tmpdir(), 'crs-pdf-'));
  try {
    await writeFile(join(dir, 'v.pdf'), pdf);
    const { stdout: text } = await run('pdftotext', [join(dir, 'v.pdf'), '-']);
    await run('pdftoppm', ['-r', '200', '-png', '-singlefile', join(dir, 'v.pdf'), join(dir, 'page')]);
    const png = PNG.sync.read(await readFile(join(dir, 'page.png')));
    const qr = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    return { text, qr: qr?.data };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

t.test('order -> SSE voucher event -> a PDF with the name, the code and its QR', async (t) => {
  // An AMQP client waiting on its own order, too.
  const connection = await amqp.connect(amqpUrl);
  t.teardown(() => connection.close());
  const channel = await connection.createChannel();
  await channel.assertExchange('crs.orders', 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });

  const placed = await http.request('/api/orders', {
    body: orderBody({ firstName: 'Åsa', lastName: 'Öberg-Ñúñez' }),
  });
  t.equal(placed.status, 201);
  const { orderId, accessToken } = placed.json;
  await channel.bindQueue(queue, 'crs.orders', `order.${orderId}.voucher`);
  const amqpMessage = new Promise<Record<string, unknown>>((resolve) => {
    void channel.consume(queue, (message) => message && resolve(JSON.parse(message.content.toString())));
  });

  const started = Date.now();
  const events = await openEventStream(baseUrl, `/api/orders/${orderId}/events?token=${accessToken}`);
  t.equal(events.status, 200);
  t.match(events.headers['content-type'], /text\/event-stream/);
  const event = (await events.next('voucher', 20_000)) as { orderId: string; url: string };
  events.close();
  t.equal(event.orderId, orderId);
  t.match(event.url, new RegExp(`^/api/orders/${orderId}/voucher\\?expires=\\d+&signature=`));
  t.notMatch(event.url, accessToken, 'the link is not the permanent token');
  t.comment(`voucher event ${Date.now() - started} ms after subscribing`);

  const download = await http.request(event.url);
  t.equal(download.status, 200);
  t.equal(download.headers['content-type'], 'application/pdf');
  const pdf = Buffer.from(download.text, 'latin1');
  t.equal(pdf.subarray(0, 5).toString(), '%PDF-');

  const { rows } = await db.owner.query('select coupon_code, status from crs.orders where order_id = $1', [
    orderId,
  ]);
  const code = rows[0].coupon_code as string;
  t.equal(rows[0].status, 'voucher_ready');
  t.same(await amqpMessage.then((m) => m['orderId']), orderId, 'order.<id>.voucher published');

  const order = await http.request(`/api/orders/${orderId}`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  t.equal(order.json.status, 'voucher_ready');
  t.match(order.json.voucher.url, /\/voucher\?expires=/);

  // The same PDF through the order token; the text check reads the bytes exactly.
  const raw = await fetch(`${baseUrl}/api/orders/${orderId}/voucher`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  const bytes = Buffer.from(await raw.arrayBuffer());
  const { text, qr } = await readPdf(bytes);
  t.match(text, 'Åsa');
  t.match(text, 'Öberg-Ñúñez');
  t.match(text, code);
  t.equal(qr, code, 'the QR code decodes to the coupon code');

  // Subscribing after the voucher was stored gets it at once.
  const late = await openEventStream(baseUrl, `/api/orders/${orderId}/events`, {
    authorization: `Bearer ${accessToken}`,
  });
  t.ok(await late.next('voucher', 3_000));
  late.close();

  t.test('staff look the coupon up and redeem it exactly once', async (t) => {
    const typed = code.toLowerCase().replaceAll('-', '');
    const found = await http.request(`/api/vouchers/${typed}`, { headers: staff });
    t.equal(found.status, 200);
    t.same(found.json, { code, orderId, productId: 'default', status: 'voucher_ready' });
    t.equal((await http.request(`/api/vouchers/${code}`)).status, 401, 'staff token required');
    t.equal(
      (
        await http.request(`/api/vouchers/${code}/redeem`, {
          method: 'POST',
          headers: { authorization: 'Bearer nope' },
        })
      ).status,
      401,
    );

    const attempts = await Promise.all(
      Array.from({ length: 20 }, () =>
        http.request(`/api/vouchers/${code}/redeem`, { method: 'POST', headers: staff }),
      ),
    );
    const statuses = attempts.map((a) => a.status).sort();
    t.same(statuses, [200, ...Array(19).fill(409)], 'exactly one 200');
    t.ok(attempts.filter((a) => a.status === 409).every((a) => a.json.error.code === 'already_redeemed'));
    const after = await http.request(`/api/vouchers/${code}`, { headers: staff });
    t.equal(after.json.status, 'redeemed');
    t.ok(after.json.redeemedAt);
    const unknown = await http.request('/api/vouchers/ZZZZZZ-ZZZZZZ-ZZZZZZ/redeem', {
      method: 'POST',
      headers: staff,
    });
    t.equal(unknown.status, 404);
    t.equal(unknown.json.error.code, 'not_found');
  });
});

t.test('a forged or expired download link is refused', async (t) => {
  const placed = await http.request('/api/orders', { body: orderBody() });
  const { orderId } = placed.json;
  const forged = await http.request(`/api/orders/${orderId}/voucher?expires=9999999999&signature=AAAA`);
  t.equal(forged.status, 401);
  const expired = await http.request(`/api/orders/${orderId}/voucher?expires=1000&signature=AAAA`);
  t.equal(expired.status, 401);
});
