/**
 * The agent's own log: levels, text or JSON lines on stdout, or the local syslog socket.
 * @module
 */
export { createLogger, formatJson, formatText, stdoutSink } from "./logger.ts";
export type { LogEvent, LoggerOptions, LogSink } from "./logger.ts";
export { syslogSink } from "./syslog.ts";
export type { SyslogOptions } from "./syslog.ts";
export { rateLimited } from "./rate_limit.ts";
