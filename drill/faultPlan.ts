/**
 * The faults the suite injects, one after the other under load, in the order the issue names
 * them: crashes and outages first, then hangs (SIGSTOP) and partitions (bytes stop, sockets
 * stay open). Each returns once the component is back (restarted, started again, woken,
 * healed); from then on the suite times how long the system takes to catch up. A hang or a
 * cut-off that another replica covers also reports how soon it took over.
 */
import { sleep } from '../common/backoff.js';

/** What a fault can do to the running system (drill/main.ts implements it). */
export interface FaultControls {
  /** kill -9 a component's process (the active CDC consumer) and start it again. */
  killAndRestart(name: 'cdc' | 'renderer'): Promise<void>;
  /**
   * SIGSTOP the active CDC consumer, or the first renderer, for `ms` under load, then SIGCONT:
   * a hang with every socket open. The standby consumer (or the second renderer) takes over.
   */
  freeze(name: 'cdc' | 'renderer', ms: number): Promise<Takeover>;
  /**
   * Cuts the link between a component (the active CDC consumer, the first renderer, the first
   * API) and Postgres or RabbitMQ for `ms`, the way a lost node is cut off: bytes stop, no
   * socket closes (partitionProxy.ts). Then heals it.
   */
  partition(name: 'cdc' | 'renderer' | 'api', link: 'postgres' | 'rabbitmq', ms: number): Promise<Takeover>;
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

/** How soon another replica took the work over, where one does (undefined: none did in time). */
export interface Takeover {
  takeoverMs?: number | undefined;
}

export interface Fault {
  name: string;
  /** Whether another replica must take the work over while it lasts (a freeze, a cut-off). */
  takeover?: boolean;
  inject(controls: FaultControls): Promise<void | Takeover>;
}

/** Stops a service, keeps it away for outageMs, starts it again. */
const outage =
  (service: (controls: FaultControls) => ServiceControl, outageMs: number) =>
  async (controls: FaultControls) => {
    await service(controls).stop();
    await sleep(outageMs);
    await service(controls).start();
  };

export function faultPlan(outageMs: number, hangMs: { freeze: number; partition: number }): Fault[] {
  const seconds = `${outageMs / 1000} s`;
  const frozen = `${hangMs.freeze / 1000} s`;
  const cut = `${hangMs.partition / 1000} s`;
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
    { name: `cdc SIGSTOP ${frozen}`, takeover: true, inject: (c) => c.freeze('cdc', hangMs.freeze) },
    {
      name: `renderer SIGSTOP ${frozen}`,
      takeover: true,
      inject: (c) => c.freeze('renderer', hangMs.freeze),
    },
    {
      name: `cdc cut off from postgres ${cut}`,
      takeover: true,
      inject: (c) => c.partition('cdc', 'postgres', hangMs.partition),
    },
    {
      name: `cdc cut off from rabbitmq ${cut}`,
      inject: (c) => c.partition('cdc', 'rabbitmq', hangMs.partition),
    },
    {
      name: `renderer cut off from postgres ${cut}`,
      takeover: true,
      inject: (c) => c.partition('renderer', 'postgres', hangMs.partition),
    },
    {
      name: `api 1 cut off from postgres ${cut}`,
      inject: (c) => c.partition('api', 'postgres', hangMs.partition),
    },
  ];
}
