/**
 * The Markdown a reader lands on renders as written: every code fence is closed, and no fence
 * swallows a section (README once showed ~590 lines, from Architecture to Layout, as one code
 * block because a four-backtick fence was closed by three).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../common/paths.js';

/** Section headings (## and deeper; a lone # is a shell comment as often) inside code blocks, and whether a fence is left open at the end. */
export function fenceProblems(text: string): { swallowed: string[]; open: string | undefined } {
  let fence: { char: string; length: number; line: number } | undefined;
  const swallowed: string[] = [];
  text.split('\n').forEach((line, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      // Closed by the same character, at least as many, and nothing after it.
      if (
        marker &&
        marker[1]![0] === fence.char &&
        marker[1]!.length >= fence.length &&
        marker[2]!.trim() === ''
      ) {
        fence = undefined;
      } else if (/^#{2,6} \S/.test(line)) {
        swallowed.push(`line ${index + 1}: ${line}`);
      }
    } else if (marker && !(marker[1]![0] === '`' && marker[2]!.includes('`'))) {
      fence = { char: marker[1]![0]!, length: marker[1]!.length, line: index + 1 };
    }
  });
  return { swallowed, open: fence && `a fence opened at line ${fence.line} is never closed` };
}

const files = [
  join(packageRoot, 'README.md'),
  join(packageRoot, 'deploy', 'kubernetes', 'README.md'),
  ...readdirSync(join(packageRoot, 'docs'), { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(packageRoot, 'docs', name)),
];

t.test('every code fence is closed and swallows no heading', async (t) => {
  t.ok(files.length >= 2, `${files.length} Markdown files`);
  for (const file of files) {
    const { swallowed, open } = fenceProblems(readFileSync(file, 'utf8'));
    t.same(swallowed, [], `${relative(packageRoot, file)}: no heading inside a code block`);
    t.equal(open, undefined, `${relative(packageRoot, file)}: no fence left open`);
  }
});

t.test('the check catches the mistake that hid README', async (t) => {
  const broken = '# Title\n\n````text\ndiagram\n```\n\n## Architecture\n\ntext\n';
  t.same(fenceProblems(broken), {
    swallowed: ['line 7: ## Architecture'],
    open: 'a fence opened at line 3 is never closed',
  });
  t.same(fenceProblems('```sh\n# a shell comment\nls\n```\n## After\n'), { swallowed: [], open: undefined });
});
