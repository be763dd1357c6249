/** The scenarios `crs bench` knows, in the order it runs them (the CLI reads them through
 *  bench/main.ts, once it loads the benchmarks). */
export const SCENARIOS = ['intake', 'flash-sale', 'pipeline'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name);
}
