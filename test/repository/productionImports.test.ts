/**
 * The production image installs the dependencies only (npm ci --omit=dev) and runs `crs api`,
 * `cdc`, `renderer`, `migrate`, `reconcile`: whatever those load at start must be in
 * "dependencies", and none of it may be the local development stack (devstack, built on
 * s3rver), the benchmarks or the tests. Followed from cli/main.ts through every static value
 * import (type-only imports vanish at compile time; the local stack is loaded by
 * cli/localStack.ts only when a local command runs).
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { packageRoot } from '../../common/paths.js';
import { loadLocalStack } from '../../cli/localStack.js';

const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The modules a file imports for their values at load time (no `import type`, no import()). */
export function staticImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.isTypeOnly) continue;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        clause.name === undefined &&
        bindings !== undefined &&
        ts.isNamedImports(bindings) &&
        bindings.elements.length > 0 &&
        bindings.elements.every((element) => element.isTypeOnly);
      if (!onlyTypes) found.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly) {
      found.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return found;
}

const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

/** Every source file and package reached from `entry`. */
function reach(entry: string): { files: string[]; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier))
        packages.add(packageOf(specifier));
    }
  }
  return { files: [...files].map((file) => relative(packageRoot, file)), packages };
}

const { files, packages } = reach(join(packageRoot, 'cli', 'main.ts'));

t.test('what the CLI loads at start is production code', async (t) => {
  t.ok(
    files.includes(join('api', 'server.ts')) && files.includes(join('cdc', 'service.ts')),
    `${files.length} files`,
  );
  const outside = files.filter((file) => /^(devstack|bench|drill|test)\//.test(file));
  t.same(outside, [], 'no local stack, benchmark, fault drill or test module');
});

t.test('every package it loads is a production dependency', async (t) => {
  const missing = [...packages].filter((name) => !(name in manifest.dependencies));
  t.ok(packages.size > 10, `${packages.size} packages`);
  t.same(missing, [], 'each is in "dependencies"');
});

t.test("the local stack's packages are development dependencies only", async (t) => {
  t.notOk('s3rver' in manifest.dependencies, 's3rver is not a production dependency');
  t.ok('s3rver' in manifest.devDependencies);
  const lock = JSON.parse(readFileSync(join(packageRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  t.equal(lock.packages['node_modules/s3rver']?.dev, true, 'npm ci --omit=dev leaves it out');
});

t.test('type-only imports are told from value imports', async (t) => {
  const imports = staticImports(join(packageRoot, 'cli', 'commands', 's3Store.ts'));
  t.notOk(
    imports.some((specifier) => specifier.includes('devstack')),
    'crs s3-store loads the store lazily',
  );
  t.ok(imports.includes('../localStack.js'));
});

t.test('a local command without the development dependencies says what to do', async (t) => {
  const missing = 'crs-package-that-is-not-installed';
  await t.rejects(
    loadLocalStack('crs start', () => import(missing)),
    {
      name: 'UsageError',
      message: `crs start runs the local development stack, which needs the development dependencies (${missing} is not installed): run \`npm ci\` (without --omit=dev) in the repository`,
    },
  );
  await t.rejects(
    loadLocalStack('crs start', () => Promise.reject(new Error('a real failure'))),
    { message: 'a real failure' },
    'any other failure passes through',
  );
});

t.test('the exported client loads with the production dependencies only', async (t) => {
  const client = reach(join(packageRoot, 'client', 'index.ts'));
  t.same(
    [...client.packages].filter((name) => !(name in manifest.dependencies)),
    [],
    `${[...client.packages].join(', ')}: each is in "dependencies"`,
  );
  t.same(
    client.files.filter((file) => !file.startsWith('client/')),
    [],
    'only the client folder',
  );
  const exported = (manifest as unknown as { exports: Record<string, { default: string }> }).exports;
  t.equal(exported['./client']?.default, './dist/client/index.js', 'package.json exports it from dist');
});
