import type { SeenStore } from "../mqtt/mod.ts";
import {
  Code,
  codeText,
  type CommandResult,
  type Logger,
  remoteResultRecord,
  type Reporter,
  resultTimestamp,
  type RunRecord,
  taskKey,
} from "../model/mod.ts";
import type { RouteOutcome } from "./router.ts";

/** What answering command messages needs from the channel. */
export interface AnswersOptions {
  logger: Logger;
  now: () => number;
  seen: SeenStore;
  /** Publishes a result as is on the result topic (durably, through the outbox). */
  publish(result: CommandResult): Promise<void>;
  /** The MQTT result reporter: publishes a remote run's result, once per task. */
  reporter: Reporter;
  /** The reporters' door for the record of a refused message, before its result is published. */
  onRefused?: ((record: RunRecord) => Promise<void>) | undefined;
  /** The same for a command an earlier process died handling (answered 0x1009). */
  onInterrupted?: ((record: RunRecord) => Promise<void>) | undefined;
}

/**
 * The channel's answers: each routed message gets its result on the result topic (a refusal
 * after its record went through the door; a run's record after the executor's reporters; a
 * config or maintenance result as its handler gave it), then its task id is marked done.
 */
export function createAnswers(options: AnswersOptions) {
  const { logger: log, now, seen } = options;

  /** Answers `outcome`; resolves once its result is spooled (an accepted run may take long). */
  async function answer(outcome: Exclude<RouteOutcome, { kind: "ignored" }>): Promise<void> {
    if (outcome.kind === "refused") {
      await options.onRefused?.(outcome.record)
        .catch((e) => log.error("cannot audit a refused command", { error: e.message }));
      await options.publish(outcome.result);
      return;
    }
    const failed = (e: unknown) =>
      options.publish({
        task_id: outcome.taskId,
        timestamp: resultTimestamp(now()),
        message: `the command could not be run: ${(e as Error).message}`,
        code: Code.SPAWN_FAILED,
      });
    // A run's record normally reached the MQTT reporter through the executor's reporters; it
    // publishes a task's result once, so handing it the record again only fills a gap.
    const published = outcome.message === "command"
      ? outcome.done.then((record) => options.reporter.report(record), failed)
      : outcome.done.then((result) => options.publish(result), failed);
    await published.then(() => seen.markDone(outcome.taskId))
      .catch((e) => log.error("cannot publish a result", { error: (e as Error).message }));
  }

  /**
   * Commands accepted by an earlier process that died before their result was spooled get an
   * INTERRUPTED (0x1009) result: never a second run, never silence.
   */
  async function interrupted(spooledPayloads: string[]): Promise<void> {
    const spooled = new Set<string>();
    for (const p of spooledPayloads) {
      try {
        spooled.add(taskKey(JSON.parse(p).task_id));
      } catch {
        // not a result
      }
    }
    for (const task of seen.unfinished()) {
      const taskId = task.task_id;
      if (!spooled.has(taskKey(taskId))) {
        log.warn("the agent died while handling this command; answering it as interrupted", {
          task_id: taskId,
          ...(task.service !== undefined ? { service: task.service, command: task.command } : {}),
          code: codeText(Code.INTERRUPTED),
        });
        const result: CommandResult = {
          task_id: taskId,
          timestamp: resultTimestamp(now()),
          message: "interrupted: the agent stopped (crash or kill) while handling this command; " +
            "it may or may not have run, and it is not run again",
          code: Code.INTERRUPTED,
        };
        const record = remoteResultRecord(result, {
          service: task.service ?? "",
          command: task.command ?? "",
          sender: task.sender,
        });
        await options.onInterrupted?.(record)
          .catch((e) => log.error("cannot report an interrupted command", { error: e.message }));
        await options.publish(result);
      }
      await seen.markDone(taskId);
    }
  }

  return { answer, interrupted };
}
