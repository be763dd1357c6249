/**
 * `crs cdc wal`: the decoded replication stream (rows) as JSON lines, for operators. It streams through
 * a TEMPORARY slot of its own (dropped by Postgres when the session ends, even on a crash),
 * so it never takes over or moves the service's slot, and it acknowledges as it goes so the
 * temporary slot holds no WAL back.
 */
import { randomBytes } from 'node:crypto';
import { LogicalReplicationService } from 'pg-logical-replication';
import type pg from 'pg';
import { TolerantPgoutputPlugin, type DecodedMessage } from './pgoutput.js';
import { makeAssembler } from './transactions.js';

/** pgoutput on a temporary slot created on the replication connection itself. */
class TemporarySlotPlugin extends TolerantPgoutputPlugin {
  override async start(client: pg.Client, slotName: string, lastLsn: string) {
    await client.query(`CREATE_REPLICATION_SLOT ${slotName} TEMPORARY LOGICAL pgoutput`);
    return super.start(client, slotName, lastLsn);
  }
}

export async function tailChanges(options: {
  databaseUrl: string;
  publicationName: string;
  write: (line: string) => void;
  signal: AbortSignal;
}): Promise<void> {
  const service = new LogicalReplicationService(
    { connectionString: options.databaseUrl, application_name: 'crs-cdc-tail' },
    { acknowledge: { auto: true, timeoutSeconds: 10 } },
  );
  const assembler = makeAssembler((reason) => options.write(JSON.stringify({ skipped: reason })));
  service.on('data', (_lsn: string, message: DecodedMessage) => {
    const txn = assembler.push(message);
    if (!txn) return;
    for (const change of txn.changes) {
      options.write(
        JSON.stringify({
          lsn: txn.commitLsn,
          commitTime: new Date(txn.commitTime).toISOString(),
          xid: txn.xid,
          table: change.table,
          op: change.op,
          row: change.row,
        }),
      );
    }
  });
  const slot = `crs_tail_${randomBytes(4).toString('hex')}`;
  const plugin = new TemporarySlotPlugin({ protoVersion: 1, publicationNames: [options.publicationName] });
  const stopped = new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve()));
  const streaming = service.subscribe(plugin, slot, '0/00000000');
  await Promise.race([streaming, stopped]);
  await service.stop();
  await streaming.catch(() => undefined);
}
