/**
 * decoderSource() is the decoder the rule worker runs: these tests build a `permissions: "none"`
 * Worker from a `data:` URL holding only that source text (as the rule host does) and check it
 * decodes every golden case, and rates over several packets, exactly like decodePacket() in this
 * process. A decoder function that referenced anything outside its own body would fail here with
 * a ReferenceError: these tests are the guard of decoder_runtime.ts's "self-contained" rule,
 * including after esbuild (scripts/bundle) renamed identifiers.
 */
import assert from "node:assert/strict";
import {
  createDecodeStats,
  decodePacket,
  decoderSource,
  DROP_REASONS,
  encodeValueList,
  parseAuthFile,
  parseTypesDb,
  RateTracker,
  type SecurityLevel,
  unwrapPacket,
} from "../../src/collectd/mod.ts";
import type { DecoderRuntime } from "../../src/collectd/mod.ts";
import type { DsType, Metric, MetricValue, Notification } from "../../src/model/mod.ts";
import { TESTDATA, toJson, TYPES_DB_TEXT } from "./_golden.ts";

type Decoder = Pick<
  DecoderRuntime,
  "decodePacket" | "createDecodeStats" | "DROP_REASONS" | "RateTracker" | "parseTypesDb"
>;

/**
 * Decodes each run's packets with a fresh types.db lookup, rate tracker and stats. Runs in this
 * process and, as source text, in the worker: self-contained too.
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

/** Runs decodeRuns() in a permissions-none Worker whose decoder is `runtimeSource`. */
async function decodeInWorker(
  runtimeSource: string,
  runs: Uint8Array[][],
): Promise<{ results: RunResult[]; denied: boolean }> {
  const source = `const collectd = ${runtimeSource};
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
`;
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

Deno.test("decoderSource() in a permissions-none Worker decodes every golden case like decodePacket() here", async () => {
  const golden = goldenRuns();
  const runs = [...golden.map((g) => g.segments), golden.flatMap((g) => g.segments)];
  const want = decodeRuns(inProcess, TYPES_DB_TEXT, runs);
  assert.ok(want.at(-1)!.metrics.length > 50, "the golden cases hold metrics");
  assert.ok(want.at(-1)!.notifications.length > 0, "the golden cases hold notifications");
  assert.ok(want.some((r) => r.unknownTypes.length > 0), "a golden case has an unknown type");
  const { results, denied } = await decodeInWorker(decoderSource(), runs);
  assert.equal(denied, true, "the worker really has no permissions");
  for (let i = 0; i < golden.length; i++) {
    assertSameResults([results[i]!], [want[i]!], golden[i]!.name);
  }
  assertSameResults(results, want, "all golden cases through one decoder");
});

Deno.test("decoderSource() in a Worker gives the same rates over two packets as RateTracker here", async () => {
  const runs = [ratePackets()];
  const want = decodeRuns(inProcess, TYPES_DB_TEXT, runs);
  assert.deepStrictEqual(want[0]!.metrics.slice(3).map((m) => m.rates), [
    [10],
    [1, 10],
    [200, -100],
  ]);
  const { results } = await decodeInWorker(decoderSource(), runs);
  assertSameResults(results, want, "rates");
});

Deno.test("decoderSource() taken from an esbuild bundle (scripts/bundle's options) still decodes like decodePacket()", async () => {
  const dir = await Deno.makeTempDir({ prefix: "decoder_bundle_" });
  try {
    const mod = new URL("../../src/collectd/mod.ts", import.meta.url).href;
    // Another module-level `Part` etc. in the bundle makes esbuild rename the decoder's names.
    await Deno.writeTextFile(
      `${dir}/entry.ts`,
      `import { decoderSource } from ${JSON.stringify(mod)};\n` +
        `const Part = 1, HEADER_SIZE = 2, TWO_32 = 3, decoderRuntime = 4;\n` +
        `console.log(Part + HEADER_SIZE + TWO_32 + decoderRuntime);\n` +
        `await Deno.stdout.write(new TextEncoder().encode(decoderSource()));\n`,
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
        `${dir}/entry.ts`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-prompt", `${dir}/out.js`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const out = new TextDecoder().decode(run.stdout);
    const source = out.slice(out.indexOf("\n") + 1);
    assert.match(source, /^\(function decoderRuntime\(/);
    assert.notEqual(source, decoderSource(), "esbuild rewrote the function (else no test)");
    const runs = [...goldenRuns().map((g) => g.segments), ratePackets()];
    const { results } = await decodeInWorker(source, runs);
    assertSameResults(results, decodeRuns(inProcess, TYPES_DB_TEXT, runs), "bundled decoder");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// What the worker test guards against: a runtime function using a value from outside its body.
const OUTSIDE = "defined only in this module";
function leakyRuntime() {
  return {
    parseTypesDb: (text: string) => ({ text: OUTSIDE + text }),
  };
}

Deno.test("the Worker check fails with a ReferenceError for a runtime that uses a module-level value", async () => {
  assert.equal(leakyRuntime().parseTypesDb("").text, OUTSIDE, "works in its own module");
  await assert.rejects(
    () => decodeInWorker(`(${leakyRuntime.toString()})()`, [[]]),
    /ReferenceError: OUTSIDE is not defined/,
  );
});
