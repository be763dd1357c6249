/**
 * Checks real HTTP exchanges against an OpenAPI 3.1 document: the operation exists, the status
 * is declared for it, every header sent is declared (and every required one sent, each value
 * valid), and the body is one of the declared media types and, for JSON, valid against its
 * schema. Also says which declared (operation, status, media type) were never seen.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a default export that TypeScript's ESM view wraps once more.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, unknown>;

export interface Exchange {
  method: string;
  /** The request's path with its query. */
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text; undefined for a stream that was left open. */
  text: string | undefined;
}

/** Headers of HTTP itself (and Content-Type, which OpenAPI describes as `content`). */
const TRANSPORT = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
]);

interface Operation {
  key: string;
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, Json>;
}

export interface Conformance {
  /** What is wrong with this exchange; empty when it conforms. */
  check(exchange: Exchange): string[];
  /** "METHOD /template STATUS media/type" for every declared answer no checked exchange gave. */
  unseen(): string[];
}

export function makeConformance(document: Json): Conformance {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...document, $id: 'openapi.json' });
  const compiled = new Map<string, ValidateFunction>();
  const validator = (pointer: string) => {
    let validate = compiled.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json#${pointer}` });
      compiled.set(pointer, validate);
    }
    return validate;
  };
  const escape = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');
  const resolve = (value: Json): [Json, string | undefined] => {
    const target = value['$ref'];
    if (typeof target !== 'string') return [value, undefined];
    let node: unknown = document;
    for (const segment of target.slice(2).split('/')) {
      node = (node as Json)[segment.replaceAll('~1', '/').replaceAll('~0', '~')];
    }
    return [node as Json, target.slice(1)];
  };

  const operations: Operation[] = [];
  const declared = new Set<string>();
  for (const [template, methods] of Object.entries(document['paths'] as Record<string, Json>)) {
    for (const [method, operation] of Object.entries(methods as Record<string, Json>)) {
      const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
      const key = `${method.toUpperCase()} ${template}`;
      const responses = operation['responses'] as Record<string, Json>;
      operations.push({ key, method: method.toUpperCase(), template, pattern, responses });
      for (const [status, response] of Object.entries(responses)) {
        for (const media of Object.keys((response['content'] as Json | undefined) ?? {})) {
          declared.add(`${key} ${status} ${media}`);
        }
        if (!response['content']) declared.add(`${key} ${status} (no body)`);
      }
    }
  }
  const seen = new Set<string>();

  return {
    check(exchange) {
      const pathOnly = exchange.path.split('?')[0] ?? '';
      const operation = operations.find((op) => op.method === exchange.method && op.pattern.test(pathOnly));
      const where = `${exchange.method} ${exchange.path} ${exchange.status}`;
      if (!operation) return [`${where}: no such operation in the document`];
      const status = String(exchange.status);
      const response = operation.responses[status];
      if (!response) return [`${where}: status ${status} is not declared for ${operation.key}`];
      const problems: string[] = [];
      const base = `/paths/${escape(operation.template)}/${exchange.method.toLowerCase()}/responses/${status}`;

      // Headers: each one sent is declared, each required one is sent, each value is valid.
      const declaredHeaders = new Map<string, { spec: Json; pointer: string }>();
      for (const [name, value] of Object.entries((response['headers'] as Json | undefined) ?? {})) {
        const [spec, pointer] = resolve(value as Json);
        declaredHeaders.set(name.toLowerCase(), {
          spec,
          pointer: pointer ?? `${base}/headers/${escape(name)}`,
        });
      }
      for (const [name, value] of Object.entries(exchange.headers)) {
        if (TRANSPORT.has(name) || value === undefined) continue;
        const header = declaredHeaders.get(name);
        if (!header) {
          problems.push(`${where}: header ${name} is not declared`);
          continue;
        }
        for (const one of [value].flat()) {
          const validate = validator(`${header.pointer}/schema`);
          if (!validate(one))
            problems.push(`${where}: header ${name}=${one}: ${ajv.errorsText(validate.errors)}`);
        }
      }
      for (const [name, header] of declaredHeaders) {
        if (header.spec['required'] === true && exchange.headers[name] === undefined) {
          problems.push(`${where}: required header ${name} is missing`);
        }
      }

      // The body: a declared media type, and valid JSON where it is JSON.
      const content = response['content'] as Record<string, Json> | undefined;
      const media =
        String(exchange.headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim() ?? '';
      if (!content) {
        if (exchange.text) problems.push(`${where}: a body where none is declared`);
        else seen.add(`${operation.key} ${status} (no body)`);
        return problems;
      }
      if (!content[media]) {
        problems.push(`${where}: media type "${media}" is not declared (${Object.keys(content).join(', ')})`);
        return problems;
      }
      seen.add(`${operation.key} ${status} ${media}`);
      if (media === 'application/json' && exchange.text !== undefined) {
        const validate = validator(`${base}/content/${escape(media)}/schema`);
        if (!validate(JSON.parse(exchange.text))) {
          problems.push(`${where}: body: ${ajv.errorsText(validate.errors)}`);
        }
      }
      return problems;
    },
    unseen: () => [...declared].filter((key) => !seen.has(key)).sort(),
  };
}
