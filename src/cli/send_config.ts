import { createHash } from "node:crypto";
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
import { inputName, readTextInput } from "./_input.ts";

/** Default seconds to wait: a check plus a restart and possibly a rollback (2 × 60 s). */
const DEFAULT_TIMEOUT_S = 150;

/**
 * `agent send-config PATH`: lua-collectd-monitor's send-config. Publishes the file as a
 * collectd.conf replacement, waits for the result and prints it; exit 0 only when its code is 0.
 * The config text is not printed (it may hold secrets): only its size and sha256.
 */
export const sendConfigCommand: CliCommand = {
  name: "send-config",
  summary: "send a collectd.conf to an agent over MQTT and wait for the replacement's result",
  usage: "agent send-config PATH|- [--config FILE] [--host H[:P]] [--user U] [--password P] " +
    "[--secure] [--qos N] [--topic T] [--result-topic T] [--to HOST] [--timeout SECONDS]",
  options: REMOTE_OPTIONS,
  async run({ values, positionals }, io) {
    const fail = (code: number, text: string) => {
      io.stderr(`agent send-config: ${text}\n`);
      return code;
    };
    if (positionals.length !== 1) {
      return fail(ExitCode.USAGE, `expected the path of a collectd.conf\nUsage: ${this.usage}`);
    }
    const path = positionals[0]!;
    let text: string;
    try {
      text = await readTextInput(path);
    } catch (e) {
      return fail(ExitCode.RUNTIME, `cannot read ${inputName(path)}: ${(e as Error).message}`);
    }
    let target;
    try {
      target = await remoteTargetFromArgs({ timeout: String(DEFAULT_TIMEOUT_S), ...values });
    } catch (e) {
      if (e instanceof ConfigError) return fail(ExitCode.CONFIG, e.message);
      if (e instanceof RemoteUsageError) {
        return fail(ExitCode.USAGE, `${e.message}\nUsage: ${this.usage}`);
      }
      return fail(ExitCode.RUNTIME, (e as Error).message);
    }
    if (!target.resultTopic) {
      return fail(
        ExitCode.USAGE,
        "no result topic: give --result-topic or --config (the outcome is needed)",
      );
    }
    const logger = createLogger({
      level: "error",
      sink: (e) => io.stderr(formatText(e) + "\n"),
      component: "send-config",
    });
    const message = { task_id: newTaskId(), timestamp: resultTimestamp(), config: text };
    const sha256 = createHash("sha256").update(text).digest("hex");
    const outcome = await sendAndAwaitResult(target, message, { logger });
    if (outcome.error) return fail(ExitCode.REMOTE_TIMEOUT, outcome.error);
    const bytes = new TextEncoder().encode(text).length;
    io.stdout(
      `Send config: task_id ${message.task_id}, ${path} (${bytes} bytes, sha256 ${sha256})\n`,
    );
    if (!outcome.result) {
      return fail(ExitCode.REMOTE_TIMEOUT, `no result within ${target.timeoutMs / 1000} s`);
    }
    io.stdout(`Received a result: ${JSON.stringify(outcome.result)}\n`);
    return outcome.result.code === 0 ? ExitCode.OK : ExitCode.REMOTE_FAILED;
  },
};
