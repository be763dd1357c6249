/**
 * squawk (the PostgreSQL migration linter) over migrations/ and sql/ with the repository's
 * .squawk.toml: new migrations must pass it. It bites on what would lock a live crs.orders (an
 * index without CONCURRENTLY, a constraint that scans the table under its lock) and lets the
 * safe forms through (NOT VALID then VALIDATE, CONCURRENTLY in a no-transaction file).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import t from 'tap';
import { migrationsDir, packageRoot, sqlDir } from '../../common/paths.js';
import { squawkBinary, SQUAWK_VERSION } from '../support/squawk.js';

const binary = squawkBinary();
const squawk = (files: string[]) =>
  spawnSync(binary, ['--reporter', 'gcc', ...files], { cwd: packageRoot, encoding: 'utf8' });

t.test(`squawk ${SQUAWK_VERSION} is the one that runs`, async (t) => {
  t.equal(spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim(), `squawk ${SQUAWK_VERSION}`);
});
const sqlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .map((name) => relative(packageRoot, join(dir, name)));

t.test('the migrations and the sql/ scripts pass squawk', async (t) => {
  const files = [...sqlFiles(migrationsDir), ...sqlFiles(sqlDir)];
  t.ok(files.length > 10, `${files.length} files`);
  const run = squawk(files);
  t.equal(run.status, 0, `squawk: ${run.stdout}${run.stderr}`);
});

t.test('squawk refuses what would lock a live table, and lets the safe forms through', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'crs-squawk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const unsafe = join(dir, '900001_unsafe.sql');
  writeFileSync(
    unsafe,
    `alter table crs.orders add constraint orders_names check (first_name <> last_name);
create index orders_phone on crs.orders (phone);
`,
  );
  const refused = squawk([unsafe]);
  t.not(refused.status, 0, 'refused');
  t.match(refused.stdout, /constraint-missing-not-valid/);
  t.match(refused.stdout, /require-concurrent-index-creation/);

  const expand = join(dir, '900002_expand.sql');
  writeFileSync(
    expand,
    `alter table crs.orders add constraint orders_names check (first_name <> last_name) not valid;\n`,
  );
  const build = join(dir, '900003_build.sql');
  writeFileSync(
    build,
    `-- crs:no-transaction
drop index concurrently if exists crs.orders_phone;
create index concurrently orders_phone on crs.orders (phone);
alter table crs.orders validate constraint orders_names;
`,
  );
  const passed = squawk([expand, build]);
  t.equal(passed.status, 0, `the safe forms pass: ${passed.stdout}`);
});
