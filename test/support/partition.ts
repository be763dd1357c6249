/** A partition proxy (drill/partitionProxy.ts) in front of a URL's server, closed when the test ends. */
import type { Test } from 'tap';
import { startPartitionProxy, type PartitionProxy } from '../../drill/partitionProxy.js';

export async function proxyFor(t: Test, url: string): Promise<PartitionProxy> {
  const proxy = await startPartitionProxy(url);
  t.teardown(() => proxy.close());
  return proxy;
}
