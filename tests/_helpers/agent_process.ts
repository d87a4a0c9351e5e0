import { type Process, start } from "./process.ts";

/** The agent run as a real process through scripts/agent, with its output read line by line. */
export type AgentProcess = Process;

const root = new URL("../../", import.meta.url).pathname;

/** Starts `scripts/agent ...args` (the same flags as the compiled binary). */
export function startAgent(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): AgentProcess {
  return start(`${root}scripts/agent`, args, { cwd: options.cwd ?? root, env: options.env ?? {} });
}
