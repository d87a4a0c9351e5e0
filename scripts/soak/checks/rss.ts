/** Check: RSS under a stated bound, with no growth trend. */
import type { SoakFacts } from "../facts.ts";
import { slope } from "../rss.ts";
import type { Row } from "../table.ts";

/** Bound on the agent process alone, and on it with its children (the rule host). */
export const RSS_BOUND_MIB = { agent: 400, tree: 800 };
/** Samples of the first two minutes of each agent process (heap still settling) are left out. */
const WARMUP_MS = 2 * 60_000;
/** A process must be sampled this long after its warm-up for a trend to be judged. */
const TREND_MIN_MS = 5 * 60_000;
/** A trend: the last quarter's median RSS above the first quarter's by more than both. */
const TREND_LIMIT = { mibPerHour: 20, fraction: 0.05 };

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

export function checkRss(f: SoakFacts): Row {
  if (f.rss.length === 0) {
    return { check: "RSS bounded, no growth trend", ok: false, detail: "no samples" };
  }
  const mib = (k: number) => k / 1024;
  const maxAgent = Math.max(...f.rss.map((s) => s.agentKiB));
  const maxTree = Math.max(...f.rss.map((s) => s.treeKiB));
  const trends: string[] = [];
  let growing = false;
  for (let g = 1; g <= f.generations; g++) {
    const born = f.generationStarts[g - 1] ?? 0;
    const pts = f.rss.filter((s) => s.generation === g && s.at - born > WARMUP_MS);
    if (pts.length < 8 || pts.at(-1)!.at - pts[0]!.at < TREND_MIN_MS) continue;
    const q = Math.floor(pts.length / 4);
    const first = pts.slice(0, q), last = pts.slice(-q);
    const a = median(first.map((s) => mib(s.agentKiB))),
      b = median(last.map((s) => mib(s.agentKiB)));
    const hours = (last[Math.floor(q / 2)]!.at - first[Math.floor(q / 2)]!.at) / 3_600_000;
    const perHour = (b - a) / hours;
    const fitted = slope(pts.map((s) => [s.at / 3_600_000, mib(s.agentKiB)]));
    if (perHour > TREND_LIMIT.mibPerHour && (b - a) / a > TREND_LIMIT.fraction) growing = true;
    trends.push(
      `#${g} ${a.toFixed(1)} → ${b.toFixed(1)} MiB over ${(hours * 60).toFixed(0)} min ` +
        `(${perHour.toFixed(1)} MiB/h; least-squares ${fitted.toFixed(1)} MiB/h)`,
    );
  }
  const bounded = mib(maxAgent) < RSS_BOUND_MIB.agent && mib(maxTree) < RSS_BOUND_MIB.tree;
  return {
    check: "RSS bounded, no growth trend",
    ok: bounded && !growing,
    detail: `max agent ${mib(maxAgent).toFixed(0)} MiB (bound ${RSS_BOUND_MIB.agent}), with ` +
      `children ${mib(maxTree).toFixed(0)} MiB (bound ${RSS_BOUND_MIB.tree}); ${f.rss.length} ` +
      `samples; trend per agent process (median RSS of the first vs the last quarter after a ` +
      `2-min warm-up; a trend is > ${TREND_LIMIT.mibPerHour} MiB/h and > ` +
      `${TREND_LIMIT.fraction * 100}%): ` +
      (trends.length ? trends.join(", ") : "no process lived 7 min: not measured in this run"),
  };
}
