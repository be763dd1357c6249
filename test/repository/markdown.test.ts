/**
 * The Markdown a reader lands on renders as written: every code fence is closed, and no fence
 * swallows a section (README once showed ~590 lines, from Architecture to Layout, as one code
 * block because a four-backtick fence was closed by three). README stays a map (at most 300
 * lines; the details live in docs/), and every relative link and anchor leads somewhere.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

/** The lines of a Markdown text outside its fenced code blocks (the fences themselves too). */
function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
    } else if (marker) {
      fence = marker;
    } else {
      lines.push(line);
    }
  }
  return lines;
}

/** The anchors of a Markdown text's headings (outside code blocks). */
function anchorsOf(text: string): Set<string> {
  const headings = proseLines(text).flatMap((line) => /^#{1,6} (.*)$/.exec(line)?.[1] ?? []);
  return new Set(headings.map(headingAnchor));
}

/** Relative links ([text](target)) outside code blocks and inline code. */
function linksOf(text: string): string[] {
  return proseLines(text)
    .flatMap((line) => [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!))
    .filter((target) => !/^[a-z]+:/i.test(target));
}

t.test('README is a map: at most 300 lines, the details in docs/', async (t) => {
  const lines = readFileSync(join(packageRoot, 'README.md'), 'utf8').split('\n').length;
  t.ok(lines <= 300, `README.md has ${lines} lines`);
});

t.test('every relative link and anchor in the Markdown leads somewhere', async (t) => {
  for (const file of files) {
    const broken: string[] = [];
    for (const link of linksOf(readFileSync(file, 'utf8'))) {
      const [path, anchor] = link.split('#', 2) as [string, string | undefined];
      const target = path === '' ? file : join(dirname(file), decodeURIComponent(path));
      if (!existsSync(target)) {
        broken.push(`${link}: no such file`);
      } else if (
        anchor !== undefined &&
        target.endsWith('.md') &&
        !anchorsOf(readFileSync(target, 'utf8')).has(anchor)
      ) {
        broken.push(`${link}: no heading with that anchor`);
      }
    }
    t.same(broken, [], `${relative(packageRoot, file)}: every link resolves`);
  }
});

t.test('anchors are spelled as GitHub spells them', async (t) => {
  t.equal(headingAnchor('Voucher messages (RabbitMQ)'), 'voucher-messages-rabbitmq');
  t.equal(
    headingAnchor('How an order is decided (`sql/place_order.sql`, `api/orders/groupCommit.ts`)'),
    'how-an-order-is-decided-sqlplace_ordersql-apiordersgroupcommitts',
  );
  t.equal(headingAnchor('Who may do what'), 'who-may-do-what');
});
