/** What each benchmark scenario hands back to `crs bench` for printing and saving. */
export interface ScenarioOutput {
  name: string;
  /** Terminal tables. */
  text: string;
  /** The same tables for docs/benchmarks.md. */
  markdown: string;
  svgs: Record<string, string>;
  json: unknown;
  /** Broken invariants (oversell, unanswered buyers, missing vouchers); empty when all hold. */
  problems: string[];
  /** One line per headline figure. */
  summary: string[];
}
