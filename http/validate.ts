/**
 * Validation at the HTTP boundary with zod. The same schemas feed the OpenAPI document
 * (api/openapi/), so what is documented is what is enforced.
 */
import type { Middleware } from 'koa';
import { z } from 'zod';
import { invalidRequest, type AppError, type FieldProblem } from '../common/errors.js';
import { PRODUCT_ID, PRODUCT_ID_RULE } from '../common/identifiers.js';

/** Throws invalid_request listing every field that is wrong, or returns the parsed value. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidRequest(toFieldProblems(result.error));
}

export function toFieldProblems(error: z.ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ field: key, message: 'is not a known field' });
      continue;
    }
    const field = issue.path.length ? issue.path.map(String).join('.') : 'body';
    problems.push({ field, message: issue.message });
  }
  return problems;
}

/**
 * The path and query parameters of one operation: object schemas whose keys are the
 * parameters' names. The route parses with them and the OpenAPI document lists them
 * (api/openapi/parameters.ts), so the two cannot disagree.
 */
export interface ParameterSchemas {
  path?: z.ZodObject | undefined;
  query?: z.ZodObject | undefined;
}

/**
 * Parses ctx.params or ctx.query. A problem is named by the parameter (a repeated one by its
 * name, not `exclude.0`: the client sent no field of that name). The answer is invalid_request
 * unless `refuse` makes another: 404 for an id, where a 400 would tell apart ids that cannot
 * exist from ids that merely do not.
 */
export function parseParams<S extends z.ZodObject>(
  schema: S,
  input: unknown,
  refuse: (problems: FieldProblem[]) => AppError = invalidRequest,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw refuse(
    toFieldProblems(result.error).map(({ field, message }) => ({
      field: field.split('.')[0] ?? field,
      message,
    })),
  );
}

const PARAMETERS = Symbol('parameters');

/**
 * A route's handler, marked with the parameters it parses: the OpenAPI test reads the marks
 * off the mounted routers and compares them with the document.
 */
export function takesParameters<M extends Middleware>(parameters: ParameterSchemas, handler: M): M {
  return Object.assign(handler, { [PARAMETERS]: parameters });
}

/** The parameters a middleware was marked with by takesParameters, if any. */
export function parametersOf(middleware: unknown): ParameterSchemas | undefined {
  return (middleware as { [PARAMETERS]?: ParameterSchemas } | undefined)?.[PARAMETERS];
}

/** A required string field with messages that say what is wrong in plain words. */
export const requiredString = () =>
  z.string({
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string'),
  });

/**
 * Characters never accepted in a human-readable field: control characters (NUL, newlines,
 * escapes), lone surrogates, and the bidirectional overrides and isolates that make a name
 * display as something else. Joiners (ZWJ/ZWNJ) stay allowed: some scripts need them.
 */
const FORBIDDEN_TEXT = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/u;

/** A person's or product's name: NFC-normalised, trimmed, 1..max characters, any script. */
export const displayText = (max: number) =>
  requiredString()
    .refine((value) => !FORBIDDEN_TEXT.test(value), {
      message: 'must not contain control or direction-override characters',
    })
    .transform((value) => value.normalize('NFC').trim())
    .refine((value) => value.length > 0, { message: 'must not be empty' })
    .refine((value) => [...value].length <= max, { message: `must be at most ${max} characters` });

export const productIdField = () => requiredString().regex(PRODUCT_ID, { message: PRODUCT_ID_RULE });
