/**
 * Validation at the HTTP boundary with zod. The same schemas feed the OpenAPI document
 * (api/openapi/), so what is documented is what is enforced.
 */
import { z } from 'zod';
import { invalidRequest, type FieldProblem } from '../common/errors.js';
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
