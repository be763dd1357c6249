/**
 * The renderer's idempotent start-up step for the vouchers bucket: create it, send its
 * object-created events to the AMQP notification target (MinIO: arn:minio:sqs::<id>:amqp,
 * the target configured on the MinIO server, see deploy/), and expire vouchers after
 * VOUCHER_EXPIRY_DAYS (lifecycle rule).
 *
 * The local S3 store (s3rver) implements neither bucket notification nor lifecycle
 * configuration: it answers NotImplemented. That is expected there and logged once: on the
 * local stack its notification adapter publishes MinIO's exact AMQP message for every stored
 * object instead (devstack/minioEvents.ts), and nothing expires. Any other failure stops
 * the renderer.
 */
import { NotificationConfig, ObjectCreatedAll, QueueConfig } from 'minio';
import type { Logger } from '../common/log.js';
import type { ObjectStore } from '../common/objectStore.js';

export interface BucketSetupResult {
  created: boolean;
  notification: 'set' | 'not implemented by this store';
  lifecycle: 'set' | 'not implemented by this store';
}

const notImplemented = (err: unknown) => (err as { code?: string }).code === 'NotImplemented';

export async function setUpBucket(
  store: ObjectStore,
  options: { notifyArn: string; expiryDays: number },
  log: Logger,
): Promise<BucketSetupResult> {
  const { client, bucket } = store;
  let created = false;
  if (!(await client.bucketExists(bucket))) {
    try {
      await client.makeBucket(bucket);
      created = true;
    } catch (err) {
      // Another renderer made it in the meantime.
      const code = (err as { code?: string }).code;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
    }
  }

  let notification: BucketSetupResult['notification'] = 'set';
  try {
    const config = new NotificationConfig();
    const queue = new QueueConfig(options.notifyArn);
    queue.addEvent(ObjectCreatedAll);
    queue.addFilterPrefix('orders/');
    config.add(queue);
    await client.setBucketNotification(bucket, config);
  } catch (err) {
    if (!notImplemented(err)) throw err;
    notification = 'not implemented by this store';
  }

  let lifecycle: BucketSetupResult['lifecycle'] = 'set';
  try {
    await client.setBucketLifecycle(bucket, {
      Rule: [
        {
          ID: 'expire-vouchers',
          Status: 'Enabled',
          Filter: { Prefix: 'orders/' },
          Expiration: { Days: options.expiryDays },
        },
      ],
    });
  } catch (err) {
    if (!notImplemented(err)) throw err;
    lifecycle = 'not implemented by this store';
  }

  const result = { created, notification, lifecycle };
  if (notification !== 'set' || lifecycle !== 'set') {
    log.info(
      result,
      'bucket set up; this store lacks some configuration APIs (expected on the local S3 store)',
    );
  } else {
    log.info(result, 'bucket set up');
  }
  return result;
}
