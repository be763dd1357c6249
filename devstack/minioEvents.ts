/**
 * The message MinIO's AMQP notification target publishes for a stored object, built by the
 * rules of MinIO's source (internal/event/target/amqp.go, send()) and checked field by field
 * against test/vouchers/fixtures/minio-amqp-object-created.json (our copy of the contract fixture):
 *   - body {"EventName", "Key": bucket + "/" + the unescaped key, "Records": [one S3 event]};
 *   - in the record, s3.object.key is the key escaped as Go's url.QueryEscape does;
 *   - content type application/json, the target's one routing key for every message, and
 *     the headers minio-bucket and minio-event.
 * The local S3 store uses it to stand in for MinIO's notifications; consumers (the API) read
 * exactly what they will read from MinIO in production.
 */

export interface StoredObject {
  bucket: string;
  key: string;
  size: number;
  eTag: string;
  contentType: string;
  /** As stored: x-amz-meta-* keys with their values. */
  userMetadata: Record<string, string>;
  eventTime: Date;
  principal: string;
  sourceIp: string;
  endpoint: string;
  userAgent: string;
  requestId: string;
  deploymentId: string;
  sequencer: string;
}

export interface AmqpNotification {
  body: Record<string, unknown>;
  contentType: 'application/json';
  headers: { 'minio-bucket': string; 'minio-event': string };
}

/** Go's url.QueryEscape: everything but A-Z a-z 0-9 - _ . ~ is %XX, and a space is '+'. */
export function queryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** MinIO spells user metadata with canonical header case (X-Amz-Meta-Order-Id). */
function canonicalHeader(name: string): string {
  return name
    .split('-')
    .map((part) => (part ? part[0]!.toUpperCase() + part.slice(1).toLowerCase() : part))
    .join('-');
}

export function minioObjectCreated(object: StoredObject): AmqpNotification {
  const eventName = 's3:ObjectCreated:Put';
  const endpoint = new URL(object.endpoint);
  const userMetadata: Record<string, string> = { 'content-type': object.contentType };
  for (const [name, value] of Object.entries(object.userMetadata)) {
    userMetadata[canonicalHeader(name)] = value;
  }
  return {
    contentType: 'application/json',
    headers: { 'minio-bucket': object.bucket, 'minio-event': eventName },
    body: {
      EventName: eventName,
      Key: `${object.bucket}/${object.key}`,
      Records: [
        {
          eventVersion: '2.0',
          eventSource: 'minio:s3',
          awsRegion: '',
          eventTime: object.eventTime.toISOString(),
          eventName,
          userIdentity: { principalId: object.principal },
          requestParameters: {
            principalId: object.principal,
            region: '',
            sourceIPAddress: object.sourceIp,
          },
          responseElements: {
            'content-length': '0',
            'x-amz-request-id': object.requestId,
            'x-minio-deployment-id': object.deploymentId,
            'x-minio-origin-endpoint': `${endpoint.protocol}//${endpoint.host}`,
          },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'Config',
            bucket: {
              name: object.bucket,
              ownerIdentity: { principalId: object.principal },
              arn: `arn:aws:s3:::${object.bucket}`,
            },
            object: {
              key: queryEscape(object.key),
              size: object.size,
              eTag: object.eTag,
              contentType: object.contentType,
              userMetadata,
              sequencer: object.sequencer,
            },
          },
          source: { host: endpoint.hostname, port: '', userAgent: object.userAgent },
        },
      ],
    },
  };
}
