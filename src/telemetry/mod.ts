/**
 * The agent's self-monitoring: Prometheus text of the shared counters, the `/metrics` and
 * `/healthz` endpoint, process gauges, a status summary for MQTT and the own figures sent to
 * collectd servers.
 * @module
 */
export {
  createTelemetry,
  EVALUATIONS_COUNTER,
  HANDLERS_GAUGE,
  PACKETS_COUNTER,
  RULE_DROPS_COUNTER,
  VALUES_COUNTER,
} from "./telemetry.ts";
export type { Telemetry, TelemetryOptions } from "./telemetry.ts";
export { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
export { createTelemetryServer, parseListenAddress } from "./server.ts";
export type { TelemetryServer, TelemetryServerOptions } from "./server.ts";
export { activityCheck, combineChecks, quietCheck, stallCheck, totalOf } from "./health.ts";
export type {
  ActivityCheckOptions,
  CheckResult,
  HealthCheck,
  HealthReport,
  QuietCheckOptions,
  StallCheckOptions,
} from "./health.ts";
export { registerProcessGauges } from "./process_gauges.ts";
export type { MemoryFigures, ProcessGaugesOptions } from "./process_gauges.ts";
export { summarize } from "./status.ts";
export { createCollectdReport, packFor, toValueList } from "./collectd_report.ts";
export type {
  CollectdReport,
  CollectdReportOptions,
  CollectdTarget,
  DatagramSend,
  OwnValueList,
} from "./collectd_report.ts";
