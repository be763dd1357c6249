/**
 * client/schema.ts is what openapi-typescript makes of the document the API serves today: a
 * change to api/openapi/document.ts without `npm run generate:client` fails here.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { renderClientSchema, SCHEMA_FILE } from '../../client/generate.js';

t.test('the generated client types are current', async (t) => {
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  const current = await renderClientSchema();
  t.ok(current.includes("'/api/orders': {"), 'the generator produced the paths');
  t.equal(committed, current, 'client/schema.ts matches the document (npm run generate:client)');
});
