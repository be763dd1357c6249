/**
 * Turns the pgoutput message stream into committed transactions: the changes between a Begin
 * and its Commit, with the commit's LSN and time. Nothing is acted on before its Commit.
 * A message that cannot be read or placed (undecodable, a change outside a transaction, a
 * table not replicated) is reported through onSkipped and the stream goes on.
 */
import type { DecodedMessage } from './pgoutput.js';

export type TableName = 'products' | 'stock_shards' | 'orders';

export interface RowChange {
  table: TableName;
  op: 'insert' | 'update' | 'delete';
  row: Record<string, unknown>;
}

export interface Transaction {
  xid: number;
  /** Postgres form, e.g. "0/16B3748". */
  commitLsn: string;
  /** Where the commit record ends: what is acknowledged once the transaction is handled. */
  endLsn: string;
  /** Milliseconds since the epoch. */
  commitTime: number;
  changes: RowChange[];
}

const TABLES = new Set<string>(['products', 'stock_shards', 'orders']);

export interface Assembler {
  /** Feeds one decoded message; returns the transaction when the message was its Commit. */
  push(message: DecodedMessage): Transaction | undefined;
  /** Whether a transaction is open (a Begin without its Commit yet). */
  readonly open: boolean;
}

export function makeAssembler(onSkipped: (reason: string) => void): Assembler {
  let current: { xid: number; changes: RowChange[] } | undefined;
  return {
    get open() {
      return current !== undefined;
    },
    push(message) {
      switch (message.tag) {
        case 'begin':
          if (current) onSkipped(`transaction ${current.xid} without its commit`);
          current = { xid: message.xid, changes: [] };
          return undefined;
        case 'undecodable':
          onSkipped(`undecodable message ${message.messageTag} (${message.bytes} bytes): ${message.reason}`);
          return undefined;
        case 'insert':
        case 'update':
        case 'delete': {
          const { schema, name } = message.relation;
          if (schema !== 'crs' || !TABLES.has(name)) {
            onSkipped(`change to ${schema}.${name}, which is not replicated`);
            return undefined;
          }
          const row = message.tag === 'delete' ? (message.old ?? message.key) : message.new;
          if (!current || !row) {
            onSkipped(`${message.tag} on ${name} outside a transaction or without a row`);
            return undefined;
          }
          current.changes.push({ table: name as TableName, op: message.tag, row });
          return undefined;
        }
        case 'commit': {
          const done = current;
          current = undefined;
          if (!done || !message.commitLsn || !message.commitEndLsn) {
            onSkipped('commit without its begin');
            return undefined;
          }
          return {
            xid: done.xid,
            commitLsn: message.commitLsn,
            endLsn: message.commitEndLsn,
            // Typed as the BigInt wrapper; the value is a bigint of microseconds since the epoch.
            commitTime: Number((message.commitTime as bigint) / 1000n),
            changes: done.changes,
          };
        }
        default:
          // relation, type, origin, truncate, message: nothing to derive.
          return undefined;
      }
    },
  };
}
