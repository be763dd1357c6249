import { UsageError, wantsHelp, type Command } from '../command.js';
import { waitForStopSignal } from '../../common/stopSignal.js';
import { loadLocalStack } from '../localStack.js';

export const servicesCommand: Command = {
  name: 'services',
  summary: 'start the local backing services and print their variables',
  help: `Usage: crs services [--detach | --stop]

Starts the local backing services that the environment does not already point to, each
with its state under .data/ and a port of its own:
  PostgreSQL (wal_level=logical)   CRS_PG_PORT 54329     unless DATABASE_URL is set
  Redis (redis-server)             CRS_REDIS_PORT 56379  unless REDIS_URL is set
  RabbitMQ (rabbitmq-server)       CRS_AMQP_PORT 56720   unless AMQP_URL is set
  the local S3 store (crs s3-store) CRS_S3_PORT 56900    unless S3_ENDPOINT is set
creates the database roles and the database, and prints one \`export NAME=value\` line per
variable the components need (connections, keys and tokens, generated once and kept in
.data/secrets.json). Progress goes to stderr.

  crs services            run until Ctrl-C or SIGTERM, then stop what it started
  crs services --detach   leave them running in the background and exit:
                            eval "$(npx crs services --detach)"
  crs services --stop     stop what --detach left running

Environment: the variables above, CRS_DATA_DIR (.data), PG_BINDIR (where initdb and pg_ctl
are), CRS_PG_USER and CRS_RABBITMQ_USER (the users the servers run as when we are root;
postgres, rabbitmq).`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    const known = ['--detach', '--stop'];
    const unknown = args.filter((arg) => !known.includes(arg));
    if (unknown.length > 0 || args.length > 1) {
      throw new UsageError(`unknown arguments: ${args.join(' ')} (see crs services --help)`);
    }
    const { exportLines, startLocalServices, stopLocalServices } = await loadLocalStack(
      'crs services',
      () => import('../../devstack/stack.js'),
    );
    const progress = (line: string) => console.error(`crs services: ${line}`);
    if (args[0] === '--stop') {
      await stopLocalServices(env, progress);
      return 0;
    }
    const services = await startLocalServices(env, progress);
    console.log(exportLines(services.vars));
    if (args[0] === '--detach') return 0;
    progress('running; Ctrl-C stops them');
    await waitForStopSignal();
    await services.stop();
    return 0;
  },
};
