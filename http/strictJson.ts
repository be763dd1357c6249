/**
 * JSON.parse with two refusals it does not make by itself:
 *
 * - Nesting deeper than MAX_JSON_DEPTH. No request body of this API nests more than two
 *   levels; a 100,000-level body must not cost a 100,000-level object graph, nor reach any
 *   recursive code (validation, logging) that could overflow the stack. Checked on the text
 *   before parsing, so such a body is never built.
 * - A key repeated in one object. JSON.parse silently keeps the last copy, while a proxy, a
 *   WAF or a log pipeline in front of us may read the first: a duplicate could smuggle a value
 *   past whatever checked the other. Refused, like a repeated field of a form post (body.ts).
 *
 * Both are invalid_request naming where in the body the problem is.
 */
import { invalidRequest } from '../common/errors.js';

export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

interface Frame {
  /** The keys seen so far; undefined for an array. */
  keys: Set<string> | undefined;
  /** Whether the next string in this object is a key (else a value). */
  expectKey: boolean;
  /** Where we are in this container: the current key, or the array index. */
  at: string | number;
}

/** Where a problem is, as the contract's `details[].field`: `body`, `firstName`, `items.2.x`. */
const fieldOf = (frames: Frame[]) =>
  frames.length === 0 ? 'body' : frames.map((frame) => String(frame.at)).join('.');

export function parseStrictJson(text: string): unknown {
  const frames: Frame[] = [];
  let duplicate: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      let escaped = false;
      while (end < text.length && text.charCodeAt(end) !== QUOTE) {
        if (text.charCodeAt(end) === BACKSLASH) {
          escaped = true;
          end += 2;
        } else end += 1;
      }
      const frame = frames.at(-1);
      if (frame?.keys && frame.expectKey && duplicate === undefined) {
        // Compared decoded: "a" and "\u0061" are the same key. A key without an escape is its
        // own text (the common case, and a parse per key was a measurable share of a request).
        let key: string | undefined = escaped ? undefined : text.slice(i + 1, end);
        if (escaped) {
          try {
            key = JSON.parse(text.slice(i, end + 1)) as string;
          } catch {
            // Not a valid string: JSON.parse below says so for the whole body.
          }
        }
        if (key !== undefined) {
          if (frame.keys.has(key)) duplicate = fieldOf([...frames.slice(0, -1), { ...frame, at: key }]);
          frame.keys.add(key);
          frame.at = key;
        }
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (frames.length >= MAX_JSON_DEPTH) {
        throw invalidRequest([
          { field: fieldOf(frames), message: `is nested more than ${MAX_JSON_DEPTH} levels deep` },
        ]);
      }
      frames.push(
        c === OPEN_OBJECT
          ? { keys: new Set(), expectKey: true, at: '' }
          : { keys: undefined, expectKey: false, at: 0 },
      );
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      frames.pop();
    } else if (c === COLON) {
      const frame = frames.at(-1);
      if (frame) frame.expectKey = false;
    } else if (c === COMMA) {
      const frame = frames.at(-1);
      if (frame?.keys) frame.expectKey = true;
      else if (frame) frame.at = (frame.at as number) + 1;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidRequest([{ field: 'body', message: `is not valid JSON (${(err as Error).message})` }]);
  }
  // Reported only for valid JSON: a syntax error is the clearer message.
  if (duplicate !== undefined) {
    throw invalidRequest([{ field: duplicate, message: 'appears more than once' }]);
  }
  return value;
}
