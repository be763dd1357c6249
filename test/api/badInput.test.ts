/**
 * Every bad input gets its documented 4xx in the contract's error shape, and changes nothing
 * in the database.
 */
import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi, type HttpRequestOptions } from '../support/api.js';

const db = await makeTestDatabase(t);
const { http, adminToken } = await startTestApi(t, db);
const admin = { authorization: `Bearer ${adminToken}` };
const valid = () => orderBody();

/** A digest of everything the API can change. */
async function databaseState(): Promise<string> {
  const { rows } = await db.owner.query(`
    select md5(coalesce((select string_agg(o::text, ',' order by order_id) from crs.orders o), '')) as orders,
           md5(coalesce((select string_agg(p.product_id || p.name || p.total, ',' order by product_id) from crs.products p), '')) as products,
           md5(coalesce((select string_agg(s::text, ',' order by product_id, shard) from crs.stock_shards s), '')) as shards`);
  return JSON.stringify(rows[0]);
}

interface Case {
  name: string;
  path?: string;
  request: HttpRequestOptions;
  status: number;
  code: string;
  /** Fields that details must name (invalid_request only). */
  fields?: string[];
}

const long = (n: number) => 'x'.repeat(n);
const json = (body: unknown) => JSON.stringify(body);

const cases: Case[] = [
  // The body as a whole
  {
    name: 'no body',
    request: { method: 'POST', headers: { 'content-type': 'application/json' } },
    status: 400,
    code: 'invalid_request',
    fields: ['body'],
  },
  {
    name: 'invalid JSON',
    request: { body: '{"firstName": "A",', headers: { 'content-type': 'application/json' } },
    status: 400,
    code: 'invalid_request',
    fields: ['body'],
  },
  {
    name: 'JSON array',
    request: { body: '[1,2]', headers: { 'content-type': 'application/json' } },
    status: 400,
    code: 'invalid_request',
    fields: ['body'],
  },
  {
    name: 'JSON null',
    request: { body: 'null', headers: { 'content-type': 'application/json' } },
    status: 400,
    code: 'invalid_request',
    fields: ['body'],
  },
  {
    name: 'JSON string',
    request: { body: '"order"', headers: { 'content-type': 'application/json' } },
    status: 400,
    code: 'invalid_request',
    fields: ['body'],
  },
  {
    name: 'text/plain',
    request: { body: json(valid()), headers: { 'content-type': 'text/plain' } },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    // The web page's form posts this way, always with its CSRF token (test/web/pages.test.ts).
    name: "form encoding without the page's CSRF token",
    request: {
      body: 'firstName=A&lastName=B',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'no content type',
    request: { method: 'POST', body: Buffer.from(json(valid())), headers: { 'content-type': '' } },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'latin1 charset',
    request: { body: json(valid()), headers: { 'content-type': 'application/json; charset=latin1' } },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'invalid UTF-8',
    request: {
      body: Buffer.concat([
        Buffer.from('{"firstName":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('","lastName":"B","phone":"+358401111111"}'),
      ]),
      headers: { 'content-type': 'application/json' },
    },
    status: 400,
    code: 'invalid_request',
    fields: ['body'],
  },
  {
    name: 'oversized body (1 MB)',
    request: {
      body: json({ ...valid(), firstName: long(1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    },
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'unknown field',
    request: { body: { ...valid(), admin: true } },
    status: 400,
    code: 'invalid_request',
    fields: ['admin'],
  },
  {
    name: '__proto__ key',
    request: {
      body: '{"firstName":"A","lastName":"B","phone":"+358401111112","__proto__":{"x":1}}',
      headers: { 'content-type': 'application/json' },
    },
    status: 400,
    code: 'invalid_request',
    fields: ['__proto__'],
  },
  // Missing and wrongly typed fields
  {
    name: 'missing firstName',
    request: { body: { lastName: 'B', phone: '+358401111113' } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: 'missing every field',
    request: { body: {} },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName', 'lastName', 'phone'],
  },
  {
    name: 'firstName a number',
    request: { body: { ...valid(), firstName: 42 } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: 'lastName null',
    request: { body: { ...valid(), lastName: null } },
    status: 400,
    code: 'invalid_request',
    fields: ['lastName'],
  },
  {
    name: 'phone a number',
    request: { body: { ...valid(), phone: 358401234567 } },
    status: 400,
    code: 'invalid_request',
    fields: ['phone'],
  },
  {
    name: 'firstName an object',
    request: { body: { ...valid(), firstName: { a: 1 } } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: 'orderId a number',
    request: { body: { ...valid(), orderId: 12345678 } },
    status: 400,
    code: 'invalid_request',
    fields: ['orderId'],
  },
  // Field contents
  {
    name: 'empty firstName',
    request: { body: { ...valid(), firstName: '' } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: 'blank lastName',
    request: { body: { ...valid(), lastName: '   ' } },
    status: 400,
    code: 'invalid_request',
    fields: ['lastName'],
  },
  {
    name: 'huge firstName (10,000 chars)',
    request: { body: { ...valid(), firstName: long(10_000) } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: '101-character lastName',
    request: { body: { ...valid(), lastName: long(101) } },
    status: 400,
    code: 'invalid_request',
    fields: ['lastName'],
  },
  {
    name: 'NUL in firstName',
    request: { body: { ...valid(), firstName: 'A\u0000B' } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: 'newline in lastName',
    request: { body: { ...valid(), lastName: 'Smith\nAdmin' } },
    status: 400,
    code: 'invalid_request',
    fields: ['lastName'],
  },
  {
    name: 'escape sequence in firstName',
    request: { body: { ...valid(), firstName: '\u001b[31mred' } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: 'right-to-left override in name',
    request: { body: { ...valid(), firstName: 'abc\u202Edef' } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: 'lone surrogate in name',
    request: {
      body: '{"firstName":"\\ud800","lastName":"B","phone":"+358401111114"}',
      headers: { 'content-type': 'application/json' },
    },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName'],
  },
  {
    name: 'letters in phone',
    request: { body: { ...valid(), phone: '+358 40 CALL ME' } },
    status: 400,
    code: 'invalid_request',
    fields: ['phone'],
  },
  {
    name: 'too short phone',
    request: { body: { ...valid(), phone: '123' } },
    status: 400,
    code: 'invalid_request',
    fields: ['phone'],
  },
  {
    name: 'impossible phone',
    request: { body: { ...valid(), phone: '+999 1234 5678' } },
    status: 400,
    code: 'invalid_request',
    fields: ['phone'],
  },
  {
    name: 'huge phone',
    request: { body: { ...valid(), phone: '1'.repeat(5000) } },
    status: 400,
    code: 'invalid_request',
    fields: ['phone'],
  },
  {
    name: 'SQL in phone',
    request: { body: { ...valid(), phone: "'; drop table crs.orders; --" } },
    status: 400,
    code: 'invalid_request',
    fields: ['phone'],
  },
  {
    name: 'short orderId',
    request: { body: { ...valid(), orderId: 'abc' } },
    status: 400,
    code: 'invalid_request',
    fields: ['orderId'],
  },
  {
    name: '65-character orderId',
    request: { body: { ...valid(), orderId: long(65) } },
    status: 400,
    code: 'invalid_request',
    fields: ['orderId'],
  },
  {
    name: 'path traversal in orderId',
    request: { body: { ...valid(), orderId: '../../etc/passwd' } },
    status: 400,
    code: 'invalid_request',
    fields: ['orderId'],
  },
  {
    name: 'spaces in orderId',
    request: { body: { ...valid(), orderId: 'order id 12345' } },
    status: 400,
    code: 'invalid_request',
    fields: ['orderId'],
  },
  {
    name: 'bad productId characters',
    request: { body: { ...valid(), productId: 'a/b' } },
    status: 400,
    code: 'invalid_request',
    fields: ['productId'],
  },
  {
    name: 'several bad fields at once',
    request: { body: { firstName: '', lastName: 7, phone: 'x' } },
    status: 400,
    code: 'invalid_request',
    fields: ['firstName', 'lastName', 'phone'],
  },
  // Admin and reads
  {
    name: 'admin without token',
    path: '/api/admin/products/default',
    request: { method: 'PUT', body: { total: 5 } },
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'admin with a wrong token',
    path: '/api/admin/products/default',
    request: { method: 'PUT', body: { total: 5 }, headers: { authorization: 'Bearer wrong-token' } },
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'admin with the token in the query',
    path: `/api/admin/products/default?token=${adminToken}`,
    request: { method: 'PUT', body: { total: 5 } },
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'admin negative total',
    path: '/api/admin/products/default',
    request: { method: 'PUT', body: { total: -1 }, headers: admin },
    status: 400,
    code: 'invalid_request',
    fields: ['total'],
  },
  {
    name: 'admin fractional total',
    path: '/api/admin/products/default',
    request: { method: 'PUT', body: { total: 1.5 }, headers: admin },
    status: 400,
    code: 'invalid_request',
    fields: ['total'],
  },
  {
    name: 'admin total as string',
    path: '/api/admin/products/default',
    request: { method: 'PUT', body: { total: '100' }, headers: admin },
    status: 400,
    code: 'invalid_request',
    fields: ['total'],
  },
  {
    name: 'admin huge total',
    path: '/api/admin/products/default',
    request: { method: 'PUT', body: { total: 1e12 }, headers: admin },
    status: 400,
    code: 'invalid_request',
    fields: ['total'],
  },
  {
    name: 'admin bad product id',
    path: '/api/admin/products/bad%20id',
    request: { method: 'PUT', body: { total: 5 }, headers: admin },
    status: 400,
    code: 'invalid_request',
    fields: ['productId'],
  },
  {
    name: 'admin control character in name',
    path: '/api/admin/products/default',
    request: { method: 'PUT', body: { total: 5000, name: 'a\u0007b' }, headers: admin },
    status: 400,
    code: 'invalid_request',
    fields: ['name'],
  },
  {
    name: 'stock with a bad productId',
    path: '/api/stock?productId=%27%20or%201%3D1',
    request: { method: 'GET' },
    status: 400,
    code: 'invalid_request',
    fields: ['productId'],
  },
  {
    name: 'stock with two productIds',
    path: '/api/stock?productId=a&productId=b',
    request: { method: 'GET' },
    status: 400,
    code: 'invalid_request',
    fields: ['productId'],
  },
  {
    name: 'unknown route',
    path: '/api/nothing-here',
    request: { method: 'GET' },
    status: 404,
    code: 'not_found',
  },
];

t.ok(cases.length >= 30, `${cases.length} cases`);

for (const c of cases) {
  t.test(c.name, async (t) => {
    const before = await databaseState();
    const res = await http.request(c.path ?? '/api/orders', { method: 'POST', ...c.request });
    t.equal(res.status, c.status, 'status');
    t.equal(res.json?.error?.code, c.code, 'error code');
    t.type(res.json?.error?.message, 'string', 'a message');
    if (c.fields) {
      const named = (res.json.error.details as { field: string; message: string }[]).map((d) => d.field);
      t.same([...new Set(named)].sort(), [...c.fields].sort(), 'details name exactly the wrong fields');
    }
    t.equal(await databaseState(), before, 'the database is unchanged');
  });
}

t.test('a valid order after all that still works', async (t) => {
  const res = await http.request('/api/orders', { body: valid() });
  t.equal(res.status, 201);
});
