/**
 * Hostile input at the HTTP boundary, each case with the exact status and code the contract
 * gives it, the database unchanged, and the server still serving afterwards. Raw sockets send
 * what node:http refuses to (invalid bytes, CRLF in headers, slow bodies).
 */
import type { Socket } from 'node:net';
import type { Test } from 'tap';
import t from 'tap';
import { MAX_JSON_DEPTH, parseStrictJson } from '../../http/strictJson.js';
import { readHttpTimeouts } from '../../common/config.js';
import { AppError } from '../../common/errors.js';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi, type HttpResponse } from '../support/api.js';
import {
  databaseDigest,
  errorShapeProblem,
  openRawConnection,
  rawRequest,
  requestWithin,
  serverErrorsAnswered,
  within,
  type RawResponse,
} from '../support/http.js';

const REQUEST_TIMEOUT_MS = 2_000;
const HEADERS_TIMEOUT_MS = 1_000;

const db = await makeTestDatabase(t);
// Short slow-client limits, so the slowloris cases end in seconds.
const live = await startTestApi(t, db, {
  HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
});
// The largest body limit there is: deep nesting must be refused for itself, not for its size.
const roomy = await startTestApi(t, db, { BODY_LIMIT_BYTES: String(1024 * 1024) });
const { http, baseUrl } = live;
const admin = { authorization: `Bearer ${live.adminToken}` };
const staff = { authorization: `Bearer ${live.staffToken}` };
const host = new URL(baseUrl).host;

await http.request('/api/admin/products/hostile', {
  method: 'PUT',
  headers: admin,
  body: { name: 'Hostile', total: 1000 },
});
const placed = await http.request('/api/orders', { body: orderBody({ productId: 'hostile' }) });
const order = { id: placed.json.orderId as string, token: placed.json.accessToken as string };
const { rows: couponRows } = await db.owner.query('select coupon_code from crs.orders where order_id = $1', [
  order.id,
]);
const coupon = couponRows[0].coupon_code as string;

/** One request as raw bytes: exactly these headers (lines), Content-Length for the body. */
function rawHttp(
  method: string,
  path: string,
  options: { headers?: string[]; body?: string | Buffer; keepAlive?: boolean } = {},
): Buffer {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const lines = [
    `${method} ${path} HTTP/1.1`,
    `Host: ${host}`,
    ...(options.keepAlive ? [] : ['Connection: close']),
    ...(options.headers ?? []),
    ...(body ? [`Content-Length: ${body.length}`] : []),
  ];
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body ?? Buffer.alloc(0)]);
}

const jsonBody = (text: string | Buffer, extra: string[] = []) => ({
  headers: ['Content-Type: application/json', ...extra],
  body: text,
});

function assertError(
  t: Test,
  res: Pick<HttpResponse | RawResponse, 'status' | 'json'>,
  status: number,
  code: string,
  fields?: string[],
) {
  t.equal(res.status, status, 'status');
  t.equal(errorShapeProblem(res.json), undefined, "the contract's error shape");
  const error = (res.json as { error?: { code?: string; details?: { field: string }[] } } | undefined)?.error;
  t.equal(error?.code, code, 'code');
  if (fields) {
    const named = [...new Set((error?.details ?? []).map((d) => d.field))].sort();
    t.same(named, [...fields].sort(), `details name ${fields.join(', ')}`);
  }
}

/** Runs the requests and checks that nothing in the database changed meanwhile. */
async function unchanged(t: Test, act: () => Promise<void>) {
  const before = await databaseDigest(db.owner);
  await act();
  t.same(await databaseDigest(db.owner), before, 'the database is unchanged');
}

/** The server still answers a plain request promptly. */
async function stillServing(t: Test) {
  const res = await requestWithin(http, '/api/stock?productId=hostile', {}, 2_000);
  t.equal(res.status, 200, 'the next request is served');
}

/** The server's end of our connections, to see how much the server itself read. */
const serverSockets = new Map<number, Socket>();
live.api.server.on('connection', (socket: Socket) => {
  const port = socket.remotePort;
  if (port !== undefined) serverSockets.set(port, socket);
});
const serverSide = (localPort: number | undefined) =>
  localPort === undefined ? undefined : serverSockets.get(localPort);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a 10 MB body', async (t) => {
  await t.test('declared by Content-Length: 413 after the first bytes, not after 10 MB', async (t) => {
    await unchanged(t, async () => {
      const connection = await openRawConnection(baseUrl);
      const port = connection.socket.localPort;
      const head = rawHttp('POST', '/api/orders', {
        headers: ['Content-Type: application/json', `Content-Length: ${10 * 1024 * 1024}`],
      });
      await connection.write(head);
      await connection.write(Buffer.alloc(64 * 1024, 0x20));
      const res = await within(connection.response, 2_000, '413');
      assertError(t, res, 413, 'payload_too_large');
      t.ok(connection.written < 100 * 1024, `answered after ${connection.written} bytes`);
      const read = serverSide(port)?.bytesRead ?? Infinity;
      t.ok(read < 100 * 1024, `the server read ${read} bytes`);
      connection.close();
    });
    await stillServing(t);
  });

  await t.test('chunked, without a length: 413 once the limit is passed', async (t) => {
    await unchanged(t, async () => {
      const connection = await openRawConnection(baseUrl);
      const port = connection.socket.localPort;
      await connection.write(
        rawHttp('POST', '/api/orders', {
          headers: ['Content-Type: application/json', 'Transfer-Encoding: chunked'],
        }),
      );
      let answered = false;
      void connection.response.then(
        () => (answered = true),
        () => (answered = true),
      );
      const chunk = Buffer.concat([
        Buffer.from(`${(64 * 1024).toString(16)}\r\n`),
        Buffer.alloc(64 * 1024, 0x20),
        Buffer.from('\r\n'),
      ]);
      // Keeps sending (respecting backpressure) until the answer comes or 10 MB are out.
      while (!answered && connection.written < 10 * 1024 * 1024) {
        const sent = await within(connection.write(chunk), 2_000, 'write').then(
          () => true,
          () => false,
        );
        if (!sent) break;
      }
      const res = await within(connection.response, 2_000, '413');
      assertError(t, res, 413, 'payload_too_large');
      t.ok(connection.written < 10 * 1024 * 1024, `answered after ${connection.written} bytes of 10 MB`);
      // What the client wrote may sit in socket buffers: what the server read is what counts.
      const read = serverSide(port)?.bytesRead ?? Infinity;
      t.ok(read < 2 * 1024 * 1024, `the server read ${read} bytes of it`);
      connection.close();
    });
    await stillServing(t);
  });

  await t.test('through node:http as one 10 MB JSON document', async (t) => {
    await unchanged(t, async () => {
      const body = JSON.stringify({ ...orderBody(), firstName: 'x'.repeat(10 * 1024 * 1024) });
      const res = await requestWithin(http, '/api/orders', {
        body,
        headers: { 'content-type': 'application/json' },
      }).catch((err: NodeJS.ErrnoException) => err);
      // The server answers and closes while the client may still be writing: either the 413
      // arrives, or the client sees its upload cut off (EPIPE/ECONNRESET). Never a 2xx or 5xx.
      if (res instanceof Error) t.match(res.code, /^(EPIPE|ECONNRESET)$/, 'the upload was cut off');
      else assertError(t, res, 413, 'payload_too_large');
    });
    await stillServing(t);
  });
});

t.test('deeply nested JSON', async (t) => {
  const levels = 100_000;
  const arrays = '['.repeat(levels) + ']'.repeat(levels);
  const objects = '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

  await t.test(`${levels} levels within the body limit: 400 naming the body`, async (t) => {
    await unchanged(t, async () => {
      for (const text of [arrays, objects]) {
        const res = await requestWithin(roomy.http, '/api/orders', {
          body: text,
          headers: { 'content-type': 'application/json' },
        });
        assertError(t, res, 400, 'invalid_request');
        // Named down to where the limit was passed: 0.0.0… into arrays, a.a.a… into objects.
        t.match(res.json.error.details[0].field, text.startsWith('[') ? /^0(\.0)+$/ : /^a(\.a)+$/);
        t.match(res.json.error.details[0].message, `nested more than ${MAX_JSON_DEPTH} levels`);
      }
    });
  });

  await t.test(`${levels} levels over the default limit: 413 first`, async (t) => {
    const res = await requestWithin(http, '/api/orders', {
      body: arrays,
      headers: { 'content-type': 'application/json' },
    }).catch((err: NodeJS.ErrnoException) => err);
    if (res instanceof Error) t.match(res.code, /^(EPIPE|ECONNRESET)$/);
    else assertError(t, res, 413, 'payload_too_large');
  });

  await t.test('inside a field: 400 naming that field', async (t) => {
    await unchanged(t, async () => {
      const deep = '{"x":'.repeat(2_000) + '1' + '}'.repeat(2_000);
      const res = await requestWithin(http, '/api/orders', {
        body: `{"firstName":${deep},"lastName":"B","phone":"+358401111111"}`,
        headers: { 'content-type': 'application/json' },
      });
      t.equal(res.status, 400);
      t.equal(res.json.error.code, 'invalid_request');
      t.match(res.json.error.details[0].field, /^firstName(\.x)+$/, 'names the path into firstName');
      const total = await requestWithin(http, '/api/admin/products/hostile', {
        method: 'PUT',
        headers: { ...admin, 'content-type': 'application/json' },
        body: `{"total":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
      });
      t.equal(total.status, 400);
      t.match(total.json.error.details[0].field, /^total(\.0)+$/);
    });
    await stillServing(t);
  });

  await t.test(`up to ${MAX_JSON_DEPTH} levels is only a validation matter`, async (t) => {
    const within32 = '['.repeat(MAX_JSON_DEPTH - 1) + ']'.repeat(MAX_JSON_DEPTH - 1);
    const res = await requestWithin(http, '/api/orders', {
      body: `{"firstName":${within32},"lastName":"B","phone":"+358401111111"}`,
      headers: { 'content-type': 'application/json' },
    });
    assertError(t, res, 400, 'invalid_request', ['firstName']);
    t.equal(res.json.error.details[0].message, 'must be a string');
  });
});

t.test('invalid UTF-8 in the body: 400 naming the body', async (t) => {
  const sequences: [string, number[]][] = [
    ['a lone 0xFF', [0xff]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a lone continuation byte', [0x80]],
  ];
  await unchanged(t, async () => {
    for (const [name, bytes] of sequences) {
      const body = Buffer.concat([
        Buffer.from('{"firstName":"A'),
        Buffer.from(bytes),
        Buffer.from(`","lastName":"B","phone":"${orderBody().phone}"}`),
      ]);
      const res = await rawRequest(baseUrl, rawHttp('POST', '/api/orders', jsonBody(body)));
      assertError(t, res, 400, 'invalid_request', ['body']);
      t.equal(
        (res.json as { error: { details: { message: string }[] } }).error.details[0]?.message,
        'is not valid UTF-8',
        name,
      );
      const product = await rawRequest(
        baseUrl,
        rawHttp('PUT', '/api/admin/products/hostile', {
          headers: ['Content-Type: application/json', `Authorization: ${admin.authorization}`],
          body: Buffer.concat([Buffer.from('{"total":5,"name":"'), Buffer.from(bytes), Buffer.from('"}')]),
        }),
      );
      assertError(t, product, 400, 'invalid_request', ['body']);
    }
  });
});

t.test('NUL bytes', async (t) => {
  await t.test('in each order field: 400 naming exactly that field', async (t) => {
    await unchanged(t, async () => {
      for (const field of ['firstName', 'lastName', 'phone', 'orderId', 'productId']) {
        const valid = { ...orderBody({ orderId: 'nul-order-0001', productId: 'hostile' }) };
        const body = {
          ...valid,
          [field]: `${String(valid[field as keyof typeof valid]).slice(0, 4)}\u0000x`,
        };
        const res = await requestWithin(http, '/api/orders', { body });
        assertError(t, res, 400, 'invalid_request', [field]);
      }
      const res = await requestWithin(http, '/api/admin/products/hostile', {
        method: 'PUT',
        headers: admin,
        body: { total: 5, name: 'Hos\u0000tile' },
      });
      assertError(t, res, 400, 'invalid_request', ['name']);
    });
  });

  await t.test('a raw NUL byte inside a JSON string: 400, not valid JSON', async (t) => {
    await unchanged(t, async () => {
      const body = Buffer.concat([
        Buffer.from('{"firstName":"A'),
        Buffer.from([0]),
        Buffer.from(`","lastName":"B","phone":"${orderBody().phone}"}`),
      ]);
      const res = await rawRequest(baseUrl, rawHttp('POST', '/api/orders', jsonBody(body)));
      assertError(t, res, 400, 'invalid_request', ['body']);
    });
  });

  await t.test('in path segments: 404 for ids and codes, 400 for a product id', async (t) => {
    await unchanged(t, async () => {
      const bearer = { authorization: `Bearer ${order.token}` };
      assertError(
        t,
        await requestWithin(http, `/api/orders/${order.id}%00`, { headers: bearer }),
        404,
        'not_found',
      );
      assertError(
        t,
        await requestWithin(http, `/api/vouchers/${coupon}%00`, { headers: staff }),
        404,
        'not_found',
      );
      assertError(
        t,
        await requestWithin(http, `/api/vouchers/%00/redeem`, { method: 'POST', headers: staff }),
        404,
        'not_found',
      );
      assertError(
        t,
        await requestWithin(http, '/api/admin/products/host%00ile', {
          method: 'PUT',
          headers: admin,
          body: { total: 5 },
        }),
        400,
        'invalid_request',
        ['productId'],
      );
    });
  });

  await t.test('a raw NUL byte in the request line: 400 from the HTTP parser, same shape', async (t) => {
    const res = await rawRequest(
      baseUrl,
      Buffer.from(`GET /api/stock\u0000x HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'latin1'),
    );
    assertError(t, res, 400, 'invalid_request', ['request']);
    t.equal(res.headers['connection'], 'close');
    await stillServing(t);
  });
});

t.test('overlong headers: 431 headers_too_large, and the server goes on', async (t) => {
  await unchanged(t, async () => {
    const one = await rawRequest(
      baseUrl,
      rawHttp('POST', '/api/orders', { headers: [`X-Filler: ${'a'.repeat(100 * 1024)}`], body: '{}' }),
    );
    assertError(t, one, 431, 'headers_too_large');
    t.equal(one.headers['connection'], 'close');
    const many = await rawRequest(
      baseUrl,
      rawHttp('GET', '/api/stock', {
        headers: Array.from({ length: 2_000 }, (_, i) => `X-Filler-${i}: ${'b'.repeat(40)}`),
      }),
    );
    assertError(t, many, 431, 'headers_too_large');
    const token = await rawRequest(
      baseUrl,
      rawHttp('GET', `/api/vouchers/${coupon}`, {
        headers: [`Authorization: Bearer ${'c'.repeat(100 * 1024)}`],
      }),
    );
    assertError(t, token, 431, 'headers_too_large');
  });
  await stillServing(t);
  // A long header under the limit is only a header: an X-Request-Id too long is not echoed.
  const res = await requestWithin(http, '/api/stock?productId=hostile', {
    headers: { 'x-request-id': 'r'.repeat(8 * 1024) },
  });
  t.equal(res.status, 200);
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'a request id of our own instead');
});

t.test('an Expect other than 100-continue: 417 in the contract shape, nothing written', async (t) => {
  await unchanged(t, async () => {
    const res = await rawRequest(
      baseUrl,
      rawHttp(
        'POST',
        '/api/orders',
        jsonBody(JSON.stringify(orderBody({ productId: 'hostile' })), ['Expect: 200-ok']),
      ),
    );
    assertError(t, res, 417, 'expectation_failed');
    t.equal(res.headers['connection'], 'close');
  });
  await stillServing(t);
});

t.test('the auth scheme is case-insensitive, the token is not', async (t) => {
  const lower = await requestWithin(http, `/api/orders/${order.id}`, {
    headers: { authorization: `bearer ${order.token}` },
  });
  t.equal(lower.status, 200, '"bearer" is "Bearer"');
  const otherCase = await requestWithin(http, `/api/orders/${order.id}`, {
    headers: { authorization: `Bearer ${order.token.toUpperCase()}` },
  });
  t.equal(otherCase.status, 404, 'a token in another case is another token');
});

t.test('slow clients get a timeout, and everyone else is served meanwhile', async (t) => {
  const bound = REQUEST_TIMEOUT_MS + 2_000;
  const countOrders = async () =>
    (await db.owner.query<{ n: number }>('select count(*)::int as n from crs.orders')).rows[0]?.n;
  const ordersBefore = await countOrders();
  const started = Date.now();

  // Headers sent, then a body of 200 declared bytes one byte per second.
  const slowBodies = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const connection = await openRawConnection(baseUrl);
      await connection.write(
        rawHttp('POST', '/api/orders', {
          headers: ['Content-Type: application/json', 'Content-Length: 200'],
        }),
      );
      return connection;
    }),
  );
  // The request line, then one header byte per second.
  const slowHeaders = await openRawConnection(baseUrl);
  await slowHeaders.write(`POST /api/orders HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
  // Connected, and nothing sent at all.
  const silent = await openRawConnection(baseUrl);

  const dribble = setInterval(() => {
    for (const connection of [...slowBodies, slowHeaders]) {
      if (!connection.socket.destroyed) connection.socket.write('a');
    }
  }, 1_000);
  t.teardown(() => clearInterval(dribble));

  // Meanwhile, ordinary requests keep being answered promptly.
  const served: number[] = [];
  while (Date.now() - started < REQUEST_TIMEOUT_MS + 500) {
    const began = Date.now();
    const res = await requestWithin(http, '/api/stock?productId=hostile', {}, 1_000);
    t.equal(res.status, 200);
    served.push(Date.now() - began);
    await sleep(200);
  }
  t.ok(served.length >= 5, `${served.length} requests served during the slow ones`);
  t.ok(Math.max(...served) < 1_000, `each within ${Math.max(...served)} ms`);
  const placedMeanwhile = await requestWithin(http, '/api/orders', {
    body: orderBody({ productId: 'hostile' }),
  });
  t.equal(placedMeanwhile.status, 201, 'an order is taken meanwhile');

  for (const connection of slowBodies) {
    const closedAfter = await within(connection.closed, bound, 'the slow body is cut off');
    t.ok(closedAfter < bound, `slow body closed after ${closedAfter} ms`);
    const res = await connection.response;
    assertError(t, res, 408, 'request_timeout');
  }
  const headersClosed = await within(slowHeaders.closed, HEADERS_TIMEOUT_MS + 2_000, 'slow headers cut off');
  t.ok(headersClosed < HEADERS_TIMEOUT_MS + 2_000, `slow headers closed after ${headersClosed} ms`);
  assertError(t, await slowHeaders.response, 408, 'request_timeout');
  const silentClosed = await within(silent.closed, HEADERS_TIMEOUT_MS + 2_000, 'silent connection closed');
  t.ok(silentClosed < HEADERS_TIMEOUT_MS + 2_000, `a silent connection closed after ${silentClosed} ms`);
  clearInterval(dribble);

  t.equal(await countOrders(), (ordersBefore ?? 0) + 1, 'only the ordinary order was written');
  await stillServing(t);
});

t.test('the slow-client limits are configuration, checked at start', async (t) => {
  t.same(readHttpTimeouts({}), {
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
  });
  t.same(live.api.deps.config.http, {
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: 5_000,
  });
  t.equal(live.api.server.requestTimeout, REQUEST_TIMEOUT_MS);
  t.equal(live.api.server.headersTimeout, HEADERS_TIMEOUT_MS);
  t.throws(
    () => readHttpTimeouts({ HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '2000' }),
    { name: 'ConfigError', variable: 'HTTP_HEADERS_TIMEOUT_MS' },
    'headers cannot have longer than the whole request',
  );
  t.throws(() => readHttpTimeouts({ HTTP_REQUEST_TIMEOUT_MS: 'soon' }), {
    name: 'ConfigError',
    variable: 'HTTP_REQUEST_TIMEOUT_MS',
  });
});

t.test('path traversal in ids and codes: 400 or 404, nothing reached', async (t) => {
  const bearer = `Authorization: Bearer ${order.token}`;
  const staffLine = `Authorization: ${staff.authorization}`;
  const adminLine = `Authorization: ${admin.authorization}`;
  const cases: {
    method: string;
    path: string;
    headers: string[];
    status: number;
    code: string;
    body?: string;
  }[] = [
    {
      method: 'GET',
      path: '/api/orders/..%2F..%2Fetc%2Fpasswd',
      headers: [bearer],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'GET',
      path: '/api/orders/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      headers: [bearer],
      status: 404,
      code: 'not_found',
    },
    { method: 'GET', path: '/api/orders/%2e%2e', headers: [bearer], status: 404, code: 'not_found' },
    {
      method: 'GET',
      path: '/api/orders/..%5c..%5cwindows',
      headers: [bearer],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'GET',
      path: '/api/orders/../../etc/passwd',
      headers: [bearer],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'GET',
      path: `/api/orders/x/../${order.id}`,
      headers: [bearer],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'GET',
      path: `/api/orders/${order.id}%2F..%2F${order.id}`,
      headers: [bearer],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'GET',
      path: `/api/orders/%252e%252e%252f${order.id}`,
      headers: [bearer],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'GET',
      path: '/api/vouchers/..%2F..%2Fadmin%2Fproducts%2Fhostile',
      headers: [staffLine],
      status: 404,
      code: 'not_found',
    },
    { method: 'GET', path: '/api/vouchers/%2e%2e%2f', headers: [staffLine], status: 404, code: 'not_found' },
    {
      method: 'POST',
      path: '/api/vouchers/%2e%2e/redeem',
      headers: [staffLine],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'POST',
      path: `/api/vouchers/x%2F..%2F${coupon}/redeem`,
      headers: [staffLine],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'POST',
      path: `/api/vouchers/../vouchers/${coupon}/redeem`,
      headers: [staffLine],
      status: 404,
      code: 'not_found',
    },
    {
      method: 'PUT',
      path: '/api/admin/products/..%2Fhostile',
      headers: [adminLine, 'Content-Type: application/json'],
      body: '{"total":1}',
      status: 400,
      code: 'invalid_request',
    },
    {
      method: 'PUT',
      path: '/api/admin/products/%2e%2e',
      headers: [adminLine, 'Content-Type: application/json'],
      body: '{"total":1}',
      status: 400,
      code: 'invalid_request',
    },
    {
      method: 'PUT',
      path: '/api/admin/products/%252e%252e%252fhostile',
      headers: [adminLine, 'Content-Type: application/json'],
      body: '{"total":1}',
      status: 400,
      code: 'invalid_request',
    },
    {
      method: 'PUT',
      path: '/api/admin/products/../products/hostile',
      headers: [adminLine, 'Content-Type: application/json'],
      body: '{"total":1}',
      status: 404,
      code: 'not_found',
    },
    {
      method: 'GET',
      path: '/api/stock?productId=..%2Fhostile',
      headers: [],
      status: 400,
      code: 'invalid_request',
    },
  ];
  await unchanged(t, async () => {
    for (const c of cases) {
      const res = await rawRequest(baseUrl, rawHttp(c.method, c.path, { headers: c.headers, body: c.body }));
      t.test(`${c.method} ${c.path}`, async (t) => assertError(t, res, c.status, c.code));
    }
  });
  const stock = await http.request('/api/stock?productId=hostile');
  t.equal(stock.json.total, 1000, 'the product behind the traversal kept its total');
});

const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE crs.orders; --",
  '" OR 1=1 --',
  "Robert'); DELETE FROM crs.products; --",
  '$$; select pg_sleep(5); $$',
  "' UNION SELECT token_hash FROM crs.orders --",
  "1' AND (SELECT pg_sleep(5)) IS NULL --",
];

t.test('SQL injection strings', async (t) => {
  await t.test('in names: plain data, stored exactly, nothing else touched', async (t) => {
    for (const text of SQL) {
      const before = await databaseDigest(db.owner);
      const { rows: ordersBefore } = await db.owner.query('select count(*)::int as n from crs.orders');
      const began = Date.now();
      const res = await requestWithin(http, '/api/orders', {
        body: orderBody({ productId: 'hostile', firstName: text, lastName: text }),
      });
      t.equal(res.status, 201, text);
      t.ok(Date.now() - began < 2_000, 'no injected sleep ran');
      const { rows } = await db.owner.query(
        'select first_name, last_name from crs.orders where order_id = $1',
        [res.json.orderId],
      );
      t.same(rows, [{ first_name: text, last_name: text }], 'stored verbatim');
      const { rows: ordersAfter } = await db.owner.query('select count(*)::int as n from crs.orders');
      t.equal(ordersAfter[0].n, ordersBefore[0].n + 1, 'exactly one order more');
      t.equal((await databaseDigest(db.owner))['products'], before['products'], 'products untouched');
    }
    const renamed = await requestWithin(http, '/api/admin/products/hostile', {
      method: 'PUT',
      headers: admin,
      body: { total: 1000, name: SQL[1] },
    });
    t.equal(renamed.status, 200);
    t.equal(renamed.json.name, SQL[1], 'an admin name is plain data too');
  });

  await t.test('in ids, codes, phones and tokens: refused, nothing changed', async (t) => {
    await unchanged(t, async () => {
      for (const text of SQL) {
        const encoded = encodeURIComponent(text);
        for (const field of ['phone', 'orderId', 'productId']) {
          const res = await requestWithin(http, '/api/orders', { body: orderBody({ [field]: text }) });
          assertError(t, res, 400, 'invalid_request', [field]);
        }
        assertError(
          t,
          await requestWithin(http, `/api/orders/${encoded}`, {
            headers: { authorization: `Bearer ${order.token}` },
          }),
          404,
          'not_found',
        );
        assertError(
          t,
          await requestWithin(http, `/api/vouchers/${encoded}`, { headers: staff }),
          404,
          'not_found',
        );
        assertError(
          t,
          await requestWithin(http, `/api/vouchers/${encoded}/redeem`, { method: 'POST', headers: staff }),
          404,
          'not_found',
        );
        assertError(
          t,
          await requestWithin(http, `/api/admin/products/${encoded}`, {
            method: 'PUT',
            headers: admin,
            body: { total: 1 },
          }),
          400,
          'invalid_request',
          ['productId'],
        );
        assertError(t, await requestWithin(http, `/api/stock?productId=${encoded}`), 400, 'invalid_request', [
          'productId',
        ]);
        const token = await rawRequest(
          baseUrl,
          rawHttp('GET', `/api/vouchers/${coupon}`, { headers: [`Authorization: Bearer ${text}`] }),
        );
        assertError(t, token, 401, 'unauthorized');
      }
    });
  });
});

t.test('header injection (CR/LF) strings', async (t) => {
  const crlf = 'Aino\r\nSet-Cookie: admin=1';
  await t.test('in JSON fields: 400 naming the field', async (t) => {
    await unchanged(t, async () => {
      for (const field of ['firstName', 'lastName', 'phone', 'orderId', 'productId']) {
        const res = await requestWithin(http, '/api/orders', { body: orderBody({ [field]: crlf }) });
        assertError(t, res, 400, 'invalid_request', [field]);
        t.notOk(res.headers['set-cookie'], 'no cookie was set');
      }
      const res = await requestWithin(http, '/api/admin/products/hostile', {
        method: 'PUT',
        headers: admin,
        body: { total: 1000, name: crlf },
      });
      assertError(t, res, 400, 'invalid_request', ['name']);
    });
  });

  await t.test('in paths and queries: refused, never reflected into a header', async (t) => {
    await unchanged(t, async () => {
      const encoded = encodeURIComponent('x\r\nSet-Cookie: admin=1\r\nLocation: //evil');
      for (const [path, status, code] of [
        [`/api/orders/${encoded}`, 404, 'not_found'],
        [`/api/vouchers/${encoded}`, 404, 'not_found'],
        [`/api/stock?productId=${encoded}`, 400, 'invalid_request'],
      ] as const) {
        const res = await rawRequest(
          baseUrl,
          rawHttp('GET', path, { headers: [`Authorization: ${staff.authorization}`] }),
        );
        assertError(t, res, status, code);
        t.notOk(res.headers['set-cookie'], 'no cookie');
        t.notOk(res.headers['location'], 'no redirect');
      }
    });
  });

  await t.test('in request headers: a bare CR or LF is refused by the parser', async (t) => {
    for (const header of [
      'X-Request-Id: abc\rSet-Cookie: admin=1',
      'X-Request-Id: abc\nSet-Cookie: admin=1',
    ]) {
      const res = await rawRequest(baseUrl, rawHttp('GET', '/api/stock', { headers: [header] }));
      assertError(t, res, 400, 'invalid_request', ['request']);
      t.notOk(res.headers['set-cookie'], 'no cookie reflected');
    }
    const folded = await rawRequest(
      baseUrl,
      rawHttp('GET', '/api/stock', { headers: ['X-Request-Id: abc', ' Set-Cookie: admin=1'] }),
    );
    assertError(t, folded, 400, 'invalid_request', ['request']);
    await stillServing(t);
  });

  await t.test('request smuggling: Content-Length with Transfer-Encoding, or two lengths', async (t) => {
    await unchanged(t, async () => {
      const both = await rawRequest(
        baseUrl,
        Buffer.from(
          `POST /api/orders HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
            'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/stock HTTP/1.1\r\n\r\n',
        ),
      );
      assertError(t, both, 400, 'invalid_request', ['request']);
      const twice = await rawRequest(
        baseUrl,
        Buffer.from(
          `POST /api/orders HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
            'Content-Length: 2\r\nContent-Length: 30\r\n\r\n{}',
        ),
      );
      assertError(t, twice, 400, 'invalid_request', ['request']);
    });
  });

  await t.test('an X-Request-Id with anything but [A-Za-z0-9._:-] is replaced, not echoed', async (t) => {
    const res = await rawRequest(
      baseUrl,
      rawHttp('GET', '/api/stock?productId=hostile', { headers: ['X-Request-Id: a;b=c <script>'] }),
    );
    t.equal(res.status, 200);
    t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  });
});

t.test('duplicate JSON keys are refused, not resolved', async (t) => {
  await t.test('over HTTP: 400 naming the repeated key', async (t) => {
    const { phone } = orderBody();
    await unchanged(t, async () => {
      const cases: [string, string, string][] = [
        ['/api/orders', `{"firstName":"A","firstName":"B","lastName":"C","phone":"${phone}"}`, 'firstName'],
        [
          '/api/orders',
          `{"firstName":"A","lastName":"C","phone":"${phone}","\\u0070hone":"+358401111111"}`,
          'phone',
        ],
        ['/api/orders', `{"firstName":{"a":1,"a":2},"lastName":"C","phone":"${phone}"}`, 'firstName.a'],
        ['/api/admin/products/hostile', '{"total":1000,"total":1}', 'total'],
        ['/api/admin/products/hostile', '{"name":"A","total":5,"name":"B"}', 'name'],
      ];
      for (const [path, body, field] of cases) {
        const res = await requestWithin(http, path, {
          method: path.includes('admin') ? 'PUT' : 'POST',
          headers: { ...admin, 'content-type': 'application/json' },
          body,
        });
        assertError(t, res, 400, 'invalid_request', [field]);
        t.equal(res.json.error.details[0].message, 'appears more than once');
      }
    });
  });

  await t.test('the parser: same key in different objects is fine, the first repeat is named', async (t) => {
    t.same(parseStrictJson('{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}'), {
      a: { x: 1 },
      b: { x: 1 },
      c: [{ x: 1 }, { x: 2 }],
    });
    t.same(parseStrictJson('{"s":"\\"a\\":1,\\"a\\":2","k":"{[\\\\"}'), { s: '"a":1,"a":2', k: '{[\\' });
    const named = (text: string) => {
      try {
        parseStrictJson(text);
        return undefined;
      } catch (err) {
        return ((err as AppError).details as { field: string }[])[0]?.field;
      }
    };
    t.equal(named('[{"x":1},{"x":1,"y":2,"y":3}]'), '1.y');
    t.equal(named('{"a":1,"b":{"c":[1,{"d":0,"d":1}]}}'), 'b.c.1.d');
    t.equal(named('{"a":1,"a":'), 'body', 'a syntax error is reported as such first');
  });
});

t.test('prototype-pollution keys are refused and pollute nothing', async (t) => {
  const freshObject = () => ({}) as Record<string, unknown>;
  const { phone } = orderBody();
  const person = `"firstName":"A","lastName":"B","phone":"${phone}"`;
  await unchanged(t, async () => {
    const cases: [string, string, string][] = [
      ['/api/orders', `{${person},"__proto__":{"polluted":"yes"}}`, '__proto__'],
      ['/api/orders', `{${person},"constructor":{"prototype":{"polluted":"yes"}}}`, 'constructor'],
      ['/api/orders', `{${person},"prototype":{"polluted":"yes"}}`, 'prototype'],
      [
        '/api/orders',
        `{"firstName":{"__proto__":{"polluted":"yes"}},"lastName":"B","phone":"${phone}"}`,
        'firstName',
      ],
      // The fields inside __proto__ are not read through the prototype: they are missing.
      [
        '/api/orders',
        `{"__proto__":{"firstName":"A","lastName":"B","phone":"${phone}"}}`,
        '__proto__,firstName,lastName,phone',
      ],
      ['/api/admin/products/hostile', '{"total":5,"__proto__":{"total":-1,"polluted":"yes"}}', '__proto__'],
      [
        '/api/admin/products/hostile',
        '{"total":5,"constructor":{"prototype":{"polluted":"yes"}}}',
        'constructor',
      ],
      ['/api/admin/products/hostile', '{"total":{"__proto__":{"valueOf":1}}}', 'total'],
    ];
    for (const [path, body, field] of cases) {
      const res = await requestWithin(http, path, {
        method: path.includes('admin') ? 'PUT' : 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body,
      });
      assertError(t, res, 400, 'invalid_request', field.split(','));
    }
    const query = await requestWithin(
      http,
      '/api/stock?productId=hostile&__proto__[polluted]=yes&constructor[prototype][polluted]=yes',
    );
    t.equal(query.status, 200, 'unknown query parameters are ignored');
  });
  // The API runs in this process: its Object.prototype is ours.
  t.equal(freshObject()['polluted'], undefined, 'Object.prototype is not polluted');
  t.notOk(Object.hasOwn(Object.prototype, 'polluted'));
  const res = await requestWithin(http, '/api/orders', { body: orderBody({ productId: 'hostile' }) });
  t.equal(res.status, 201, 'a valid order afterwards is taken');
  t.notOk('polluted' in res.json, 'and answered without strangers');
});

t.test('no request of this file was answered with a 5xx', async (t) => {
  t.equal(await serverErrorsAnswered(live.api), 0);
  t.equal(await serverErrorsAnswered(roomy.api), 0);
});
