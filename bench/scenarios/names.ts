/** The scenarios `crs bench` knows, in the order it runs them. No imports: the CLI reads this
 *  without loading the benchmarks (which need dev dependencies). */
export const SCENARIOS = ['intake', 'flash-sale', 'pipeline'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name);
}
