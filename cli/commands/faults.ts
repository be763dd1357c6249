import { join, resolve } from 'node:path';
import { readLogFormat } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { packageRoot } from '../../common/paths.js';
import { UsageError, wantsHelp, type Command } from '../command.js';
import { loadLocalStack } from '../localStack.js';

export const faultsCommand: Command = {
  name: 'faults',
  summary: 'run the fault-injection drill (kills, restarts, outages under load) and check nothing is lost',
  help: `Usage: crs faults [--quick] [--out DIR]

Runs the whole system as in production, every component a process of its own (two API
instances, the CDC consumer, the renderer), on backing services of its own (state in
.data/faults, CRS_FAULTS_DATA_DIR; ports 30359, 30399, 30750, 30920, 3920-3923), under a steady
load of orders (loopback only, bounded), while one fault follows another:

  kill -9 the CDC consumer, kill -9 the renderer, restart Postgres (fast shutdown), stop Redis,
  stop RabbitMQ, make the object store refuse writes, restart one of the two API instances,
  kill -9 the CDC consumer and the renderer again

After each fault it times how long until every order accepted so far has its voucher. At the
end it checks: orders accepted = orders in Postgres = vouchers recorded = objects in the bucket
= vouchers fetchable by their owners; every followed voucher event delivered; nothing lost,
duplicated or oversold; every failed request was a 503 and its retry with the same order id
succeeded; the stock flag equals the table. Prints one summary line; exits 1 if anything broke.

  --quick     shorter outages (4 s instead of 10 s) and a lighter load: about 3 minutes (CI)
  --out DIR   where faults.json goes (bench/results)

Component logs go to .data/faults/logs. The full drill takes about 5 minutes.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    let quick = false;
    let outDir = join(packageRoot, 'bench', 'results');
    for (let i = 0; i < args.length; i += 1) {
      const arg = args[i] as string;
      if (arg === '--quick') quick = true;
      else if (arg === '--out') {
        const value = args[(i += 1)];
        if (!value) throw new UsageError('--out needs a directory');
        outDir = resolve(value);
      } else throw new UsageError(`unknown argument "${arg}" (see crs faults --help)`);
    }
    const { runFaults } = await loadLocalStack('crs faults', () => import('../../drill/main.js'));
    const log = makeLogger({ level: 'info', component: 'faults', format: readLogFormat(env) });
    return runFaults(env, { quick, outDir, log });
  },
};
