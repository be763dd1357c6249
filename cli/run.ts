// Entry point for running the CLI from sources (tests: node --import=tsx cli/run.ts ...).
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
