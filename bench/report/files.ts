/**
 * One benchmark run on disk: the raw numbers (JSON), the charts (SVG) and the table as
 * printed (text), side by side under one name so docs/benchmarks.md can link all three.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Results {
  json: unknown;
  /** Chart key to SVG document; written as `<name>-<key>.svg`. */
  svgs: Record<string, string>;
  text: string;
}

// Names become file names: no separators or dot-dot that would write somewhere else.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(what: string, name: string): void {
  if (!SAFE_NAME.test(name) || name.includes('..')) {
    throw new Error(`writeResults: ${what} ${JSON.stringify(name)} is not a plain file name`);
  }
}

/** Writes `<dir>/<name>.json`, `<dir>/<name>-<key>.svg` per chart, `<dir>/<name>.txt`; returns their paths in that order. */
export async function writeResults(dir: string, name: string, data: Results): Promise<string[]> {
  checkName('name', name);
  for (const key of Object.keys(data.svgs)) checkName('chart key', key);
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    // `?? null`: JSON.stringify(undefined) is undefined, not a document.
    [join(dir, `${name}.json`), JSON.stringify(data.json ?? null, null, 2) + '\n'],
    ...Object.entries(data.svgs).map(([key, svg]): [string, string] => [
      join(dir, `${name}-${key}.svg`),
      svg,
    ]),
    [join(dir, `${name}.txt`), data.text.endsWith('\n') ? data.text : data.text + '\n'],
  ];
  await Promise.all(files.map(([path, content]) => writeFile(path, content, 'utf8')));
  return files.map(([path]) => path);
}
