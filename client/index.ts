/**
 * A typed client of the HTTP API, for API consumers: every path, parameter, body and answer
 * typed from the OpenAPI document (client/schema.ts, generated), on openapi-fetch.
 *
 *   import { createCrsClient } from 'cloud-reservation-system/client';
 *   const api = createCrsClient({ baseUrl: 'http://localhost:3000' });
 *   const { data, error, response } = await api.POST('/api/orders', { body: { ... } });
 *
 * `data` is the success body, `error` the error body ({error: {code, message, details?}}), and
 * `response` the Response (its headers: Location, Retry-After, RateLimit-*). Staff and admin
 * calls pass their token once; an order's own calls pass its accessToken per request.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths };
export type Schemas = components['schemas'];
export type Stock = Schemas['Stock'];
export type OrderRequest = Schemas['OrderRequest'];
export type Reserved = Schemas['Reserved'];
export type ProductUpdate = Schemas['ProductUpdate'];
export type AuditEntry = Schemas['AuditEntry'];
export type ApiErrorBody = Schemas['Error'];

/** JSON in and out; the HTML alternatives of the order routes are for the web page. */
export type CrsClient = Client<paths, 'application/json'>;

export interface CrsClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the API is, e.g. https://reserve.example.com (no trailing path). */
  baseUrl: string;
  /** A staff or admin token, sent as a bearer token on every request that has no Authorization. */
  token?: string;
}

export function createCrsClient({ baseUrl, token, ...options }: CrsClientOptions): CrsClient {
  const client = createClient<paths, 'application/json'>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    ...options,
  });
  if (token !== undefined) {
    client.use({
      onRequest({ request }) {
        if (!request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
        return request;
      },
    });
  }
  return client;
}

/** The headers an order's own calls need: its accessToken from the reservation. */
export const orderAuth = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });
