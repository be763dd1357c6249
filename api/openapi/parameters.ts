/**
 * An operation's OpenAPI `parameters`, made from the zod schemas its route parses them with
 * (ParameterSchemas, http/validate.ts): one entry per key of the path and query schemas.
 */
import { z } from 'zod';
import type { ParameterSchemas } from '../../http/validate.js';

type Json = Record<string, unknown>;

/**
 * The schema of a parameter is what the route gets once it has parsed it (zod's output): a
 * query string is text on the wire, but `limit` is an integer to a client, as OpenAPI means
 * it. A schema whose output zod cannot describe (a bare transform) throws here, at start.
 */
function parameter(name: string, location: 'path' | 'query', field: z.ZodType): Json {
  const { $schema: _ignored, description, ...schema } = z.toJSONSchema(field, { io: 'output' }) as Json;
  const optional = field.safeParse(undefined).success;
  if (location === 'path' && optional) throw new Error(`path parameter ${name} must be required`);
  return {
    name,
    in: location,
    required: !optional,
    ...(description === undefined ? {} : { description }),
    schema,
  };
}

export function parametersFrom(schemas: ParameterSchemas): Json[] {
  return (['path', 'query'] as const).flatMap((location) =>
    Object.entries(schemas[location]?.shape ?? {}).map(([name, field]) =>
      parameter(name, location, field as z.ZodType),
    ),
  );
}
