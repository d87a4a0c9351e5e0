import { join } from "node:path";
import { z } from "zod";
import { setAsideSync } from "../model/mod.ts";

/**
 * The maintenance switch: a small JSON file in StateDir (`maintenance.json`) with an expiry.
 * While it is in force, rule-triggered runs are suppressed (logged and counted); remote and CLI
 * commands still run. The CLI writes it, the MQTT command can too, and the running agent reads it
 * on every rule-triggered run (one small synchronous read), so no signal or restart is needed.
 */
export const MAINTENANCE_FILE = "maintenance.json";

/** The longest maintenance (`agent maintenance on --for`, the MQTT switch's `for`): 30 days. */
export const MAX_MAINTENANCE_MS = 30 * 86_400_000;

/** Printable text: no control characters (they would reach logs, results and the audit). */
// deno-lint-ignore no-control-regex
const PRINTABLE = /^[^\u0000-\u001f\u007f-\u009f]*$/;

/** A `reason` given with `on`: at most 256 printable characters. */
export const MaintenanceReasonSchema = z.string().max(256).regex(
  PRINTABLE,
  "must not hold control characters",
);

/** Epoch ms of a real date (what `new Date()` can print). */
const EpochMs = z.number().int().min(0).max(8.64e15);

const MaintenanceSchema = z.strictObject({
  /** Epoch milliseconds when maintenance started and when it ends by itself. */
  since: EpochMs,
  until: EpochMs,
  reason: MaintenanceReasonSchema.optional(),
  /** Who switched it on: "cli", an MQTT sender, ... */
  by: z.string().max(128).regex(PRINTABLE).optional(),
}).refine((m) => m.until > m.since && m.until - m.since <= MAX_MAINTENANCE_MS, {
  message: "until must be after since, by at most 30 days",
  path: ["until"],
});
export type Maintenance = z.infer<typeof MaintenanceSchema>;

/** Options of {@linkcode startMaintenance}. */
export interface StartMaintenanceOptions {
  reason?: string;
  by?: string;
  now?: number;
}

/** Switches maintenance on for `forMs` milliseconds (replacing any current one). */
export function startMaintenance(
  stateDir: string,
  forMs: number,
  options: StartMaintenanceOptions = {},
): Maintenance {
  if (!(forMs > 0) || !(forMs <= MAX_MAINTENANCE_MS)) {
    throw new RangeError(
      `maintenance duration must be positive and at most 30 days, got ${forMs} ms`,
    );
  }
  const now = options.now ?? Date.now();
  const m: Maintenance = {
    since: now,
    until: now + forMs,
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.by !== undefined ? { by: options.by } : {}),
  };
  Deno.mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, MAINTENANCE_FILE);
  const tmp = `${file}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(m) + "\n", { mode: 0o644 });
  Deno.renameSync(tmp, file);
  return m;
}

/** Switches maintenance off; false when it was not on. */
export function endMaintenance(stateDir: string): boolean {
  try {
    Deno.removeSync(join(stateDir, MAINTENANCE_FILE));
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The maintenance in force at `now`, or null (no file, expired, or unreadable: an unreadable file
 * must not stop repairs forever, so it counts as off, is set aside as
 * `maintenance.json.corrupt-<time>` and `onInvalid` is told why, naming the file). A file whose
 * `until` lies more than 30 days ahead of `now` is unreadable too: no switch can be that long.
 */
export function readMaintenance(
  stateDir: string,
  now: number = Date.now(),
  onInvalid?: (why: string, error?: unknown) => void,
): Maintenance | null {
  const file = join(stateDir, MAINTENANCE_FILE);
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      onInvalid?.(`cannot read ${file}: ${(e as Error).message}`, e);
    }
    return null;
  }
  let why: string;
  try {
    const parsed = MaintenanceSchema.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.until <= now + MAX_MAINTENANCE_MS) {
      return parsed.data.until > now ? parsed.data : null;
    }
    why = parsed.success
      ? `until ${new Date(parsed.data.until).toISOString()} is more than 30 days ahead`
      : z.prettifyError(parsed.error).replace(/\s*\n\s*/g, "; ");
  } catch (e) {
    why = `not JSON: ${(e as Error).message}`;
  }
  const saved = setAsideSync(file, now);
  onInvalid?.(
    `${file} is unreadable (${why}); ` +
      (saved ? `set aside as ${saved}` : "it could not be set aside") +
      "; maintenance counts as off",
  );
  return null;
}

/**
 * `text` as a maintenance duration in ms (see {@linkcode parseDuration}); a RangeError saying
 * why when it is not one, not positive, or longer than 30 days.
 */
export function maintenanceDuration(text: string): number {
  const ms = parseDuration(text);
  if (!(ms > 0)) {
    throw new RangeError(
      `"${text.slice(0, 40)}" is not a duration such as 90s, 30m, 2h, 1d or 1h30m`,
    );
  }
  if (ms > MAX_MAINTENANCE_MS) {
    throw new RangeError(`"${text.slice(0, 40)}" is longer than the maximum of 30d`);
  }
  return ms;
}

/** `90s`, `30m`, `2h`, `1d`, `1h30m` or plain seconds → milliseconds; NaN when invalid. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)([smhd])/gy;
  let total = 0;
  let end = 0;
  for (let m; (m = re.exec(text)) !== null;) {
    total += Number(m[1]) * units[m[2]!]!;
    end = re.lastIndex;
  }
  return end === text.length && end > 0 ? total : NaN;
}
