import { parseArgs } from "node:util";
import { ConfigError } from "../config/mod.ts";
import { ExitCode } from "../model/mod.ts";
import { VERSION } from "../version.ts";
import type { CliCommand, CliIO } from "./_command.ts";
import { COMMANDS } from "./commands.ts";

export type { CliCommand, CliIO } from "./_command.ts";
/** Every subcommand, as `--help` lists them (the man page is tested against it). */
export { COMMANDS } from "./commands.ts";

const encoder = new TextEncoder();

/** Writes to the process's stdout/stderr. */
export const processIO: CliIO = {
  stdout: (t) => void Deno.stdout.writeSync(encoder.encode(t)),
  stderr: (t) => void Deno.stderr.writeSync(encoder.encode(t)),
  isTerminal: () => Deno.stdout.isTerminal(),
};

/** The `--help` text. */
export function helpText(all: readonly CliCommand[] = COMMANDS): string {
  const commands = all.filter((c) => !c.hidden);
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `edge-agent ${VERSION}: a self-healing agent for edge servers`,
    "",
    "Usage:",
    ...commands.map((c) => `  ${c.usage}`),
    "  agent --version | --help",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 invalid config or rule,",
    "            4 remote command failed, 5 no result before --timeout,",
    "            6 status: the agent is not running.",
    "",
  ].join("\n");
}

/**
 * Runs the `agent` command line and resolves to the exit code. With no subcommand (or one that
 * starts with `-`), `run` is meant: `agent --config f` = `agent run --config f`.
 */
export async function main(
  argv: readonly string[],
  io: CliIO = processIO,
  commands: readonly CliCommand[] = COMMANDS,
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--version" || first === "-V") {
    io.stdout(`edge-agent ${VERSION}\n`);
    return ExitCode.OK;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    io.stdout(helpText(commands));
    return ExitCode.OK;
  }
  const named = first !== undefined && !first.startsWith("-");
  const command = named ? commands.find((c) => c.name === first) : commands[0];
  if (!command) {
    io.stderr(`agent: unknown command "${first}"\n\n${helpText(commands)}`);
    return ExitCode.USAGE;
  }
  const args = named ? rest : [...argv];
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(`Usage: ${command.usage}\n  ${command.summary}\n`);
    return ExitCode.OK;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: command.options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr(`agent ${command.name}: ${(e as Error).message}\nUsage: ${command.usage}\n`);
    return ExitCode.USAGE;
  }
  try {
    return await command.run(
      { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals },
      io,
    );
  } catch (e) {
    // Every command that reads a config reports a bad one the same way.
    if (e instanceof ConfigError) {
      io.stderr(e.message + "\n");
      return ExitCode.CONFIG;
    }
    throw e;
  }
}
