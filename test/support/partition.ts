/** A partition proxy (bench/faults/partitionProxy.ts) in front of a URL's server, closed when the test ends. */
import type { Test } from 'tap';
import { startPartitionProxy, type PartitionProxy } from '../../bench/faults/partitionProxy.js';

export async function proxyFor(t: Test, url: string): Promise<PartitionProxy> {
  const parsed = new URL(url);
  const proxy = await startPartitionProxy({ host: parsed.hostname, port: Number(parsed.port) });
  t.teardown(() => proxy.close());
  return proxy;
}
