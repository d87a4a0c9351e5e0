import {
  newTaskId,
  REMOTE_OPTIONS,
  remoteTargetFromArgs,
  RemoteUsageError,
  sendAndAwaitResult,
} from "../remote/mod.ts";
import { ConfigError } from "../config/mod.ts";
import { createLogger, formatText } from "../log/mod.ts";
import { ExitCode, resultTimestamp } from "../model/mod.ts";
import type { CliCommand } from "./_command.ts";

/**
 * `agent send-command SERVICE COMMAND`: lua-collectd-monitor's send-command. Publishes a command
 * with a fresh task_id, waits for its result, prints both; exit 0 only when the remote code is 0.
 */
export const sendCommandCommand: CliCommand = {
  name: "send-command",
  summary: "send a command to an agent over MQTT and wait for its result",
  usage: "agent send-command SERVICE COMMAND [--config FILE] [--host H[:P]] [--user U] " +
    "[--password P] [--secure] [--qos N] [--topic T] [--result-topic T] [--to HOST] " +
    "[--timeout SECONDS]",
  options: REMOTE_OPTIONS,
  async run({ values, positionals }, io) {
    if (positionals.length !== 2) {
      io.stderr(`agent send-command: expected SERVICE and COMMAND\nUsage: ${this.usage}\n`);
      return ExitCode.USAGE;
    }
    const [service, command] = positionals as [string, string];
    let target;
    try {
      target = await remoteTargetFromArgs(values);
    } catch (e) {
      if (e instanceof ConfigError) {
        io.stderr(e.message + "\n");
        return ExitCode.CONFIG;
      }
      if (e instanceof RemoteUsageError) {
        io.stderr(`agent send-command: ${e.message}\nUsage: ${this.usage}\n`);
        return ExitCode.USAGE;
      }
      io.stderr(`agent send-command: ${(e as Error).message}\n`);
      return ExitCode.RUNTIME;
    }
    const logger = createLogger({
      level: "error",
      sink: (e) => io.stderr(formatText(e) + "\n"),
      component: "send-command",
    });
    const message = { task_id: newTaskId(), timestamp: resultTimestamp(), service, command };
    const outcome = await sendAndAwaitResult(target, message, {
      logger,
      onSent: (sent) => io.stdout(`Send command: ${JSON.stringify(sent)}\n`),
    });
    if (outcome.error) {
      io.stderr(`agent send-command: ${outcome.error}\n`);
      return ExitCode.REMOTE_TIMEOUT;
    }
    if (!target.resultTopic) return ExitCode.OK;
    if (!outcome.result) {
      io.stderr(`agent send-command: no result within ${target.timeoutMs / 1000} s\n`);
      return ExitCode.REMOTE_TIMEOUT;
    }
    io.stdout(`Received a result: ${JSON.stringify(outcome.result)}\n`);
    return outcome.result.code === 0 ? ExitCode.OK : ExitCode.REMOTE_FAILED;
  },
};
