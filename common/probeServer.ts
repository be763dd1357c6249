/**
 * The small HTTP server of a worker process (cdc, renderer): /healthz, /readyz and /metrics,
 * for Kubernetes probes and Prometheus. No framework: three fixed routes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { withDeadline } from './deadline.js';

export interface Readiness {
  ready: boolean;
  details: Record<string, unknown>;
}

export interface ProbeServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startProbeServer(options: {
  port: number;
  host: string;
  registry: Registry;
  readiness: () => Promise<Readiness>;
}): Promise<ProbeServer> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(404, { error: { code: 'not_found', message: 'No such route.' } });
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((text) => send(200, text, options.registry.contentType))
        .catch(() => send(500, { error: { code: 'internal_error', message: 'metrics failed' } }));
      return;
    }
    if (path === '/readyz') {
      options
        .readiness()
        .then(({ ready, details }) =>
          ready
            ? send(200, { status: 'ready', ...details })
            : send(503, { error: { code: 'unavailable', message: 'Not ready.', details } }),
        )
        .catch((err: Error) => send(503, { error: { code: 'unavailable', message: err.message } }));
      return;
    }
    send(404, { error: { code: 'not_found', message: 'No such route.' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * How long one dependency check may take. A dependency cut off by a partition answers nothing
 * (its socket stays open), and a probe that waits for the query timeout answers after the
 * kubelet gave up (timeoutSeconds: 3 in deploy/kubernetes): "no answer" is the answer.
 */
export const CHECK_TIMEOUT_MS = 2_000;

/**
 * Runs named dependency checks at once; each resolves to "ok" or says what is wrong. A check
 * returns a string other than "ok" (e.g. "bucket missing") or throws (unreachable), and one
 * that has not answered within CHECK_TIMEOUT_MS counts as unreachable.
 */
export async function runChecks(
  checks: Record<string, () => Promise<string>>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const results: Record<string, string> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        results[name] = await withDeadline(check(), timeoutMs, `no answer within ${timeoutMs} ms`);
      } catch (err) {
        results[name] = `unreachable: ${(err as Error).message}`;
      }
    }),
  );
  return { ready: Object.values(results).every((r) => r === 'ok'), checks: results };
}
