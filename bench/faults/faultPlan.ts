/**
 * The faults the suite injects, one after the other under load, in the order the issue names
 * them. Each returns once the component is back (restarted, started again, writing again);
 * from then on the suite times how long the system takes to catch up.
 */
import { sleep } from '../../common/backoff.js';

/** What a fault can do to the running system (bench/faults/main.ts implements it). */
export interface FaultControls {
  /** kill -9 a component's process and start it again. */
  killAndRestart(name: 'cdc' | 'renderer'): Promise<void>;
  /** SIGTERM one API instance (it drains), then start it again. */
  restartApi(index: number): Promise<void>;
  postgres: ServiceControl;
  redis: ServiceControl;
  rabbitmq: ServiceControl;
  /** The object store answers writes 503 SlowDown for this long (reads keep working). */
  refuseWrites(ms: number): Promise<void>;
}

export interface ServiceControl {
  stop(): Promise<void>;
  start(): Promise<unknown>;
}

export interface Fault {
  name: string;
  inject(controls: FaultControls): Promise<void>;
}

/** Stops a service, keeps it away for outageMs, starts it again. */
const outage =
  (service: (controls: FaultControls) => ServiceControl, outageMs: number) =>
  async (controls: FaultControls) => {
    await service(controls).stop();
    await sleep(outageMs);
    await service(controls).start();
  };

export function faultPlan(outageMs: number): Fault[] {
  const seconds = `${outageMs / 1000} s`;
  return [
    { name: 'cdc kill -9', inject: (c) => c.killAndRestart('cdc') },
    { name: 'renderer kill -9', inject: (c) => c.killAndRestart('renderer') },
    {
      name: 'postgres restart (fast)',
      inject: async (c) => {
        await c.postgres.stop();
        await c.postgres.start();
      },
    },
    { name: `redis down ${seconds}`, inject: outage((c) => c.redis, outageMs) },
    { name: `rabbitmq down ${seconds}`, inject: outage((c) => c.rabbitmq, outageMs) },
    { name: `object store refuses writes ${seconds}`, inject: (c) => c.refuseWrites(outageMs) },
    { name: 'api 2 restart', inject: (c) => c.restartApi(1) },
    { name: 'cdc kill -9 (again)', inject: (c) => c.killAndRestart('cdc') },
    { name: 'renderer kill -9 (again)', inject: (c) => c.killAndRestart('renderer') },
  ];
}
