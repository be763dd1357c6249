/**
 * A loopback TCP proxy that can be cut off the way a lost node is: bytes stop flowing in both
 * directions, yet no socket is closed and no RST is sent. A process killed or a port closed is
 * noticed at once; a partition is noticed only by whoever bounds its waits, which is what the
 * tests and `crs faults` put this between a component and Postgres or RabbitMQ to check.
 *
 * While cut:
 *  - nothing is read from either side, so the senders' buffers fill and their writes stall;
 *  - a new connection is accepted by the kernel (as a SYN backlog would be) but never reaches
 *    the server, so the client waits for a greeting that does not come;
 *  - a side that closes or resets is only passed on once healed, as a FIN sent into a lost
 *    network arrives when it comes back.
 * Healing resumes every connection where it stopped (what TCP retransmission does for
 * connections neither peer gave up on) and opens the ones that waited.
 *
 * Keepalive probes are answered by this process's kernel, not the server's: only
 * application-level liveness (query timeouts, replication status messages, AMQP heartbeats,
 * leases) can find the partition. That is the point.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface PartitionProxy {
  /** The port the proxy listens on (127.0.0.1). */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string;
  /** Stops every byte, both ways, on every connection, open or opened later. */
  cut(): void;
  /** Lets bytes flow again. */
  heal(): void;
  isCut(): boolean;
  /** Connections the proxy currently carries. */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

/** A proxy in front of the server of `targetUrl` (its host and port; the rest is ignored). */
export async function startPartitionProxy(targetUrl: string, port = 0): Promise<PartitionProxy> {
  const target = { host: new URL(targetUrl).hostname, port: Number(new URL(targetUrl).port) };
  const pairs = new Set<Pair>();
  let cut = false;

  const flow = (pair: Pair) => {
    const { client, upstream } = pair;
    if (!upstream) return;
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const stop = (pair: Pair) => {
    const { client, upstream } = pair;
    client.unpipe();
    client.pause();
    upstream?.unpipe();
    upstream?.pause();
  };
  const drop = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };
  // One side closed or failed: the other learns it now, or when the network is back.
  const whenEnded = (pair: Pair, socket: Socket) => {
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!cut) drop(pair);
    });
  };
  const open = (pair: Pair) => {
    const upstream = connect({ host: target.host, port: target.port });
    pair.upstream = upstream;
    whenEnded(pair, upstream);
    if (cut) stop(pair);
    else flow(pair);
  };

  const server: Server = createServer((client) => {
    const pair: Pair = { client, upstream: undefined };
    pairs.add(pair);
    whenEnded(pair, client);
    client.pause();
    if (!cut) open(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const listening = typeof address === 'object' && address ? address.port : port;

  return {
    port: listening,
    rewrite(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(listening);
      return parsed.toString();
    },
    cut() {
      cut = true;
      for (const pair of pairs) stop(pair);
    },
    heal() {
      cut = false;
      for (const pair of [...pairs]) {
        if (pair.client.destroyed || pair.upstream?.destroyed) drop(pair);
        else if (!pair.upstream) open(pair);
        else flow(pair);
      }
    },
    isCut: () => cut,
    connections: () => pairs.size,
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
