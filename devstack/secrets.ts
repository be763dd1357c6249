/**
 * Secrets of the local stack: generated once with a CSPRNG, kept in <data dir>/secrets.json
 * (mode 0600, gitignored), so tokens and passwords survive a restart. Production gets them
 * from Kubernetes Secrets instead (deploy/).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocalSecrets {
  postgresPassword: string;
  ownerPassword: string;
  apiPassword: string;
  cdcPassword: string;
  rendererPassword: string;
  adminToken: string;
  staffToken: string;
  orderTokenKey: string;
  /** The local S3 store's admin key (its MinIO root user). */
  s3AccessKey: string;
  s3SecretKey: string;
  /** The API's read key and the renderer's write key (policies crs-api, crs-renderer). */
  s3ApiAccessKey: string;
  s3ApiSecretKey: string;
  s3RendererAccessKey: string;
  s3RendererSecretKey: string;
}

const KEYS: (keyof LocalSecrets)[] = [
  'postgresPassword',
  'ownerPassword',
  'apiPassword',
  'cdcPassword',
  'rendererPassword',
  'adminToken',
  'staffToken',
  'orderTokenKey',
  's3AccessKey',
  's3SecretKey',
  's3ApiAccessKey',
  's3ApiSecretKey',
  's3RendererAccessKey',
  's3RendererSecretKey',
];

/** 256 bits, URL-safe: fine in a URL, a header and a shell export. */
export const newSecret = () => randomBytes(32).toString('base64url');

export async function loadOrCreateSecrets(dir: string): Promise<LocalSecrets> {
  const file = join(dir, 'secrets.json');
  const stored: Partial<LocalSecrets> = existsSync(file)
    ? (JSON.parse(await readFile(file, 'utf8')) as Partial<LocalSecrets>)
    : {};
  const secrets = Object.fromEntries(
    KEYS.map((key) => [key, stored[key] ?? newSecret()]),
  ) as unknown as LocalSecrets;
  if (KEYS.some((key) => stored[key] === undefined)) {
    await mkdir(dir, { recursive: true });
    await writeFile(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  }
  return secrets;
}
