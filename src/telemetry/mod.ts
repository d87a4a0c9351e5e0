/**
 * The agent's self-monitoring: the `/metrics` + `/healthz` endpoint, process gauges, a status
 * summary for MQTT and the own figures sent to collectd servers, built from `config.Telemetry`
 * by {@linkcode createTelemetry}.
 * @module
 */
export { createTelemetry } from "./telemetry.ts";
export type { Telemetry, TelemetryOptions } from "./telemetry.ts";
export type { CheckResult, HealthCheck, HealthReport } from "./health.ts";
