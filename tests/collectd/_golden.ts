/**
 * Golden cases: tests/testdata/collectd/<case>/packet.bin (+ optional security.json
 * `{ "level": "Sign", "authFile": "alice: secret\n" }`) and expected.json, the result of running
 * the datagram through the intake's security/validation walk and the pure decoder.
 * `UPDATE_GOLDEN=1 scripts/deno test -A tests/collectd/golden_test.ts` rewrites expected.json.
 */
import {
  createDecodeStats,
  decodePacket,
  parseAuthFile,
  parseTypesDb,
  RateTracker,
  type SecurityLevel,
  unwrapPacket,
} from "../../src/collectd/mod.ts";
import type { Metric, Notification } from "../../src/model/mod.ts";

export const TESTDATA = new URL("../testdata/collectd/", import.meta.url);
export const TYPES_DB_TEXT = Deno.readTextFileSync(new URL("types.db", TESTDATA));

export interface CaseResult {
  segments: number;
  metrics: Metric[];
  notifications: Notification[];
  intakeDropped: Record<string, number>;
  decodeDropped: Record<string, number>;
  unknownTypes: string[];
}

/** Runs one datagram through unwrap + decode, as the agent does across its two processes. */
export function runDatagram(
  packet: Uint8Array,
  level: SecurityLevel = "None",
  authFile: string | null = null,
): CaseResult {
  const typesDb = parseTypesDb(TYPES_DB_TEXT);
  const users = authFile === null ? null : parseAuthFile(authFile);
  const stats = createDecodeStats();
  const rates = new RateTracker();
  const r: CaseResult = {
    segments: 0,
    metrics: [],
    notifications: [],
    intakeDropped: {},
    decodeDropped: {},
    unknownTypes: [],
  };
  unwrapPacket(packet, level, users, {
    segment(plain) {
      r.segments++;
      decodePacket(plain, {
        metric: (m) => r.metrics.push(m),
        notification: (n) => r.notifications.push(n),
      }, { typesDb, rates, stats, onUnknownType: (t) => r.unknownTypes.push(t) });
    },
    drop(reason) {
      r.intakeDropped[reason] = (r.intakeDropped[reason] ?? 0) + 1;
    },
  }, []);
  for (const [k, v] of Object.entries(stats.dropped)) if (v > 0) r.decodeDropped[k] = v;
  return r;
}

/** JSON with bigints as `{ "bigint": "123" }`. */
export function toJson(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) => typeof x === "bigint" ? { bigint: x.toString() } : x,
    2,
  ) + "\n";
}

export function fromJson(text: string): unknown {
  return JSON.parse(
    text,
    (_k, x) =>
      x !== null && typeof x === "object" && !Array.isArray(x) && Object.keys(x).length === 1 &&
        typeof x.bigint === "string"
        ? BigInt(x.bigint)
        : x,
  );
}
