// @ts-check
/**
 * The page's few lines of script, on top of htmx (which posts the forms and swaps fragments):
 *  - live stock: an EventSource on /api/stock/events updates the count and shows the form or
 *    the sold-out notice (no polling);
 *  - the order: after a reservation the order id and its token are kept in this device's
 *    localStorage and in the URL fragment (never in a cookie, never sent to the server in the
 *    URL), the voucher event is awaited on /api/orders/:id/events, and then htmx fetches the
 *    order's status fragment with the download link.
 * Every word shown comes from the server's fragments (web/strings.ts); none is written here.
 */
(function () {
  'use strict';

  var STORE = 'crs.orders';

  /** @returns {Record<string, {orderId: string, token: string}>} */
  function readStore() {
    try {
      var parsed = JSON.parse(window.localStorage.getItem(STORE) || '{}');
      return parsed && typeof parsed === 'object' ? parsed : {};
    } catch {
      return {};
    }
  }

  /** @param {string} productId @param {string} orderId @param {string} token */
  function remember(productId, orderId, token) {
    try {
      var all = readStore();
      all[productId] = { orderId: orderId, token: token };
      window.localStorage.setItem(STORE, JSON.stringify(all));
    } catch {
      // Storage may be off (private mode): the URL fragment still holds the order.
    }
  }

  /** The token in the URL fragment (#token=...), if any. */
  function tokenFromFragment() {
    var match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
    return match ? match[1] : undefined;
  }

  /** @param {string} orderId @param {string} token */
  function orderUrl(orderId, token) {
    return '/orders/' + encodeURIComponent(orderId) + '#token=' + token;
  }

  /**
   * An EventSource that comes back: the browser reconnects by itself after a dropped stream,
   * but gives up for good on an error answer (a 503 from a full or draining instance), so
   * then open a new one after a few seconds (with jitter, so pages do not return in step).
   * @param {string} url @param {string} event @param {(data: string) => void} onEvent
   * @returns {{close: () => void}}
   */
  function follow(url, event, onEvent) {
    /** @type {EventSource | undefined} */
    var source;
    var closed = false;
    /** @type {number | undefined} */
    var retry;
    function open() {
      source = new EventSource(url);
      source.addEventListener(event, function (message) {
        onEvent(/** @type {MessageEvent} */ (message).data);
      });
      source.onerror = function () {
        if (closed || !source || source.readyState !== EventSource.CLOSED) return;
        retry = window.setTimeout(open, 2000 + Math.random() * 3000);
      };
    }
    open();
    return {
      close: function () {
        closed = true;
        window.clearTimeout(retry);
        if (source) source.close();
      },
    };
  }

  /** Says a short text through the page's live region (screen readers). */
  function announce(text) {
    var region = document.getElementById('announce');
    if (region && text) region.textContent = text;
  }

  // Live stock -----------------------------------------------------------------------------

  /** @param {{remaining: number, total: number, available: boolean}} stock */
  function applyStock(stock) {
    document.querySelectorAll('[data-remaining]').forEach(function (el) {
      el.textContent = String(stock.remaining);
    });
    document.querySelectorAll('[data-total]').forEach(function (el) {
      el.textContent = String(stock.total);
    });
    var formArea = document.getElementById('order-form-area');
    var soldOut = document.getElementById('sold-out');
    // Once an order's status replaced them, stock changes no longer concern this page.
    if (!formArea || !soldOut) return;
    var hadFocus = formArea.contains(document.activeElement);
    var changed = formArea.hidden === stock.available;
    formArea.hidden = !stock.available;
    soldOut.hidden = stock.available;
    if (changed) {
      var heading = (stock.available ? formArea : soldOut).querySelector('h2');
      announce(heading ? heading.textContent || '' : '');
    }
    if (hadFocus && !stock.available) {
      soldOut.setAttribute('tabindex', '-1');
      soldOut.focus();
    }
  }

  /** @type {{close: () => void} | undefined} */
  var stockStream;

  function followStock() {
    var stock = document.getElementById('stock');
    var url = stock && stock.getAttribute('data-stock-events');
    if (!url || !('EventSource' in window)) return;
    stockStream = follow(url, 'stock', function (data) {
      try {
        applyStock(JSON.parse(data));
      } catch {
        // A malformed event changes nothing.
      }
    });
  }

  // The order --------------------------------------------------------------------------------

  /** @param {string} orderId @param {string} token */
  function loadStatus(orderId, token) {
    var htmx = /** @type {any} */ (window).htmx;
    return htmx.ajax('GET', '/api/orders/' + encodeURIComponent(orderId), {
      target: '#order-area',
      swap: 'innerHTML',
      headers: { Authorization: 'Bearer ' + token },
    });
  }

  /** @type {{close: () => void} | undefined} */
  var voucherStream;

  /** Whenever an order's status appears (after ordering, or loaded), follow it. */
  /** @param {Element} status */
  function followOrder(status) {
    var orderId = status.getAttribute('data-order-id') || '';
    var productId = status.getAttribute('data-product-id') || '';
    // The order page opened with the token in its fragment knows the product only now.
    var heading = document.getElementById('order-heading');
    var productName = status.getAttribute('data-product-name');
    if (heading && productName) heading.textContent = productName;
    var given = status.getAttribute('data-token');
    var token = given || tokenFromFragment();
    if (!orderId || !token) return;
    if (given) {
      // Just ordered (or the no-script redirect): keep the order, and move the token out of
      // the query into the fragment so it is not sent again.
      remember(productId, orderId, token);
      status.removeAttribute('data-token');
      // The form is gone: this page no longer needs the stock (one stream less per tab).
      if (stockStream) stockStream.close();
      window.history.replaceState(null, '', orderUrl(orderId, token));
      // Keyboard and screen-reader users land on the news, not on a button that is gone.
      status.setAttribute('tabindex', '-1');
      /** @type {HTMLElement} */ (status).focus();
    }
    if (status.getAttribute('data-status') !== 'reserved' || !('EventSource' in window)) return;
    if (voucherStream) voucherStream.close();
    var events = status.getAttribute('data-events') + '?token=' + encodeURIComponent(token);
    var stream = follow(events, 'voucher', function () {
      stream.close();
      loadStatus(orderId, /** @type {string} */ (token));
    });
    voucherStream = stream;
  }

  /** An order page opened with the token in its fragment: fetch the status. */
  function loadOrderPage() {
    var area = document.querySelector('[data-load-order]');
    if (!area) return;
    var token = tokenFromFragment();
    var orderId = area.getAttribute('data-order-id') || '';
    if (token) loadStatus(orderId, token);
  }

  /** On the product page: a link back to the order this device already placed. */
  function showExistingOrder() {
    var stock = document.getElementById('stock');
    var notice = document.getElementById('existing-order');
    var link = document.getElementById('existing-order-link');
    if (!stock || !notice || !link) return;
    var saved = readStore()[stock.getAttribute('data-product-id') || ''];
    if (!saved) return;
    link.setAttribute('href', orderUrl(saved.orderId, saved.token));
    notice.hidden = false;
  }

  /**
   * After a swap took away the focused element (the button that was pressed), put the focus
   * where the news is: the first field in error, else the message, else the new status.
   */
  function refocus() {
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var next = document.querySelector(
      'main [aria-invalid="true"], main .form-error, main .result, main [role="status"], main [role="alert"]',
    );
    if (!next) return;
    if (!/^(INPUT|BUTTON|A|SELECT|TEXTAREA)$/.test(next.tagName)) next.setAttribute('tabindex', '-1');
    /** @type {HTMLElement} */ (next).focus();
  }

  function start() {
    var htmx = /** @type {any} */ (window).htmx;
    // htmx would send the page's address, fragment (and so the order's token) included.
    document.body.addEventListener('htmx:configRequest', function (event) {
      delete (/** @type {any} */ (event).detail.headers['HX-Current-URL']);
    });
    document.body.addEventListener('htmx:afterSettle', refocus);
    followStock();
    showExistingOrder();
    htmx.onLoad(function (/** @type {Element} */ root) {
      var status =
        root.id === 'order-status' ? root : root.querySelector && root.querySelector('#order-status');
      if (status) followOrder(status);
    });
    loadOrderPage();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
