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

/** Resolves on the first SIGINT or SIGTERM, with the signal's name. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');
