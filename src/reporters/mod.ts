/**
 * Destinations of every run's record: the log, the append-only audit file, collectd
 * notifications, the MQTT result topic; and report.ts, the one door through which a record
 * reaches them (the audit first, awaited). Every reporter passes the shared contract suite in
 * tests/reporters/contract.ts.
 * @module
 */
export { createLogReporter, triggerName } from "./log.ts";
export { AUDIT_FILE, auditLine, createAuditReporter } from "./audit.ts";
export type { AuditLine, AuditOptions } from "./audit.ts";
export { createCollectdReporter, notificationOf, summary } from "./collectd.ts";
export type { CollectdReporterOptions, NotifyServer } from "./collectd.ts";
export { createReport } from "./report.ts";
export type { Report, ReportOptions } from "./report.ts";
export { createMqttReporter } from "./mqtt.ts";
export type { MqttReporter, MqttReporterOptions } from "./mqtt.ts";
