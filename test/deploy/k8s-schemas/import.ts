/**
 * Writes the JSON Schemas in this folder from the upstream files SOURCES.md names, so that the
 * manifest tests need nothing outside the repository. What it keeps is the structure only:
 * descriptions are dropped (they are most of the bytes and no check reads them), and so are
 * definitions no kind of ours reaches. Strictness (unknown fields rejected) is added when the
 * tests load a schema (../schemas.ts), not here, so each file stays what upstream says.
 *
 *   npx tsx test/deploy/k8s-schemas/import.ts kubernetes v1.32 <cdk8s kubernetes-schemas/v1.32.0/_definitions.json>
 *   npx tsx test/deploy/k8s-schemas/import.ts crd <CustomResourceDefinition.yaml>...
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));

type Schema = Record<string, unknown>;
const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The built-in kinds our manifests may use; their definitions and all they reach are kept. */
const KUBERNETES_KINDS = [
  'io.k8s.api.apps.v1.Deployment',
  'io.k8s.api.apps.v1.StatefulSet',
  'io.k8s.api.apps.v1.DaemonSet',
  'io.k8s.api.batch.v1.Job',
  'io.k8s.api.batch.v1.CronJob',
  'io.k8s.api.core.v1.ConfigMap',
  'io.k8s.api.core.v1.Namespace',
  'io.k8s.api.core.v1.PersistentVolumeClaim',
  'io.k8s.api.core.v1.Pod',
  'io.k8s.api.core.v1.Secret',
  'io.k8s.api.core.v1.Service',
  'io.k8s.api.core.v1.ServiceAccount',
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  'io.k8s.api.networking.v1.Ingress',
  'io.k8s.api.networking.v1.NetworkPolicy',
  'io.k8s.api.policy.v1.PodDisruptionBudget',
  'io.k8s.api.rbac.v1.Role',
  'io.k8s.api.rbac.v1.RoleBinding',
  'io.k8s.api.rbac.v1.ClusterRole',
  'io.k8s.api.rbac.v1.ClusterRoleBinding',
];

/** Maps whose values are schemas (their keys are names, never keywords). */
const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions'];
/** Keywords whose value is one schema or a list of them. */
const SCHEMA_VALUES = ['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf'];

/** A copy of a schema without its descriptions (a property named "description" stays). */
export function withoutDescriptions(schema: Schema): Schema {
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description' && typeof value === 'string') continue;
    if (SCHEMA_MAPS.includes(key) && isSchema(value)) {
      copy[key] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, isSchema(sub) ? withoutDescriptions(sub) : sub]),
      );
    } else if (SCHEMA_VALUES.includes(key)) {
      copy[key] = Array.isArray(value)
        ? value.map((sub) => (isSchema(sub) ? withoutDescriptions(sub) : sub))
        : isSchema(value)
          ? withoutDescriptions(value)
          : value;
    } else {
      copy[key] = value;
    }
  }
  return copy;
}

function refsOf(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) value.forEach((item) => refsOf(item, found));
  else if (isSchema(value)) {
    for (const [key, sub] of Object.entries(value)) {
      if (key === '$ref' && typeof sub === 'string') found.add(sub.replace('#/definitions/', ''));
      else refsOf(sub, found);
    }
  }
}

function importKubernetes(version: string, file: string): void {
  const all = (JSON.parse(readFileSync(file, 'utf8')) as { definitions: Record<string, Schema> }).definitions;
  const kept = new Set<string>();
  const pending = [...KUBERNETES_KINDS];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (kept.has(name)) continue;
    const definition = all[name];
    if (!definition) throw new Error(`${file}: no definition ${name}`);
    kept.add(name);
    const refs = new Set<string>();
    refsOf(definition, refs);
    pending.push(...refs);
  }
  const definitions = Object.fromEntries(
    [...kept].sort().map((name) => [name, withoutDescriptions(all[name]!)]),
  );
  write(join(here, `kubernetes-${version}.json`), { definitions });
}

function importCrd(file: string): void {
  for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const crd: unknown = document.toJS();
    if (!isSchema(crd) || crd['kind'] !== 'CustomResourceDefinition') continue;
    const spec = crd['spec'] as { group: string; names: { kind: string }; versions: Schema[] };
    for (const version of spec.versions) {
      const schema = (version['schema'] as { openAPIV3Schema?: Schema } | undefined)?.openAPIV3Schema;
      if (!schema) throw new Error(`${file}: ${String(version['name'])} has no openAPIV3Schema`);
      const target = join(
        here,
        spec.group,
        `${spec.names.kind.toLowerCase()}_${String(version['name'])}.json`,
      );
      write(target, withoutDescriptions(schema));
    }
  }
}

function write(path: string, schema: Schema): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(schema)}\n`);
  console.log(`wrote ${path}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [what, ...rest] = process.argv.slice(2);
  if (what === 'kubernetes' && rest.length === 2) importKubernetes(rest[0]!, rest[1]!);
  else if (what === 'crd' && rest.length > 0) rest.forEach(importCrd);
  else {
    console.error('usage: import.ts kubernetes <version> <_definitions.json> | import.ts crd <crd.yaml>...');
    process.exit(2);
  }
}
