/**
 * `crs migrate plan` and `crs migrate status --json`, for a DBA and for automation: the plan
 * lists what would be applied, with its SQL, and applies nothing; status --json is the same
 * list `status` prints, as JSON.
 */
import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { spawnCrs } from '../support/process.js';

const db = await makeTestDatabase(t);
const run = async (args: string[]) => {
  const crs = spawnCrs(t, ['migrate', ...args], { DATABASE_URL: db.urls.owner, LOG_LEVEL: 'warn' });
  const code = await crs.exited;
  return { code, output: crs.output() };
};

t.test('up to date: nothing planned, every file applied', async (t) => {
  const plan = await run(['plan']);
  t.equal(plan.code, 0);
  t.equal(plan.output.trim(), '-- nothing to apply: the database is up to date');
  const status = await run(['status', '--json']);
  t.equal(status.code, 0);
  const list = JSON.parse(status.output) as {
    kind: string;
    name: string;
    state: string;
    appliedAt: string;
  }[];
  t.ok(list.length > 10, `${list.length} files`);
  t.ok(list.every((s) => s.state === 'applied' && !Number.isNaN(Date.parse(s.appliedAt))));
});

t.test('a migration behind: planned with its SQL, and the plan applies nothing', async (t) => {
  const { rows } = await db.owner.query<{ name: string }>(
    `delete from crs_migrations.applied
      where kind = 'versioned' and name = (select max(name) from crs_migrations.applied where kind = 'versioned')
      returning name`,
  );
  const name = rows[0]?.name ?? '';
  const plan = await run(['plan']);
  t.equal(plan.code, 0);
  t.match(plan.output, new RegExp(`^-- versioned migrations/${name}( \\(no transaction\\))?\\n`, 'm'));
  t.match(plan.output, /create table|alter table|create or replace|create index/i, 'with its SQL');
  const status = await run(['status', '--json']);
  t.equal(status.code, 1, 'status says not everything is applied');
  const list = JSON.parse(status.output) as { name: string; state: string }[];
  t.equal(list.find((s) => s.name === name)?.state, 'pending');
  const { rows: still } = await db.owner.query(`select 1 from crs_migrations.applied where name = $1`, [
    name,
  ]);
  t.equal(still.length, 0, 'the plan applied nothing');
});

t.test('unknown arguments are refused with the usage', async (t) => {
  const bad = await run(['status', '--yaml']);
  t.equal(bad.code, 1);
  t.match(bad.output, /unknown arguments: status --yaml \(see crs migrate --help\)/);
});
