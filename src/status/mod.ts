/**
 * `agent status`: the operator's view of the running agent. The agent serves a read-only report
 * on `<StateDir>/status.sock` (service.ts, server.ts); the command asks for it (client.ts), or,
 * when nobody answers, reads what the state files hold (offline.ts); format.ts prints either
 * for a terminal or as plain text, and schema.ts is the `--json` contract (docs/status.md).
 * @module
 */
export {
  type Run,
  type RunningReport,
  RunningReportSchema,
  STATUS_REQUEST,
  STATUS_SOCKET,
  STATUS_VERSION,
  type StatusError,
  type StatusReport,
  StatusReportSchema,
  type StoppedReport,
  StoppedReportSchema,
} from "./schema.ts";
export { createStatusService, type StatusService, type StatusServiceOptions } from "./service.ts";
export { createStatusServer, type StatusServer, type StatusServerOptions } from "./server.ts";
export type { StatusSources } from "./_collect.ts";
export { parseAnswer, type QueryOptions, queryStatus, type StatusAnswer } from "./client.ts";
export { stoppedReport } from "./offline.ts";
export { type FormatOptions, formatStatus, span } from "./format.ts";
