/**
 * An admin signed in to the pages over plain HTTP, as a browser would be: the sign-in form's
 * CSRF cookie and token, then the session cookie. Returns the Cookie header to send.
 */
import type { HttpClient } from './api.js';

export async function adminCookie(http: HttpClient, adminToken: string): Promise<string> {
  const form = await http.request('/admin');
  const csrfCookie = ([] as string[]).concat(form.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';
  const signIn = await http.request('/admin/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie.join('; ') },
    body: new URLSearchParams({ token: adminToken, _csrf: csrf, returnTo: '/admin' }).toString(),
  });
  if (signIn.status !== 303) throw new Error(`admin sign-in answered ${signIn.status}`);
  const session = ([] as string[]).concat(signIn.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
  return [...csrfCookie, ...session].join('; ');
}
