/**
 * Object store least privilege, on the real local S3 store holding the API's and the
 * renderer's keys to the very policy documents MinIO gets in Kubernetes
 * (deploy/kubernetes/base/minio/policies): the API's key reads and presigns reads of vouchers
 * and nothing else; the renderer's key writes vouchers (and sets up its bucket) and nothing
 * else; no key, a wrong signature or an unknown key gets nothing. And the store's fault switch
 * (SIGUSR2 on `crs s3-store`) refuses writes for a while, reads going on.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';
import t from 'tap';
import { makeLogger } from '../../common/log.js';
import { makeObjectStore } from '../../common/objectStore.js';
import { startS3Store } from '../../devstack/s3Store.js';
import { loadRolePolicy, type PolicyDocument } from '../../devstack/s3Policy.js';
import { setUpBucket } from '../../renderer/bucketSetup.js';
import { waitFor } from '../support/cdc.js';
import { spawnCrs } from '../support/process.js';
import { freePort, makeTestVhost } from '../support/services.js';

const BUCKET = 'vouchers';
const EXCHANGE = `crs.vouchers.policy-test`;
const key = (prefix: string) => ({
  accessKey: `${prefix}${randomBytes(6).toString('hex').toUpperCase()}`,
  secretKey: randomBytes(24).toString('base64url'),
});
const admin = key('ADMIN');
const apiKey = key('API');
const rendererKey = key('RENDERER');
const silent = makeLogger({ level: 'silent', component: 's3-store' });

const amqpUrl = await makeTestVhost(t);
const dir = await mkdtemp(join(tmpdir(), 'crs-s3-policy-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const port = await freePort();
const store = await startS3Store({
  port,
  directory: dir,
  ...admin,
  roleKeys: [
    { role: 'api', ...apiKey, policy: loadRolePolicy('crs-api', BUCKET) },
    { role: 'renderer', ...rendererKey, policy: loadRolePolicy('crs-renderer', BUCKET) },
  ],
  bucket: BUCKET,
  amqpUrl,
  exchange: EXCHANGE,
  routingKey: 'vouchers',
  log: silent,
});
t.teardown(() => store.close());

// Clients as the components make them: path style, the region given (so no location lookup).
const clientFor = (credentials: { accessKey: string; secretKey: string }, url = store.url) => {
  const parsed = new URL(url);
  return new Client({
    endPoint: parsed.hostname,
    port: Number(parsed.port),
    useSSL: false,
    region: 'us-east-1',
    pathStyle: true,
    ...credentials,
  });
};
const root = clientFor(admin);
const api = clientFor(apiKey);
const renderer = clientFor(rendererKey);
const pdf = Buffer.from('%PDF-1.7 voucher');
const readAll = async (stream: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};
const denied = { code: 'AccessDenied' };

// Arranged with the admin key: a voucher, an object outside orders/, another bucket.
await root.putObject(BUCKET, 'orders/order-0001.pdf', pdf, pdf.length, { 'Content-Type': 'application/pdf' });
await root.putObject(BUCKET, 'private/notes.txt', Buffer.from('not a voucher'));
await root.makeBucket('other-bucket');
await root.putObject('other-bucket', 'orders/order-0001.pdf', pdf);

t.test('the policies are the least each component needs', async (t) => {
  const actions = (policy: PolicyDocument) =>
    policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
  const resources = (policy: PolicyDocument) =>
    policy.Statement.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])).sort();
  const apiPolicy = loadRolePolicy('crs-api', BUCKET);
  t.same(
    actions(apiPolicy),
    ['s3:GetObject'],
    'crs-api: GetObject only (statObject, download, presigned GET)',
  );
  t.same(resources(apiPolicy), ['arn:aws:s3:::vouchers/orders/*'], 'on vouchers only');
  const rendererPolicy = loadRolePolicy('crs-renderer', BUCKET);
  t.same(
    actions(rendererPolicy),
    ['s3:ListBucket', 's3:PutBucketNotification', 's3:PutLifecycleConfiguration', 's3:PutObject'],
    'crs-renderer: PutObject, and what its start-up bucket setup calls',
  );
  t.same(
    resources(rendererPolicy),
    ['arn:aws:s3:::vouchers', 'arn:aws:s3:::vouchers/orders/*'],
    'on the vouchers bucket and its orders/ only',
  );
  t.ok(
    rendererPolicy.Statement.every((s) => s.Effect === 'Allow'),
    'allow statements only (no read hidden in a wildcard)',
  );
  t.same(
    loadRolePolicy('crs-api', 'vouchers-eu').Statement[0]?.Resource,
    ['arn:aws:s3:::vouchers-eu/orders/*'],
    'S3_BUCKET takes the place of vouchers, as bucket-setup.sh does',
  );
});

t.test("the API's key reads and presigns reads of vouchers, nothing more", async (t) => {
  t.same(await readAll(await api.getObject(BUCKET, 'orders/order-0001.pdf')), pdf, 'GET a voucher');
  t.equal((await api.statObject(BUCKET, 'orders/order-0001.pdf')).size, pdf.length, 'HEAD a voucher');
  const apiStore = makeObjectStore({
    endpoint: store.url,
    accessKey: apiKey.accessKey,
    secretKey: apiKey.secretKey,
    bucket: BUCKET,
    region: 'us-east-1',
  });
  t.same(
    await readAll(await apiStore.getVoucher('orders/order-0001.pdf')),
    pdf,
    'as common/objectStore reads it',
  );

  const presigned = await api.presignedGetObject(BUCKET, 'orders/order-0001.pdf', 60);
  const fetched = await fetch(presigned);
  t.equal(fetched.status, 200, 'a presigned GET works');
  t.same(Buffer.from(await fetched.arrayBuffer()), pdf);
  const signature = new URL(presigned).searchParams.get('X-Amz-Signature') ?? '';
  const tampered = await fetch(
    presigned.replace(
      signature,
      signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
    ),
  );
  t.equal(tampered.status, 403, 'a presigned URL with a changed signature does not');
  t.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  const otherKey = await fetch(presigned.replace('order-0001.pdf', 'order-0002.pdf'));
  t.equal(otherKey.status, 403, 'nor one pointed at another object');

  await t.rejects(api.putObject(BUCKET, 'orders/order-0003.pdf', pdf), denied, 'no PUT');
  const presignedPut = await api.presignedPutObject(BUCKET, 'orders/order-0003.pdf', 60);
  t.equal((await fetch(presignedPut, { method: 'PUT', body: pdf })).status, 403, 'no presigned PUT');
  await t.rejects(api.removeObject(BUCKET, 'orders/order-0001.pdf'), denied, 'no DELETE');
  t.ok(await root.statObject(BUCKET, 'orders/order-0001.pdf'), 'the voucher is still there');
  await t.rejects(api.getObject(BUCKET, 'private/notes.txt'), denied, 'no read outside orders/');
  await t.rejects(
    api.getObject('other-bucket', 'orders/order-0001.pdf'),
    denied,
    'no read of another bucket',
  );
  await t.rejects(api.listBuckets(), denied, 'no bucket listing');
  const listing = api.listObjectsV2(BUCKET, 'orders/', true);
  await t.rejects(
    new Promise((resolve, reject) => {
      listing.on('error', reject);
      listing.on('end', resolve);
      listing.resume();
    }),
    denied,
    'no object listing',
  );
  await t.rejects(api.makeBucket('api-made-this'), denied, 'no bucket creation');
  await t.rejects(api.removeBucket('other-bucket'), denied, 'no bucket deletion');
});

t.test("the renderer's key writes vouchers and sets up its bucket, nothing more", async (t) => {
  const rendererStore = makeObjectStore({
    endpoint: store.url,
    accessKey: rendererKey.accessKey,
    secretKey: rendererKey.secretKey,
    bucket: BUCKET,
    region: 'us-east-1',
  });
  const setup = await setUpBucket(
    rendererStore,
    { notifyArn: 'arn:minio:sqs::crs:amqp', expiryDays: 90 },
    silent,
  );
  t.same(
    setup,
    {
      created: false,
      notification: 'not implemented by this store',
      lifecycle: 'not implemented by this store',
    },
    'its start-up bucket setup passes the policy (the store lacks those two APIs, as before)',
  );
  const stored = await rendererStore.putVoucher('order-0004', pdf);
  t.equal(stored.key, 'orders/order-0004.pdf', 'PUT a voucher, as the renderer does');
  t.equal((await root.statObject(BUCKET, 'orders/order-0004.pdf')).size, pdf.length, 'it is stored');
  t.equal(stored.created, true);
  // Stored once: a second renderer with the same job (taken over) finds it there (412).
  const again = await rendererStore.putVoucher('order-0004', Buffer.concat([pdf, pdf]));
  t.same(again, { key: 'orders/order-0004.pdf', created: false }, 'a voucher is never stored twice');
  t.equal((await root.statObject(BUCKET, 'orders/order-0004.pdf')).size, pdf.length, 'the first one stays');
  const racing = await Promise.all(
    [1, 2, 3, 4].map((n) => rendererStore.putVoucher('order-0007', Buffer.alloc(n * 100, n))),
  );
  t.equal(racing.filter((r) => r.created).length, 1, 'of four at once, one stores it');

  await t.rejects(renderer.getObject(BUCKET, 'orders/order-0004.pdf'), denied, 'no GET');
  await t.rejects(renderer.statObject(BUCKET, 'orders/order-0004.pdf'), denied, 'no HEAD');
  await t.rejects(renderer.removeObject(BUCKET, 'orders/order-0004.pdf'), denied, 'no DELETE');
  await t.rejects(renderer.putObject(BUCKET, 'private/x.txt', pdf), denied, 'no write outside orders/');
  await t.rejects(
    renderer.putObject('other-bucket', 'orders/order-0005.pdf', pdf),
    denied,
    'no write to another bucket',
  );
  await t.rejects(
    renderer.copyObject(BUCKET, 'orders/order-0006.pdf', '/vouchers/orders/order-0001.pdf'),
    denied,
    'no copy (it would read)',
  );
  await t.rejects(
    renderer.putObject(BUCKET, 'orders/../other-bucket/orders/evil.pdf', pdf),
    { code: 'XMinioInvalidObjectName' },
    'no escape from the bucket with ../ in the key',
  );
  t.notOk(
    (await readdir(join(dir, 'other-bucket'), { recursive: true })).some((f) => String(f).includes('evil')),
    'nothing written into the other bucket',
  );
  await t.rejects(renderer.makeBucket('renderer-made-this'), denied, 'no bucket creation');
  await t.rejects(renderer.listBuckets(), denied, 'no bucket listing');
});

// The store answers HEAD on a bucket itself (s3rver would list every object to answer it),
// after the same signature and policy checks as any request.
t.test('HEAD on a bucket: whether it exists, for a key allowed to know', async (t) => {
  t.equal(await root.bucketExists(BUCKET), true);
  t.equal(await root.bucketExists('no-such-bucket'), false);
  t.equal(await renderer.bucketExists(BUCKET), true, 'the renderer checks its bucket (ListBucket)');
  await t.rejects(api.bucketExists(BUCKET), denied, 'the API may not ask');
  await t.rejects(
    clientFor({ accessKey: rendererKey.accessKey, secretKey: 'not-the-secret' }).bucketExists(BUCKET),
    denied,
    'a wrong secret learns nothing',
  );
  const anonymous = await fetch(`${store.url}/${BUCKET}`, { method: 'HEAD' });
  t.equal(anonymous.status, 403, 'nor does an anonymous HEAD');
});

t.test('no key, an unknown key or a wrong secret gets nothing', async (t) => {
  const anonymous = await fetch(`${store.url}/${BUCKET}/orders/order-0001.pdf`);
  t.equal(anonymous.status, 403, 'an anonymous GET is refused');
  const body = await anonymous.text();
  t.match(body, /^<\?xml[^>]*>\n<Error><Code>AccessDenied<\/Code>/, 'with an S3 XML error');
  t.notMatch(body, /%PDF/, 'and not the object');
  t.equal((await fetch(`${store.url}/${BUCKET}/orders/x.pdf`, { method: 'PUT', body: pdf })).status, 403);
  await t.rejects(
    clientFor({ accessKey: apiKey.accessKey, secretKey: 'not-the-secret' }).getObject(
      BUCKET,
      'orders/order-0001.pdf',
    ),
    { code: 'SignatureDoesNotMatch' },
    "the API's key name without its secret",
  );
  await t.rejects(
    clientFor({ accessKey: 'NOSUCHKEY', secretKey: 'whatever-secret' }).getObject(
      BUCKET,
      'orders/order-0001.pdf',
    ),
    { code: 'InvalidAccessKeyId' },
    'an unknown key',
  );
  const listed: string[] = [];
  for await (const item of root.listObjectsV2(BUCKET, '', true)) listed.push((item as { name: string }).name);
  t.ok(listed.includes('orders/order-0004.pdf'), 'while the admin key may do anything');
});

t.test('SIGUSR2 makes `crs s3-store` refuse writes for CRS_S3_FAULT_REFUSE_MS, reads going on', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'crs-s3-fault-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const faultPort = await freePort();
  const processApiKey = key('API');
  const child = spawnCrs(t, ['s3-store'], {
    CRS_DATA_DIR: dataDir,
    CRS_S3_PORT: String(faultPort),
    S3_ACCESS_KEY: admin.accessKey,
    S3_SECRET_KEY: admin.secretKey,
    CRS_S3_API_ACCESS_KEY: processApiKey.accessKey,
    CRS_S3_API_SECRET_KEY: processApiKey.secretKey,
    S3_BUCKET: BUCKET,
    AMQP_URL: amqpUrl,
    AMQP_VOUCHER_EXCHANGE: EXCHANGE,
    CRS_S3_FAULT_REFUSE_MS: '1500',
  });
  await waitFor(
    'crs s3-store to listen',
    async () => child.output().includes('local S3 store listening'),
    30_000,
  );
  const url = `http://127.0.0.1:${faultPort}`;
  const rootThere = clientFor(admin, url);
  const apiThere = clientFor(processApiKey, url);
  t.ok(await rootThere.bucketExists(BUCKET), 'S3_BUCKET made at start');
  await rootThere.putObject(BUCKET, 'orders/order-0010.pdf', pdf);
  await t.rejects(
    apiThere.putObject(BUCKET, 'orders/order-0011.pdf', pdf),
    denied,
    'role keys from the environment',
  );

  child.child.kill('SIGUSR2');
  await waitFor('the fault to start', async () => child.output().includes('refusing writes'));
  // (minio-js retries a 503 once, then gives up.)
  await t.rejects(rootThere.putObject(BUCKET, 'orders/order-0012.pdf', pdf), /503/, 'writes: 503');
  const refused = await fetch(`${url}/${BUCKET}/orders/order-0012.pdf`, { method: 'PUT', body: pdf });
  t.equal(refused.status, 503, 'whoever asks');
  t.match(await refused.text(), /<Code>SlowDown<\/Code>/, 'as an S3 XML error');
  t.same(await readAll(await apiThere.getObject(BUCKET, 'orders/order-0010.pdf')), pdf, 'reads go on');
  t.equal(child.child.exitCode, null, 'the process lives on');

  await waitFor('the fault to end', async () => child.output().includes('accepting writes again'), 10_000);
  await rootThere.putObject(BUCKET, 'orders/order-0012.pdf', pdf);
  t.ok(await rootThere.statObject(BUCKET, 'orders/order-0012.pdf'), 'writes work again after 1.5 s');

  child.child.kill('SIGTERM');
  t.equal(await child.exited, 0, 'and it stops cleanly');
});
