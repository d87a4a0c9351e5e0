/**
 * Executor overhead for /bin/true, beside a minimal Deno.Command spawn of the same process in the
 * same run (iterations interleaved, so machine noise hits both alike):
 *   trigger→spawn   run() (remote/CLI path) or onRuleEvent() (rule path) → process started
 *   spawn→result    process started → run() resolved with its record (output read, reported)
 * Baselines: `new Deno.Command("/bin/true", {stdout/stderr piped}).spawn()` → started → output(),
 * and the same spawn with `detached: true` (own session and process group, as the executor
 * spawns; in Deno 2.9 it costs ~1.4 ms more than a plain spawn). Executor rows are compared with
 * the process-group baseline, so the difference is the executor's own work.
 *
 *   scripts/deno run -A scripts/bench/executor.ts [iterations=300] [--audit]
 * (--audit adds the audit reporter, written and fsynced before the run resolves.)
 */
import { createExecutor, createProcessRunner, type Runner } from "../../src/executor/mod.ts";
import { createAuditReporter } from "../../src/reporters/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { createCounters, type Reporter } from "../../src/model/mod.ts";

const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 300);
const withAudit = Deno.args.includes("--audit");
const stateDir = await Deno.makeTempDir({ prefix: "bench-executor-" });

let spawnedAt = 0;
const real = createProcessRunner();
const timed: Runner = {
  run: (spec, onSpawn) =>
    real.run(spec, () => {
      spawnedAt = performance.now();
      onSpawn?.();
    }),
};
const reporters: Reporter[] = withAudit ? [createAuditReporter(stateDir)] : [];
let resolveRule: (() => void) | null = null;
reporters.push({
  name: "bench",
  report: () => (resolveRule?.(), Promise.resolve()),
});
const executor = createExecutor(
  {
    bench: {
      commands: {
        run: "/bin/true",
        rule: { Argv: ["/bin/true"], Cooldown: 0, MaxRuns: 1e9, Verify: 0 },
      },
    },
  },
  {
    logger: createLogger({ sink: () => {} }),
    counters: createCounters(),
    stateDir,
    reporters,
    runner: timed,
  },
);
await executor.start();

const remoteSpawn: number[] = [];
const remoteResult: number[] = [];
const ruleSpawn: number[] = [];
const baseSpawn: number[] = [];
const baseResult: number[] = [];
const groupSpawn: number[] = [];

for (let i = 0; i < n; i++) {
  // executor, remote/CLI path
  let t0 = performance.now();
  await executor.run({ service: "bench", command: "run", trigger: { kind: "cli" } });
  let t2 = performance.now();
  remoteSpawn.push(spawnedAt - t0);
  remoteResult.push(t2 - spawnedAt);

  // executor, rule path
  const done = new Promise<void>((r) => resolveRule = r);
  t0 = performance.now();
  executor.onRuleEvent({
    kind: "fired",
    handler: "bench.ts::metric::x",
    key: `k${i}`,
    actions: [{ service: "bench", command: "rule" }],
    time: Date.now() / 1000,
  });
  await done;
  ruleSpawn.push(spawnedAt - t0);
  await executor.idle();

  // baseline: a minimal Deno spawn of the same process
  t0 = performance.now();
  const child = new Deno.Command("/bin/true", { stdout: "piped", stderr: "piped" }).spawn();
  const t1 = performance.now();
  await child.output();
  t2 = performance.now();
  baseSpawn.push(t1 - t0);
  baseResult.push(t2 - t1);

  // the same, in its own session/process group as the executor does (detached: true)
  t0 = performance.now();
  const grouped = new Deno.Command("/bin/true", {
    stdout: "piped",
    stderr: "piped",
    detached: true,
  })
    .spawn();
  groupSpawn.push(performance.now() - t0);
  await grouped.output();
}
await executor.stop();
await Deno.remove(stateDir, { recursive: true });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const row = (name: string, xs: number[], base?: number[]) => {
  const p50 = pct(xs, 50);
  const p99 = pct(xs, 99);
  let line = `${name.padEnd(36)} p50 ${p50.toFixed(3).padStart(8)} ms   p99 ${
    p99.toFixed(3).padStart(8)
  } ms`;
  if (base) {
    line += `   (executor − baseline: p50 ${(p50 - pct(base, 50)).toFixed(3)} ms, ratio ${
      (p50 / pct(base, 50)).toFixed(2)
    })`;
  }
  return line;
};
console.log(`bench/executor: /bin/true × ${n}${withAudit ? ", with the audit reporter" : ""}`);
console.log(row("baseline Deno.Command spawn()", baseSpawn));
console.log(row("baseline spawn(), own process group", groupSpawn));
console.log(row("executor run() → spawned", remoteSpawn, groupSpawn));
console.log(row("executor onRuleEvent() → spawned", ruleSpawn, groupSpawn));
console.log(row("baseline spawned → output()", baseResult));
console.log(row("executor spawned → record", remoteResult, baseResult));
