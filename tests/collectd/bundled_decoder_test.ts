/**
 * The rule worker decodes collectd packets with src/collectd/'s decode.ts, rates.ts and
 * types_db.ts as `scripts/build_sandbox.ts` bundles them (`deno bundle`, esbuild renaming
 * identifiers) and runs them (a `permissions: "none"` Worker from a `data:` URL). These tests
 * bundle the same modules the same way and check they decode every golden case, and rates over
 * several packets, exactly like decodePacket() in this process.
 */
import assert from "node:assert/strict";
import {
  createDecodeStats,
  decodePacket,
  DROP_REASONS,
  encodeValueList,
  parseAuthFile,
  parseTypesDb,
  RateTracker,
  type SecurityLevel,
  unwrapPacket,
} from "../../src/collectd/mod.ts";
import type { DsType, Metric, MetricValue, Notification } from "../../src/model/mod.ts";
import { TESTDATA, toJson, TYPES_DB_TEXT } from "./_golden.ts";

interface Decoder {
  decodePacket: typeof decodePacket;
  createDecodeStats: typeof createDecodeStats;
  DROP_REASONS: typeof DROP_REASONS;
  RateTracker: typeof RateTracker;
  parseTypesDb: typeof parseTypesDb;
}

/**
 * Decodes each run's packets with a fresh types.db lookup, rate tracker and stats. Runs in this
 * process and, as source text, in the worker: self-contained.
 */
function decodeRuns(collectd: Decoder, typesDbText: string, runs: Uint8Array[][]) {
  return runs.map((packets) => {
    const typesDb = collectd.parseTypesDb(typesDbText);
    const rates = new collectd.RateTracker();
    const stats = collectd.createDecodeStats();
    const out = {
      metrics: [] as Metric[],
      notifications: [] as Notification[],
      unknownTypes: [] as string[],
      stats,
      series: 0,
      typesDbSize: typesDb.size,
      dropReasons: [...collectd.DROP_REASONS],
    };
    const visitor = {
      metric: (m: Metric) => void out.metrics.push(m),
      notification: (n: Notification) => void out.notifications.push(n),
    };
    const onUnknownType = (t: string) => void out.unknownTypes.push(t);
    for (const p of packets) {
      collectd.decodePacket(p, visitor, { typesDb, rates, stats, onUnknownType });
    }
    out.series = rates.size;
    return out;
  });
}
type RunResult = ReturnType<typeof decodeRuns>[number];

const inProcess: Decoder = {
  decodePacket,
  createDecodeStats,
  DROP_REASONS,
  RateTracker,
  parseTypesDb,
};

const SRC = new URL("../../src/collectd/", import.meta.url).href;

/**
 * A Worker's JavaScript: decode.ts, rates.ts and types_db.ts bundled like the rule worker's
 * source (scripts/build_sandbox.ts's `deno bundle` options), with decodeRuns() answering messages.
 */
async function bundledWorker(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "decoder_bundle_" });
  try {
    await Deno.writeTextFile(
      `${dir}/entry.js`,
      `import { createDecodeStats, decodePacket, DROP_REASONS } from "${SRC}decode.ts";
import { RateTracker } from "${SRC}rates.ts";
import { parseTypesDb } from "${SRC}types_db.ts";
const collectd = { decodePacket, createDecodeStats, DROP_REASONS, RateTracker, parseTypesDb };
const decodeRuns = ${decodeRuns.toString()};
self.onmessage = (e) => {
  let denied = false;
  try { Deno.readTextFileSync("/etc/hostname"); } catch { denied = true; }
  try {
    self.postMessage({ ok: true, denied, results: decodeRuns(collectd, e.data.typesDb, e.data.runs) });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err && err.stack || err) });
  }
};
`,
    );
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--config",
        config,
        "--platform",
        "deno",
        "--packages",
        "bundle",
        "--output",
        `${dir}/out.js`,
        `${dir}/entry.js`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
    return await Deno.readTextFile(`${dir}/out.js`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs decodeRuns() in a permissions-none Worker from the bundled `source`. */
async function decodeInWorker(
  source: string,
  runs: Uint8Array[][],
): Promise<{ results: RunResult[]; denied: boolean }> {
  const worker = new Worker("data:text/javascript," + encodeURIComponent(source), {
    type: "module",
    deno: { permissions: "none" },
  });
  try {
    const reply = await new Promise<
      { ok: true; results: RunResult[]; denied: boolean } | { ok: false; error: string }
    >((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`worker failed: ${e.message}`));
      };
      worker.postMessage({ typesDb: TYPES_DB_TEXT, runs });
    });
    if (!reply.ok) throw new Error(`decoding in the worker failed: ${reply.error}`);
    return reply;
  } finally {
    worker.terminate();
  }
}

/** Every golden case's datagram as the plaintext segments the intake hands the decoder. */
function goldenRuns(): { name: string; segments: Uint8Array[] }[] {
  const out: { name: string; segments: Uint8Array[] }[] = [];
  const dirs = [...Deno.readDirSync(TESTDATA)].filter((e) => e.isDirectory).map((e) => e.name);
  for (const name of dirs.sort()) {
    const dir = new URL(`${name}/`, TESTDATA);
    let sec: { level: SecurityLevel; authFile: string | null } = { level: "None", authFile: null };
    try {
      sec = JSON.parse(Deno.readTextFileSync(new URL("security.json", dir)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const users = sec.authFile === null ? null : parseAuthFile(sec.authFile);
    const segments: Uint8Array[] = [];
    unwrapPacket(Deno.readFileSync(new URL("packet.bin", dir)), sec.level, users, {
      segment: (plain) => void segments.push(plain.slice()),
      drop() {},
    }, []);
    out.push({ name, segments });
  }
  return out;
}

/** Two samples of a COUNTER (64-bit wrap, bigint), a 32-bit COUNTER and a two-source DERIVE. */
function ratePackets(): Uint8Array[] {
  const at = (time: number, type: string, values: MetricValue[], dstypes: DsType[]) =>
    encodeValueList({
      host: "h",
      plugin: "p",
      plugin_instance: "",
      type,
      type_instance: "i",
      time,
      interval: 10,
      values,
      dstypes,
    });
  return [
    at(1000, "counter", [2n ** 64n - 6n], ["counter"]),
    at(1000, "arc_l2_bytes", [4294967290, 100], ["counter", "counter"]),
    at(1000, "if_octets", [1000, 5000], ["derive", "derive"]),
    at(1010, "counter", [94], ["counter"]),
    at(1010, "arc_l2_bytes", [4, 200], ["counter", "counter"]),
    at(1010, "if_octets", [3000, 4000], ["derive", "derive"]),
  ];
}

/**
 * Deep equality (bigints, NaN and -0 compared exactly, prototypes too), and the same bigint-safe
 * JSON text, so property order is the same as well. (V8's serializer bytes are no use here: they
 * record each array's holey/packed storage, which differs between isolates with the same values.)
 */
function assertSameResults(got: RunResult[], want: RunResult[], label: string): void {
  assert.deepStrictEqual(got, want, label);
  assert.equal(toJson(got), toJson(want), `${label}: JSON text differs`);
}

Deno.test("the decoder bundled as the rule worker bundles it, in a permissions-none Worker, decodes every golden case like decodePacket() here", async () => {
  const golden = goldenRuns();
  const runs = [...golden.map((g) => g.segments), golden.flatMap((g) => g.segments)];
  const want = decodeRuns(inProcess, TYPES_DB_TEXT, runs);
  assert.ok(want.at(-1)!.metrics.length > 50, "the golden cases hold metrics");
  assert.ok(want.at(-1)!.notifications.length > 0, "the golden cases hold notifications");
  assert.ok(want.some((r) => r.unknownTypes.length > 0), "a golden case has an unknown type");
  const { results, denied } = await decodeInWorker(await bundledWorker(), runs);
  assert.equal(denied, true, "the worker really has no permissions");
  for (let i = 0; i < golden.length; i++) {
    assertSameResults([results[i]!], [want[i]!], golden[i]!.name);
  }
  assertSameResults(results, want, "all golden cases through one decoder");
});

Deno.test("the bundled decoder in a Worker gives the same rates over two packets as RateTracker here", async () => {
  const runs = [ratePackets()];
  const want = decodeRuns(inProcess, TYPES_DB_TEXT, runs);
  assert.deepStrictEqual(want[0]!.metrics.slice(3).map((m) => m.rates), [
    [10],
    [1, 10],
    [200, -100],
  ]);
  const { results } = await decodeInWorker(await bundledWorker(), runs);
  assertSameResults(results, want, "rates");
});
