/**
 * Validates rendered objects against the JSON Schemas kept in k8s-schemas/ (SOURCES.md there
 * says where each comes from): built-in kinds from kubernetes-<version>.json, looked up by
 * their x-kubernetes-group-version-kind, and the operators' kinds from
 * <group>/<kind>_<version>.json. Every schema is made strict when loaded: an object that lists
 * its properties rejects any other (unless the schema says to keep unknown fields), and a
 * custom resource's metadata must be a real ObjectMeta. A kind with no schema is an error,
 * never a pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { at, describe, isRecord, type K8sObject } from './objects.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** The Kubernetes release the built-in kinds are checked against (deploy/kubernetes/README.md). */
export const KUBERNETES_VERSION = 'v1.32';

/** Kubernetes' OpenAPI extensions: annotations for the API server, nothing to check here. */
const KUBERNETES_KEYWORDS = [
  'x-kubernetes-group-version-kind',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-unions',
  'x-kubernetes-validations',
  'x-kubernetes-embedded-resource',
];

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

type Schema = Record<string, unknown>;

/** Maps whose values are schemas (their keys are names, never keywords). */
const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions'];
/** Keywords whose value is one schema or a list of them. */
const SCHEMA_VALUES = ['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf'];

/**
 * A strict copy of an OpenAPI schema: objects with listed properties get
 * additionalProperties: false (what the API server's pruning would silently drop, or reject
 * with fieldValidation=Strict), and OpenAPI's "nullable" becomes a JSON Schema type.
 */
export function strict(schema: Schema): Schema {
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable') continue;
    if (SCHEMA_MAPS.includes(key) && isRecord(value)) {
      copy[key] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, isRecord(sub) ? strict(sub) : sub]),
      );
    } else if (SCHEMA_VALUES.includes(key)) {
      copy[key] = Array.isArray(value)
        ? value.map((sub: unknown) => (isRecord(sub) ? strict(sub) : sub))
        : isRecord(value)
          ? strict(value)
          : value;
    } else {
      copy[key] = value;
    }
  }
  if (schema['nullable'] === true && typeof schema['type'] === 'string')
    copy['type'] = [schema['type'], 'null'];
  const keepsUnknown = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (isRecord(schema['properties']) && !('additionalProperties' in schema) && !keepsUnknown) {
    copy['additionalProperties'] = false;
  }
  return copy;
}

/** Where the schema of an apiVersion and kind lives, relative to the schema directory. */
export function schemaPathFor(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  if (isBuiltIn(group!)) return `kubernetes-${KUBERNETES_VERSION}.json`;
  return join(group!, `${kind.toLowerCase()}_${version}.json`);
}

function isBuiltIn(group: string): boolean {
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io');
}

/**
 * Go's RE2 patterns in the CRDs may carry an inline flag group, "^(?i)(abort|warn)?$", which
 * JavaScript's RegExp (Node 20) does not accept: turn it into a flag of the whole pattern
 * (where these schemas use it, it stands at the start, so that is what it means).
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string) => {
    let extra = '';
    const body = pattern.replace(/\(\?([ims]+)\)/g, (_group, inline: string) => {
      extra += inline;
      return '';
    });
    return new RegExp(body, flags + [...new Set(extra)].join(''));
  },
  { code: 'goRegExp' },
);

export type SchemaValidator = (object: K8sObject) => string[];

export function makeSchemaValidator(schemaDir: string): SchemaValidator {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    code: { regExp: goRegExp },
  });
  addFormats(ajv);
  ajv.addVocabulary(KUBERNETES_KEYWORDS);

  const core = JSON.parse(readFileSync(join(schemaDir, schemaPathFor('v1', 'Pod')), 'utf8')) as {
    definitions: Record<string, Schema>;
  };
  ajv.addSchema(strict(core), 'kubernetes');
  /** "apps/v1 Deployment" -> "io.k8s.api.apps.v1.Deployment", from the definitions themselves. */
  const builtIn = new Map<string, string>();
  for (const [name, definition] of Object.entries(core.definitions)) {
    const kinds = definition['x-kubernetes-group-version-kind'];
    for (const gvk of Array.isArray(kinds) ? kinds : []) {
      if (!isRecord(gvk)) continue;
      const apiVersion = gvk['group']
        ? `${String(gvk['group'])}/${String(gvk['version'])}`
        : String(gvk['version']);
      builtIn.set(`${apiVersion} ${String(gvk['kind'])}`, name);
    }
  }

  const compiled = new Map<string, ValidateFunction | undefined>();
  const compile = (apiVersion: string, kind: string): ValidateFunction | undefined => {
    const key = `${apiVersion} ${kind}`;
    if (compiled.has(key)) return compiled.get(key);
    let validate: ValidateFunction | undefined;
    const [group] = apiVersion.includes('/') ? apiVersion.split('/', 1) : [''];
    if (isBuiltIn(group!)) {
      const definition = builtIn.get(key);
      if (definition) validate = ajv.compile({ $ref: `kubernetes#/definitions/${definition}` });
    } else {
      const path = join(schemaDir, schemaPathFor(apiVersion, kind));
      if (existsSync(path)) {
        const schema = strict(JSON.parse(readFileSync(path, 'utf8')) as Schema);
        // A CRD's schema says only "metadata: object"; the API server checks it as ObjectMeta.
        if (isRecord(schema['properties'])) {
          schema['properties'] = {
            ...schema['properties'],
            metadata: { $ref: `kubernetes#/definitions/${OBJECT_META}` },
          };
        }
        validate = ajv.compile(schema);
      }
    }
    compiled.set(key, validate);
    return validate;
  };

  return (object) => {
    const validate = compile(object.apiVersion, object.kind);
    if (!validate) {
      const where = schemaPathFor(object.apiVersion, object.kind);
      return [`${describe(object)}: no schema for ${object.apiVersion} ${object.kind} (looked in ${where})`];
    }
    if (validate(object)) return [];
    return (validate.errors ?? []).map((error) => `${describe(object)}: ${formatError(error)}`);
  };
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown field "${String(at(error.params, 'additionalProperty'))}"`;
  }
  return `${where}: ${error.message ?? error.keyword}`;
}
