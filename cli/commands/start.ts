import { loadMigrateConfig, readInteger, readLogFormat } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { spawnComponent, waitUntilReady, type Child } from '../../common/componentProcess.js';
import { wantsHelp, type Command } from '../command.js';
import { waitForStopSignal } from '../../common/stopSignal.js';
import { loadLocalStack } from '../localStack.js';
import { runMigrations } from '../../migrations/migrateDatabase.js';

const COMPONENTS = ['api', 'cdc', 'renderer'] as const;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the whole system locally (services, migrations, components)',
  help: `Usage: crs start          (also: npm start)

Starts the local backing services (see crs services), applies migrations, creates the default
product with STOCK units the first time, runs every component (${COMPONENTS.join(', ')}) as its
own process, and prints the page URL and the admin and staff tokens. Ctrl-C or SIGTERM stops
all of it; state is kept under .data/ and survives a restart.

Environment: everything crs services, crs migrate and crs api read; PORT (3000).`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    const port = readInteger(env, 'PORT', 3000, 1, 65535);
    const log = makeLogger({ level: 'info', component: 'start', format: readLogFormat(env) });
    // Listen for Ctrl-C from the very start: a signal during startup (the services and
    // components come up over seconds) must stop what was started, not kill this process and
    // leave Postgres, Redis, RabbitMQ and the store running with nobody to stop them.
    let signalled: NodeJS.Signals | undefined;
    const stopSignal = waitForStopSignal().then((signal) => (signalled = signal));
    const { startLocalServices } = await loadLocalStack('crs start', () => import('../../devstack/stack.js'));
    const services = await startLocalServices(env, (line) => log.info(line));
    if (signalled) {
      log.info({ signal: signalled }, 'stopping during startup');
      await services.stop();
      return 0;
    }
    const cdcPort = readInteger(env, 'CDC_PORT', port + 1, 1, 65535);
    const rendererPort = readInteger(env, 'RENDERER_PORT', port + 2, 1, 65535);
    const ports = { PORT: String(port), CDC_PORT: String(cdcPort), RENDERER_PORT: String(rendererPort) };
    const children: Child[] = [];
    const stopAll = async () => {
      await Promise.all(children.map((child) => child.stop(15_000)));
      await services.stop();
    };
    /** A startup step, unless Ctrl-C comes first. */
    const step = async (work: Promise<unknown>) => {
      await Promise.race([work, stopSignal]);
      if (signalled) throw new StartupInterrupted();
    };
    try {
      await step(runMigrations(loadMigrateConfig({ ...env, ...services.vars }), log));
      // Each component with only its own connections, keys and tokens: its role's database
      // URL, its object store key where the store is ours (the API's may only read vouchers,
      // the renderer's only write them); the owner's URL stays here.
      for (const name of COMPONENTS) {
        children.push(spawnComponent(name, services.componentEnv(name, { ...env, ...ports })));
      }
      await step(waitUntilReady(`http://127.0.0.1:${port}/readyz`, 30_000, children[0]));
      await step(waitUntilReady(`http://127.0.0.1:${cdcPort}/readyz`, 30_000, children[1]));
      await step(waitUntilReady(`http://127.0.0.1:${rendererPort}/readyz`, 30_000, children[2]));
    } catch (err) {
      if (err instanceof StartupInterrupted) log.info({ signal: signalled }, 'stopping during startup');
      await stopAll();
      if (err instanceof StartupInterrupted) return 0;
      throw err;
    }

    const url = `http://localhost:${port}/`;
    console.log(
      [
        '',
        `  Cloud reservation system is running: ${url}`,
        `  Admin token: ${services.vars['ADMIN_TOKEN']}`,
        `  Staff token: ${services.vars['STAFF_TOKEN']}`,
        `  Pages: order ${url}   staff ${url}staff   admin ${url}admin (sign in with the token)`,
        '  API clients send tokens as the header Authorization: Bearer <token>',
        `  API description: ${url}api/openapi.json   Metrics: ${url}metrics`,
        '  Ctrl-C stops everything; data stays in .data/',
        '',
      ].join('\n'),
    );

    const crashed = Promise.race(children.map((child) => child.exited.then((code) => ({ child, code }))));
    const outcome = await Promise.race([stopSignal, crashed]);
    if (typeof outcome === 'string') {
      log.info({ signal: outcome }, 'stopping');
      await stopAll();
      return 0;
    }
    log.error({ component: outcome.child.name, code: outcome.code }, 'a component exited; stopping');
    await stopAll();
    return 1;
  },
};

/** Ctrl-C came while `crs start` was still starting things. */
class StartupInterrupted extends Error {}
