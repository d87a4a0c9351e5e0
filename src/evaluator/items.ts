import { z } from "zod";
import type { Metric, Notification } from "../model/mod.ts";

/**
 * Metric and notification objects from outside (`test-rule --metric/--notification`, replay
 * files): strict schemas with the defaults an operator would otherwise have to type.
 */

const DsTypeSchema = z.enum(["counter", "gauge", "derive", "absolute"]);
const identity = {
  host: z.string().default("localhost"),
  plugin: z.string().min(1),
  plugin_instance: z.string().default(""),
  type: z.string().default(""),
  type_instance: z.string().default(""),
  /** Seconds; default: now. */
  time: z.number().optional(),
};

export const MetricInputSchema = z.strictObject({
  ...identity,
  type: z.string().min(1),
  interval: z.number().positive().default(10),
  values: z.array(z.union([z.number(), z.bigint()])).min(1),
  dstypes: z.array(DsTypeSchema).optional(),
  dsnames: z.array(z.string()).optional(),
  rates: z.array(z.number().nullable()).optional(),
});

export const NotificationInputSchema = z.strictObject({
  ...identity,
  severity: z.union([z.literal(1), z.literal(2), z.literal(4)]),
  message: z.string(),
});

/** Parses one metric object (defaults filled in). Throws a message naming the bad field. */
export function parseMetric(raw: unknown, now: number): Metric {
  const m = check(MetricInputSchema, raw, "metric");
  const n = m.values.length;
  const dsnames = m.dsnames ?? (n === 1 ? ["value"] : m.values.map((_, i) => `value${i}`));
  return {
    ...m,
    time: m.time ?? now,
    dstypes: m.dstypes ?? m.values.map(() => "gauge" as const),
    dsnames,
    rates: m.rates ?? m.values.map(() => null),
  };
}

/** Parses one notification object (defaults filled in). */
export function parseNotification(raw: unknown, now: number): Notification {
  const n = check(NotificationInputSchema, raw, "notification");
  return { ...n, time: n.time ?? now };
}

/** A replay line: a notification when it has `severity`, else a metric. */
export function parseItem(raw: unknown, now: number): Metric | Notification {
  const isNotification = typeof raw === "object" && raw !== null && "severity" in raw;
  return isNotification ? parseNotification(raw, now) : parseMetric(raw, now);
}

function check<T extends z.ZodType>(schema: T, raw: unknown, what: string): z.output<T> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new TypeError(`invalid ${what}: ${z.prettifyError(r.error).replaceAll("\n", "; ")}`);
}
