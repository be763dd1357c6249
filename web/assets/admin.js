// @ts-check
/**
 * The admin page's pipeline panel, live: an EventSource on /admin/pipeline/events brings the
 * figures every few seconds (no polling), drawn as a bar chart of orders per minute and a few
 * numbers, with the stock remaining as a line over the bars. The words come from the server (data-* on the panel); without script the panel
 * shows the figures as they were when the page was made.
 */
(function () {
  'use strict';

  var panel = /** @type {HTMLElement | null} */ (document.querySelector('[data-pipeline]'));
  if (!panel || !('EventSource' in window)) return;
  var root = panel;
  var url = root.getAttribute('data-events') || '';
  var SVG = 'http://www.w3.org/2000/svg';

  /** @param {string} name @param {string} text */
  function show(name, text) {
    var cell = root.querySelector('[data-figure="' + name + '"]');
    if (cell) cell.textContent = text;
  }

  /** @param {number} bytes */
  function size(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' kB';
    return (bytes / 1024 / 1024).toFixed(1) + ' MB';
  }

  /** @param {number} seconds */
  function age(seconds) {
    if (seconds < 90) return Math.round(seconds) + ' s';
    if (seconds < 5400) return Math.round(seconds / 60) + ' min';
    return (seconds / 3600).toFixed(1) + ' h';
  }

  /**
   * Bars of orders per minute, the newest on the right, scaled to the busiest minute; and a
   * line of the stock remaining at the end of each minute (now, plus the orders taken since),
   * scaled to the total.
   */
  function draw(
    /** @type {number[]} */ counts,
    /** @type {number | null} */ remaining,
    /** @type {number | null} */ total,
  ) {
    var chart = root.querySelector('[data-chart]');
    if (!chart) return;
    var width = 300;
    var height = 80;
    var max = Math.max(1, Math.max.apply(null, counts));
    var bar = width / Math.max(1, counts.length);
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    // The bars fill the panel's width whatever it is; their heights keep the scale.
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', (root.getAttribute('data-chart-label') || '') + ' ' + counts.join(', '));
    counts.forEach(function (count, i) {
      var h = count === 0 ? 0 : Math.max(1, (count / max) * (height - 4));
      var rect = document.createElementNS(SVG, 'rect');
      rect.setAttribute('x', String(i * bar + 1));
      rect.setAttribute('y', String(height - h));
      rect.setAttribute('width', String(Math.max(1, bar - 2)));
      rect.setAttribute('height', String(h));
      rect.setAttribute('class', 'bar');
      svg.appendChild(rect);
    });
    if (remaining !== null && total) {
      var after = 0;
      var points = [];
      for (var i = counts.length - 1; i >= 0; i -= 1) {
        var left = Math.min(total, remaining + after);
        points.unshift(
          (i * bar + bar / 2).toFixed(1) + ',' + (height - 2 - (left / total) * (height - 4)).toFixed(1),
        );
        after += counts[i] || 0;
      }
      var line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', points.join(' '));
      line.setAttribute('class', 'remaining');
      svg.appendChild(line);
    }
    var baseline = document.createElementNS(SVG, 'line');
    baseline.setAttribute('x1', '0');
    baseline.setAttribute('x2', String(width));
    baseline.setAttribute('y1', String(height - 0.5));
    baseline.setAttribute('y2', String(height - 0.5));
    baseline.setAttribute('class', 'baseline');
    svg.appendChild(baseline);
    chart.replaceChildren(svg);
  }

  var source = new EventSource(url);
  source.addEventListener('pipeline', function (event) {
    /** @type {{remaining: number | null, total: number | null, ordersPerMinute: number[], ordersLastMinute: number, replicationLagBytes: number | null, renderJobsWaiting: number, vouchersLastMinute: number, oldestWithoutVoucherSeconds: number | null}} */
    var data = JSON.parse(/** @type {MessageEvent} */ (event).data);
    show('remaining', data.remaining === null ? '–' : data.remaining + ' / ' + data.total);
    show('orders-last-minute', String(data.ordersLastMinute));
    show('replication-lag', data.replicationLagBytes === null ? '–' : size(data.replicationLagBytes));
    show('render-jobs', String(data.renderJobsWaiting));
    show('vouchers-last-minute', String(data.vouchersLastMinute));
    show(
      'oldest-without-voucher',
      data.oldestWithoutVoucherSeconds === null ? '–' : age(data.oldestWithoutVoucherSeconds),
    );
    draw(data.ordersPerMinute, data.remaining, data.total);
    root.setAttribute('data-updated', String(Date.now()));
  });
  window.addEventListener('pagehide', function () {
    source.close();
  });
})();
