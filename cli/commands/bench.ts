import { join, resolve } from 'node:path';
import { readLogFormat } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { packageRoot } from '../../common/paths.js';
import { UsageError, wantsHelp, type Command } from '../command.js';
import { loadLocalStack } from '../localStack.js';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'run the benchmarks (intake, flash-sale, pipeline) on a stack of their own',
  help: `Usage: crs bench [intake] [flash-sale] [pipeline] [--quick] [--out DIR]

Runs the named scenarios (all three by default) on a stack of their own: the local backing
services with state in .data/bench (CRS_BENCH_DATA_DIR) on ports 30349 (Postgres), 30389
(Redis), 30740 (RabbitMQ), 30910 (S3 store), 3910 (API) and 3912 (renderer), a fresh database
each run, and a load generator in a process of its own. Loopback only, bounded in time.

  intake      orders/s and latency at 1, 16, 64, 256 clients: ours through HTTP, the original
              design through the same HTTP stack, the database and HTTP ceilings; CPU per
              order of every process (/proc); the HTTP paths with the stack on 1 core and all
  flash-sale  20,000 buyers within 2 s for 1,000 units: oversell, answers, latency, sell-out,
              refusals without Postgres, time to the last voucher; then the highest arrival
              rate whose p99 stays under 500 ms, against the trivial route's ceiling
  pipeline    100 and 500 orders/s for 60 s: commit to flag and job, order to voucher event,
              PDFs/s, replication lag
  --quick     a short version of each (seconds, not minutes) that checks only invariants
  --out DIR   where results go (bench/results): <scenario>.json, .txt, -*.svg, results.md
  --profile   instead of the scenarios: the API under V8's profiler for an order, a sold-out
              refusal and the trivial route (64 clients, 10 s each); prints self time by module
              and function, writes the .cpuprofile files under DIR/profiles

Exits 1 if an invariant broke (oversell, a buyer without an answer, a voucher missing). A full
run takes about 15 minutes on two cores; nothing else should run meanwhile.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    const named: string[] = [];
    let quick = false;
    let profile = false;
    let outDir = join(packageRoot, 'bench', 'results');
    for (let i = 0; i < args.length; i += 1) {
      const arg = args[i] as string;
      if (arg === '--quick') quick = true;
      else if (arg === '--profile') profile = true;
      else if (arg === '--out') {
        const value = args[(i += 1)];
        if (!value) throw new UsageError('--out needs a directory');
        outDir = resolve(value);
      } else named.push(arg);
    }
    // The benchmarks use dev dependencies (undici, the local stack); a production image has
    // none, nor the bench/ code (deploy/image/Dockerfile), so even the scenario names are
    // loaded only here.
    const bench = await loadLocalStack('crs bench', () => import('../../bench/main.js'));
    const scenarios = named.map((arg) => {
      if (!bench.isScenarioName(arg))
        throw new UsageError(`unknown argument "${arg}" (see crs bench --help)`);
      return arg;
    });
    const log = makeLogger({ level: 'info', component: 'bench', format: readLogFormat(env) });
    if (profile) {
      if (scenarios.length > 0 || quick) throw new UsageError('--profile runs alone (see crs bench --help)');
      return bench.runProfile(env, { outDir: join(outDir, 'profiles'), seconds: 10, log });
    }
    return bench.runBench(env, {
      scenarios: scenarios.length ? [...new Set(scenarios)] : [...bench.SCENARIOS],
      quick,
      outDir,
      command: ['crs bench', ...args].join(' '),
      log,
    });
  },
};
