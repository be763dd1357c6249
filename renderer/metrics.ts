import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type RendererMetrics = ReturnType<typeof makeRendererMetrics>;

export function makeRendererMetrics(options: { defaultMetrics: boolean }) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'crs_renderer_' });
  const registers = [registry];
  return {
    registry,
    rendered: new Counter({
      name: 'crs_renderer_vouchers_total',
      help: 'Vouchers rendered, stored and recorded',
      registers,
    }),
    renderSeconds: new Histogram({
      name: 'crs_renderer_render_seconds',
      help: 'Time to draw one voucher PDF',
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    uploadSeconds: new Histogram({
      name: 'crs_renderer_upload_seconds',
      help: 'Time to store one voucher in the bucket',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    attemptsFailed: new Counter({
      name: 'crs_renderer_attempts_failed_total',
      help: 'Render attempts that failed (retried with backoff), by stage',
      labelNames: ['stage'] as const,
      registers,
    }),
    jobsFailedForGood: new Counter({
      name: 'crs_renderer_jobs_failed_permanently_total',
      help: 'Render jobs that used up their attempts (see the logs for the order ids)',
      registers,
    }),
    runnerRestarts: new Counter({
      name: 'crs_renderer_runner_restarts_total',
      help: 'Times graphile-worker stopped by itself (Postgres away too long) and was started again',
      registers,
    }),
    jobsRunning: new Gauge({
      name: 'crs_renderer_jobs_running',
      help: 'Jobs this renderer is running now (each holds its job locked)',
      registers,
    }),
    missingGlyphs: new Counter({
      name: 'crs_renderer_missing_glyphs_total',
      help: 'Vouchers with characters no embedded font could show',
      registers,
    }),
  };
}
