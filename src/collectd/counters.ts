/**
 * The intake's counters: their names (what `/metrics`, `/healthz`, the MQTT status and the own
 * figures sent to collectd show; read elsewhere only through these constants) and their
 * registration.
 * @module
 */
import type { Counter, Counters } from "../model/mod.ts";
import { INTAKE_DROP_REASONS, type IntakeDropReason } from "./unwrap.ts";

/** collectd datagrams received (labels: none). Its movement tells that packets arrive. */
export const PACKETS_COUNTER = "edge_agent_collectd_packets_total";
/** collectd datagram bytes received. */
export const BYTES_COUNTER = "edge_agent_collectd_bytes_total";
/** Values accepted (after security) and handed to the rule stage. */
export const VALUES_COUNTER = "edge_agent_collectd_values_total";
/** Datagrams (or parts) dropped, per `reason` (one of `INTAKE_DROP_REASONS`). */
export const DROPPED_COUNTER = "edge_agent_collectd_dropped_total";
/** Values in dropped datagrams (where countable). */
export const DROPPED_VALUES_COUNTER = "edge_agent_collectd_dropped_values_total";

/** The intake's counters, registered in one registry. */
export interface IntakeCounters {
  packets: Counter;
  bytes: Counter;
  values: Counter;
  dropped: Record<IntakeDropReason, Counter>;
  droppedValues: Counter;
}

/** Registers the intake's counters in `c` (every drop reason from the start, at 0). */
export function intakeCounters(c: Counters): IntakeCounters {
  const packets = c.counter(PACKETS_COUNTER, "collectd datagrams received");
  const bytes = c.counter(BYTES_COUNTER, "collectd datagram bytes received");
  const values = c.counter(
    VALUES_COUNTER,
    "values accepted (after security) and forwarded to the rule stage",
  );
  const dropped = {} as Record<IntakeDropReason, Counter>;
  for (const r of INTAKE_DROP_REASONS) {
    dropped[r] = c.counter(
      DROPPED_COUNTER,
      "collectd datagrams (or parts) dropped, per reason",
      { reason: r },
    );
  }
  const droppedValues = c.counter(
    DROPPED_VALUES_COUNTER,
    "values in dropped collectd datagrams (where countable)",
  );
  return { packets, bytes, values, dropped, droppedValues };
}
