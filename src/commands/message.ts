import { z } from "zod";

/** A task id as lua-collectd-monitor sends it (a number up to 2^32; strings also accepted). */
export const TaskIdSchema = z.union([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  z.string().min(1).max(128),
]);
export type TaskId = z.infer<typeof TaskIdSchema>;

/** `2020-11-26T00:41:19Z` (lua-collectd-monitor's form), fractions and offsets accepted. */
const Timestamp = z.string().regex(
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/,
  "expected an ISO 8601 UTC time such as 2020-11-26T00:41:19Z",
);

/** Fields every message (command or config) may carry. */
export const envelopeKeys = {
  task_id: TaskIdSchema,
  timestamp: Timestamp.optional(),
  /** Addressed agent; others ignore the message (broadcast topics). */
  host: z.string().min(1).optional(),
  /** Name of the signing sender (CommandSenders). */
  sender: z.string().min(1).max(128).optional(),
  /** Hex HMAC-SHA-256 over the canonical message (see signature.ts). */
  signature: z.string().regex(/^[0-9a-fA-F]{64}$/, "expected 64 hex digits").optional(),
};

/** A remote command: run `command` of `service` (lua-collectd-monitor's format). */
export const CommandMessageSchema = z.strictObject({
  ...envelopeKeys,
  service: z.string().min(1).max(256),
  command: z.string().min(1).max(256),
});
export type CommandMessage = z.infer<typeof CommandMessageSchema>;

/**
 * A collectd.conf replacement message: the envelope checked here, the rest (`config`, ...)
 * validated by its handler.
 */
export const ConfigEnvelopeSchema = z.looseObject({ ...envelopeKeys, config: z.unknown() });
export type ConfigMessage = z.infer<typeof ConfigEnvelopeSchema>;

/**
 * The maintenance switch: `on` suspends rule-triggered runs for `for` (e.g. "90m", "2h"),
 * `off` ends it, `status` reports it. Remote commands keep running either way.
 */
export const MaintenanceMessageSchema = z.strictObject({
  ...envelopeKeys,
  maintenance: z.enum(["on", "off", "status"]),
  for: z.string().regex(
    /^(\d+(\.\d+)?|(\d+(\.\d+)?[smhd])+)$/,
    "expected a duration such as 90m or 2h",
  ).optional(),
  reason: z.string().max(256).optional(),
}).refine((m) => m.maintenance !== "on" || m.for !== undefined, {
  message: 'maintenance "on" needs "for" (a duration such as "2h")',
  path: ["for"],
});
export type MaintenanceMessage = z.infer<typeof MaintenanceMessageSchema>;

/** What a payload turned out to be. */
export type ParsedMessage =
  | { kind: "command"; message: CommandMessage; raw: Record<string, unknown> }
  | { kind: "config"; message: ConfigMessage; raw: Record<string, unknown> }
  | { kind: "maintenance"; message: MaintenanceMessage; raw: Record<string, unknown> }
  /** Unusable; `taskId` when one could be read (then an error result is due). */
  | { kind: "invalid"; taskId: TaskId | undefined; reason: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decodes and validates one MQTT payload. Pure; never throws. */
export function parseMessage(payload: Uint8Array): ParsedMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(payload));
  } catch (e) {
    return { kind: "invalid", taskId: undefined, reason: `not JSON: ${(e as Error).message}` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { kind: "invalid", taskId: undefined, reason: "not a JSON object" };
  }
  const obj = raw as Record<string, unknown>;
  const id = TaskIdSchema.safeParse(obj.task_id);
  const taskId = id.success ? id.data : undefined;
  if ("config" in obj) {
    const parsed = ConfigEnvelopeSchema.safeParse(obj);
    if (parsed.success) return { kind: "config", message: parsed.data, raw: obj };
    return { kind: "invalid", taskId, reason: describe(parsed.error) };
  }
  if ("maintenance" in obj) {
    const parsed = MaintenanceMessageSchema.safeParse(obj);
    if (parsed.success) return { kind: "maintenance", message: parsed.data, raw: obj };
    return { kind: "invalid", taskId, reason: describe(parsed.error) };
  }
  const parsed = CommandMessageSchema.safeParse(obj);
  if (parsed.success) return { kind: "command", message: parsed.data, raw: obj };
  return { kind: "invalid", taskId, reason: describe(parsed.error) };
}

function describe(error: z.ZodError): string {
  return "invalid message: " + error.issues.map((i) => {
    const path = i.path.join(".");
    if (i.code === "unrecognized_keys") return `unknown field(s) ${i.keys.join(", ")}`;
    return path ? `${path}: ${i.message}` : i.message;
  }).join("; ");
}

/** lua-collectd-monitor's result timestamp: UTC, whole seconds, `Z`. */
export function resultTimestamp(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
