/**
 * The staff and admin pages: sign-in, the coupon desk, the stock and orders overview, and the
 * audit trail.
 */
import type { AuditEntry, FoundOrder, OrderSummary, PipelineStatus } from '../../sql/admin.js';
import type { Stock } from '../../sql/stock.js';
import type { DeskVoucher } from '../../sql/vouchers.js';
import { CSRF_FIELD } from '../csrf.js';
import { Html, html } from '../html.js';
import type { Strings } from '../strings.js';

/**
 * A table that scrolls on its own (focusable, so the keyboard scrolls it; named by its
 * section's heading) and, where its container is narrow, shows one block per row
 * (table.reflow in app.css). Each row labels its own cells (data-label).
 */
function scrollTable(labelledBy: string, columns: string[], rows: Html[]): Html {
  return html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="${labelledBy}">
    <table class="reflow">
      <thead>
        <tr>
          ${columns.map((column) => html`<th scope="col">${column}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

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
  | { kind: 'found'; voucher: DeskVoucher }
  | { kind: 'redeemed'; voucher: DeskVoucher }
  | { kind: 'refused'; voucher: DeskVoucher | undefined; redeemedAt: Date | null };

/** Whose voucher, for what, in which state: what staff check before handing anything over. */
function voucherDetails(t: Strings, voucher: DeskVoucher): Html {
  const by = voucher.redeemedBy;
  const signIn = by?.session ? `#${by.session.slice(0, 8)}` : (by?.actor ?? undefined);
  return html`<dl class="voucher">
    <dt>${t.staff.customer}</dt>
    <dd class="customer">${voucher.customerName ?? t.admin.personalDataRemoved}</dd>
    <dt>${t.staff.product}</dt>
    <dd>${voucher.productName}</dd>
    <dt>${t.staff.code}</dt>
    <dd><code>${voucher.code}</code></dd>
    <dt>${t.admin.status}</dt>
    <dd>
      ${t.staff.status[voucher.status] ?? voucher.status}${
        voucher.redeemedAt ? ` (${t.formatTime(voucher.redeemedAt)})` : ''
      }${by ? html`<br />${t.staff.redeemedBy(by.role, signIn)}` : ''}
    </dd>
    <dt>${t.staff.order}</dt>
    <dd>${voucher.orderId}</dd>
  </dl>`;
}

/** What staff see about one code, and the redeem button while it can be redeemed. */
export function lookupResult(t: Strings, result: LookupResult, csrf: string): Html {
  if (result.kind === 'none') return html``;
  if (result.kind === 'not_found') {
    return html`<div class="result refused" role="alert"><p>${t.staff.notFound}</p></div>`;
  }
  if (result.kind === 'redeemed') {
    return html`<div class="result ok" role="status" data-outcome="redeemed">
      <p><strong>${t.staff.redeemed(t.formatTime(result.voucher.redeemedAt ?? new Date()))}</strong></p>
      ${voucherDetails(t, result.voucher)}
    </div>`;
  }
  if (result.kind === 'refused') {
    return html`<div class="result refused" role="alert" data-outcome="refused">
      <p>
        <strong
          >${
            result.voucher?.status === 'cancelled'
              ? t.staff.refusedCancelled
              : t.staff.alreadyRedeemed(result.redeemedAt ? t.formatTime(result.redeemedAt) : undefined)
          }</strong
        >
      </p>
      ${result.voucher ? voucherDetails(t, result.voucher) : ''}
    </div>`;
  }
  const { voucher } = result;
  const redeemable = voucher.status === 'reserved' || voucher.status === 'voucher_ready';
  const refusal =
    voucher.status === 'cancelled'
      ? t.staff.refusedCancelled
      : t.staff.alreadyRedeemed(voucher.redeemedAt ? t.formatTime(voucher.redeemedAt) : undefined);
  return html`<div
    class="result${redeemable ? '' : ' refused'}"
    data-outcome="found"
    ${redeemable ? '' : new Html('role="alert"')}
  >
    ${redeemable ? '' : html`<p><strong>${refusal}</strong></p>`} ${voucherDetails(t, voucher)}
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
            <button type="submit" class="button big" id="redeem">${t.staff.redeem}</button>
          </form>`
        : ''
    }
  </div>`;
}

/**
 * The camera and its QR reader (web/assets/scan.js), hidden until the script finds a camera API
 * and jsQR; the words it shows come from these data attributes.
 */
function scanner(t: Strings): Html {
  const s = t.staff.scan;
  return html`<div
    class="scanner"
    data-scanner
    hidden
    data-msg-point="${s.point}"
    data-msg-read="${s.read}"
    data-msg-refused="${s.refused}"
    data-msg-no-camera="${s.noCamera}"
    data-msg-failed="${s.failed}"
  >
    <button type="button" class="button secondary" data-scan-start>${s.start}</button>
    <div class="scanner-view" data-scan-view hidden>
      <video data-scan-video playsinline muted aria-label="${s.video}"></video>
      <button type="button" class="link" data-scan-stop>${s.stop}</button>
    </div>
    <p class="hint" data-scan-status role="status" aria-live="polite"></p>
  </div>`;
}

export function staffDesk(t: Strings, options: { code: string; result: LookupResult; csrf: string }): Html {
  return html`<h1>${t.staff.title}</h1>
    <section class="card" aria-labelledby="lookup-heading">
      <h2 id="lookup-heading">${t.staff.lookupHeading}</h2>
      ${scanner(t)}
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
  options: {
    products: Stock[];
    csrf: string;
    message?: string;
    error?: string;
    /** Where this page starts (kept by each form, so a change answers with the same page). */
    after?: string | undefined;
    /** The next page's and the first page's URLs, when there are. */
    next?: string | undefined;
    first?: string | undefined;
  },
): Html {
  return html`<section class="card" id="products" aria-labelledby="products-heading">
    <h2 id="products-heading">${t.admin.productsHeading}</h2>
    <div aria-live="polite">
      ${options.message ? html`<p class="result ok" role="status">${options.message}</p>` : ''}
      ${options.error ? html`<p class="result refused" role="alert">${options.error}</p>` : ''}
    </div>
    ${scrollTable(
      'products-heading',
      [
        t.admin.product,
        t.admin.total,
        t.admin.remaining,
        t.admin.reserved,
        t.admin.available,
        t.admin.changeTotal,
      ],
      options.products.map(
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
                <input type="hidden" name="productsAfter" value="${options.after ?? ''}" />
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
      ),
    )}
    ${pager(t, [
      ...(options.first ? [{ href: options.first, text: t.admin.firstProducts }] : []),
      ...(options.next ? [{ href: options.next, text: t.admin.moreProducts }] : []),
    ])}
  </section>`;
}

/** An order's customer (shortened, or gone once purged), state and time, as table cells. */
function orderCells(t: Strings, o: OrderSummary): Html {
  return html`<td data-label="${t.admin.customer}">
      ${o.customer ?? html`<span class="hint">${t.admin.personalDataRemoved}</span>`}
    </td>
    <td data-label="${t.admin.status}">${t.staff.status[o.status] ?? o.status}</td>
    <td data-label="${t.admin.createdAt}">${t.formatTime(o.createdAt)}</td>`;
}

/** Links to the next page and back to the first, as a labelled navigation. */
function pager(t: Strings, links: { href: string; text: string }[]): Html {
  if (links.length === 0) return html``;
  return html`<nav class="pager" aria-label="${t.admin.pages}">
    ${links.map((link) => html`<a class="button secondary" href="${link.href}">${link.text}</a>`)}
  </nav>`;
}

export function ordersTable(
  t: Strings,
  options: {
    productId: string;
    productName: string;
    orders: OrderSummary[];
    /** The next (older) page's URL, when there may be one. */
    older?: string | undefined;
    /** The first page's URL, when this is not it. */
    newest?: string | undefined;
  },
): Html {
  const { orders } = options;
  return html`<section class="card" id="orders" aria-labelledby="orders-heading">
    <h2 id="orders-heading">${t.admin.ordersHeading}: ${options.productName}</h2>
    <p>
      <a href="/admin/products/${encodeURIComponent(options.productId)}/orders.csv" download
        >${t.admin.exportCsv}</a
      >
    </p>
    ${
      orders.length === 0
        ? html`<p>${t.admin.noOrders}</p>`
        : scrollTable(
            'orders-heading',
            [t.admin.orderId, t.admin.customer, t.admin.status, t.admin.createdAt],
            orders.map(
              (o) =>
                html`<tr data-order-id="${o.orderId}">
                  <td data-label="${t.admin.orderId}"><code>${o.orderId}</code></td>
                  ${orderCells(t, o)}
                </tr>`,
            ),
          )
    }
    ${pager(t, [
      ...(options.newest ? [{ href: options.newest, text: t.admin.newestOrders }] : []),
      ...(options.older ? [{ href: options.older, text: t.admin.olderOrders }] : []),
    ])}
  </section>`;
}

/**
 * The pipeline panel: figures as they are now, kept current by web/assets/admin.js from
 * /admin/pipeline/events (the chart is drawn there too).
 */
export function pipelinePanel(
  t: Strings,
  options: {
    productId: string;
    productName: string;
    stock: { remaining: number; total: number };
    status: PipelineStatus;
  },
): Html {
  const p = t.admin.pipeline;
  const { status } = options;
  const figure = (name: string, label: string, value: string) =>
    html`<div class="figure">
      <dt>${label}</dt>
      <dd data-figure="${name}">${value}</dd>
    </div>`;
  const lag = status.replicationLagBytes;
  const oldest = status.oldestWithoutVoucherSeconds;
  return html`<section
    class="card"
    id="pipeline"
    aria-labelledby="pipeline-heading"
    data-pipeline
    data-events="/admin/pipeline/events?productId=${encodeURIComponent(options.productId)}"
    data-chart-label="${p.chart}"
  >
    <h2 id="pipeline-heading">${p.heading}: ${options.productName}</h2>
    <p class="hint">${p.chart}</p>
    <div class="chart" data-chart aria-live="off">
      <p class="visually-hidden">${status.ordersPerMinute.join(', ')}</p>
    </div>
    <dl class="figures">
      ${figure('remaining', p.remaining, `${options.stock.remaining} / ${options.stock.total}`)}
      ${figure('orders-last-minute', p.ordersLastMinute, String(status.ordersPerMinute.at(-1) ?? 0))}
      ${figure('replication-lag', p.replicationLag, lag === null ? '–' : `${lag} B`)}
      ${figure('render-jobs', p.renderJobs, String(status.renderJobsWaiting))}
      ${figure('vouchers-last-minute', p.vouchersLastMinute, String(status.vouchersLastMinute))}
      ${figure('oldest-without-voucher', p.oldestWithoutVoucher, oldest === null ? '–' : `${Math.round(oldest)} s`)}
    </dl>
  </section>`;
}

/** The search form, and what it found when a query was given. */
export function searchSection(t: Strings, options: { query: string; found: FoundOrder[] | undefined }): Html {
  const { found } = options;
  return html`<section class="card" id="search" aria-labelledby="search-heading">
    <h2 id="search-heading">${t.admin.searchHeading}</h2>
    <form role="search" method="get" action="/admin#search" class="search" novalidate>
      <div class="field">
        <label for="q">${t.admin.searchLabel}</label>
        <p class="hint" id="q-hint">${t.admin.searchHint}</p>
        <input
          id="q"
          name="q"
          type="search"
          value="${options.query}"
          maxlength="100"
          autocomplete="off"
          spellcheck="false"
          aria-describedby="q-hint"
        />
      </div>
      <button type="submit" class="button">${t.admin.search}</button>
    </form>
    ${
      found === undefined
        ? ''
        : html`<p role="status">${t.admin.searchResults(options.query, found.length)}</p>
            ${
              found.length === 0
                ? ''
                : scrollTable(
                    'search-heading',
                    [
                      t.admin.orderId,
                      t.admin.product,
                      t.admin.couponCode,
                      t.admin.customer,
                      t.admin.status,
                      t.admin.createdAt,
                    ],
                    found.map(
                      (o) =>
                        html`<tr data-order-id="${o.orderId}">
                          <td data-label="${t.admin.orderId}"><code>${o.orderId}</code></td>
                          <td data-label="${t.admin.product}">
                            <a href="/admin?productId=${encodeURIComponent(o.productId)}#orders"
                              >${o.productId}</a
                            >
                          </td>
                          <td data-label="${t.admin.couponCode}"><code>${o.couponCode}</code></td>
                          ${orderCells(t, o)}
                        </tr>`,
                    ),
                  )
            }`
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
export function auditTable(
  t: Strings,
  entries: AuditEntry[],
  pages: { older?: string | undefined; newest?: string | undefined } = {},
): Html {
  return html`<section class="card" id="audit" aria-labelledby="audit-heading">
    <h2 id="audit-heading">${t.admin.auditHeading}</h2>
    ${
      entries.length === 0
        ? html`<p>${t.admin.noAudit}</p>`
        : scrollTable(
            'audit-heading',
            [t.admin.auditAt, t.admin.auditWho, t.admin.auditAction, t.admin.auditSubject, t.admin.auditWhat],
            entries.map(
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
                  <td data-label="${t.admin.auditAction}">${t.admin.auditActions[e.action] ?? e.action}</td>
                  <td data-label="${t.admin.auditSubject}"><code>${e.subject}</code></td>
                  <td data-label="${t.admin.auditWhat}">${auditWhat(t, e)}</td>
                </tr>`,
            ),
          )
    }
    ${pager(t, [
      ...(pages.newest ? [{ href: pages.newest, text: t.admin.newestAudit }] : []),
      ...(pages.older ? [{ href: pages.older, text: t.admin.olderAudit }] : []),
    ])}
  </section>`;
}
