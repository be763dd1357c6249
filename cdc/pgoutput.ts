/**
 * pgoutput decoding that never throws. pg emits each replication message from its socket
 * reader, and pg-logical-replication decodes it right there: an exception in the decoder (a
 * message tag it does not know, a change for a relation it was never described, a truncated
 * buffer) would escape into that reader and end the process, again at every restart, at the
 * same LSN. Here such a message becomes an `undecodable` one that says why, for the consumer
 * to log with its LSN, count and skip (reconcile repairs what a skipped change would have
 * derived).
 */
import { PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';

export interface Undecodable {
  tag: 'undecodable';
  /** The message type byte as a character (B, R, I, U, D, C, ...), or '' for an empty one. */
  messageTag: string;
  bytes: number;
  reason: string;
}

export type DecodedMessage = Pgoutput.Message | Undecodable;

/** What the decoder makes of one message: the message, or why it cannot be read. */
export function decodeMessage(parse: (buffer: Buffer) => Pgoutput.Message, buffer: Buffer): DecodedMessage {
  try {
    return parse(buffer);
  } catch (err) {
    return {
      tag: 'undecodable',
      messageTag: buffer.length > 0 ? String.fromCharCode(buffer[0] as number) : '',
      bytes: buffer.length,
      reason: err instanceof Error ? err.message : String(err),
    };
  }
}

/** The pgoutput plugin with decodeMessage in front of its parser. */
export class TolerantPgoutputPlugin extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    // The service passes whatever parse returns on to the 'data' listeners, which take
    // DecodedMessage; the library's type only lacks the undecodable case.
    return decodeMessage((b) => super.parse(b), buffer) as Pgoutput.Message;
  }
}
