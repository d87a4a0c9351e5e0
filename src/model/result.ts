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
