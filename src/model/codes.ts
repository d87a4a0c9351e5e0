/**
 * Every numeric code an operator can see in a result's `code` field. Codes below 0x1000 are a
 * command's own exit status. The 0x1001–0x1100 and 0x2000–0x2009 codes are lua-collectd-monitor's
 * (same meaning, same number); the others are edge-agent's, in the same style. docs/remote.md's
 * "Error codes" table lists them all.
 */
export const Code = {
  OK: 0,
  // lua-collectd-monitor: command handling
  NO_CONFIG: 0x1001,
  NO_SERVICE: 0x1002,
  NO_COMMAND: 0x1003,
  DUPLICATE_TASK: 0x1100,
  // edge-agent: command handling
  INVALID_MESSAGE: 0x1004,
  STALE_COMMAND: 0x1005,
  BAD_SIGNATURE: 0x1006,
  WRONG_HOST: 0x1007,
  /** Central mode / send-command: the other agent sent no result in time. */
  NO_RESULT: 0x1008,
  /** The agent died (crash, SIGKILL) while handling this command: it may or may not have run. */
  INTERRUPTED: 0x1009,
  // edge-agent: executor
  TIMEOUT: 0x1010,
  BUSY: 0x1011,
  SUPPRESSED: 0x1012,
  NOT_PERMITTED: 0x1013,
  SPAWN_FAILED: 0x1014,
  MAINTENANCE: 0x1015,
  SHUTTING_DOWN: 0x1016,
  ESCALATED: 0x1017,
  /**
   * Not run: the agent cannot record the task id in StateDir (disk full, read-only), so it could
   * not promise to run it once. Nothing ran; the same task_id may be sent again.
   */
  STATE_WRITE_FAILED: 0x1018,
  // lua-collectd-monitor: collectd.conf replacement
  CONFIG_TASK_RUNNING: 0x2000,
  CONFIG_WRITE_FAILED: 0x2001,
  CONFIG_INVALID: 0x2002,
  CONFIG_RESTART_FAILED: 0x2003,
  CONFIG_BACKUP_FAILED: 0x2005,
  CONFIG_SWAP_FAILED: 0x2006,
  CONFIG_RECOVERED: 0x2007,
  CONFIG_NOT_RECOVERED: 0x2008,
  CONFIG_NO_METRICS: 0x2009,
  // edge-agent: collectd.conf replacement
  /**
   * The new collectd.conf loads a plugin, includes a file or sets a file option the agent's
   * policy does not allow (the message names it); collectd was not run on it, nothing changed.
   */
  CONFIG_REFUSED: 0x2010,
} as const;
export type Code = typeof Code[keyof typeof Code];

/** Process exit codes of the `agent` command (documented in docs/operations.md and the man page). */
export const ExitCode = {
  OK: 0,
  /** The agent failed at run time (e.g. cannot bind its listener). */
  RUNTIME: 1,
  /** Wrong command-line usage. */
  USAGE: 2,
  /** The config or a rule file is invalid. */
  CONFIG: 3,
  /** `send-command`/`send-config`: the remote side answered with a non-zero code. */
  REMOTE_FAILED: 4,
  /** `send-command`/`send-config`: no result within --timeout. */
  REMOTE_TIMEOUT: 5,
  /** `status`: the agent is not running (nothing answers on its status socket). */
  NOT_RUNNING: 6,
} as const;
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/**
 * A code as the log prints it: the agent's own codes in hex as docs/remote.md lists them, with the
 * decimal a result's JSON `code` carries (`0x1002 (4098)`); a command's exit status as is.
 */
export function codeText(code: number): string {
  return code >= 0x1000 ? `0x${code.toString(16)} (${code})` : String(code);
}
