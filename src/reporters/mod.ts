/**
 * Destinations of every run's record: the log, the append-only audit file, collectd
 * notifications (the MQTT result reporter lives in mqtt.ts, by the MQTT work). Every reporter
 * passes the shared contract suite in tests/reporters/contract.ts.
 * @module
 */
export { createLogReporter, triggerName } from "./log.ts";
export { AUDIT_FILE, auditLine, createAuditReporter } from "./audit.ts";
export type { AuditLine, AuditOptions } from "./audit.ts";
export { createCollectdReporter, notificationOf, summary } from "./collectd.ts";
export type { CollectdReporterOptions, NotifyServer } from "./collectd.ts";
