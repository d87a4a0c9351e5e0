/**
 * The result of one command, exactly like lua-collectd-monitor's: `message` is the command's
 * output (or an error text), `code` its exit status or one of the documented error codes.
 */
export interface CommandResult {
  task_id: number | string;
  timestamp: string;
  message: string;
  code: number;
}

/**
 * lua-collectd-monitor's result timestamp, `2020-11-26T00:41:19Z`: UTC, whole seconds. `time` is
 * epoch ms, or an ISO time whose fraction of a second is dropped (`…:19.123Z` → `…:19Z`). The
 * one place this form is made (results, events, status, the commands the CLI sends).
 */
export function resultTimestamp(time: number | string = Date.now()): string {
  const iso = typeof time === "number" ? new Date(time).toISOString() : time;
  return iso.replace(/\.\d+Z$/, "Z");
}

/**
 * The one form a task id is compared in: its decimal text for a number, so `154` and `"154"`
 * are the same task (lua-collectd-monitor sends numbers, other clients strings). Results still
 * echo the id as it was sent.
 */
export function taskKey(taskId: number | string): string {
  return String(taskId);
}
