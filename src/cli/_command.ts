import type { ParseArgsConfig } from "node:util";

/** Where a CLI command writes (passed in, so tests can capture it). */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is a terminal (colour, alignment). Default: not. */
  isTerminal?: () => boolean;
}

/**
 * One `agent` subcommand. `options` is a node:util parseArgs option table; `run` gets the parsed
 * values and positionals and resolves to the process exit code (see ExitCode).
 */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Internal commands (e.g. the rule host) are left out of `--help`. */
  hidden?: boolean;
  run(
    args: { values: Record<string, unknown>; positionals: string[] },
    io: CliIO,
  ): Promise<number>;
}
