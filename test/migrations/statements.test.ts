/**
 * The statements of a no-transaction migration: split at top-level semicolons only, never in
 * comments, strings, quoted identifiers or dollar-quoted bodies.
 */
import t from 'tap';
import { splitStatements } from '../../migrations/statements.js';

t.test('splits at top-level semicolons, keeping each statement whole', async (t) => {
  t.same(
    splitStatements(`-- crs:no-transaction
-- an index; built without blocking writes
create index concurrently if not exists orders_x on crs.orders (created_at);
alter table crs.orders validate constraint orders_y;`),
    [
      '-- crs:no-transaction\n-- an index; built without blocking writes\ncreate index concurrently if not exists orders_x on crs.orders (created_at)',
      'alter table crs.orders validate constraint orders_y',
    ],
  );
});

t.test('semicolons inside strings, identifiers, comments and bodies do not split', async (t) => {
  const body = `create function f() returns text language plpgsql as $fn$
begin
  return 'a;b' || $$c;d$$; -- e;f
end $fn$`;
  t.same(splitStatements(`select 'it''s; fine', "odd;name" /* x; /* nested; */ y; */ from t; ${body};`), [
    `select 'it''s; fine', "odd;name" /* x; /* nested; */ y; */ from t`,
    body,
  ]);
  t.same(
    splitStatements('select 1;;  -- trailing comment\n'),
    ['select 1'],
    'empty statements and comments dropped',
  );
});

t.test('an unterminated quote or comment is an error, not a guess', async (t) => {
  t.throws(() => splitStatements("select 'open"), /unterminated string/);
  t.throws(() => splitStatements('select $x$ open'), /unterminated dollar-quoted string \$x\$/);
  t.throws(() => splitStatements('select 1 /* open'), /unterminated block comment/);
});
