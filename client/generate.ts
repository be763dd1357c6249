/**
 * Writes client/schema.ts, the TypeScript types of the API, from the OpenAPI document the API
 * serves (api/openapi/document.ts) with openapi-typescript. Run `npm run generate:client` after
 * changing the document; test/client/schema.test.ts fails while the two differ.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import prettier from 'prettier';
import { makeOpenApiDocument } from '../api/openapi/document.js';
import { packageRoot } from '../common/paths.js';

export const SCHEMA_FILE = join(packageRoot, 'client', 'schema.ts');

const HEADER = `/**
 * The HTTP API's types, generated from api/openapi/document.ts by client/generate.ts
 * (npm run generate:client). Do not edit: change the document and generate again.
 */
`;

/** The text client/schema.ts should have for the current document. */
export async function renderClientSchema(): Promise<string> {
  // openapi-typescript takes the document as a JSON string (an object would be read as a URL).
  const nodes = await openapiTS(JSON.stringify(makeOpenApiDocument()), {
    // Headers and error bodies are part of what a caller sees; keep the types exact.
    exportType: true,
    alphabetize: false,
  });
  const options = (await prettier.resolveConfig(SCHEMA_FILE)) ?? {};
  return prettier.format(HEADER + astToString(nodes), { ...options, filepath: SCHEMA_FILE });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(SCHEMA_FILE, await renderClientSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
