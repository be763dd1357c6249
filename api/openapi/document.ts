/**
 * The OpenAPI 3.1 description of the HTTP API, served at /api/openapi.json. Request bodies and
 * every path and query parameter come from the zod schemas the routes validate them with
 * (parameters.ts); test/api/openapiConformance.test.ts checks that every route and status the
 * app answers is documented here and every documented one answered, and that each operation's
 * parameters are those its route parses.
 */
import { z } from 'zod';
import { auditParameters } from '../admin/auditRoutes.js';
import { productParameters, productUpdateSchema } from '../admin/routes.js';
import { readinessParameters } from '../health/routes.js';
import { makeOrderRequestSchema } from '../orders/orderRequest.js';
import { orderParameters } from '../orders/routes.js';
import { stockParameters } from '../stock/routes.js';
import { orderEventsParameters, voucherParameters } from '../vouchers/routes.js';
import { couponParameters } from '../vouchers/staffRoutes.js';
import { parametersFrom } from './parameters.js';

type Json = Record<string, unknown>;

function bodySchema(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

const errorRef = { $ref: '#/components/schemas/Error' };
const json = (schema: Json) => ({ 'application/json': { schema } });
const html = (description: string) => ({ 'text/html': { schema: { type: 'string', description } } });

/**
 * Response headers, declared once and referenced by name. Every response carries COMMON; the
 * others are listed on the responses that send them. Content-Type is the media type of
 * `content` (OpenAPI ignores it as a header); Content-Length, Date, Connection, Keep-Alive and
 * Transfer-Encoding are HTTP's own.
 */
const seconds = { type: 'string', pattern: '^[0-9]+$' };
const headers: Record<string, Json> = {
  'X-Request-Id': {
    description:
      "The request id: the caller's X-Request-Id if it was a safe token, else a new one; in every log line",
    required: true,
    schema: { type: 'string', minLength: 1 },
  },
  'X-Content-Type-Options': { required: true, schema: { const: 'nosniff' } },
  'Referrer-Policy': { required: true, schema: { const: 'no-referrer' } },
  'X-Frame-Options': { required: true, schema: { const: 'DENY' } },
  'Content-Security-Policy': {
    description: "default-src 'none' for the API; an HTML answer allows this origin's scripts and styles",
    required: true,
    schema: { type: 'string' },
  },
  'Cross-Origin-Resource-Policy': { required: true, schema: { const: 'same-origin' } },
  'Cache-Control': {
    description: 'no-store on anything about one order, one coupon or the audit trail; no-cache on stock',
    schema: { type: 'string' },
  },
  'RateLimit-Limit': {
    description:
      'Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on',
    schema: seconds,
  },
  'RateLimit-Remaining': { description: 'Requests left in the window', schema: seconds },
  'RateLimit-Reset': { description: 'Seconds until the window resets', schema: seconds },
  'WWW-Authenticate': {
    description: 'The scheme to authenticate with',
    required: true,
    schema: { const: 'Bearer' },
  },
  'Retry-After': { description: 'Seconds to wait before retrying', required: true, schema: seconds },
  Location: {
    description: 'The order: /api/orders/{orderId} (JSON); the order page after a form post',
    schema: { type: 'string' },
  },
  Vary: { description: 'The request headers that chose between JSON and HTML', schema: { type: 'string' } },
  'Set-Cookie': {
    description: "The page's CSRF cookie (crs_csrf), when an HTML answer carries a form",
    schema: { type: 'string', pattern: '^crs_csrf=' },
  },
  'X-Stock-Source': {
    description: 'Where the figure came from: redis (the CDC-maintained flag) or postgres (the fallback)',
    required: true,
    schema: { enum: ['redis', 'postgres'] },
  },
  'Content-Disposition': { required: true, schema: { type: 'string', pattern: '^attachment; filename=' } },
  'X-Accel-Buffering': {
    description: 'Tells a proxy not to buffer the stream',
    required: true,
    schema: { const: 'no' },
  },
};
const ref = (name: string) => ({ $ref: `#/components/headers/${name.replaceAll('/', '~1')}` });
const COMMON = [
  'X-Request-Id',
  'X-Content-Type-Options',
  'Referrer-Policy',
  'X-Frame-Options',
  'Content-Security-Policy',
  'Cross-Origin-Resource-Policy',
  'Cache-Control',
];
const RATE_LIMIT = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

type Response = { description: string; content?: Json; headers?: Record<string, Json> };
type Operation = Json & { responses: Record<string, Response> };

/** A response with these headers (besides COMMON, added to every response at the end). */
function withHeaders(response: Response, names: string[], optional = false): Response {
  const added = Object.fromEntries(
    names.map((name) => [name, optional ? { ...headers[name], required: false } : ref(name)]),
  );
  return { ...response, headers: { ...response.headers, ...added } };
}

/** HTML beside JSON: what the web page gets for the same answer (content negotiation). */
function orHtml(response: Response, description: string): Response {
  return { ...response, content: { ...response.content, ...html(description) } };
}

/** Every response of an operation may carry these headers (a limit, content negotiation). */
function onEveryResponse(operation: Operation, names: string[]): Operation {
  for (const [status, response] of Object.entries(operation.responses)) {
    operation.responses[status] = withHeaders(response, names, true);
  }
  return operation;
}

/**
 * COMMON on every response, Retry-After on every 429 and 503, WWW-Authenticate on every 401;
 * what a response declares itself wins.
 */
function finish(paths: Record<string, Record<string, Operation>>) {
  for (const methods of Object.values(paths)) {
    for (const operation of Object.values(methods)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const names = [
          ...COMMON,
          ...(status === '429' || status === '503' ? ['Retry-After'] : []),
          ...(status === '401' ? ['WWW-Authenticate'] : []),
        ];
        const common = Object.fromEntries(names.map((name) => [name, ref(name)]));
        operation.responses[status] = { ...response, headers: { ...common, ...response.headers } };
      }
    }
  }
  return paths;
}

function error(description: string, codes: string[]) {
  return { description: `${description} (code: ${codes.join(', ')})`, content: json(errorRef) };
}

const unavailable = error(
  'The database cannot decide now; nothing was written. Retry after Retry-After seconds',
  ['unavailable'],
);
const invalid = error('Invalid request; details lists each field and what is wrong', ['invalid_request']);
const tooLarge = error('The body is larger than the limit', ['payload_too_large']);
const notJson = error('The body is not application/json in UTF-8', ['unsupported_media_type']);
const unauthorized = error('Missing or wrong bearer token', ['unauthorized']);
const staffLimited = error(
  'Too many requests with this token, or too many failed authentications from this address; retry after Retry-After seconds',
  ['rate_limited'],
);

const stockSchema: Json = {
  type: 'object',
  required: ['productId', 'name', 'total', 'remaining', 'available'],
  properties: {
    productId: { type: 'string' },
    name: { type: 'string' },
    total: { type: 'integer', minimum: 0 },
    remaining: { type: 'integer', minimum: 0 },
    available: { type: 'boolean' },
  },
};

const reservedSchema: Json = {
  type: 'object',
  required: ['orderId', 'status', 'accessToken', 'links'],
  properties: {
    orderId: { type: 'string' },
    status: { const: 'reserved' },
    accessToken: {
      type: 'string',
      description: 'Bearer token for this order (256 bits). Returned only to whoever placed the order.',
    },
    links: {
      type: 'object',
      required: ['self', 'events', 'voucher'],
      properties: {
        self: { type: 'string' },
        events: { type: 'string' },
        voucher: { type: 'string' },
      },
    },
  },
};

const auditEntrySchema: Json = {
  type: 'object',
  required: ['id', 'at', 'actor', 'action', 'subject', 'details'],
  properties: {
    id: { type: 'integer', description: 'Increasing; pass the last one of a page as `before`' },
    at: { type: 'string', format: 'date-time' },
    actor: {
      type: 'object',
      required: ['role', 'id', 'dbUser'],
      properties: {
        role: { enum: ['admin', 'staff', 'system'] },
        id: {
          type: 'string',
          description:
            'Non-secret: "token:" and 12 hex digits of a SHA-256 of the bearer token, ' +
            'or the database login for the system role',
        },
        address: { type: 'string', description: 'Client address' },
        requestId: { type: 'string', description: 'X-Request-Id of the request' },
        session: { type: 'string', description: 'Fingerprint of the page session, for page changes' },
        dbUser: { type: 'string', description: 'The database login that made the change' },
      },
    },
    action: { enum: ['stock_set', 'redeem'] },
    subject: {
      type: 'string',
      description: 'The product id (stock_set) or the coupon code as given (redeem)',
    },
    details: {
      type: 'object',
      description:
        'outcome (created, updated, below_reserved; redeemed, already_redeemed, cancelled, ' +
        'not_found), and for stock_set: requested, before and after {name, total, remaining, ' +
        'reserved}; for redeem: orderId, productId, statusBefore, redeemedAt, redeemedBy',
      required: ['outcome'],
      properties: { outcome: { type: 'string' } },
    },
  },
};

export function makeOpenApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cloud reservation system',
      version: '1',
      description:
        'Reserve a free product with limited stock. Errors always have the shape ' +
        '{"error": {"code", "message", "details"?}} with a stable code. On any route, a request ' +
        'the HTTP server refuses before routing it gets the same shape and a closed connection: ' +
        '400 invalid_request (not valid HTTP/1.1), 408 request_timeout (headers or body too ' +
        'slow), 431 headers_too_large.',
    },
    components: {
      headers,
      securitySchemes: {
        orderToken: { type: 'http', scheme: 'bearer', description: 'accessToken of the order; also ?token=' },
        staffToken: { type: 'http', scheme: 'bearer' },
        adminToken: { type: 'http', scheme: 'bearer' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                details: {},
              },
            },
          },
        },
        Stock: stockSchema,
        OrderRequest: bodySchema(makeOrderRequestSchema('FI')),
        Reserved: reservedSchema,
        ProductUpdate: bodySchema(productUpdateSchema),
        AuditEntry: auditEntrySchema,
      },
    },
    paths: finish({
      '/api/orders': {
        post: onEveryResponse(
          {
            summary: 'Reserve one unit of a product',
            description:
              'JSON for API clients. The web page posts the same fields as an HTML form ' +
              '(application/x-www-form-urlencoded, with its CSRF token in `_csrf`) and gets HTML: ' +
              'a fragment under the same status codes for htmx requests (HX-Request: true), the ' +
              'page again with its errors for a plain form post, or a 303 redirect to the order ' +
              'page (/orders/{orderId}) once reserved.',
            requestBody: {
              required: true,
              content: {
                ...json({ $ref: '#/components/schemas/OrderRequest' }),
                'application/x-www-form-urlencoded': {
                  schema: {
                    allOf: [
                      { $ref: '#/components/schemas/OrderRequest' },
                      {
                        type: 'object',
                        required: ['_csrf'],
                        properties: { _csrf: { type: 'string', description: "The form's CSRF token" } },
                      },
                    ],
                  },
                },
              },
            },
            responses: {
              '201': orHtml(
                withHeaders(
                  { description: 'Reserved', content: json({ $ref: '#/components/schemas/Reserved' }) },
                  ['Location'],
                  true,
                ),
                "An htmx form post: the order's status fragment",
              ),
              '200': orHtml(
                withHeaders(
                  {
                    description: 'The same orderId with the same details again: the first answer, unchanged',
                    content: json({ $ref: '#/components/schemas/Reserved' }),
                  },
                  ['Location'],
                  true,
                ),
                "An htmx form post sent again: the order's status fragment",
              ),
              '303': withHeaders(
                {
                  description:
                    'A plain form post (no htmx) was reserved: Location is the order page with its token',
                  content: {
                    ...html('A link to Location'),
                    'text/plain': {
                      schema: { type: 'string', description: 'Location, for a client not accepting HTML' },
                    },
                  },
                },
                ['Location'],
              ),
              '400': orHtml(invalid, 'The form again, each field with what is wrong'),
              '403': orHtml(
                error('A form post without a valid CSRF token, or from another site', ['forbidden']),
                'The form again, with a fresh token',
              ),
              '409': orHtml(
                error('Refused', ['out_of_stock', 'duplicate_customer', 'order_id_conflict']),
                'The form (or the sold-out notice) with the reason',
              ),
              '413': orHtml(tooLarge, 'The form again, with the reason'),
              '415': notJson,
              '429': orHtml(
                error(
                  'Too many orders from this client address or for this customer; retry after Retry-After seconds',
                  ['rate_limited'],
                ),
                'The form again, with the reason',
              ),
              '503': orHtml(unavailable, 'The form again, with the reason'),
            },
          },
          [...RATE_LIMIT, 'Vary', 'Set-Cookie'],
        ),
      },
      '/api/orders/{orderId}': {
        get: onEveryResponse(
          {
            summary: "An order's state",
            description:
              'JSON, or HTML for the web page: the order page for a browser (Accept prefers ' +
              'text/html), its status fragment for htmx (HX-Request: true).',
            security: [{ orderToken: [] }],
            parameters: parametersFrom(orderParameters),
            responses: {
              '200': orHtml(
                {
                  description: 'The order',
                  content: json({
                    type: 'object',
                    required: ['orderId', 'productId', 'status', 'createdAt'],
                    properties: {
                      orderId: { type: 'string' },
                      productId: { type: 'string' },
                      status: { enum: ['reserved', 'voucher_ready', 'redeemed', 'cancelled'] },
                      createdAt: { type: 'string', format: 'date-time' },
                      voucher: {
                        type: 'object',
                        description:
                          'Present once the voucher is stored; url is a download link valid for 5 minutes',
                        properties: {
                          url: { type: 'string' },
                          storedAt: { type: 'string', format: 'date-time' },
                        },
                      },
                      redeemedAt: { type: 'string', format: 'date-time' },
                    },
                  }),
                },
                'The order page, or its status fragment',
              ),
              '401': orHtml(unauthorized, 'A not-found page'),
              '404': orHtml(
                error("No such order, or the token is not this order's", ['not_found']),
                'A not-found page',
              ),
              '503': orHtml(unavailable, 'A page saying so'),
            },
          },
          ['Vary', 'Set-Cookie'],
        ),
      },
      '/api/orders/{orderId}/events': {
        get: {
          summary:
            'Server-Sent Events: `voucher` with {orderId, url} once the voucher is stored (at once if it is)',
          security: [{ orderToken: [] }],
          parameters: parametersFrom(orderEventsParameters),
          responses: {
            '200': withHeaders(
              { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
              ['X-Accel-Buffering'],
            ),
            '401': unauthorized,
            '404': error("No such order, or the token is not this order's", ['not_found']),
            '429': error('Too many open streams for this client address or this order', ['rate_limited']),
            '503': error('Too many open streams, or the database cannot answer', ['unavailable']),
          },
        },
      },
      '/api/orders/{orderId}/voucher': {
        get: {
          summary: 'The voucher PDF (order token, or the short-lived signed link from the voucher event)',
          security: [{ orderToken: [] }],
          parameters: parametersFrom(voucherParameters),
          responses: {
            '200': withHeaders(
              {
                description: 'The PDF',
                content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
              },
              ['Content-Disposition'],
            ),
            '401': error('Missing or wrong token, or an expired or forged link', ['unauthorized']),
            '404': error('No such order, wrong token, or no voucher stored yet', ['not_found']),
            '503': unavailable,
          },
        },
      },
      '/api/vouchers/{code}': {
        get: onEveryResponse(
          {
            summary: 'A coupon, for staff (any case, separators optional)',
            security: [{ staffToken: [] }],
            parameters: parametersFrom(couponParameters),
            responses: {
              '200': {
                description: 'The coupon',
                content: json({
                  type: 'object',
                  required: ['code', 'orderId', 'productId', 'status'],
                  properties: {
                    code: { type: 'string' },
                    orderId: { type: 'string' },
                    productId: { type: 'string' },
                    status: { enum: ['reserved', 'voucher_ready', 'redeemed', 'cancelled'] },
                    redeemedAt: { type: 'string', format: 'date-time' },
                  },
                }),
              },
              '401': unauthorized,
              '429': staffLimited,
              '404': error('No such coupon', ['not_found']),
              '503': unavailable,
            },
          },
          RATE_LIMIT,
        ),
      },
      '/api/vouchers/{code}/redeem': {
        post: onEveryResponse(
          {
            summary: 'Redeem a coupon, once',
            security: [{ staffToken: [] }],
            parameters: parametersFrom(couponParameters),
            responses: {
              '200': {
                description: 'Redeemed now',
                content: json({
                  type: 'object',
                  required: ['status'],
                  properties: {
                    status: { const: 'redeemed' },
                    orderId: { type: 'string' },
                    redeemedAt: { type: 'string' },
                  },
                }),
              },
              '401': unauthorized,
              '429': staffLimited,
              '404': error('No such coupon', ['not_found']),
              '409': error('Already redeemed; details.redeemedAt says when', ['already_redeemed']),
              '503': unavailable,
            },
          },
          RATE_LIMIT,
        ),
      },
      '/api/stock': {
        get: {
          summary: "A product's stock",
          parameters: parametersFrom(stockParameters),
          responses: {
            '200': withHeaders(
              { description: 'The stock', content: json({ $ref: '#/components/schemas/Stock' }) },
              ['X-Stock-Source'],
            ),
            '400': invalid,
            '404': error('No such product', ['not_found']),
            '503': unavailable,
          },
        },
      },
      '/api/stock/events': {
        get: {
          summary:
            'Server-Sent Events: `stock` with the Stock object at once, then on every change ' +
            '(at most one event per 250 ms per stream, always the newest)',
          parameters: parametersFrom(stockParameters),
          responses: {
            '200': withHeaders(
              { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
              ['X-Accel-Buffering'],
            ),
            '400': invalid,
            '404': error('No such product', ['not_found']),
            '429': error('Too many open streams for this client address', ['rate_limited']),
            '503': error('Too many open streams, or the stock cannot be read now', ['unavailable']),
          },
        },
      },
      '/api/admin/products/{productId}': {
        put: onEveryResponse(
          {
            summary: 'Create a product, or change its name and total stock',
            security: [{ adminToken: [] }],
            parameters: parametersFrom(productParameters),
            requestBody: {
              required: true,
              content: json({ $ref: '#/components/schemas/ProductUpdate' }),
            },
            responses: {
              '200': { description: 'Updated', content: json({ $ref: '#/components/schemas/Stock' }) },
              '201': { description: 'Created', content: json({ $ref: '#/components/schemas/Stock' }) },
              '400': invalid,
              '401': unauthorized,
              '429': staffLimited,
              '409': error('The total is below what is already reserved; details.reserved says how much', [
                'below_reserved',
              ]),
              '413': tooLarge,
              '415': notJson,
              '503': unavailable,
            },
          },
          RATE_LIMIT,
        ),
      },
      '/api/admin/audit': {
        get: onEveryResponse(
          {
            summary:
              'The audit trail, newest first: every admin stock change and redemption attempt ' +
              '(refusals included), with who, when and what',
            security: [{ adminToken: [] }],
            parameters: parametersFrom(auditParameters),
            responses: {
              '200': {
                description: 'A page of entries; nextBefore when there may be more',
                content: json({
                  type: 'object',
                  required: ['entries'],
                  properties: {
                    entries: { type: 'array', items: { $ref: '#/components/schemas/AuditEntry' } },
                    nextBefore: { type: 'integer' },
                  },
                }),
              },
              '400': invalid,
              '401': unauthorized,
              '429': staffLimited,
              '503': unavailable,
            },
          },
          RATE_LIMIT,
        ),
      },
      '/api/openapi.json': {
        get: {
          summary: 'This document',
          responses: {
            '200': {
              description: 'OpenAPI 3.1',
              content: json({ type: 'object', required: ['openapi', 'paths'] }),
            },
          },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness: the process serves requests',
          responses: {
            '200': {
              description: 'Alive',
              content: json({
                type: 'object',
                required: ['status'],
                properties: { status: { const: 'ok' } },
              }),
            },
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: every dependency is reachable and the process is not draining',
          parameters: parametersFrom(readinessParameters),
          responses: {
            '200': {
              description: 'Ready',
              content: json({
                type: 'object',
                required: ['status', 'checks', 'degraded'],
                properties: {
                  status: { const: 'ready' },
                  checks: {
                    type: 'object',
                    description: 'Each check that decides readiness: "ok", or why it was left out',
                    additionalProperties: { type: 'string' },
                  },
                  degraded: {
                    type: 'object',
                    description:
                      'Dependencies the API works without, and their state (stock falls back to ' +
                      'Postgres without Redis; vouchers are caught up from Postgres without RabbitMQ)',
                    additionalProperties: { type: 'string' },
                  },
                },
              }),
            },
            '400': error('An unknown check in exclude', ['invalid_request']),
            '503': error('Not ready; details.checks says which dependency', ['unavailable']),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: {
            '200': {
              description: 'Prometheus text format 0.0.4',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
    }),
  };
}
