/**
 * Splits a SQL file into its statements, for migrations that run outside a transaction
 * (`CREATE INDEX CONCURRENTLY` refuses a transaction block, and a multi-statement query is
 * one). Semicolons count only at the top level: not in `--` or block comments, quoted
 * strings or identifiers, or dollar-quoted bodies.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (stripComments(text).trim() !== '') statements.push(text);
  };
  while (i < sql.length) {
    const char = sql[i]!;
    const next = sql[i + 1];
    if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (char === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (char === "'" || char === '"') {
      i = skipQuoted(sql, i, char);
    } else if (char === '$') {
      const tag = /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(sql.slice(i))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        if (end === -1) throw new Error(`unterminated dollar-quoted string ${tag}`);
        i = end + tag.length;
      } else {
        i += 1;
      }
    } else if (char === ';') {
      push(i);
      start = i + 1;
      i += 1;
    } else {
      i += 1;
    }
  }
  push(sql.length);
  return statements;
}

function skipBlockComment(sql: string, from: number): number {
  // Block comments nest in PostgreSQL.
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth += 1;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  throw new Error('unterminated block comment');
}

function skipQuoted(sql: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote)
        i += 2; // a doubled quote is the quote itself
      else return i + 1;
    } else {
      i += 1;
    }
  }
  throw new Error(`unterminated ${quote === "'" ? 'string' : 'quoted identifier'}`);
}

function stripComments(text: string): string {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}
