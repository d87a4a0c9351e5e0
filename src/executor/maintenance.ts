import { join } from "node:path";
import { z } from "zod";

/**
 * The maintenance switch: a small JSON file in StateDir (`maintenance.json`) with an expiry.
 * While it is in force, rule-triggered runs are suppressed (logged and counted); remote and CLI
 * commands still run. The CLI writes it, the MQTT command can too, and the running agent reads it
 * on every rule-triggered run (one small synchronous read), so no signal or restart is needed.
 */
export const MAINTENANCE_FILE = "maintenance.json";

const MaintenanceSchema = z.strictObject({
  /** Epoch milliseconds when maintenance started and when it ends by itself. */
  since: z.number(),
  until: z.number(),
  reason: z.string().optional(),
  /** Who switched it on: "cli", an MQTT sender, ... */
  by: z.string().optional(),
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
  if (!(forMs > 0) || !Number.isFinite(forMs)) {
    throw new RangeError(`maintenance duration must be positive, got ${forMs} ms`);
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
 * must not stop repairs forever, so it counts as off and `onInvalid` is told why).
 */
export function readMaintenance(
  stateDir: string,
  now: number = Date.now(),
  onInvalid?: (why: string, error?: unknown) => void,
): Maintenance | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(stateDir, MAINTENANCE_FILE));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) onInvalid?.((e as Error).message, e);
    return null;
  }
  let parsed;
  try {
    parsed = MaintenanceSchema.safeParse(JSON.parse(text));
  } catch (e) {
    onInvalid?.(`invalid JSON: ${(e as Error).message}`);
    return null;
  }
  if (!parsed.success) {
    onInvalid?.(z.prettifyError(parsed.error));
    return null;
  }
  return parsed.data.until > now ? parsed.data : null;
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
