/**
 * The customer's pages: the product with its live stock and the order form (GET /), the
 * order's status (GET /orders/:orderId, and the fragment htmx swaps in), and the form again
 * with what was wrong.
 */
import type { FieldProblem } from '../../common/errors.js';
import type { Stock } from '../../sql/stock.js';
import { html, Html } from '../html.js';
import type { Strings } from '../strings.js';
import { CSRF_FIELD } from '../csrf.js';

export type OrderField = 'firstName' | 'lastName' | 'phone';

export interface OrderFormState {
  csrf: string;
  orderId: string;
  productId: string;
  values: Partial<Record<OrderField, string>>;
  /** A message for the whole form (a refusal, or "check the fields"). */
  message?: string | undefined;
  problems?: FieldProblem[];
}

/** "{remaining} of {total} left" with each number in an element the page's script updates. */
function stockLine(t: Strings, stock: Stock): Html {
  const parts = t.remaining.split(/(\{remaining\}|\{total\})/);
  return html`${parts.map((part) => {
    if (part === '{remaining}') return html`<span data-remaining>${stock.remaining}</span>`;
    if (part === '{total}') return html`<span data-total>${stock.total}</span>`;
    return part;
  })}`;
}

const FIELDS: { name: OrderField; autocomplete: string; type: string; maxlength: number }[] = [
  { name: 'firstName', autocomplete: 'given-name', type: 'text', maxlength: 100 },
  { name: 'lastName', autocomplete: 'family-name', type: 'text', maxlength: 100 },
  { name: 'phone', autocomplete: 'tel', type: 'tel', maxlength: 32 },
];

export function orderForm(t: Strings, state: OrderFormState): Html {
  const problemsOf = (field: string) => (state.problems ?? []).filter((p) => p.field === field);
  // Problems with fields the customer cannot see (the hidden ones) go to the top.
  const hidden = (state.problems ?? []).filter((p) => !FIELDS.some((f) => f.name === p.field));
  return html`<form
    id="order-form"
    method="post"
    action="/api/orders"
    hx-post="/api/orders"
    hx-target="#order-area"
    hx-swap="innerHTML"
    hx-disabled-elt="find button"
    novalidate
  >
    <h2>${t.orderHeading}</h2>
    <p>${t.orderIntro}</p>
    ${
      state.message || hidden.length
        ? html`<div class="form-error" id="form-error" role="alert">
            <p>${state.message ?? t.errors.form}</p>
            ${
              hidden.length
                ? html`<ul>
                    ${hidden.map((p) => html`<li>${t.fields[p.field as keyof Strings['fields']] ?? p.field} ${p.message}</li>`)}
                  </ul>`
                : ''
            }
          </div>`
        : ''
    }
    <input type="hidden" name="${CSRF_FIELD}" value="${state.csrf}" />
    <input type="hidden" name="orderId" value="${state.orderId}" />
    <input type="hidden" name="productId" value="${state.productId}" />
    ${FIELDS.map((field) => {
      const problems = problemsOf(field.name);
      const describedBy = [
        field.name === 'phone' ? 'phone-hint' : '',
        problems.length ? `${field.name}-error` : '',
      ]
        .filter(Boolean)
        .join(' ');
      return html`<div class="field${problems.length ? ' invalid' : ''}">
        <label for="${field.name}">${t[field.name]}</label>
        ${field.name === 'phone' ? html`<p class="hint" id="phone-hint">${t.phoneHint}</p>` : ''}
        <input
          id="${field.name}"
          name="${field.name}"
          type="${field.type}"
          autocomplete="${field.autocomplete}"
          maxlength="${field.maxlength}"
          required
          aria-required="true"
          value="${state.values[field.name] ?? ''}"
          ${problems.length ? new Html('aria-invalid="true"') : ''}
          ${describedBy ? html`aria-describedby="${describedBy}"` : ''}
        />
        ${
          problems.length
            ? html`<p class="field-error" id="${field.name}-error">
                ${problems.map((p) => `${t.fields[field.name]} ${p.message}. `)}
              </p>`
            : ''
        }
      </div>`;
    })}
    <button type="submit" class="button">${t.reserve}</button>
  </form>`;
}

/** The form and the sold-out notice: the page's script shows one of them as stock changes. */
export function availability(t: Strings, available: boolean, form: OrderFormState): Html {
  return html`<div id="order-form-area" ${available ? '' : new Html('hidden')}>${orderForm(t, form)}</div>
    <div id="sold-out" class="notice" ${available ? new Html('hidden') : ''}>
      <h2>${t.soldOutHeading}</h2>
      <p>${t.soldOutText}</p>
    </div>`;
}

export function productPage(t: Strings, stock: Stock, form: OrderFormState): Html {
  const events = `/api/stock/events?productId=${encodeURIComponent(stock.productId)}`;
  return html`<section class="product" aria-labelledby="product-name">
      <h1 id="product-name">${stock.name}</h1>
      <p class="stock" id="stock" data-product-id="${stock.productId}" data-stock-events="${events}">
        ${stockLine(t, stock)}
      </p>
    </section>
    <p class="notice" id="existing-order" hidden>
      ${t.existingOrder} <a id="existing-order-link" href="/">${t.viewOrder}</a>
    </p>
    <section id="order-area" class="card">${availability(t, stock.available, form)}</section>
    <p id="announce" class="visually-hidden" aria-live="polite"></p>`;
}

export interface OrderView {
  orderId: string;
  productId: string;
  status: string;
  /** A fresh signed download link, once the voucher is stored. */
  voucherUrl?: string | undefined;
  redeemedAt?: Date | null;
  /** The product's name, for the page's heading. */
  productName?: string | undefined;
  /** The coupon code, given once the voucher is ready (it is printed on it). */
  couponCode?: string | undefined;
}

/**
 * A coupon code as people read it out: its groups of six (sql/coupon_code.sql) apart, in a
 * monospace face that tells 0 from O and 1 from I at a glance.
 */
function readableCode(code: string): Html {
  return html`<span class="coupon-code"
    >${code.split('-').map((group, i) => html`${i > 0 ? ' ' : ''}<span class="group">${group}</span>`)}</span
  >`;
}

/**
 * The order's status. `token` is given only right after ordering (so the page's script can
 * keep it) and on the no-script page (for its "check again" link).
 */
export function orderStatus(t: Strings, order: OrderView, token?: string): Html {
  const data = html`data-order-id="${order.orderId}" data-product-id="${order.productId}"
  ${order.productName ? html`data-product-name="${order.productName}"` : ''}
  data-status="${order.voucherUrl && order.status === 'reserved' ? 'voucher_ready' : order.status}"
  data-events="/api/orders/${order.orderId}/events" ${token ? html`data-token="${token}"` : ''}`;
  if (order.status === 'redeemed') {
    return html`<div class="order-status" id="order-status" role="status" ${data}>
      <h2>${t.redeemedAt(t.formatTime(order.redeemedAt ?? new Date()))}</h2>
    </div>`;
  }
  if (order.status === 'cancelled') {
    return html`<div class="order-status" id="order-status" role="status" ${data}>
      <h2>${t.cancelled}</h2>
    </div>`;
  }
  if (order.voucherUrl) {
    return html`<div class="order-status ready" id="order-status" role="status" ${data}>
      <h2>${t.voucherReady}</h2>
      <p>${t.voucherReadyDetail}</p>
      ${
        order.couponCode
          ? html`<p class="coupon" id="coupon-code">${t.couponCode}: ${readableCode(order.couponCode)}</p>
              <p class="hint">${t.couponCodeHint}</p>`
          : ''
      }
      <p><a class="button" id="voucher-link" href="${order.voucherUrl}">${t.download}</a></p>
      <p class="hint">${t.downloadExpires}</p>
    </div>`;
  }
  const again = token ? `/orders/${order.orderId}?token=${encodeURIComponent(token)}` : undefined;
  return html`<div class="order-status pending" id="order-status" role="status" ${data}>
    <h2>${t.reservedPreparing}</h2>
    <p>${t.reservedPreparingDetail}</p>
    <p class="hint">${t.keepLink}</p>
    ${
      again
        ? html`<noscript
            ><p><a class="button" href="${again}">${t.checkAgain}</a></p></noscript
          >`
        : ''
    }
  </div>`;
}

/**
 * GET /orders/:orderId: the status when the token came in the query, else the script loads
 * it. The heading is the product's name when known; the order id, long and unbroken, goes
 * small beneath it where it may wrap anywhere (on a 360 px phone it once widened the page).
 */
export function orderPage(t: Strings, orderId: string, status: Html | undefined, productName?: string): Html {
  return html`<h1 id="order-heading">${productName ?? t.yourOrder}</h1>
    <p class="order-ref">${t.orderNumber} <code>${orderId}</code></p>
    <section
      id="order-area"
      class="card"
      data-order-id="${orderId}"
      ${status ? '' : new Html('data-load-order')}
    >
      ${
        status ??
        html`<p>${t.loadingOrder}</p>
          <noscript><p>${t.noScriptOrder}</p></noscript>`
      }
    </section>
    <p><a href="/">${t.newOrder}</a></p>`;
}

/** An error page or fragment: a message and the way back. */
export function messagePage(t: Strings, heading: string, message: string): Html {
  return html`<section class="card" role="alert">
    <h1>${heading}</h1>
    <p>${message}</p>
    <p><a href="/">${t.backHome}</a></p>
  </section>`;
}
