/**
 * `crs bench`: runs the benchmark scenarios on a stack of their own (bench/stack.ts), prints a
 * table per scenario and writes JSON, text and SVG charts under the results folder, plus
 * results.md with every table for docs/benchmarks.md. Exits 1 when an invariant broke (oversell, a buyer
 * without an answer, a voucher missing); speed is reported, never judged here.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import { startBenchCdc, type BenchCdc } from './cdcInProcess.js';
import { writeResults } from './report/files.js';
import { flashSale } from './scenarios/flashSale.js';
import { intake } from './scenarios/intake.js';
import { pipeline } from './scenarios/pipeline.js';
import type { ScenarioName } from './scenarios/names.js';

// The CLI checks scenario names through this module, loaded only when `crs bench` runs.
export { SCENARIOS, isScenarioName } from './scenarios/names.js';
import type { ScenarioOutput } from './scenarios/scenario.js';
import { startBenchStack } from './stack.js';
export { runProfile } from './profile.js';

export interface BenchOptions {
  scenarios: ScenarioName[];
  quick: boolean;
  outDir: string;
  /** The command line, written next to the results. */
  command: string;
  log: Logger;
}

export async function runBench(
  env: Record<string, string | undefined>,
  options: BenchOptions,
): Promise<number> {
  const { log, quick } = options;
  const started = Date.now();
  const outputs: ScenarioOutput[] = [];
  const stack = await startBenchStack(env, log);
  let cdc: BenchCdc | undefined;
  try {
    if (options.scenarios.includes('intake')) {
      outputs.push(await intake(stack, { quick, log }));
      // The intake's orders must not become render jobs when CDC starts (it reconciles).
      await stack.owner.query('truncate crs.orders');
    }
    if (options.scenarios.includes('flash-sale') || options.scenarios.includes('pipeline')) {
      cdc = await startBenchCdc(stack.vars);
      // The production API with the trivial route besides (bench/benchApi.ts), the flash sale's
      // capacity is measured against.
      await stack.benchApi('batched', { MAX_EVENT_STREAMS: '20000' });
      await stack.component('renderer');
      if (options.scenarios.includes('flash-sale')) outputs.push(await flashSale(stack, { quick, log }));
      if (options.scenarios.includes('pipeline')) outputs.push(await pipeline(stack, cdc, { quick, log }));
    }
  } finally {
    await cdc?.stop();
    await stack.stop();
  }

  await mkdir(options.outDir, { recursive: true });
  const when = new Date().toISOString();
  const markdown = [`Command: \`${options.command}\`, ${when}.`, ''];
  for (const output of outputs) {
    const paths = await writeResults(options.outDir, output.name, {
      json: { scenario: output.name, quick, when, command: options.command, result: output.json },
      svgs: output.svgs,
      text: output.text,
    });
    console.log(`\n== ${output.name}\n${output.text}`);
    console.log(`written: ${paths.join(', ')}`);
    markdown.push(`### ${output.name}`, '', output.markdown, '');
  }
  await writeFile(join(options.outDir, 'results.md'), markdown.join('\n'));

  const problems = outputs.flatMap((o) => o.problems.map((p) => `${o.name}: ${p}`));
  console.log('\n== summary');
  for (const line of outputs.flatMap((o) => o.summary)) console.log(line);
  for (const problem of problems) console.log(`INVARIANT BROKEN: ${problem}`);
  console.log(
    `crs bench: ${outputs.length} scenario(s) in ${Math.round((Date.now() - started) / 1000)} s, ` +
      `${problems.length} invariant(s) broken; results in ${options.outDir}`,
  );
  return problems.length === 0 ? 0 : 1;
}
