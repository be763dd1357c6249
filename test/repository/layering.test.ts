/**
 * The folders are layers, and imports point one way: down. A folder may import any folder of a
 * lower layer and never one of its own layer or above, so there is no cycle between folders and
 * a reader can take the system in from the bottom (docs/architecture.md, "Folders").
 *
 * Every import counts: static, dynamic (`import()`) and type-only, read by TypeScript's own
 * pre-processor from every tracked .ts file outside test/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, normalize } from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { packageRoot } from '../../common/paths.js';

/** Bottom to top: the flow order -> sql -> cdc -> renderer -> bucket -> api -> client. */
const LAYERS: string[][] = [
  ['common'],
  ['migrations', 'sql'],
  ['cdc', 'renderer', 'bucket', 'http'],
  ['api'],
  ['web', 'client'],
  ['devstack'],
  ['bench'],
  ['drill'],
  ['cli'],
];
/** Declarations and examples, outside the layers. */
const OUTSIDE = new Set(['types', 'docs', 'test', 'bin', 'eslint.config.js']);

const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer])));
const tracked = execFileSync('git', ['ls-files', '-z', '*.ts'], { cwd: packageRoot, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file !== '' && file.includes('/') && !OUTSIDE.has(file.split('/')[0]!));

/** Every relative import of a file, as a top-level folder: [importing folder, imported folder, file]. */
function folderEdges(file: string): { from: string; to: string; spec: string }[] {
  const info = ts.preProcessFile(readFileSync(join(packageRoot, file), 'utf8'), true, true);
  return info.importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => ({
      from: file.split('/')[0]!,
      to: normalize(join(dirname(file), spec)).split('/')[0]!,
      spec,
    }));
}

t.test('every source folder has a layer', async (t) => {
  const folders = [...new Set(tracked.map((file) => file.split('/')[0]!))].sort();
  t.ok(folders.length >= 10, `${folders.length} folders: ${folders.join(', ')}`);
  t.same(
    folders.filter((folder) => !layerOf.has(folder)),
    [],
    'a new folder takes its place in LAYERS',
  );
});

t.test('imports point down the layers only', async (t) => {
  const upward: string[] = [];
  let crossings = 0;
  for (const file of tracked) {
    for (const edge of folderEdges(file)) {
      if (edge.to === edge.from) continue;
      crossings += 1;
      const from = layerOf.get(edge.from);
      const to = layerOf.get(edge.to);
      if (from === undefined || to === undefined || to >= from) {
        upward.push(`${file} imports ${edge.spec} (${edge.from} -> ${edge.to})`);
      }
    }
  }
  t.ok(crossings > 100, `${crossings} imports across folders checked`);
  t.same(upward, [], 'no import goes up or sideways');
});

t.test('the API and the pages never share a file name for different things', async (t) => {
  const namesIn = (folder: string) =>
    new Map(
      tracked.filter((file) => file.startsWith(`${folder}/`)).map((file) => [basename(file), file] as const),
    );
  const api = namesIn('api');
  const web = namesIn('web');
  const http = namesIn('http');
  const clashes = [...web.keys()]
    .filter((name) => api.has(name) || http.has(name))
    .map((name) => `${web.get(name)} vs ${api.get(name) ?? http.get(name)}`);
  t.ok(api.size > 10 && web.size > 10, `${api.size} API files, ${web.size} page files`);
  t.same(clashes, []);
});
