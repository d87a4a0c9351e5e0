/**
 * Rule-stage benchmark: 50 handlers (10 rule files × 5, thresholds, sustained/consecutive
 * latches, counter rates) over real collectd packets decoded in the sandbox.
 *
 * - offered load: 100 k values/s of packets submitted like the intake does; reports values/s
 *   and handler evaluations/s achieved, arrival→decision latency p50/p99/max, batch sizes;
 *   once per batching choice (the default 2 ms gather vs. next tick and 1 ms / 5 ms, batch caps, batches
 *   in flight).
 * - saturation: as many values as the stage takes; the drain rate is its ceiling.
 *
 * ```sh
 * scripts/deno run -A scripts/bench/rules.ts [--seconds 5] [--rate 100000] [--only saturation]
 * ```
 * There is no reference peer for sandboxed rules (lua-collectd-monitor runs Lua inside collectd),
 * so no ratio is printed. The machine is shared: figures are noisy.
 * @module
 */
import { parseArgs } from "node:util";
import { PacketBuilder } from "../../src/collectd/mod.ts";
import {
  createEvaluator,
  defaultHostCommand,
  type EvaluatorOptions,
} from "../../src/evaluator/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { DsType } from "../../src/model/mod.ts";
import { RULE } from "./_rules.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    rate: { type: "string", default: "100000" },
    only: { type: "string", default: "" },
  },
});
/** Runs only the lines whose label contains this text (e.g. `--only saturation`). */
const ONLY = args.only;
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);

/** One round of samples of every series (50 hosts × 14 value lists, 22 values), as packets. */
function round(t: number): { packets: Uint8Array[]; values: number } {
  const packets: Uint8Array[] = [];
  const b = new PacketBuilder((p) => packets.push(p));
  let values = 0;
  const add = (
    host: string,
    plugin: string,
    pi: string,
    type: string,
    ti: string,
    v: number[],
    ds: DsType,
  ) => {
    b.add({
      host,
      plugin,
      plugin_instance: pi,
      type,
      type_instance: ti,
      time: t,
      interval: 10,
      values: v,
      dstypes: v.map(() => ds),
    });
    values += v.length;
  };
  for (let h = 0; h < 50; h++) {
    const host = `edge${h}.example.net`;
    for (const state of ["user", "system", "idle", "wait"]) {
      add(host, "cpu", "0", "cpu", state, [Math.floor(t * 100)], "derive");
    }
    for (const ti of ["used", "free", "cached", "buffered"]) {
      add(host, "memory", "", "memory", ti, [2e9 + t], "gauge");
    }
    add(host, "interface", "eth0", "if_octets", "", [t * 1000, t * 2000], "derive");
    add(host, "interface", "eth0", "if_errors", "", [t, t], "derive");
    add(host, "load", "", "load", "", [0.5, 0.4, 0.3], "gauge");
    for (const ti of ["free", "used", "reserved"]) {
      add(host, "df", "root", "df_complex", ti, [1e10], "gauge");
    }
  }
  b.flush();
  return { packets, values };
}

/**
 * Churning state: the same handlers, but the sustained/consecutive counts of the memory and
 * load series change on every sample (conditions that hold without firing), so every sample
 * changes state that is synced to the agent.
 */
const CHURN = (i: number) =>
  RULE(i)
    .replace(`{ samples: 3 }`, `{ samples: 1e9 }`)
    .replace(`Number(m.values[0]) < ${1000 + i}`, `Number(m.values[0]) > ${1000 + i}`)
    .replace(`ctx.consecutive(Number(m.values[0]) > 1e6) > 3`, `ctx.consecutive(true) < 0`);

/**
 * The floor: 50 handlers that return at once. Everything but the rules themselves (submit,
 * frame, pipe, decode in the sandbox, 50 calls per value list, result back) is still paid, so
 * its latency is what this machine gives the pipeline in the same minutes: the reference the
 * real rules are compared with.
 */
const EMPTY = (i: number) =>
  `export const metrics = {${
    Array.from({ length: 5 }, (_, k) => `\n  empty_${i}_${k}(_m: unknown) {},`).join("")
  }\n};\n`;

const ROUNDS = 30;
const rounds = Array.from({ length: ROUNDS }, (_, i) => round(1_700_000_000 + i));
const valuesPerRound = rounds[0]!.values;
const packetValues = valuesPerRound / rounds[0]!.packets.length;

const dir = await Deno.makeTempDir({ prefix: "bench-rules-" });
const churnDir = await Deno.makeTempDir({ prefix: "bench-rules-churn-" });
const emptyDir = await Deno.makeTempDir({ prefix: "bench-rules-empty-" });
for (let i = 0; i < 10; i++) {
  await Deno.writeTextFile(`${dir}/rule${i}.ts`, RULE(i));
  await Deno.writeTextFile(`${churnDir}/rule${i}.ts`, CHURN(i));
  await Deno.writeTextFile(`${emptyDir}/rule${i}.ts`, EMPTY(i));
}
const typesDbText = await Deno.readTextFile("/usr/share/collectd/types.db");

function percentile(sorted: Float64Array, p: number) {
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

interface Stats {
  /** Arrival → decision of each packet (ms), preallocated: the harness must not add GC work. */
  latencies: Float64Array;
  /** Packets recorded in `latencies`. */
  measured: number;
  batches: number;
  packets: number;
  evaluations: number;
  busyMs: number;
}

async function withStage(
  extra: Partial<EvaluatorOptions>,
  body: (ev: ReturnType<typeof createEvaluator>, s: Stats) => Promise<void>,
) {
  const stats: Stats = {
    latencies: new Float64Array(Math.ceil((RATE / packetValues) * (SECONDS + 2) * 1.5)),
    measured: 0,
    batches: 0,
    packets: 0,
    evaluations: 0,
    busyMs: 0,
  };
  const ev = createEvaluator({
    rulesDir: dir,
    typesDbText,
    services: { s: { commands: { c: "/bin/true" } } },
    logger: createLogger({ level: "warn" }),
    onEvent: () => {},
    watch: false,
    budgetMs: 1000,
    hostCommand: defaultHostCommand(new URL("../../main.ts", import.meta.url).href),
    onBatchDone: ({ arrivals, doneAt, evaluations, busyMs }) => {
      stats.batches++;
      stats.busyMs += busyMs;
      stats.packets += arrivals.length;
      stats.evaluations += evaluations;
      for (const a of arrivals) {
        if (stats.measured < stats.latencies.length) stats.latencies[stats.measured++] = doneAt - a;
      }
    },
    ...extra,
  });
  await ev.start();
  if (ev.handlers.length !== 50) throw new Error(`expected 50 handlers, got ${ev.handlers.length}`);
  try {
    await body(ev, stats);
  } finally {
    await ev.stop();
  }
}

/**
 * CPU ticks since boot, all CPUs: `steal` is time the hypervisor ran other guests while this
 * one had work (`/proc/stat`); null where that file does not exist.
 */
function cpuTicks(): { steal: number; total: number } | null {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: f[7]!, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/** The share of CPU time stolen by the hypervisor since `from`, as a label. */
function stealSince(from: ReturnType<typeof cpuTicks>) {
  const to = cpuTicks();
  if (!from || !to || to.total === from.total) return "";
  return `  steal ${((to.steal - from.steal) / (to.total - from.total) * 100).toFixed(0)}%`;
}

/**
 * Submits packets at `rate` values/s for `seconds`; the first second is warm-up. Returns the
 * p99 (ms), NaN when `--only` skips the line.
 */
async function offered(label: string, extra: Partial<EvaluatorOptions>, rate = RATE) {
  if (!label.includes(ONLY)) return NaN;
  let p99 = NaN;
  await withStage(extra, async (ev, stats) => {
    const start = performance.now();
    let sent = 0;
    let r = 0;
    let p = 0;
    let measuredFrom = -1;
    let base = { packets: 0, evaluations: 0, t: 0 };
    let ticks: ReturnType<typeof cpuTicks> = null;
    for (;;) {
      const now = performance.now();
      const elapsed = (now - start) / 1000;
      if (elapsed >= SECONDS + 1) break;
      if (measuredFrom < 0 && elapsed >= 1) {
        measuredFrom = stats.measured;
        base = { packets: stats.packets, evaluations: stats.evaluations, t: now };
        ticks = cpuTicks();
      }
      const due = Math.floor(elapsed * rate / packetValues);
      while (sent < due) {
        const round = rounds[r]!;
        ev.submit(round.packets[p]!);
        sent++;
        if (++p === round.packets.length) [p, r] = [0, (r + 1) % ROUNDS];
      }
      await new Promise((res) => setTimeout(res, 1));
    }
    const end = performance.now();
    const steal = stealSince(ticks);
    await new Promise((res) => setTimeout(res, 200));
    const secs = (end - base.t) / 1000;
    const lat = stats.latencies.slice(measuredFrom, stats.measured).sort();
    const packets = stats.packets - base.packets;
    p99 = percentile(lat, 0.99);
    console.log(
      `${`${label} @ ${fmt(rate)}`.padEnd(48)} ${fmt((packets * packetValues) / secs)} values/s  ` +
        `${fmt((stats.evaluations - base.evaluations) / secs)} evals/s  ` +
        `p50 ${percentile(lat, 0.5).toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  ` +
        `max ${percentile(lat, 1).toFixed(1)} ms  ${
          (packets / Math.max(1, stats.batches)).toFixed(1)
        } pkts/batch${steal}`,
    );
  });
  return p99;
}

/** The reference ratio: the rules' p99 against the floor's, measured back to back. */
function ratio(label: string, rules: number, floor: number) {
  if (Number.isFinite(rules) && Number.isFinite(floor)) {
    console.log(
      `${label.padEnd(48)} p99 ${(rules - floor).toFixed(2)} ms over the floor's (${
        (rules / floor).toFixed(2)
      }×; target: ≤ +1 ms)`,
    );
  }
}

async function saturation(label: string, extra: Partial<EvaluatorOptions>) {
  if (!label.includes(ONLY)) return;
  await withStage({ maxPendingPackets: 1_000_000, ...extra }, async (ev, stats) => {
    const total = Math.ceil((RATE * SECONDS) / packetValues);
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const round = rounds[Math.floor(i / rounds[0]!.packets.length) % ROUNDS]!;
      ev.submit(round.packets[i % round.packets.length]!);
      if (i % 2000 === 0) await new Promise((res) => setTimeout(res, 0));
    }
    while (stats.packets < total) await new Promise((res) => setTimeout(res, 5));
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `${label.padEnd(48)} ${fmt((total * packetValues) / secs)} values/s  ` +
        `${fmt(stats.evaluations / secs)} evals/s  (${fmt(total * packetValues)} values in ${
          secs.toFixed(2)
        } s, ` +
        `${(stats.packets / stats.batches).toFixed(0)} pkts/batch, worker busy ` +
        `${(stats.busyMs / 1000 / secs * 100).toFixed(0)}% of the time)`,
    );
  });
}

function fmt(n: number) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} k`;
}

console.log(
  `rule stage: 50 handlers, ${valuesPerRound} values/round in ${
    rounds[0]!.packets.length
  } packets ` +
    `(${packetValues.toFixed(1)} values/packet); offered ${fmt(RATE)} values/s for ${SECONDS} s ` +
    `(+1 s warm-up). Shared 2-core machine: noisy.`,
);
const FLOOR = "floor: 50 empty handlers (default)";
ratio(
  "50 rules vs. the floor @ 100 k",
  await offered("gather 2 ms, cap 100 pkts (default)", {}),
  await offered(FLOOR, { rulesDir: emptyDir }),
);
await offered("next tick, cap 100 pkts", { batchDelayMs: 0 });
await offered("gather 1 ms, cap 100 pkts", { batchDelayMs: 1 });
await offered("gather 5 ms, cap 100 pkts", { batchDelayMs: 5 });
await offered("gather 2 ms, cap 10 pkts", { maxBatchPackets: 10 });
await offered("gather 2 ms, cap 1000 pkts", { maxBatchPackets: 1000 });
await offered("gather 2 ms, cap 100 pkts, 1 in flight", { inFlight: 1 });
await offered("gather 2 ms, cap 100 pkts, 4 in flight", { inFlight: 4 });
// Below saturation, for the latency of the stage itself rather than of a queue.
ratio(
  "50 rules vs. the floor @ 25 k",
  await offered("gather 2 ms, cap 100 pkts (default)", {}, RATE / 4),
  await offered(FLOOR, { rulesDir: emptyDir }, RATE / 4),
);
await offered("next tick, cap 100 pkts", { batchDelayMs: 0 }, RATE / 4);
ratio(
  "churning state vs. the floor @ 100 k",
  await offered("churning state (changes on every sample)", { rulesDir: churnDir }),
  await offered("floor: 50 empty handlers, next to churn", { rulesDir: emptyDir }),
);
await saturation("saturation, cap 100 pkts / 60 KiB (default)", {});
await saturation("saturation, cap 100 pkts, no byte cap", { maxBatchBytes: Infinity });
await saturation("saturation, cap 1000 pkts, no byte cap", {
  maxBatchPackets: 1000,
  maxBatchBytes: Infinity,
});
await Deno.remove(dir, { recursive: true });
await Deno.remove(churnDir, { recursive: true });
await Deno.remove(emptyDir, { recursive: true });
