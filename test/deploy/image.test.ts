/**
 * The image's Node.js: a maintained LTS line, the same major in the build and runtime stages
 * (native modules and the compiled output must match the runtime). Read from the Dockerfile;
 * no image is built here (no Docker engine).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../common/paths.js';

const dockerfile = readFileSync(join(packageRoot, 'deploy', 'image', 'Dockerfile'), 'utf8');
const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1] ?? '';

/** Node.js LTS lines and the end of their maintenance (nodejs.org release schedule). */
const LTS_END: Record<number, string> = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30' };

t.test('build and runtime stages run the same, maintained Node.js LTS', async (t) => {
  const build = Number(/^node:(\d+)\./.exec(arg('NODE_IMAGE'))?.[1]);
  const runtime = Number(/nodejs(\d+)-/.exec(arg('RUNTIME_IMAGE'))?.[1]);
  t.equal(build, runtime, `build node ${build}, runtime node ${runtime}`);
  const end = LTS_END[build];
  t.ok(end, `node ${build} is an LTS line`);
  // Fails once the line's maintenance ends: the image must move on to a newer LTS then.
  const today = new Date().toISOString().slice(0, 10);
  t.ok(end && end > today, `node ${build} is maintained until ${end} (today ${today})`);
  t.match(
    arg('NODE_IMAGE'),
    /^node:\d+\.\d+\.\d+-bookworm-slim$/,
    'the build image is pinned to a patch release',
  );
});

t.test('the image holds production dependencies and code only', async (t) => {
  t.match(dockerfile, /npm ci --omit=dev/, 'the runtime stage installs no devDependency (s3rver among them)');
  t.match(
    dockerfile,
    /rm -rf \/out\/dist\/devstack \/out\/dist\/bench \/out\/dist\/drill/,
    'nor the local stack, the benchmarks or the fault drill',
  );
});

t.test('every file the components read from disk besides their code is copied', async (t) => {
  // The build stage copies the non-TypeScript files of the folders it names (a Lua script,
  // JSON schemas, web assets); a folder of production code missing from that list would
  // start without them.
  const copied = /for dir in ([a-z ]+); do/.exec(dockerfile)?.[1]?.split(' ') ?? [];
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: packageRoot, encoding: 'utf8' })
    .split('\0')
    .filter((file) => /^[a-z]+\/.+/.test(file) && !file.endsWith('.ts') && !file.endsWith('.md'));
  const production = ['api', 'bucket', 'cdc', 'cli', 'common', 'http', 'renderer', 'sql', 'web'];
  const needed = [
    ...new Set(tracked.map((file) => file.split('/')[0]!).filter((dir) => production.includes(dir))),
  ];
  t.ok(needed.includes('http') && needed.includes('common'), `folders with such files: ${needed.join(', ')}`);
  // sql/*.sql and migrations/*.sql are copied by their own lines.
  t.match(dockerfile, /cp sql\/\*\.sql \/out\/sql\//);
  t.same(
    needed.filter((dir) => dir !== 'sql' && !copied.includes(dir)),
    [],
    'each of them is in the copy loop',
  );
});
