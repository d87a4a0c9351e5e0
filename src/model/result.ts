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
 * The one form a task id is compared in: its decimal text for a number, so `154` and `"154"`
 * are the same task (lua-collectd-monitor sends numbers, other clients strings). Results still
 * echo the id as it was sent.
 */
export function taskKey(taskId: number | string): string {
  return String(taskId);
}
