/** Check: RSS under a stated bound, with no growth trend. */
import type { SoakFacts } from "./_soak_facts.ts";
import { slope } from "./_soak_rss.ts";
import type { Row } from "./_soak_table.ts";

/** Bound on the agent process alone, and on it with its children (the rule host). */
export const RSS_BOUND_MIB = { agent: 400, tree: 800 };
/** A generation must live this long (after a 60 s warm-up) for its trend to count. */
const TREND_MIN_MS = 3 * 60_000;
/** Growth that counts as a trend: more than this many MiB per hour, fitted. */
const TREND_LIMIT_MIB_PER_HOUR = 30;

export function checkRss(f: SoakFacts): Row {
  if (f.rss.length === 0) {
    return { check: "RSS bounded, no growth", ok: false, detail: "no samples" };
  }
  const mib = (k: number) => k / 1024;
  const maxAgent = Math.max(...f.rss.map((s) => s.agentKiB));
  const maxTree = Math.max(...f.rss.map((s) => s.treeKiB));
  const trends: string[] = [];
  let worst = -Infinity;
  for (let g = 1; g <= f.generations; g++) {
    const born = f.generationStarts[g - 1] ?? 0;
    const pts = f.rss.filter((s) => s.generation === g && s.at - born > 60_000);
    if (pts.length < 2 || pts.at(-1)!.at - pts[0]!.at < TREND_MIN_MS) continue;
    const perHour = slope(pts.map((s) => [s.at / 3_600_000, mib(s.agentKiB)]));
    worst = Math.max(worst, perHour);
    trends.push(
      `#${g} ${perHour.toFixed(1)} MiB/h over ${
        ((pts.at(-1)!.at - pts[0]!.at) / 60_000).toFixed(0)
      } min`,
    );
  }
  const bounded = mib(maxAgent) < RSS_BOUND_MIB.agent && mib(maxTree) < RSS_BOUND_MIB.tree;
  const flat = trends.length === 0 || worst < TREND_LIMIT_MIB_PER_HOUR;
  return {
    check: "RSS bounded, no growth trend",
    ok: bounded && flat,
    detail: `max agent ${mib(maxAgent).toFixed(0)} MiB (bound ${RSS_BOUND_MIB.agent}), with ` +
      `children ${mib(maxTree).toFixed(0)} MiB (bound ${RSS_BOUND_MIB.tree}); ${f.rss.length} ` +
      `samples; trend (agent, after 60 s warm-up, limit ${TREND_LIMIT_MIB_PER_HOUR} MiB/h): ` +
      (trends.length ? trends.join(", ") : "no process lived 4 min: not measured in this run"),
  };
}
