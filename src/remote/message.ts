import { z } from "zod";
import { maintenanceDuration, MaintenanceReasonSchema } from "../executor/mod.ts";

/**
 * A task id as lua-collectd-monitor sends it (a number up to 2^32; strings also accepted): an
 * integer 0…2^53−1, or 1–128 characters without control characters. Compared in one form
 * (`taskKey`: 154 and "154" are one task); results echo it as sent.
 */
export const TaskIdSchema = z.union([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  // deno-lint-ignore no-control-regex
  z.string().min(1).max(128).regex(/^[^\u0000-\u001f\u007f-\u009f]+$/, "no control characters"),
]);
export type TaskId = z.infer<typeof TaskIdSchema>;

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Epoch ms of an ISO 8601 time with a real date and time (month 1–12, a day the month has,
 * hours 0–23, minutes and seconds 0–59, an offset of at most ±23:59); NaN otherwise.
 * `Date.parse` alone takes `2026-02-31` for March 3rd and gives NaN for `+99:99`.
 */
export function parseTimestamp(text: string): number {
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offH = m[10] === undefined ? 0 : Number(m[10]);
  const offM = m[11] === undefined ? 0 : Number(m[11]);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || offH > 23 || offM > 59) {
    return NaN;
  }
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return NaN; // e.g. Feb 30
  const fraction = m[7] ? Math.trunc(Number(m[7]) * 1000) : 0;
  const sign = m[9] === "-" ? -1 : 1;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, fraction);
  return local - sign * (offH * 60 + offM) * 60_000;
}

/** `2020-11-26T00:41:19Z` (lua-collectd-monitor's form), fractions and offsets accepted. */
const Timestamp = z.string().max(40).refine(
  (t) => !Number.isNaN(parseTimestamp(t)),
  "expected a real ISO 8601 time such as 2020-11-26T00:41:19Z",
);

/** No control characters (they would reach logs, results, the audit and /metrics). */
// deno-lint-ignore no-control-regex
const PRINTABLE = /^[^\u0000-\u001f\u007f-\u009f]+$/;

/**
 * A name from a message (service, command, sender, host): 1–128 characters, none of them a
 * control character.
 */
export const NameSchema = z.string().min(1).max(128).regex(
  PRINTABLE,
  "must not hold control characters",
);

/** Fields every message (command or config) may carry. */
export const envelopeKeys = {
  task_id: TaskIdSchema,
  timestamp: Timestamp.optional(),
  /** Addressed agent; others ignore the message (broadcast topics). */
  host: z.string().min(1).max(253).regex(PRINTABLE, "must not hold control characters")
    .optional(),
  /** Name of the signing sender (CommandSenders). */
  sender: NameSchema.optional(),
  /** Hex HMAC-SHA-256 over the canonical message (see signature.ts). */
  signature: z.string().regex(/^[0-9a-fA-F]{64}$/, "expected 64 hex digits").optional(),
};

/** A remote command: run `command` of `service` (lua-collectd-monitor's format). */
export const CommandMessageSchema = z.strictObject({
  ...envelopeKeys,
  service: NameSchema,
  command: NameSchema,
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
  for: z.string().max(40).superRefine((text, ctx) => {
    try {
      maintenanceDuration(text);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  }).optional(),
  reason: MaintenanceReasonSchema.optional(),
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
  | {
    kind: "invalid";
    taskId: TaskId | undefined;
    reason: string;
    /** The object, when the payload was one. */
    raw?: Record<string, unknown>;
  };

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
    return { kind: "invalid", taskId, reason: describe(parsed.error), raw: obj };
  }
  if ("maintenance" in obj) {
    const parsed = MaintenanceMessageSchema.safeParse(obj);
    if (parsed.success) return { kind: "maintenance", message: parsed.data, raw: obj };
    return { kind: "invalid", taskId, reason: describe(parsed.error), raw: obj };
  }
  const parsed = CommandMessageSchema.safeParse(obj);
  if (parsed.success) return { kind: "command", message: parsed.data, raw: obj };
  return { kind: "invalid", taskId, reason: describe(parsed.error), raw: obj };
}

function describe(error: z.ZodError): string {
  return "invalid message: " + error.issues.map((i) => {
    const path = i.path.join(".");
    if (i.code === "unrecognized_keys") return `unknown field(s) ${i.keys.join(", ")}`;
    return path ? `${path}: ${i.message}` : i.message;
  }).join("; ");
}
