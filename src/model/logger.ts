/** Log levels, most severe first (lua-collectd-monitor's names). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug"] as const;
export type LogLevel = typeof LOG_LEVELS[number];

/** Structured fields of one log event. Values are printed, so never put secrets here. */
export type LogFields = Record<string, unknown>;

/**
 * Where every stage writes what it does. One call is one event (one line on stdout, one syslog
 * message). Implementations never throw.
 */
export interface Logger {
  fatal(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** Whether an event at `level` would be written (to skip building costly messages). */
  enabled(level: LogLevel): boolean;
  /** A logger whose events carry `component` (e.g. "listener", "executor"). */
  child(component: string): Logger;
}
