/**
 * The staff and admin pages: sign-in, the coupon desk, the stock and orders overview, and the
 * audit trail.
 */
import type { AuditEntry, OrderSummary } from '../../api/database/admin.js';
import type { Stock } from '../../api/database/stock.js';
import type { VoucherLookup } from '../../api/database/vouchers.js';
import { CSRF_FIELD } from '../csrf.js';
import { html, type Html } from '../html.js';
import type { Strings } from '../strings.js';

export function signInForm(
  t: Strings,
  options: {
    path: string;
    heading: string;
    label: string;
    csrf: string;
    error?: string | undefined;
    returnTo: string;
  },
): Html {
  return html`<section class="card" aria-labelledby="sign-in-heading">
    <h1 id="sign-in-heading">${options.heading}</h1>
    <form method="post" action="${options.path}/sign-in" novalidate>
      ${options.error ? html`<div class="form-error" role="alert"><p>${options.error}</p></div>` : ''}
      <input type="hidden" name="${CSRF_FIELD}" value="${options.csrf}" />
      <input type="hidden" name="returnTo" value="${options.returnTo}" />
      <!-- For password managers: the account is the role. -->
      <input type="hidden" name="username" autocomplete="username" value="${options.path.slice(1)}" />
      <div class="field">
        <label for="token">${options.label}</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          required
          aria-required="true"
          maxlength="512"
        />
      </div>
      <button type="submit" class="button">${t.staff.signIn}</button>
    </form>
  </section>`;
}

export function signOutForm(t: Strings, path: string, csrf: string): Html {
  return html`<form class="sign-out" method="post" action="${path}/sign-out">
    <input type="hidden" name="${CSRF_FIELD}" value="${csrf}" />
    <button type="submit" class="link">${t.staff.signOut}</button>
  </form>`;
}

export type LookupResult =
  | { kind: 'none' }
  | { kind: 'not_found'; code: string }
  | { kind: 'found'; voucher: VoucherLookup }
  | { kind: 'redeemed'; voucher: VoucherLookup }
  | { kind: 'refused'; voucher: VoucherLookup | undefined; redeemedAt: Date | null };

/** What staff see about one code, and the redeem button while it can be redeemed. */
export function lookupResult(t: Strings, result: LookupResult, csrf: string): Html {
  if (result.kind === 'none') return html``;
  if (result.kind === 'not_found') {
    return html`<div class="result refused" role="alert"><p>${t.staff.notFound}</p></div>`;
  }
  if (result.kind === 'redeemed') {
    return html`<div class="result ok" role="status">
      <p><strong>${t.staff.redeemed(t.formatTime(result.voucher.redeemedAt ?? new Date()))}</strong></p>
      <p>${t.staff.code}: <code>${result.voucher.code}</code></p>
    </div>`;
  }
  if (result.kind === 'refused') {
    return html`<div class="result refused" role="alert">
      <p>
        <strong
          >${
            result.voucher?.status === 'cancelled'
              ? t.staff.refusedCancelled
              : t.staff.alreadyRedeemed(result.redeemedAt ? t.formatTime(result.redeemedAt) : undefined)
          }</strong
        >
      </p>
    </div>`;
  }
  const { voucher } = result;
  const redeemable = voucher.status === 'reserved' || voucher.status === 'voucher_ready';
  return html`<div class="result">
    <dl>
      <dt>${t.staff.code}</dt>
      <dd><code>${voucher.code}</code></dd>
      <dt>${t.staff.order}</dt>
      <dd>${voucher.orderId}</dd>
      <dt>${t.admin.status}</dt>
      <dd>
        ${t.staff.status[voucher.status] ?? voucher.status}${
          voucher.redeemedAt ? ` (${t.formatTime(voucher.redeemedAt)})` : ''
        }
      </dd>
    </dl>
    ${
      redeemable
        ? html`<form
            method="post"
            action="/staff/redeem"
            hx-post="/staff/redeem"
            hx-target="#lookup-result"
            hx-swap="innerHTML"
            hx-disabled-elt="find button"
          >
            <input type="hidden" name="${CSRF_FIELD}" value="${csrf}" />
            <input type="hidden" name="code" value="${voucher.code}" />
            <button type="submit" class="button" id="redeem">${t.staff.redeem}</button>
          </form>`
        : ''
    }
  </div>`;
}

export function staffDesk(t: Strings, options: { code: string; result: LookupResult; csrf: string }): Html {
  return html`<h1>${t.staff.title}</h1>
    <section class="card" aria-labelledby="lookup-heading">
      <h2 id="lookup-heading">${t.staff.lookupHeading}</h2>
      <form
        role="search"
        method="get"
        action="/staff"
        hx-get="/staff"
        hx-target="#lookup-result"
        hx-swap="innerHTML"
        novalidate
      >
        <div class="field">
          <label for="code">${t.staff.code}</label>
          <p class="hint" id="code-hint">${t.staff.codeHint}</p>
          <input
            id="code"
            name="code"
            value="${options.code}"
            autocomplete="off"
            autocapitalize="characters"
            spellcheck="false"
            maxlength="64"
            required
            aria-required="true"
            aria-describedby="code-hint"
          />
        </div>
        <button type="submit" class="button">${t.staff.lookup}</button>
      </form>
      <div id="lookup-result" aria-live="polite">${lookupResult(t, options.result, options.csrf)}</div>
    </section>`;
}

export function productsTable(
  t: Strings,
  options: { products: Stock[]; csrf: string; message?: string; error?: string },
): Html {
  return html`<section class="card" id="products" aria-labelledby="products-heading">
    <h2 id="products-heading">${t.admin.productsHeading}</h2>
    <div aria-live="polite">
      ${options.message ? html`<p class="result ok" role="status">${options.message}</p>` : ''}
      ${options.error ? html`<p class="result refused" role="alert">${options.error}</p>` : ''}
    </div>
    <div class="table-scroll">
      <table class="reflow">
        <thead>
          <tr>
            <th scope="col">${t.admin.product}</th>
            <th scope="col">${t.admin.total}</th>
            <th scope="col">${t.admin.remaining}</th>
            <th scope="col">${t.admin.reserved}</th>
            <th scope="col">${t.admin.available}</th>
            <th scope="col">${t.admin.changeTotal}</th>
          </tr>
        </thead>
        <tbody>
          ${options.products.map(
            (p) =>
              html`<tr>
                <th scope="row">
                  <a href="/admin?productId=${encodeURIComponent(p.productId)}">${p.name}</a>
                  <span class="hint">${p.productId}</span>
                </th>
                <td class="num" data-label="${t.admin.total}">${p.total}</td>
                <td class="num" data-label="${t.admin.remaining}">${p.remaining}</td>
                <td class="num" data-label="${t.admin.reserved}">${p.total - p.remaining}</td>
                <td data-label="${t.admin.available}">${p.available ? t.admin.yes : t.admin.no}</td>
                <td data-label="${t.admin.changeTotal}">
                  <form
                    class="inline"
                    method="post"
                    action="/admin/products/${p.productId}"
                    hx-post="/admin/products/${p.productId}"
                    hx-target="#products"
                    hx-swap="outerHTML"
                    hx-disabled-elt="find button"
                    novalidate
                  >
                    <input type="hidden" name="${CSRF_FIELD}" value="${options.csrf}" />
                    <label class="visually-hidden" for="total-${p.productId}"
                      >${t.admin.changeTotal}: ${p.name}</label
                    >
                    <input
                      id="total-${p.productId}"
                      name="total"
                      type="number"
                      inputmode="numeric"
                      min="0"
                      step="1"
                      value="${p.total}"
                      required
                    />
                    <button type="submit" class="button">${t.admin.save}</button>
                  </form>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

export function ordersTable(t: Strings, productName: string, orders: OrderSummary[]): Html {
  return html`<section class="card" aria-labelledby="orders-heading">
    <h2 id="orders-heading">${t.admin.ordersHeading}: ${productName}</h2>
    ${
      orders.length === 0
        ? html`<p>${t.admin.noOrders}</p>`
        : html`<div class="table-scroll">
            <table class="reflow">
              <thead>
                <tr>
                  <th scope="col">${t.admin.orderId}</th>
                  <th scope="col">${t.admin.customer}</th>
                  <th scope="col">${t.admin.status}</th>
                  <th scope="col">${t.admin.createdAt}</th>
                </tr>
              </thead>
              <tbody>
                ${orders.map(
                  (o) =>
                    html`<tr>
                      <td data-label="${t.admin.orderId}"><code>${o.orderId}</code></td>
                      <td data-label="${t.admin.customer}">
                        ${o.customer ?? html`<span class="hint">${t.admin.personalDataRemoved}</span>`}
                      </td>
                      <td data-label="${t.admin.status}">${t.staff.status[o.status] ?? o.status}</td>
                      <td data-label="${t.admin.createdAt}">${t.formatTime(o.createdAt)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
  </section>`;
}

/** What an audit entry's details say, in a few words: the outcome, and totals for stock. */
function auditWhat(t: Strings, entry: AuditEntry): string {
  const { outcome, before, after } = entry.details;
  const said = typeof outcome === 'string' ? (t.admin.auditOutcomes[outcome] ?? outcome) : '';
  const totalOf = (side: unknown) =>
    side && typeof side === 'object' && 'total' in side ? String(side.total) : '–';
  if (entry.action !== 'stock_set') return said;
  return `${said}: ${t.admin.auditTotals(totalOf(before), totalOf(after))}`;
}

/** The latest audit entries: who changed stock or redeemed, when, and what came of it. */
export function auditTable(t: Strings, entries: AuditEntry[]): Html {
  return html`<section class="card" id="audit" aria-labelledby="audit-heading">
    <h2 id="audit-heading">${t.admin.auditHeading}</h2>
    ${
      entries.length === 0
        ? html`<p>${t.admin.noAudit}</p>`
        : html`<div class="table-scroll">
            <table class="reflow">
              <thead>
                <tr>
                  <th scope="col">${t.admin.auditAt}</th>
                  <th scope="col">${t.admin.auditWho}</th>
                  <th scope="col">${t.admin.auditAction}</th>
                  <th scope="col">${t.admin.auditSubject}</th>
                  <th scope="col">${t.admin.auditWhat}</th>
                </tr>
              </thead>
              <tbody>
                ${entries.map(
                  (e) =>
                    html`<tr data-audit-id="${e.id}">
                      <td data-label="${t.admin.auditAt}">${t.formatTime(e.at)}</td>
                      <td data-label="${t.admin.auditWho}">
                        ${e.actor.role} <code>${e.actor.id}</code>
                        <span class="hint"
                          >${[e.actor.address, e.actor.requestId && t.admin.auditRequest(e.actor.requestId)]
                            .filter(Boolean)
                            .join(' · ')}</span
                        >
                      </td>
                      <td data-label="${t.admin.auditAction}">
                        ${t.admin.auditActions[e.action] ?? e.action}
                      </td>
                      <td data-label="${t.admin.auditSubject}"><code>${e.subject}</code></td>
                      <td data-label="${t.admin.auditWhat}">${auditWhat(t, e)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
  </section>`;
}
