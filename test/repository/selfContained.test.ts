/**
 * The repository is the whole project: no file reads anything beside it (our machines keep a
 * shared/ folder next to the checkout that a clone elsewhere does not have), and the tests that
 * once read it pass in a copy of the tracked files with nothing beside it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { dataDir, packageRoot } from '../../common/paths.js';

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: packageRoot, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file !== '');

/** A path that climbs out of the repository to the shared folder, in any spelling we have used. */
const OUTSIDE = [/\.\.\/shared\b/, /'\.\.',\s*'shared'/, /"\.\.",\s*"shared"/];

t.test('no tracked file points at the shared folder beside the checkout', async (t) => {
  const offenders = tracked.filter((file) => {
    if (file === 'test/repository/selfContained.test.ts') return false; // the patterns themselves
    const text = readFileSync(join(packageRoot, file), 'utf8');
    return OUTSIDE.some((pattern) => pattern.test(text));
  });
  t.ok(tracked.length > 100, `${tracked.length} tracked files read`);
  t.same(offenders, []);
});

t.test('the Kubernetes and MinIO event tests pass in a copy with nothing beside it', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'crs-clone-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const copy = join(parent, 'repo');
  for (const file of tracked) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(packageRoot, file), join(copy, file));
  }
  symlinkSync(join(packageRoot, 'node_modules'), join(copy, 'node_modules'));

  // Run as plain node scripts they skip tap's before hook (which would start a second test
  // Postgres beside this run's) and use this run's services through its harness file.
  const files = ['test/deploy/manifests.test.ts', 'test/vouchers/minioEvents.test.ts'];
  for (const file of files) {
    const run = spawnSync(process.execPath, ['--import=tsx', file], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, CRS_DATA_DIR: dataDir() },
      timeout: 240_000,
    });
    const notOk = run.stdout.split('\n').filter((line) => /^\s*not ok/.test(line));
    t.equal(run.status, 0, `${file}: exits 0 in ${copy}${run.stderr ? `\n${run.stderr.slice(-2000)}` : ''}`);
    t.same(notOk, [], `${file}: no failing assertion`);
    t.notMatch(run.stdout, /# SKIP/, `${file}: nothing skipped`);
    t.match(run.stdout, /^ok \d+ - /m, `${file}: ran its tests`);
  }
});
