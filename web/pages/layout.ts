/**
 * The page shell every page shares: language, viewport, the stylesheet and scripts from this
 * origin only, htmx's settings, a skip link, and one <main>.
 */
import type { Context } from 'koa';
import { assetUrl, type Assets } from '../assets.js';
import { documentText, html, Html } from '../html.js';
import type { Strings } from '../strings.js';

export interface PageKit {
  t: Strings;
  assets: Assets;
}

/**
 * htmx under a strict CSP: no inline indicator styles, no eval (hx-on and js: values stay
 * off), no history snapshots in localStorage (a page may hold an order's token), requests to
 * this origin only; and error answers (4xx, 503) are swapped in like any other, because they
 * carry the fragment that explains what went wrong.
 */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  selfRequestsOnly: true,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '(400|401|403|404|409|413|415|429|500|503)', swap: true, error: false },
    { code: '...', swap: false, error: true },
  ],
});

/** The headers of an HTML page: scripts, styles and connections from this origin only. */
export function setPageHeaders(ctx: Context): void {
  ctx.set({
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      "connect-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  });
}

/** `wide`: the page may use the screen's width (admin's tables), not only a reading column. */
export function page(
  kit: PageKit,
  options: { title: string; main: Html; nav?: Html; wide?: boolean; scripts?: string[] },
): string {
  const { t, assets } = kit;
  return documentText(
    html`<html lang="${t.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content="${HTMX_CONFIG}" />
        <title>${options.title} · ${t.siteName}</title>
        <link rel="icon" type="image/svg+xml" href="${assetUrl(assets, 'icon.svg')}" />
        <link rel="stylesheet" href="${assetUrl(assets, 'app.css')}" />
        <script src="${assetUrl(assets, 'htmx.min.js')}" defer></script>
        <script src="${assetUrl(assets, 'app.js')}" defer></script>
        ${(options.scripts ?? []).map((name) => html`<script src="${assetUrl(assets, name)}" defer></script>`)}
      </head>
      <body>
        <a class="skip" href="#main">${t.skipToContent}</a>
        <header class="site">
          <a class="brand" href="/">${t.siteName}</a>
          ${options.nav}
        </header>
        <main id="main" tabindex="-1" ${options.wide ? new Html('class="wide"') : ''}>${options.main}</main>
      </body>
    </html>`,
  );
}
