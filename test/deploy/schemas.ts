/**
 * Validates rendered objects against the strict JSON Schemas kept outside the repository in
 * ../shared/k8s-schemas (README there): core kinds at Kubernetes v1.32 in core/
 * (KIND-GROUP-VERSION.json, draft-07 with "$schema": "http://json-schema.org/schema#"), and
 * the operators' CRDs in <group>/<kind>_<version>.json (no "$schema": draft-07 too). A kind with
 * no schema is an error, never a pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { at, describe, isRecord, type K8sObject } from './objects.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

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

/** Where the schema of an apiVersion and kind lives, relative to the schema directory. */
export function schemaPathFor(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  const builtIn = group === '' || !group!.includes('.') || group!.endsWith('.k8s.io');
  if (builtIn) {
    const groupPart = group === '' ? '' : `${group!.split('.')[0]}-`;
    return join('core', `${kind.toLowerCase()}-${groupPart}${version}.json`);
  }
  return join(group!, `${kind.toLowerCase()}_${version}.json`);
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
  const compiled = new Map<string, ValidateFunction>();

  const compile = (path: string): ValidateFunction => {
    let validate = compiled.get(path);
    if (!validate) {
      const schema: unknown = JSON.parse(readFileSync(join(schemaDir, path), 'utf8'));
      if (!isRecord(schema)) throw new Error(`${path}: not a JSON Schema object`);
      // "http://json-schema.org/schema#" means "the latest draft the validator knows";
      // these files use draft-07 keywords only, which is ajv's default.
      const { $schema: _draft, ...body } = schema;
      validate = ajv.compile(body);
      compiled.set(path, validate);
    }
    return validate;
  };

  return (object) => {
    const path = schemaPathFor(object.apiVersion, object.kind);
    if (!existsSync(join(schemaDir, path))) {
      return [`${describe(object)}: no schema for ${object.apiVersion} ${object.kind} (looked for ${path})`];
    }
    const validate = compile(path);
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
