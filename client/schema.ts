/**
 * The HTTP API's types, generated from api/openapi/document.ts by client/generate.ts
 * (npm run generate:client). Do not edit: change the document and generate again.
 */
export type paths = {
  '/api/orders': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Reserve one unit of a product
     * @description JSON for API clients. The web page posts the same fields as an HTML form (application/x-www-form-urlencoded, with its CSRF token in `_csrf`) and gets HTML: a fragment under the same status codes for htmx requests (HX-Request: true), the page again with its errors for a plain form post, or a 303 redirect to the order page (/orders/{orderId}) once reserved.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': components['schemas']['OrderRequest'];
          'application/x-www-form-urlencoded': components['schemas']['OrderRequest'] & {
            /** @description The form's CSRF token */
            _csrf: string;
          };
        };
      };
      responses: {
        /** @description The same orderId with the same details again: the first answer, unchanged */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description The order: /api/orders/{orderId} (JSON); the order page after a form post */
            Location?: string;
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Reserved'];
            'text/html': string;
          };
        };
        /** @description Reserved */
        201: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description The order: /api/orders/{orderId} (JSON); the order page after a form post */
            Location?: string;
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Reserved'];
            'text/html': string;
          };
        };
        /** @description A plain form post (no htmx) was reserved: Location is the order page with its token */
        303: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            Location: components['headers']['Location'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'text/html': string;
            'text/plain': string;
          };
        };
        /** @description Invalid request; details lists each field and what is wrong (code: invalid_request) */
        400: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
        /** @description A form post without a valid CSRF token, or from another site (code: forbidden) */
        403: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
        /** @description Refused (code: out_of_stock, duplicate_customer, order_id_conflict) */
        409: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
        /** @description The body is larger than the limit (code: payload_too_large) */
        413: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
        /** @description The body is not application/json in UTF-8 (code: unsupported_media_type) */
        415: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many orders from this client address or for this customer; retry after Retry-After seconds (code: rate_limited) */
        429: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
        /** @description The database cannot decide now; nothing was written. Retry after Retry-After seconds (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/orders/{orderId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * An order's state
     * @description JSON, or HTML for the web page: the order page for a browser (Accept prefers text/html), its status fragment for htmx (HX-Request: true).
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /** @description The order's id */
          orderId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The order */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              orderId: string;
              productId: string;
              /** @enum {unknown} */
              status: 'reserved' | 'voucher_ready' | 'redeemed' | 'cancelled';
              /** Format: date-time */
              createdAt: string;
              /** @description Present once the voucher is stored; url is a download link valid for 5 minutes */
              voucher?: {
                url?: string;
                /** Format: date-time */
                storedAt?: string;
              };
              /** Format: date-time */
              redeemedAt?: string;
            };
            'text/html': string;
          };
        };
        /** @description Missing or wrong bearer token (code: unauthorized) */
        401: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'WWW-Authenticate': components['headers']['WWW-Authenticate'];
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
        /** @description No such order, or the token is not this order's (code: not_found) */
        404: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
        /** @description The database cannot decide now; nothing was written. Retry after Retry-After seconds (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description The request headers that chose between JSON and HTML */
            Vary?: string;
            /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
            'Set-Cookie'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
            'text/html': string;
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/orders/{orderId}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Server-Sent Events: `voucher` with {orderId, url} once the voucher is stored (at once if it is) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /** @description The order's id */
          orderId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The stream */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'X-Accel-Buffering': components['headers']['X-Accel-Buffering'];
            [name: string]: unknown;
          };
          content: {
            'text/event-stream': string;
          };
        };
        /** @description Missing or wrong bearer token (code: unauthorized) */
        401: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'WWW-Authenticate': components['headers']['WWW-Authenticate'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description No such order, or the token is not this order's (code: not_found) */
        404: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many open streams for this client address or this order (code: rate_limited) */
        429: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many open streams, or the database cannot answer (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/orders/{orderId}/voucher': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The voucher PDF (order token, or the short-lived signed link from the voucher event) */
    get: {
      parameters: {
        query?: {
          /** @description With signature: when the download link expires, in Unix seconds */
          expires?: string;
          /** @description The download link's signature; given, the link stands in for the order token */
          signature?: string;
        };
        header?: never;
        path: {
          /** @description The order's id */
          orderId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The PDF */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Content-Disposition': components['headers']['Content-Disposition'];
            [name: string]: unknown;
          };
          content: {
            'application/pdf': string;
          };
        };
        /** @description Missing or wrong token, or an expired or forged link (code: unauthorized) */
        401: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'WWW-Authenticate': components['headers']['WWW-Authenticate'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description No such order, wrong token, or no voucher stored yet (code: not_found) */
        404: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The database cannot decide now; nothing was written. Retry after Retry-After seconds (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/vouchers/{code}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A coupon, for staff (any case, separators optional) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /** @description The coupon code: any case, with or without separators and spaces */
          code: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The coupon */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              code: string;
              orderId: string;
              productId: string;
              /** @enum {unknown} */
              status: 'reserved' | 'voucher_ready' | 'redeemed' | 'cancelled';
              /** Format: date-time */
              redeemedAt?: string;
            };
          };
        };
        /** @description Missing or wrong bearer token (code: unauthorized) */
        401: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'WWW-Authenticate': components['headers']['WWW-Authenticate'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description No such coupon (code: not_found) */
        404: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many requests with this token, or too many failed authentications from this address; retry after Retry-After seconds (code: rate_limited) */
        429: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The database cannot decide now; nothing was written. Retry after Retry-After seconds (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/vouchers/{code}/redeem': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Redeem a coupon, once */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /** @description The coupon code: any case, with or without separators and spaces */
          code: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Redeemed now */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @constant */
              status: 'redeemed';
              orderId?: string;
              redeemedAt?: string;
            };
          };
        };
        /** @description Missing or wrong bearer token (code: unauthorized) */
        401: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'WWW-Authenticate': components['headers']['WWW-Authenticate'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description No such coupon (code: not_found) */
        404: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Already redeemed; details.redeemedAt says when (code: already_redeemed) */
        409: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many requests with this token, or too many failed authentications from this address; retry after Retry-After seconds (code: rate_limited) */
        429: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The database cannot decide now; nothing was written. Retry after Retry-After seconds (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/stock': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A product's stock */
    get: {
      parameters: {
        query?: {
          /** @description The product; the default product if not given */
          productId?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The stock */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'X-Stock-Source': components['headers']['X-Stock-Source'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Stock'];
          };
        };
        /** @description Invalid request; details lists each field and what is wrong (code: invalid_request) */
        400: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description No such product (code: not_found) */
        404: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The database cannot decide now; nothing was written. Retry after Retry-After seconds (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/stock/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Server-Sent Events: `stock` with the Stock object at once, then on every change (at most one event per 250 ms per stream, always the newest) */
    get: {
      parameters: {
        query?: {
          /** @description The product; the default product if not given */
          productId?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The stream */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'X-Accel-Buffering': components['headers']['X-Accel-Buffering'];
            [name: string]: unknown;
          };
          content: {
            'text/event-stream': string;
          };
        };
        /** @description Invalid request; details lists each field and what is wrong (code: invalid_request) */
        400: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description No such product (code: not_found) */
        404: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many open streams for this client address (code: rate_limited) */
        429: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many open streams, or the stock cannot be read now (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/admin/products/{productId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Create a product, or change its name and total stock */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /** @description The product, made if new */
          productId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': components['schemas']['ProductUpdate'];
        };
      };
      responses: {
        /** @description Updated */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Stock'];
          };
        };
        /** @description Created */
        201: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Stock'];
          };
        };
        /** @description Invalid request; details lists each field and what is wrong (code: invalid_request) */
        400: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Missing or wrong bearer token (code: unauthorized) */
        401: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'WWW-Authenticate': components['headers']['WWW-Authenticate'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The total is below what is already reserved; details.reserved says how much (code: below_reserved) */
        409: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The body is larger than the limit (code: payload_too_large) */
        413: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The body is not application/json in UTF-8 (code: unsupported_media_type) */
        415: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many requests with this token, or too many failed authentications from this address; retry after Retry-After seconds (code: rate_limited) */
        429: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The database cannot decide now; nothing was written. Retry after Retry-After seconds (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/admin/audit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The audit trail, newest first: every admin stock change and redemption attempt (refusals included), with who, when and what */
    get: {
      parameters: {
        query?: {
          /** @description Entries per page */
          limit?: number;
          /** @description Only entries with a smaller id: the nextBefore of the previous page */
          before?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A page of entries; nextBefore when there may be more */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              entries: components['schemas']['AuditEntry'][];
              nextBefore?: number;
            };
          };
        };
        /** @description Invalid request; details lists each field and what is wrong (code: invalid_request) */
        400: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Missing or wrong bearer token (code: unauthorized) */
        401: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'WWW-Authenticate': components['headers']['WWW-Authenticate'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Too many requests with this token, or too many failed authentications from this address; retry after Retry-After seconds (code: rate_limited) */
        429: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description The database cannot decide now; nothing was written. Retry after Retry-After seconds (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
            'RateLimit-Limit'?: string;
            /** @description Requests left in the window */
            'RateLimit-Remaining'?: string;
            /** @description Seconds until the window resets */
            'RateLimit-Reset'?: string;
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This document */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OpenAPI 3.1 */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness: the process serves requests */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Alive */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @constant */
              status: 'ok';
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/readyz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Readiness: every dependency is reachable and the process is not draining */
    get: {
      parameters: {
        query?: {
          /** @description Leave a shared dependency out (Kubernetes probes use exclude=postgres); the schema is still checked until this process has once seen it current. Repeatable. */
          exclude?: 'postgres'[];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Ready */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @constant */
              status: 'ready';
              /** @description Each check that decides readiness: "ok", or why it was left out */
              checks: {
                [key: string]: string;
              };
              /** @description Dependencies the API works without, and their state (stock falls back to Postgres without Redis; vouchers are caught up from Postgres without RabbitMQ) */
              degraded: {
                [key: string]: string;
              };
            };
          };
        };
        /** @description An unknown check in exclude (code: invalid_request) */
        400: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        /** @description Not ready; details.checks says which dependency (code: unavailable) */
        503: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            'Retry-After': components['headers']['Retry-After'];
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Prometheus metrics */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Prometheus text format 0.0.4 */
        200: {
          headers: {
            'X-Request-Id': components['headers']['X-Request-Id'];
            'X-Content-Type-Options': components['headers']['X-Content-Type-Options'];
            'Referrer-Policy': components['headers']['Referrer-Policy'];
            'X-Frame-Options': components['headers']['X-Frame-Options'];
            'Content-Security-Policy': components['headers']['Content-Security-Policy'];
            'Cross-Origin-Resource-Policy': components['headers']['Cross-Origin-Resource-Policy'];
            'Cache-Control': components['headers']['Cache-Control'];
            [name: string]: unknown;
          };
          content: {
            'text/plain': string;
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
};
export type webhooks = Record<string, never>;
export type components = {
  schemas: {
    Error: {
      error: {
        code: string;
        message: string;
        details?: unknown;
      };
    };
    Stock: {
      productId: string;
      name: string;
      total: number;
      remaining: number;
      available: boolean;
    };
    OrderRequest: {
      orderId?: string;
      productId?: string;
      firstName: string;
      lastName: string;
      phone: string;
    };
    Reserved: {
      orderId: string;
      /** @constant */
      status: 'reserved';
      /** @description Bearer token for this order (256 bits). Returned only to whoever placed the order. */
      accessToken: string;
      links: {
        self: string;
        events: string;
        voucher: string;
      };
    };
    ProductUpdate: {
      name?: string;
      total: number;
    };
    AuditEntry: {
      /** @description Increasing; pass the last one of a page as `before` */
      id: number;
      /** Format: date-time */
      at: string;
      actor: {
        /** @enum {unknown} */
        role: 'admin' | 'staff' | 'system';
        /** @description Non-secret: "token:" and 12 hex digits of a SHA-256 of the bearer token, or the database login for the system role */
        id: string;
        /** @description Client address */
        address?: string;
        /** @description X-Request-Id of the request */
        requestId?: string;
        /** @description Fingerprint of the page session, for page changes */
        session?: string;
        /** @description The database login that made the change */
        dbUser: string;
      };
      /** @enum {unknown} */
      action: 'stock_set' | 'redeem';
      /** @description The product id (stock_set) or the coupon code as given (redeem) */
      subject: string;
      /** @description outcome (created, updated, below_reserved; redeemed, already_redeemed, cancelled, not_found), and for stock_set: requested, before and after {name, total, remaining, reserved}; for redeem: orderId, productId, statusBefore, redeemedAt, redeemedBy */
      details: {
        outcome: string;
      };
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: {
    /** @description The request id: the caller's X-Request-Id if it was a safe token, else a new one; in every log line */
    'X-Request-Id': string;
    'X-Content-Type-Options': 'nosniff';
    'Referrer-Policy': 'no-referrer';
    'X-Frame-Options': 'DENY';
    /** @description default-src 'none' for the API; an HTML answer allows this origin's scripts and styles */
    'Content-Security-Policy': string;
    'Cross-Origin-Resource-Policy': 'same-origin';
    /** @description no-store on anything about one order, one coupon or the audit trail; no-cache on stock */
    'Cache-Control': string;
    /** @description Requests allowed per window for this key (IETF draft RateLimit header fields); sent when RATE_LIMIT=on */
    'RateLimit-Limit': string;
    /** @description Requests left in the window */
    'RateLimit-Remaining': string;
    /** @description Seconds until the window resets */
    'RateLimit-Reset': string;
    /** @description The scheme to authenticate with */
    'WWW-Authenticate': 'Bearer';
    /** @description Seconds to wait before retrying */
    'Retry-After': string;
    /** @description The order: /api/orders/{orderId} (JSON); the order page after a form post */
    Location: string;
    /** @description The request headers that chose between JSON and HTML */
    Vary: string;
    /** @description The page's CSRF cookie (crs_csrf), when an HTML answer carries a form */
    'Set-Cookie': string;
    /** @description Where the figure came from: redis (the CDC-maintained flag) or postgres (the fallback) */
    'X-Stock-Source': 'redis' | 'postgres';
    'Content-Disposition': string;
    /** @description Tells a proxy not to buffer the stream */
    'X-Accel-Buffering': 'no';
  };
  pathItems: never;
};
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
