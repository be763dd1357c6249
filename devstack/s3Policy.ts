/**
 * IAM-style bucket policies for the local S3 store: the same documents MinIO is given in
 * Kubernetes (deploy/kubernetes/base/minio/policies/crs-*.json, installed by bucket-setup.sh),
 * read and enforced here, so the API and the renderer run locally with exactly the rights they
 * have in production and a missing right fails on a laptop, not after a deploy.
 *
 * What is evaluated: Allow and Deny statements of Action and Resource, with * and ? wildcards;
 * an explicit Deny wins, anything not allowed is denied. A document using what this does not
 * evaluate (Condition, NotAction, NotResource, Principal) is refused when it is loaded, so it
 * can never be read as more permissive than it is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

/** The role policies of deploy/kubernetes/base/minio/policies. */
export const POLICY_DIR = join(packageRoot, 'deploy', 'kubernetes', 'base', 'minio', 'policies');
export type RolePolicyName = 'crs-api' | 'crs-renderer';

const SUPPORTED_KEYS = new Set(['Sid', 'Effect', 'Action', 'Resource']);

/** Checks a parsed document; throws naming what is wrong. */
export function checkPolicy(document: unknown, name: string): PolicyDocument {
  const fail = (why: string) => {
    throw new Error(`policy ${name}: ${why}`);
  };
  if (typeof document !== 'object' || document === null) return fail('not a JSON object');
  const { Version, Statement } = document as Record<string, unknown>;
  if (Version !== '2012-10-17') fail('Version must be "2012-10-17"');
  if (!Array.isArray(Statement) || Statement.length === 0) return fail('no Statement');
  const strings = (v: unknown) =>
    typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string'));
  for (const [index, statement] of Statement.entries()) {
    if (typeof statement !== 'object' || statement === null) fail(`statement ${index} is not an object`);
    const fields = statement as Record<string, unknown>;
    const unsupported = Object.keys(fields).filter((key) => !SUPPORTED_KEYS.has(key));
    if (unsupported.length > 0) {
      fail(`statement ${index} uses ${unsupported.join(', ')}, which the local store does not evaluate`);
    }
    if (fields['Effect'] !== 'Allow' && fields['Effect'] !== 'Deny') fail(`statement ${index}: Effect`);
    if (!strings(fields['Action'])) fail(`statement ${index}: Action`);
    if (!strings(fields['Resource'])) fail(`statement ${index}: Resource`);
  }
  return document as PolicyDocument;
}

/**
 * A role's policy for a bucket, as bucket-setup.sh installs it: the documents name the bucket
 * `vouchers`, and the script puts S3_BUCKET in its place.
 */
export function loadRolePolicy(name: RolePolicyName, bucket: string, dir = POLICY_DIR): PolicyDocument {
  const text = readFileSync(join(dir, `${name}.json`), 'utf8').replaceAll(
    'arn:aws:s3:::vouchers',
    `arn:aws:s3:::${bucket}`,
  );
  return checkPolicy(JSON.parse(text), name);
}

/** The policy of a key that may do anything (MinIO's root user, the store's admin key). */
export const ALLOW_ALL: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::*' }],
};

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** IAM wildcards: * any run of characters, ? one character. */
function wildcard(pattern: string, flags: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, flags);
}

/** One action on one resource, e.g. s3:GetObject on arn:aws:s3:::vouchers/orders/x.pdf. */
export interface S3Request {
  action: string;
  resource: string;
}

/** Whether the policy allows the request (explicit Deny first, then any Allow). */
export function isAllowed(policy: PolicyDocument, request: S3Request): boolean {
  const matches = (statement: PolicyStatement) =>
    list(statement.Action).some((a) => wildcard(a, 'i').test(request.action)) &&
    list(statement.Resource).some((r) => wildcard(r, '').test(request.resource));
  if (policy.Statement.some((s) => s.Effect === 'Deny' && matches(s))) return false;
  return policy.Statement.some((s) => s.Effect === 'Allow' && matches(s));
}

/** What no policy grants unless it grants everything (s3:*): operations not named here. */
const UNRECOGNISED = 's3:UnrecognisedOperation';

const BUCKET_GET: Record<string, string> = {
  location: 's3:GetBucketLocation',
  uploads: 's3:ListBucketMultipartUploads',
  versions: 's3:ListBucketVersions',
  notification: 's3:GetBucketNotification',
  lifecycle: 's3:GetLifecycleConfiguration',
  policy: 's3:GetBucketPolicy',
  policyStatus: 's3:GetBucketPolicyStatus',
  cors: 's3:GetBucketCORS',
  website: 's3:GetBucketWebsite',
  acl: 's3:GetBucketAcl',
  tagging: 's3:GetBucketTagging',
  versioning: 's3:GetBucketVersioning',
  encryption: 's3:GetEncryptionConfiguration',
  'object-lock': 's3:GetBucketObjectLockConfiguration',
  replication: 's3:GetReplicationConfiguration',
  logging: 's3:GetBucketLogging',
};
const BUCKET_PUT: Record<string, string> = {
  notification: 's3:PutBucketNotification',
  lifecycle: 's3:PutLifecycleConfiguration',
  policy: 's3:PutBucketPolicy',
  cors: 's3:PutBucketCORS',
  website: 's3:PutBucketWebsite',
  acl: 's3:PutBucketAcl',
  tagging: 's3:PutBucketTagging',
  versioning: 's3:PutBucketVersioning',
  encryption: 's3:PutEncryptionConfiguration',
  'object-lock': 's3:PutBucketObjectLockConfiguration',
  replication: 's3:PutReplicationConfiguration',
  logging: 's3:PutBucketLogging',
};
// Removing a configuration takes the right to set it (as in AWS), except for these.
const BUCKET_DELETE: Record<string, string> = {
  ...BUCKET_PUT,
  policy: 's3:DeleteBucketPolicy',
  website: 's3:DeleteBucketWebsite',
};
const OBJECT_GET: Record<string, string> = {
  uploadId: 's3:ListMultipartUploadParts',
  acl: 's3:GetObjectAcl',
  tagging: 's3:GetObjectTagging',
  retention: 's3:GetObjectRetention',
  'legal-hold': 's3:GetObjectLegalHold',
  torrent: 's3:GetObjectTorrent',
  versionId: 's3:GetObjectVersion',
};
const OBJECT_PUT: Record<string, string> = {
  uploadId: 's3:PutObject',
  tagging: 's3:PutObjectTagging',
  acl: 's3:PutObjectAcl',
  retention: 's3:PutObjectRetention',
  'legal-hold': 's3:PutObjectLegalHold',
};
const OBJECT_POST: Record<string, string> = {
  uploads: 's3:PutObject',
  uploadId: 's3:PutObject',
  select: 's3:GetObject',
  restore: 's3:RestoreObject',
};
const OBJECT_DELETE: Record<string, string> = {
  uploadId: 's3:AbortMultipartUpload',
  tagging: 's3:DeleteObjectTagging',
  versionId: 's3:DeleteObjectVersion',
};

/** The operation a subresource query names, the first of `table` present, else `fallback`. */
function bySubresource(query: URLSearchParams, table: Record<string, string>, fallback: string): string {
  for (const [subresource, action] of Object.entries(table)) if (query.has(subresource)) return action;
  return fallback;
}

/**
 * The actions a path-style request needs, each on its resource (a copy needs to write the
 * target and read the source). `bucket` and `key` are decoded; undefined when absent.
 */
export function requiredActions(request: {
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
  copySource: string | undefined;
}): S3Request[] {
  const { method, bucket, key, query } = request;
  if (!bucket) {
    return [{ action: method === 'GET' ? 's3:ListAllMyBuckets' : UNRECOGNISED, resource: 'arn:aws:s3:::*' }];
  }
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (key === undefined || key === '') {
    let action: string;
    if (method === 'GET' || method === 'HEAD') action = bySubresource(query, BUCKET_GET, 's3:ListBucket');
    else if (method === 'PUT') action = bySubresource(query, BUCKET_PUT, 's3:CreateBucket');
    else if (method === 'DELETE') action = bySubresource(query, BUCKET_DELETE, 's3:DeleteBucket');
    else if (method === 'POST') {
      // Multi-object delete and browser uploads name their keys in the body: they need the
      // right on every key of the bucket.
      const objectsArn = `${bucketArn}/*`;
      if (query.has('delete')) return [{ action: 's3:DeleteObject', resource: objectsArn }];
      return [
        { action: [...query.keys()].length === 0 ? 's3:PutObject' : UNRECOGNISED, resource: objectsArn },
      ];
    } else action = UNRECOGNISED;
    return [{ action, resource: bucketArn }];
  }
  const objectArn = `${bucketArn}/${key}`;
  if (method === 'GET' || method === 'HEAD') {
    return [{ action: bySubresource(query, OBJECT_GET, 's3:GetObject'), resource: objectArn }];
  }
  if (method === 'PUT') {
    const put = { action: bySubresource(query, OBJECT_PUT, 's3:PutObject'), resource: objectArn };
    if (request.copySource === undefined) return [put];
    const source = decodeURIComponent(request.copySource.split('?')[0] ?? '').replace(/^\//, '');
    return [put, { action: 's3:GetObject', resource: `arn:aws:s3:::${source}` }];
  }
  if (method === 'POST')
    return [{ action: bySubresource(query, OBJECT_POST, UNRECOGNISED), resource: objectArn }];
  if (method === 'DELETE') {
    return [{ action: bySubresource(query, OBJECT_DELETE, 's3:DeleteObject'), resource: objectArn }];
  }
  return [{ action: UNRECOGNISED, resource: objectArn }];
}
