/**
 * Sign-in and sign-out for the staff and admin pages, shared by both: CSRF-checked posts,
 * failures logged (never the token given) and limited per client address, together with the
 * bearer API's failures (http/auth.ts): past RATE_LIMIT_AUTH_FAILURES_PER_MINUTE an
 * address gets 429, even with the right token.
 */
import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { recordAuthFailure, refuseRepeatedFailures } from '../http/auth.js';
import { stringsOf, readCheckedForm, type WebKit } from './kit.js';
import { page, setPageHeaders } from './pages/layout.js';
import { signInForm } from './pages/rolePages.js';
import { makeRoleSession, type Role, type RoleSession } from './session.js';

/** Where to go after signing in: a page of this role only (never another site). */
function returnPath(session: RoleSession, given: string | undefined): string {
  if (!given) return session.path;
  const pattern = new RegExp(`^${session.path}(\\?[A-Za-z0-9_\\-=&%.]*)?$`);
  return pattern.test(given) ? given : session.path;
}

export function renderSignIn(
  kit: WebKit,
  ctx: Context,
  session: RoleSession,
  options: { error?: string; returnTo: string },
): void {
  const t = stringsOf(ctx);
  const heading = session.role === 'staff' ? t.staff.signInHeading : t.admin.signInHeading;
  const label = session.role === 'staff' ? t.staff.token : `${t.admin.title.split(':')[0]} token`;
  ctx.body = page(
    { t, assets: kit.assets },
    {
      title: heading,
      main: signInForm(t, {
        path: session.path,
        heading,
        label,
        csrf: kit.csrf.token(ctx),
        error: options.error,
        returnTo: returnPath(session, options.returnTo),
      }),
    },
  );
  setPageHeaders(ctx);
}

/** Lets the request through when signed in; otherwise shows the sign-in form (401). */
export function requireSession(kit: WebKit, session: RoleSession): Middleware {
  return async (ctx, next) => {
    if (session.signedIn(ctx)) return next();
    ctx.status = 401;
    // An htmx call from a page whose session ran out: reload into the sign-in form.
    if (ctx.get('hx-request') === 'true') ctx.set('HX-Refresh', 'true');
    renderSignIn(kit, ctx, session, { returnTo: ctx.method === 'GET' ? ctx.url : session.path });
  };
}

/**
 * A router for one role's pages with its session, sign-in and sign-out already in place, and
 * the middleware that keeps the rest of its pages to signed-in users.
 */
export function makeRolePages(kit: WebKit, role: Role) {
  const router = new Router();
  const { config } = kit.deps;
  const session = makeRoleSession({
    role,
    token: role === 'staff' ? config.staffToken : config.adminToken,
    secret: config.orderTokenKey,
  });
  addSignInRoutes(router, kit, session);
  return { router, session, signedIn: requireSession(kit, session) };
}

function addSignInRoutes(router: Router, kit: WebKit, session: RoleSession): void {
  router.post(`${session.path}/sign-in`, async (ctx) => {
    // CSRF first: a forged cross-site post neither counts nor learns anything.
    const fields = await readCheckedForm(kit, ctx);
    await refuseRepeatedFailures(kit.deps, ctx);
    if (!session.signIn(ctx, fields['token'] ?? '')) {
      await recordAuthFailure(kit.deps, ctx, session.role);
      ctx.status = 401;
      const t = stringsOf(ctx);
      renderSignIn(kit, ctx, session, { error: t.staff.wrongToken, returnTo: fields['returnTo'] ?? '' });
      return;
    }
    kit.deps.log.info({ role: session.role, ip: ctx.ip, requestId: ctx.state['requestId'] }, 'signed in');
    ctx.status = 303;
    ctx.redirect(returnPath(session, fields['returnTo']));
  });

  router.post(`${session.path}/sign-out`, async (ctx) => {
    await readCheckedForm(kit, ctx);
    session.signOut(ctx);
    ctx.status = 303;
    ctx.redirect(session.path);
  });
}
