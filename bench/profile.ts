/**
 * Where the API's CPU goes, per path: the bench stack with CDC (so the stock flag is live), and
 * for each path an API process of its own run under V8's sampling profiler (--cpu-prof) while
 * 64 clients load it for 10 s: an order, a sold-out product's refusal, and the trivial route.
 * Prints each profile's self time by module and by function, heaviest first, and writes the
 * .cpuprofile files (open them in Chrome's DevTools or speedscope) to the output folder.
 * `crs bench --profile` runs it.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from '../common/log.js';
import { packageRoot } from '../common/paths.js';
import { startBenchCdc } from './cdcInProcess.js';
import { runLoad } from './load/run.js';
import type { LoadJob } from './load/job.js';
import { waitForStockFlag } from './measure.js';
import { formatTable } from './report/table.js';
import { makeCpuMeter } from './cpuTime.js';
import { BENCH_PORTS, startBenchStack } from './stack.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (µs) by module and by function, from the samples' deltas. */
function selfTimes(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    // Shares are of the time the thread was busy.
    if (!node || node.callFrame.functionName === '(idle)') return;
    total += delta;
    const url = node.callFrame.url.replace(/^file:\/\//, '');
    const where = url === '' ? `(${node.callFrame.functionName || 'native'})` : moduleOf(url);
    byModule.set(where, (byModule.get(where) ?? 0) + delta);
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + delta);
  });
  return { total, byModule, byFunction };
}

/** A package name for node_modules, a path in the repository, node: for Node's own. */
function moduleOf(url: string): string {
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  return relative(packageRoot, url);
}

function top(map: Map<string, number>, total: number, n: number) {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, micros]) => [name, (micros / 1000).toFixed(0), `${((micros / total) * 100).toFixed(1)}%`]);
}

export async function runProfile(
  env: Record<string, string | undefined>,
  options: { outDir: string; seconds: number; log: Logger },
): Promise<number> {
  const { outDir, seconds, log } = options;
  await mkdir(outDir, { recursive: true });
  const stack = await startBenchStack(env, log);
  const cdc = await startBenchCdc(stack.vars);
  try {
    await stack.owner.query(`select crs.upsert_product('profile-orders', 'Orders', 1000000000)`);
    await stack.owner.query(`select crs.upsert_product('profile-sold-out', 'Sold out', 0)`);
    await waitForStockFlag(stack.vars['REDIS_URL'] as string, 'profile-sold-out', (flag) => !flag.available);

    const paths: { name: string; request: LoadJob['request'] }[] = [
      { name: 'order', request: { kind: 'order', productId: 'profile-orders', phoneStart: 1_000_000 } },
      { name: 'refusal', request: { kind: 'order', productId: 'profile-sold-out', phoneStart: 1_000_000 } },
      { name: 'noop', request: { kind: 'noop', path: '/bench/noop' } },
    ];
    for (const path of paths) {
      const dir = join(outDir, path.name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const api = await stack.benchApi('batched', {}, [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        '--cpu-prof-interval=250',
      ]);
      const meter = makeCpuMeter({
        api: BENCH_PORTS.api,
        postgres: BENCH_PORTS.pg,
        redis: BENCH_PORTS.redis,
      });
      const result = await runLoad(
        {
          target: `http://127.0.0.1:${BENCH_PORTS.api}`,
          request: path.request,
          mode: { kind: 'closed', concurrency: 64, durationMs: seconds * 1000, warmupMs: 1_000 },
          timeoutMs: 10_000,
        },
        {
          label: `profile ${path.name}`,
          onPhase: meter.onPhase,
        },
      );
      await api.stop(30_000);
      // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the main thread (the
      // others are tsx's loader thread when run from the sources).
      const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0');
      if (!file) throw new Error(`no profile written for ${path.name}`);
      const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
      const { total, byModule, byFunction } = selfTimes(profile);
      const cpu = meter.window();
      const perAnswer = (micros: number | undefined) =>
        Math.round((micros ?? 0) / Math.max(1, result.answered));
      console.log(
        `\n== ${path.name}: ${Math.round(result.perSecond)} answers/s, statuses ${JSON.stringify(result.byStatus)}; ` +
          `CPU per answer (under the profiler): API ${perAnswer(cpu?.byComponent['api'])} µs, ` +
          `Postgres ${perAnswer(cpu?.byComponent['postgres'])} µs, Redis ${perAnswer(cpu?.byComponent['redis'])} µs; ` +
          `profile ${join(dir, file)} (${(total / 1000).toFixed(0)} ms busy, start-up included)`,
      );
      console.log(
        formatTable(
          [{ title: 'module' }, { title: 'self ms' }, { title: 'share' }],
          top(byModule, total, 15),
        ),
      );
      console.log(
        formatTable(
          [{ title: 'function' }, { title: 'self ms' }, { title: 'share' }],
          top(byFunction, total, 25),
        ),
      );
    }
  } finally {
    await cdc.stop();
    await stack.stop();
  }
  return 0;
}
