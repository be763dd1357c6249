/** What every page handler needs, built once by makeWebRoutes. */
import type { Context } from 'koa';
import type { ApiDeps } from '../api/deps.js';
import type { Assets } from './assets.js';
import { readFormBody } from '../http/body.js';
import { CSRF_FIELD, type Csrf } from './csrf.js';
import { stringsFor, type Strings } from './strings.js';

export interface WebKit {
  deps: ApiDeps;
  assets: Assets;
  csrf: Csrf;
}

/** The request's language. */
export const stringsOf = (ctx: Context): Strings => stringsFor(ctx.get('accept-language'));

/** An htmx request: answer with a fragment, not a whole page. */
export const isHtmx = (ctx: Context) => ctx.get('hx-request') === 'true';

/** A page's form post, read with the API's limits and CSRF-checked (403 before anything runs). */
export async function readCheckedForm(kit: WebKit, ctx: Context): Promise<Record<string, string>> {
  const fields = await readFormBody(ctx, kit.deps.config.bodyLimitBytes);
  kit.csrf.verify(ctx, fields[CSRF_FIELD]);
  return fields;
}
