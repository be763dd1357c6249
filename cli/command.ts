/** The shape of one `crs` sub-command. */
export interface Command {
  name: string;
  summary: string;
  /** Full --help text. */
  help: string;
  /** Returns the process exit code. */
  run(args: string[], env: Record<string, string | undefined>): Promise<number>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');
