import { ExitCode } from "../model/mod.ts";
import { formatStatus, queryStatus, stoppedReport } from "../status/mod.ts";
import type { CliCommand } from "./_command.ts";
import { CONFIG_OPTION, loadFromArgs } from "./_config.ts";

const USAGE = "agent status [--config FILE] [--json]";

/**
 * `agent status [--json]`: what the running agent is doing, from its status socket in StateDir;
 * when nothing answers there, what the state files hold, and exit 6 (docs/status.md).
 */
export const statusCommand: CliCommand = {
  name: "status",
  summary: "what the running agent is doing now: intake, rules, recovery, maintenance, broker",
  usage: USAGE,
  options: { ...CONFIG_OPTION, json: { type: "boolean" } },
  async run({ values, positionals }, io) {
    if (positionals.length) {
      io.stderr(`agent status: unexpected argument "${positionals[0]}"\nUsage: ${USAGE}\n`);
      return ExitCode.USAGE;
    }
    const { config } = await loadFromArgs(values);
    const answer = await queryStatus(config.StateDir);
    if (answer.kind === "unreachable") {
      io.stderr(`agent status: cannot tell what the agent is doing: ${answer.why}\n`);
      return ExitCode.RUNTIME;
    }
    const report = answer.kind === "running"
      ? answer.report
      : await stoppedReport(config, answer.why);
    if (values.json) io.stdout(JSON.stringify(report, null, 2) + "\n");
    else {
      const tty = io.isTerminal?.() ?? false;
      io.stdout(formatStatus(report, { tty, color: tty && !Deno.env.get("NO_COLOR") }));
    }
    return report.running ? ExitCode.OK : ExitCode.NOT_RUNNING;
  },
};
