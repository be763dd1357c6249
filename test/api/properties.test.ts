/**
 * Property-based tests (fast-check) at the HTTP boundary of the order, admin and staff
 * endpoints. Whatever the body, headers or path segment, the answer is either the documented
 * success (for the valid inputs, with exactly the documented change in the database) or a 4xx
 * in the contract's error shape with nothing changed; never a 5xx, never a hang.
 *
 * Each generated input carries whether it is valid, decided by construction (a valid field
 * generator, or an invalid one that says why), not by asking the code under test.
 * A failure prints fast-check's seed and the shrunk counterexample.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi, type HttpResponse } from '../support/api.js';
import { databaseDigest, errorShapeProblem, requestWithin, serverErrorsAnswered } from '../support/http.js';
import { checkSymbol, normaliseCouponCode } from '../../common/identifiers.js';

const db = await makeTestDatabase(t);
const { api, http, adminToken, staffToken } = await startTestApi(t, db);
const RUNS = 150;

// Room for every valid order the properties place.
for (const productId of ['default', 'props']) {
  const res = await http.request(`/api/admin/products/${productId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}` },
    body: { total: 1_000_000 },
  });
  assert.ok(res.status === 200 || res.status === 201, `product ${productId} ready`);
}
// Coupons for the staff property (all setup is done before the first test starts).
const codes: string[] = [];
for (let i = 0; i < 30; i += 1) {
  const res = await http.request('/api/orders', { body: orderBody({ productId: 'props' }) });
  const { rows } = await db.owner.query('select coupon_code from crs.orders where order_id = $1', [
    res.json.orderId,
  ]);
  codes.push(rows[0].coupon_code as string);
}

// ---------------------------------------------------------------------------------------------
// Tagged generators: a value, and whether the contract calls it valid.

interface Tagged<T = unknown> {
  value: T;
  valid: boolean;
  why: string;
}

const good = <T>(arb: fc.Arbitrary<T>, why = 'valid'): fc.Arbitrary<Tagged<T>> =>
  arb.map((value) => ({ value, valid: true, why }));
const bad = <T>(arb: fc.Arbitrary<T>, why: string): fc.Arbitrary<Tagged<T>> =>
  arb.map((value) => ({ value, valid: false, why }));

/** Anything JSON that is not a string. */
const notAString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

/** Letters of many scripts (one code point each, unchanged by NFC), and a few marks. */
const NAME_CHARACTERS = [
  ...'aAzZäöåÄÖÅéçñßłŁøæ',
  ...'ΑλΩжЖщ',
  ...'שלוםمرحبا',
  ...'नमस्ते',
  ...'中文日本語한국어',
  ...'ไทย',
  '😀',
  '👩',
  '\u200d',
  "'",
  '-',
  '.',
];
const nameWord = (max: number) =>
  fc.string({ unit: fc.constantFrom(...NAME_CHARACTERS), minLength: 1, maxLength: max });
/** 1..max code points, no control characters, nothing to trim. */
const validName = (max: number) =>
  fc
    .tuple(nameWord(Math.floor((max - 1) / 2)), fc.option(nameWord(Math.floor((max - 1) / 2))))
    .map(([first, second]) => (second === null ? first : `${first} ${second}`));

const FORBIDDEN = [
  '\u0000',
  '\u0001',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009f',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
  '\ud800',
  '\udfff',
  '\ufffe',
  '\uffff',
];

const insertAt = ([text, inserted, at]: [string, string, number]) => {
  const position = at % (text.length + 1);
  return text.slice(0, position) + inserted + text.slice(position);
};

const name = (max: number) =>
  fc.oneof(
    { weight: 24, arbitrary: good(validName(max)) },
    { weight: 1, arbitrary: bad(notAString, 'not a string') },
    {
      weight: 1,
      arbitrary: bad(
        fc.string({ unit: fc.constantFrom(' ', '\u00a0', '\u3000', '\u2003'), maxLength: 4 }),
        'blank',
      ),
    },
    {
      weight: 1,
      arbitrary: bad(
        fc.string({
          unit: fc.constantFrom(...NAME_CHARACTERS.filter((c) => c !== '\u200d')),
          minLength: max + 1,
          maxLength: max + 40,
        }),
        'too long',
      ),
    },
    {
      weight: 2,
      arbitrary: bad(
        fc.tuple(validName(max), fc.constantFrom(...FORBIDDEN), fc.nat()).map(insertAt),
        'forbidden character',
      ),
    },
  );

/**
 * Values that must be unique (an order id, a customer's phone, a new product id) are drawn
 * when the request is made, not when the input is generated: fast-check replays inputs while
 * shrinking, and a replayed phone would be a duplicate customer instead of a new one.
 */
let serial = 0;
const fresh = () => (serial += 1);

/** Ways people write a Finnish mobile number (050 + 7 digits). */
const PHONE_FORMATS = [
  (n: string) => `+358 50 ${n}`,
  (n: string) => `+35850${n}`,
  (n: string) => `050 ${n.slice(0, 3)} ${n.slice(3)}`,
  (n: string) => `+358 (50) ${n.slice(0, 3)}-${n.slice(3)}`,
  (n: string) => `050-${n}`,
];

const PHONE_ALPHABET = /^[+0-9 ().-]*$/;
const phone = fc.oneof(
  { weight: 24, arbitrary: good(fc.nat(PHONE_FORMATS.length - 1).map((format) => ({ format }))) },
  { weight: 1, arbitrary: bad(notAString, 'not a string') },
  {
    weight: 2,
    arbitrary: bad(
      fc.constantFrom(
        '',
        '123',
        '+999 1234 5678',
        '++358501234567',
        '1'.repeat(33),
        '+358 50 123\u0000 4567',
        "'; drop table crs.orders; --",
      ),
      'not a phone number',
    ),
  },
  {
    weight: 1,
    arbitrary: bad(
      fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !PHONE_ALPHABET.test(s)),
      'characters a phone number has not',
    ),
  },
);

const ID_CHARACTERS = /^[A-Za-z0-9_-]*$/;
const orderId = fc.oneof(
  { weight: 12, arbitrary: good(fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/).map((tail) => ({ tail }))) },
  { weight: 1, arbitrary: bad(notAString, 'not a string') },
  { weight: 1, arbitrary: bad(fc.stringMatching(/^[A-Za-z0-9_-]{0,7}$/), 'too short') },
  { weight: 1, arbitrary: bad(fc.stringMatching(/^[A-Za-z0-9_-]{65,80}$/), 'too long') },
  {
    weight: 1,
    arbitrary: bad(
      fc
        .tuple(
          fc.stringMatching(/^[A-Za-z0-9_-]{8,20}$/),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).filter((s) => !ID_CHARACTERS.test(s)),
          fc.nat(),
        )
        .map(insertAt),
      'characters outside A-Z a-z 0-9 _ -',
    ),
  },
);

const productId = fc.oneof(
  { weight: 12, arbitrary: good(fc.constantFrom('props', 'default')) },
  { weight: 1, arbitrary: bad(notAString, 'not a string') },
  {
    weight: 1,
    arbitrary: bad(fc.constantFrom('', 'a/b', '../default', 'x'.repeat(65), 'props\u0000'), 'malformed'),
  },
  { weight: 1, arbitrary: bad(fc.constant('no-such-product'), 'no such product') },
);

interface Field extends Tagged {
  present: boolean;
}

/** A field that may be absent: required ones are then invalid, optional ones valid. */
const field = (arb: fc.Arbitrary<Tagged>, required: boolean): fc.Arbitrary<Field> =>
  fc.oneof(
    { weight: 12, arbitrary: arb.map((tagged) => ({ ...tagged, present: true })) },
    {
      weight: 1,
      arbitrary: fc.constant({ value: undefined, valid: !required, why: 'absent', present: false }),
    },
  );

/** Keys the body must not have; some would be dangerous if merged into an object. */
const strangerKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'admin',
  'status',
  'accessToken',
  'customerKey',
  'first_name',
  'FirstName',
  'firstName ',
  '',
);
/** Now and then (one in eight) a key that does not belong, with any value. */
const stranger = fc.oneof(
  { weight: 7, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.tuple(strangerKey, fc.jsonValue({ maxDepth: 2 })) },
);

const ORDER_FIELDS = ['firstName', 'lastName', 'phone', 'orderId', 'productId'] as const;

interface OrderInput {
  kind: 'order';
  fields: Record<(typeof ORDER_FIELDS)[number], Field>;
  stranger: [string, unknown] | null;
  valid: boolean;
  why: string[];
}

const orderInput: fc.Arbitrary<OrderInput> = fc
  .record({
    firstName: field(name(100), true),
    lastName: field(name(100), true),
    phone: field(phone, true),
    orderId: field(orderId, false),
    productId: field(productId, false),
    extra: stranger,
  })
  .map(({ extra, ...fields }) => {
    const why = ORDER_FIELDS.filter((key) => !fields[key].valid).map((key) => `${key}: ${fields[key].why}`);
    if (extra) why.push(`stranger key ${JSON.stringify(extra[0])}`);
    return { kind: 'order' as const, fields, stranger: extra, valid: why.length === 0, why };
  });

interface Order {
  body: Record<string, unknown>;
  /** What a reservation must store. */
  expect: { productId: string; firstName: string; lastName: string; phone: string | undefined };
}

/** The body to send, with fresh unique values where the input asks for valid ones. */
function makeOrder(input: OrderInput): Order {
  const entries: [string, unknown][] = [];
  let e164: string | undefined;
  for (const key of ORDER_FIELDS) {
    const f = input.fields[key];
    if (!f.present) continue;
    let value = f.value;
    if (key === 'phone' && f.valid) {
      const subscriber = String(1_000_000 + fresh());
      value = PHONE_FORMATS[(f.value as { format: number }).format]?.(subscriber);
      e164 = `+35850${subscriber}`;
    }
    if (key === 'orderId' && f.valid) {
      value = `ord-${String(fresh()).padStart(6, '0')}-${(f.value as { tail: string }).tail}`;
    }
    entries.push([key, value]);
  }
  if (input.stranger) entries.push(input.stranger);
  // fromEntries defines own properties: "__proto__" stays a key, as JSON.parse makes it.
  const body = Object.fromEntries(entries);
  const text = (value: unknown) => (typeof value === 'string' ? value.normalize('NFC').trim() : '');
  return {
    body,
    expect: {
      productId: typeof body['productId'] === 'string' ? body['productId'] : 'default',
      firstName: text(body['firstName']),
      lastName: text(body['lastName']),
      phone: e164,
    },
  };
}

/** A body that is not an order at all: any JSON, any text, any bytes. */
const notAnOrder = fc.oneof(
  fc
    .jsonValue({ maxDepth: 4 })
    .map((value) => ({ bytes: Buffer.from(JSON.stringify(value) ?? 'null'), why: 'any JSON' })),
  fc
    .string({ unit: 'binary', maxLength: 200 })
    .map((text) => ({ bytes: Buffer.from(text), why: 'any text' })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ bytes: Buffer.from(bytes), why: 'any bytes' })),
);

// ---------------------------------------------------------------------------------------------
// Checking one answer.

const statuses = new Map<string, number>();
const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);

/** Every non-2xx answer: a 4xx, in the contract's shape, as JSON. */
function assertRefusal(res: HttpResponse, context: string) {
  assert.ok(
    res.status >= 400 && res.status < 500,
    `${context}: expected a 4xx, got ${res.status} ${res.text}`,
  );
  assert.match(String(res.headers['content-type']), /^application\/json/, `${context}: JSON`);
  const problem = errorShapeProblem(res.json);
  assert.equal(problem, undefined, `${context}: ${problem} in ${res.text}`);
}

const ordersCount = (digest: Record<string, string>) => Number((digest['orders'] ?? '0:').split(':')[0]);

async function assertReserved(res: HttpResponse, order: Order, before: Record<string, string>) {
  assert.equal(res.status, 201, `valid order refused: ${res.status} ${res.text}`);
  assert.equal(res.json.status, 'reserved');
  assert.match(res.json.orderId, /^[A-Za-z0-9_-]{8,64}$/);
  if (typeof order.body['orderId'] === 'string') assert.equal(res.json.orderId, order.body['orderId']);
  assert.match(res.json.accessToken, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(res.json.links.self, `/api/orders/${res.json.orderId}`);
  const { rows } = await db.owner.query(
    'select product_id, first_name, last_name, phone, status from crs.orders where order_id = $1',
    [res.json.orderId],
  );
  assert.deepEqual(rows, [
    {
      product_id: order.expect.productId,
      first_name: order.expect.firstName,
      last_name: order.expect.lastName,
      phone: order.expect.phone,
      status: 'reserved',
    },
  ]);
  assert.equal(
    ordersCount(await databaseDigest(db.owner)),
    ordersCount(before) + 1,
    'exactly one order more',
  );
}

/** Runs a property and reports it to tap: fast-check's own message (seed, shrunk input) on failure. */
async function holds<T>(tap: Test, name: string, arb: fc.Arbitrary<T>, check: (input: T) => Promise<void>) {
  const details = await fc.check(fc.asyncProperty(arb, check), { numRuns: RUNS, includeErrorInReport: true });
  tap.notOk(details.failed, details.failed ? (fc.defaultReportMessage(details) ?? 'failed') : name);
  tap.equal(details.numRuns, RUNS, `${name}: ${details.numRuns} runs`);
}

// ---------------------------------------------------------------------------------------------

t.test(
  'POST /api/orders: any body is reserved exactly when valid, else a 4xx that changes nothing',
  async (t) => {
    let valid = 0;
    const input = fc.oneof(
      { weight: 4, arbitrary: orderInput },
      { weight: 1, arbitrary: notAnOrder.map((raw) => ({ kind: 'raw' as const, ...raw })) },
    );
    await holds(t, 'order bodies', input, async (input) => {
      const before = await databaseDigest(db.owner);
      const order = input.kind === 'order' ? makeOrder(input) : undefined;
      const body = order ? Buffer.from(JSON.stringify(order.body)) : (input as { bytes: Buffer }).bytes;
      const res = await requestWithin(http, '/api/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      count(`orders ${res.status} ${res.json?.error?.code ?? ''}`);
      if (order && input.kind === 'order' && input.valid) {
        valid += 1;
        await assertReserved(res, order, before);
        return;
      }
      assertRefusal(res, input.kind === 'order' ? input.why.join('; ') : input.why);
      assert.ok([400, 413].includes(res.status), `status ${res.status}`);
      if (res.status === 400) {
        assert.equal(res.json.error.code, 'invalid_request');
        assert.ok(
          Array.isArray(res.json.error.details) && res.json.error.details.length > 0,
          'details name fields',
        );
      }
      assert.deepEqual(await databaseDigest(db.owner), before, 'the database is unchanged');
    });
    t.ok(valid >= RUNS / 10, `${valid} of the bodies were valid and reserved`);
  },
);

/** Content types: accepted ones (JSON in UTF-8), refused ones, and anything at all. */
const contentType = fc.oneof(
  good(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/json; charset="utf-8"',
      'Application/JSON',
      'application/json; charset=utf8',
      'application/json; version=1',
    ),
  ),
  bad(
    fc.constantFrom(
      undefined,
      'text/plain',
      'text/json',
      'application/jsonx',
      'application/xml',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'multipart/form-data; boundary=x',
      '*/*',
      'application/*',
      'json',
    ),
    'refused content type',
  ),
  // Anything printable: only its answer's consistency is checked.
  fc.string({ maxLength: 60 }).map((value) => ({ value, valid: false, why: 'any', unknown: true })),
);

const contentEncoding = fc.oneof(
  { weight: 6, arbitrary: good(fc.constant(undefined)) },
  { weight: 1, arbitrary: good(fc.constantFrom('identity', 'Identity')) },
  {
    weight: 2,
    arbitrary: bad(fc.constantFrom('gzip', 'br', 'deflate', 'x-unknown', 'gzip, identity'), 'encoded'),
  },
);

/** Authorization headers near the right one and far from it. */
const authorization = (right: string, other: string) =>
  fc.oneof(
    { weight: 4, arbitrary: good(fc.constant(`Bearer ${right}`)) },
    {
      weight: 1,
      arbitrary: good(fc.constant(`Bearer ${right}  `), 'trailing whitespace (not part of the value)'),
    },
    {
      weight: 1,
      arbitrary: good(
        fc.constantFrom(`bearer ${right}`, `BEARER ${right}`),
        'the scheme in any case (RFC 9110)',
      ),
    },
    {
      weight: 4,
      arbitrary: bad(
        fc.constantFrom(
          undefined,
          '',
          'Bearer',
          'Bearer ',
          `Bearer ${other}`,
          `Bearer  ${right}`,
          `Bearer ${right}x`,
          `Bearer ${right.slice(0, -1)}`,
          right,
          `Basic ${Buffer.from(`admin:${right}`).toString('base64')}`,
          `Bearer ${right}, Bearer ${right}`,
          `Bearer ${'A'.repeat(600)}`,
        ),
        'wrong credentials',
      ),
    },
    { weight: 1, arbitrary: bad(fc.string({ maxLength: 80 }), 'any string') },
  );

/** Headers nobody asked for: they must change nothing. */
const strangerHeaders = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,16}$/),
  fc.string({ maxLength: 40 }).map((value) => value.trim()),
  { maxKeys: 3 },
);

t.test('POST /api/orders: any header set gives the documented answer and nothing else', async (t) => {
  let reserved = 0;
  const input = fc.record({
    order: orderInput.filter((order) => order.valid),
    contentType,
    contentEncoding,
    authorization: authorization('not-a-token-here-at-all-0000000000', 'x'),
    accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*', 'text/event-stream'),
    extra: strangerHeaders,
  });
  await holds(t, 'order headers', input, async (input) => {
    const headers: Record<string, string> = { ...input.extra };
    if (input.contentType.value !== undefined) headers['content-type'] = input.contentType.value;
    if (input.contentEncoding.value !== undefined) headers['content-encoding'] = input.contentEncoding.value;
    if (input.authorization.value !== undefined) headers['authorization'] = input.authorization.value;
    if (input.accept !== undefined) headers['accept'] = input.accept;
    const before = await databaseDigest(db.owner);
    const order = makeOrder(input.order);
    const res = await requestWithin(http, '/api/orders', {
      method: 'POST',
      headers,
      body: Buffer.from(JSON.stringify(order.body)),
    });
    count(`order headers ${res.status} ${res.json?.error?.code ?? ''}`);
    const unknown = 'unknown' in input.contentType;
    const accepted = input.contentType.valid && input.contentEncoding.valid;
    if (accepted || (unknown && input.contentEncoding.valid && res.status === 201)) {
      reserved += 1;
      await assertReserved(res, order, before);
      return;
    }
    assertRefusal(res, `${input.contentType.why}; ${input.contentEncoding.why}`);
    if (!unknown) {
      const form = /^application\/x-www-form-urlencoded/i.test(input.contentType.value ?? '');
      assert.equal(res.status, form ? 403 : 415, `content type ${input.contentType.value}`);
      assert.equal(res.json.error.code, form ? 'forbidden' : 'unsupported_media_type');
    }
    assert.deepEqual(await databaseDigest(db.owner), before, 'the database is unchanged');
  });
  t.ok(reserved >= RUNS / 10, `${reserved} accepted and reserved`);
});

// ---------------------------------------------------------------------------------------------

const PRODUCT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const COUPON_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Every byte as %XX: any string, or bytes that are not UTF-8 at all. */
const percentEncoded = (bytes: Uint8Array) =>
  [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');

/** What the router hands the route for a path segment (it keeps a segment it cannot decode). */
function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A path segment: how it is sent. */
const anySegment = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }).map((s) => percentEncoded(Buffer.from(s))),
  fc.uint8Array({ minLength: 1, maxLength: 20 }).map(percentEncoded),
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,70}$/),
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E%2E%2F',
    '..%2F..%2F',
    '%252e%252e%252f',
    '%00',
    '%',
    '%zz',
    '%C0%AE',
    'a%2Fb',
  ),
);

/** A new product's id (made unique when sent), or any segment at all. */
const productSegment = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{0,20}$/).map((tail) => ({ newProduct: tail })) },
  { weight: 2, arbitrary: anySegment.map((segment) => ({ segment })) },
);
const sendSegment = (s: { newProduct: string } | { segment: string }) =>
  'segment' in s ? s.segment : `adm-${fresh()}-${s.newProduct}`;

const totalField = fc.oneof(
  { weight: 16, arbitrary: good(fc.integer({ min: 0, max: 1_000_000_000 })) },
  {
    weight: 3,
    arbitrary: bad(
      fc.oneof(
        fc.integer({ min: -1_000_000, max: -1 }),
        fc.integer({ min: 1_000_000_001 }),
        fc.double({ min: 0.001, max: 1e6, noNaN: true }).filter((n) => !Number.isInteger(n)),
        fc.constantFrom(1e12, 1e21, Number.MAX_SAFE_INTEGER, -0.5),
        fc.integer().map(String),
        fc.constantFrom(null, true, [], {}, '', '1e3', [5]),
      ),
      'not a whole number in range',
    ),
  },
);

const productBody = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        total: field(totalField, true),
        name: field(name(120), false),
        extra: stranger,
      })
      .map(({ total, name, extra }) => {
        const entries: [string, unknown][] = [];
        if (total.present) entries.push(['total', total.value]);
        if (name.present) entries.push(['name', name.value]);
        if (extra) entries.push(extra);
        return {
          bytes: Buffer.from(JSON.stringify(Object.fromEntries(entries))),
          valid: total.valid && name.valid && !extra,
          total: total.value as number,
          name: name.present && name.valid ? (name.value as string).normalize('NFC').trim() : undefined,
        };
      }),
  },
  {
    weight: 1,
    arbitrary: notAnOrder.map(({ bytes }) => ({ bytes, valid: false, total: 0, name: undefined })),
  },
);

t.test('PUT /api/admin/products/:productId: any token, segment and body', async (t) => {
  let changed = 0;
  const input = fc.record({
    auth: authorization(adminToken, staffToken),
    segment: productSegment,
    body: productBody,
  });
  await holds(t, 'admin', input, async ({ auth, segment: drawn, body }) => {
    const segment = sendSegment(drawn);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth.value !== undefined) headers['authorization'] = auth.value;
    const before = await databaseDigest(db.owner);
    const res = await requestWithin(http, `/api/admin/products/${segment}`, {
      method: 'PUT',
      headers,
      body: body.bytes,
    });
    count(`admin ${res.status} ${res.json?.error?.code ?? ''}`);
    const decoded = decodedSegment(segment);
    if (decoded.includes('/') && !segment.includes('%')) {
      // Not one segment: no such route.
      assertRefusal(res, 'route');
      assert.equal(res.status, 404);
    } else if (!auth.valid) {
      assertRefusal(res, auth.why);
      assert.equal(res.status, 401);
      assert.equal(res.json.error.code, 'unauthorized');
    } else if (!PRODUCT_ID.test(decoded)) {
      assertRefusal(res, `product id ${JSON.stringify(decoded)}`);
      assert.equal(res.status, 400);
      assert.deepEqual(res.json.error.details, [
        { field: 'productId', message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ -' },
      ]);
    } else if (!body.valid) {
      assertRefusal(res, 'body');
      assert.equal(res.status, 400);
      assert.equal(res.json.error.code, 'invalid_request');
    } else {
      changed += 1;
      assert.ok(res.status === 201 || res.status === 200, `valid update refused: ${res.status} ${res.text}`);
      assert.equal(res.json.productId, decoded);
      assert.equal(res.json.total, body.total);
      assert.equal(res.json.available, body.total > 0);
      const { rows } = await db.owner.query('select name, total from crs.products where product_id = $1', [
        decoded,
      ]);
      assert.equal(rows[0]?.total, body.total, 'stored total');
      if (body.name !== undefined) assert.equal(rows[0]?.name, body.name, 'stored name');
      return;
    }
    assert.deepEqual(await databaseDigest(db.owner), before, 'the database is unchanged');
  });
  t.ok(changed >= RUNS / 20, `${changed} valid updates made`);
});

// ---------------------------------------------------------------------------------------------

interface CodeInput {
  segment: string;
  /** The coupon it names, when it names one. */
  code: string | undefined;
  why: string;
}

/** How staff type a real code: any case, separators or none, O for 0, I or L for 1. */
const realCode: fc.Arbitrary<CodeInput> = fc
  .tuple(fc.constantFrom(...codes), fc.constantFrom('as is', 'lower', 'bare', 'spaced', 'letters'))
  .map(([code, how]) => {
    const typed = {
      'as is': code,
      lower: code.toLowerCase(),
      bare: code.replace(/-/g, ''),
      spaced: code.replace(/-/g, ' '),
      letters: code.replace(/0/g, 'O').replace(/1/g, 'l'),
    }[how];
    return { segment: encodeURIComponent(typed), code, why: `real code, ${how}` };
  });

/** A real code with one symbol changed: the check symbol catches it. */
const mistypedCode: fc.Arbitrary<CodeInput> = fc
  .tuple(fc.constantFrom(...codes), fc.nat(), fc.nat())
  .map(([code, at, by]) => {
    const symbols = [...code.replace(/-/g, '')];
    const position = at % symbols.length;
    const old = COUPON_ALPHABET.indexOf(symbols[position] as string);
    symbols[position] = COUPON_ALPHABET[(old + 1 + (by % 31)) % 32] as string;
    return { segment: symbols.join(''), code: undefined, why: 'one symbol mistyped' };
  });

/** Well-formed (right check symbol), but no such coupon. */
const unknownCode: fc.Arbitrary<CodeInput> = fc
  .array(fc.constantFrom(...COUPON_ALPHABET), { minLength: 17, maxLength: 17 })
  .map((symbols) => {
    const payload = symbols.join('');
    const full = payload + checkSymbol(payload);
    return {
      segment: `${full.slice(0, 6)}-${full.slice(6, 12)}-${full.slice(12)}`,
      code: undefined,
      why: 'unknown',
    };
  })
  .filter((input) => !codes.includes(decodedSegment(input.segment)));

const codeSegment = fc.oneof(
  { weight: 4, arbitrary: realCode },
  { weight: 1, arbitrary: mistypedCode },
  { weight: 1, arbitrary: unknownCode },
  { weight: 2, arbitrary: anySegment.map((segment) => ({ segment, code: undefined, why: 'any segment' })) },
);

/** A redemption attempt was refused: one crs.audit_log entry more (sql/audit.sql), nothing else. */
async function assertOnlyAudited(before: Record<string, string>) {
  const { audit_log: auditAfter, ...after } = await databaseDigest(db.owner);
  const { audit_log: auditBefore, ...rest } = before;
  assert.deepEqual(after, rest, 'nothing but the audit trail changed');
  const entries = (digest: string | undefined) => Number((digest ?? '0:').split(':')[0]);
  assert.equal(entries(auditAfter), entries(auditBefore) + 1, 'the attempt was audited');
}

t.test('staff GET /api/vouchers/:code and POST …/redeem: any token and segment', async (t) => {
  let found = 0;
  let redeemed = 0;
  const input = fc.record({
    auth: authorization(staffToken, adminToken),
    code: codeSegment,
    redeem: fc.boolean(),
  });
  await holds(t, 'staff', input, async ({ auth, code, redeem }) => {
    const headers: Record<string, string> = {};
    if (auth.value !== undefined) headers['authorization'] = auth.value;
    const before = await databaseDigest(db.owner);
    const path = `/api/vouchers/${code.segment}${redeem ? '/redeem' : ''}`;
    // What the database says of this coupon before the request: the model of the answer.
    const { rows } = code.code
      ? await db.owner.query('select order_id, status from crs.orders where coupon_code = $1', [code.code])
      : { rows: [] };
    const stored = rows[0] as { order_id: string; status: string } | undefined;
    const res = await requestWithin(http, path, { method: redeem ? 'POST' : 'GET', headers });
    count(`staff ${redeem ? 'redeem' : 'get'} ${res.status} ${res.json?.error?.code ?? ''}`);
    const decoded = decodedSegment(code.segment);
    if (decoded.includes('/') && !code.segment.includes('%')) {
      assertRefusal(res, 'route');
      assert.equal(res.status, 404);
    } else if (!auth.valid) {
      assertRefusal(res, auth.why);
      assert.equal(res.status, 401);
      assert.equal(res.json.error.code, 'unauthorized');
    } else if (!stored) {
      assertRefusal(res, code.why);
      assert.equal(res.status, 404, `${code.why}: ${res.status}`);
      assert.equal(res.json.error.code, 'not_found');
      if (redeem && normaliseCouponCode(decoded) !== undefined) {
        // A well-formed code is looked up, and every redemption attempt is audited (guessing
        // shows): one audit entry more, nothing else.
        await assertOnlyAudited(before);
        return;
      }
    } else if (!redeem) {
      found += 1;
      assert.equal(res.status, 200, `${code.why}: ${res.status} ${res.text}`);
      assert.equal(res.json.code, code.code);
      assert.equal(res.json.orderId, stored.order_id);
      assert.equal(res.json.status, stored.status);
    } else if (stored.status === 'redeemed') {
      assertRefusal(res, 'again');
      assert.equal(res.status, 409);
      assert.equal(res.json.error.code, 'already_redeemed');
      await assertOnlyAudited(before);
      return;
    } else {
      redeemed += 1;
      assert.equal(res.status, 200, `redeem refused: ${res.status} ${res.text}`);
      assert.equal(res.json.status, 'redeemed');
      assert.equal(res.json.orderId, stored.order_id);
      const after = await db.owner.query('select status from crs.orders where order_id = $1', [
        stored.order_id,
      ]);
      assert.equal(after.rows[0]?.status, 'redeemed');
      return;
    }
    assert.deepEqual(await databaseDigest(db.owner), before, 'the database is unchanged');
  });
  t.ok(found >= 5, `${found} real coupons looked up`);
  t.ok(redeemed >= 5, `${redeemed} coupons redeemed`);
});

t.test('no generated request got a 5xx', async (t) => {
  t.equal(await serverErrorsAnswered(api), 0);
  t.comment(
    [...statuses]
      .sort()
      .map(([key, n]) => `${key}: ${n}`)
      .join('\n'),
  );
});
