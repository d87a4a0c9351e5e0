import { z } from "zod";
import type { CommandResult } from "../model/mod.ts";
import { TaskIdSchema } from "./message.ts";

/** A result message as an agent publishes it. */
export const ResultMessageSchema = z.strictObject({
  task_id: TaskIdSchema,
  timestamp: z.string(),
  message: z.string(),
  code: z.number().int(),
});

/** A fresh task id like lua-collectd-monitor's send-command (1 … 2^32). */
export function newTaskId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! + 1;
}

/**
 * Matches results arriving on result topics with the commands waiting for them (central mode,
 * `agent send-command`, `agent send-config`).
 */
export interface ResultWaiter {
  /** Resolves with the result for `taskId`, or null after `timeoutMs` or when `signal` aborts. */
  wait(
    taskId: number | string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<CommandResult | null>;
  /** Offers a received payload; true when it was the awaited result of some task. */
  offer(payload: Uint8Array): boolean;
  readonly waiting: number;
}

export function createResultWaiter(): ResultWaiter {
  const pending = new Map<string, (r: CommandResult | null) => void>();
  const decoder = new TextDecoder();
  return {
    get waiting() {
      return pending.size;
    },
    wait(taskId, timeoutMs, signal) {
      const key = JSON.stringify(taskId);
      return new Promise((resolve) => {
        const finish = (r: CommandResult | null) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", abort);
          pending.delete(key);
          resolve(r);
        };
        const abort = () => finish(null);
        const timer = setTimeout(() => finish(null), timeoutMs);
        signal?.addEventListener("abort", abort, { once: true });
        pending.set(key, finish);
      });
    },
    offer(payload) {
      if (pending.size === 0) return false;
      let parsed;
      try {
        parsed = ResultMessageSchema.safeParse(JSON.parse(decoder.decode(payload)));
      } catch {
        return false;
      }
      if (!parsed.success) return false;
      const finish = pending.get(JSON.stringify(parsed.data.task_id));
      if (!finish) return false;
      finish(parsed.data);
      return true;
    },
  };
}
