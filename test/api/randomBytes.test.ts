/**
 * The pooled random bytes behind order ids and token salts: the sizes asked for, never the
 * same bytes twice (across block refills too), and copies no later call can change.
 */
import t from 'tap';
import { makeRandomBytes } from '../../api/orders/randomBytes.js';

t.test('sizes, uniqueness across blocks, independent copies', async (t) => {
  const randomBytes = makeRandomBytes();
  const seen = new Set<string>();
  const first = randomBytes(16);
  const kept = Buffer.from(first);
  // 1,000 x 16 bytes spans four 4 KiB blocks.
  for (let i = 0; i < 1000; i += 1) seen.add(randomBytes(16).toString('hex'));
  t.equal(seen.size, 1000, 'no value repeated');
  t.ok(first.equals(kept), 'a value handed out never changes afterwards');
  t.equal(randomBytes(5).length, 5);
  t.equal(randomBytes(10_000).length, 10_000, 'larger than a block: drawn on its own');
  first.fill(0);
  t.not(randomBytes(16).toString('hex'), '0'.repeat(32), 'a caller changing its copy touches nothing else');
  // Not a proof of randomness, a guard against handing out zeroed memory: every byte value
  // should turn up in 64 KiB.
  const values = new Set(randomBytes(65_536));
  t.equal(values.size, 256);
});
