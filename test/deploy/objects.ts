/**
 * Rendered Kubernetes objects as plain data, and small typed readers for them: the manifests
 * are untyped YAML, so every access says what it expects instead of trusting a cast.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const exec = promisify(execFile);

export type Json = Record<string, unknown>;

export interface K8sObject extends Json {
  apiVersion: string;
  kind: string;
  metadata: Json & { name: string };
}

export const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at a path of keys and indexes, or undefined where the path ends early. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      if (!isRecord(current)) return undefined;
      current = current[key];
    }
  }
  return current;
}

export const records = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isRecord) : []);
export const stringAt = (value: unknown, ...path: (string | number)[]) => {
  const found = at(value, ...path);
  return typeof found === 'string' ? found : undefined;
};
export const numberAt = (value: unknown, ...path: (string | number)[]) => {
  const found = at(value, ...path);
  return typeof found === 'number' ? found : undefined;
};
export const labelsAt = (value: unknown, ...path: (string | number)[]): Record<string, string> => {
  const found = at(value, ...path);
  if (!isRecord(found)) return {};
  return Object.fromEntries(
    Object.entries(found).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
};

/** "Kind/name", how messages name an object. */
export const describe = (object: K8sObject) => `${object.kind}/${object.metadata.name}`;

export function parseObjects(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      throw new Error(`${source}: YAML error: ${document.errors[0]?.message ?? 'unknown'}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (
      !isRecord(value) ||
      typeof value['apiVersion'] !== 'string' ||
      typeof value['kind'] !== 'string' ||
      typeof at(value, 'metadata', 'name') !== 'string'
    ) {
      throw new Error(`${source}: a document without apiVersion, kind and metadata.name`);
    }
    objects.push(value as K8sObject);
  }
  return objects;
}

/** Renders a kustomization offline, as CI does: no cluster, no kubeconfig. */
export async function renderKustomization(dir: string): Promise<K8sObject[]> {
  const { stdout } = await exec('kubectl', ['kustomize', dir], {
    env: { ...process.env, KUBECONFIG: '/dev/null' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return parseObjects(stdout, dir);
}
