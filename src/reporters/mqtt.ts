import type { Outbox, QoS } from "../mqtt/mod.ts";
import { type Reporter, resultTimestamp, type RunRecord } from "../model/mod.ts";

/** Options of {@linkcode createMqttReporter}. */
export interface MqttReporterOptions {
  /** CommandResultTopic with `{host}` expanded; undefined = results are not published. */
  topic: string | undefined;
  qos: QoS;
  /** How many recent task ids are remembered to publish each result once. */
  remember?: number;
}

/** The MQTT result reporter. */
export type MqttReporter = Reporter;

/**
 * Publishes the result of every remote command (trigger `remote`) on the result topic, in
 * lua-collectd-monitor's `{task_id, timestamp, message, code}` form (timestamp in whole seconds,
 * one trailing newline of the output dropped), through the durable
 * outbox (spooled before publishing, kept until the broker acknowledged it). Rule- and
 * CLI-triggered runs are not published (the Lua plugin did not either). A task's result is
 * published once even when both the executor's reporter fan-out and the channel report it.
 */
export function createMqttReporter(outbox: Outbox, options: MqttReporterOptions): MqttReporter {
  const remember = options.remember ?? 10_000;
  const recent = new Set<string>();
  const key = (id: number | string) => JSON.stringify(id);
  return {
    name: "mqtt",
    async report(record: RunRecord) {
      if (record.trigger.kind !== "remote" || options.topic === undefined) return;
      const k = key(record.result.task_id);
      if (recent.has(k)) return;
      recent.add(k);
      if (recent.size > remember) recent.delete(recent.values().next().value!);
      const { task_id, code } = record.result;
      // The documented result reads "Hello World!": one trailing newline of the output is dropped.
      const message = record.result.message.replace(/\r?\n$/, "");
      const timestamp = resultTimestamp(record.result.timestamp);
      await outbox.send(options.topic, JSON.stringify({ task_id, timestamp, message, code }), {
        qos: options.qos,
      });
    },
  };
}
