/**
 * The CDC consumer inside the bench process, on a slot of its own, so its own latency
 * observations (pgoutput commit timestamp to the effect being durable in Redis or the job
 * queue) are kept raw instead of bucketed in a histogram.
 */
import { startCdc } from '../cdc/service.js';
import { loadCdcConfig } from '../common/config.js';
import { makeLogger } from '../common/log.js';

export interface BenchCdc {
  /** Milliseconds, since the last `reset()`. */
  samples: { redis: number[]; job: number[] };
  reset(): void;
  slot: string;
  stop(): Promise<void>;
}

export async function startBenchCdc(vars: Record<string, string>): Promise<BenchCdc> {
  const slot = 'crs_bench';
  const config = loadCdcConfig({
    ...vars,
    CDC_SLOT: slot,
    CDC_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  const samples = { redis: [] as number[], job: [] as number[] };
  const cdc = await startCdc(config, makeLogger({ level: 'warn', component: 'bench-cdc' }), {
    observe: (kind, seconds) => void samples[kind].push(seconds * 1000),
  });
  // Streaming (slot created, reconcile done) before anything is measured.
  for (let i = 0; i < 300 && !cdc.consumer.status().streaming; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!cdc.consumer.status().streaming) throw new Error('the bench CDC consumer did not start streaming');
  return {
    samples,
    slot,
    reset() {
      samples.redis.length = 0;
      samples.job.length = 0;
    },
    stop: () => cdc.stop(),
  };
}
