/** Check: valid metrics kept being accepted and evaluated through the malformed flood. */
import { DROPPED_COUNTER as DROPPED, VALUES_COUNTER as VALUES } from "../../../src/collectd/mod.ts";
import { EVALUATIONS_COUNTER } from "../../../src/evaluator/mod.ts";
import type { SoakFacts } from "../facts.ts";
import type { Scrape } from "../scrape.ts";
import type { Row } from "../table.ts";

/**
 * Highest loss of valid values during a flood that still passes: 10%, above the noise of
 * comparing 2-s scrape intervals of collectd's bursty sending.
 */
export const FLOOD_LOSS_LIMIT = 0.1;

/** The limit in force: `f.floodLossLimit` (--flood-loss-limit) or the default. */
const limitOf = (f: SoakFacts) => f.floodLossLimit ?? FLOOD_LOSS_LIMIT;

/**
 * Rate (per s) of `name` pooled over the scrape intervals inside a flood window and over those
 * touching none (intervals spanning a window edge or an agent restart are left out).
 */
function rates(scrapes: Scrape[], name: string, windows: [number, number][]) {
  const pool = { calm: { n: 0, d: 0, s: 0 }, flood: { n: 0, d: 0, s: 0 } };
  for (let i = 1; i < scrapes.length; i++) {
    const a = scrapes[i - 1]!, b = scrapes[i]!;
    if (a.generation !== b.generation) continue;
    const va = a.totals[name], vb = b.totals[name];
    if (va === undefined || vb === undefined || vb < va) continue;
    const inside = windows.some(([s, e]) => a.at >= s && b.at <= e + 500);
    const touches = windows.some(([s, e]) => a.at < e + 500 && b.at > s);
    const p = inside ? pool.flood : touches ? null : pool.calm;
    if (!p) continue;
    p.n++;
    p.d += vb - va;
    p.s += (b.at - a.at) / 1000;
  }
  return {
    calm: pool.calm.d / pool.calm.s,
    flood: pool.flood.d / pool.flood.s,
    nCalm: pool.calm.n,
    nFlood: pool.flood.n,
  };
}

export function checkFlood(f: SoakFacts): Row {
  const check = "valid metrics evaluated through the flood";
  const sent = Object.values(f.faults.floodSent).reduce((s, v) => s + v, 0);
  if (f.faults.floodWindows.length === 0) return { check, ok: null, detail: "no flood injected" };
  if (f.scrapes.length < 3) {
    return {
      check,
      ok: null,
      detail: `${sent} bad datagrams sent, but the agent's /metrics was not reachable ` +
        "(Telemetry not wired into the agent yet): loss not measurable",
    };
  }
  const v = rates(f.scrapes, VALUES, f.faults.floodWindows);
  const evalName = EVALUATIONS_COUNTER in f.scrapes.at(-1)!.totals
    ? EVALUATIONS_COUNTER
    : undefined;
  const e = evalName ? rates(f.scrapes, evalName, f.faults.floodWindows) : null;
  const loss = 1 - v.flood / v.calm;
  const evalLoss = e ? 1 - e.flood / e.calm : NaN;
  const last = f.scrapes.at(-1)!;
  const dropped = Object.entries(last.series).filter(([k]) =>
    k.startsWith(DROPPED) && last.series[k]! > 0
  )
    .map(([k, n]) =>
      `${k.slice(DROPPED.length).replace(/[{}"]/g, "").replace("reason=", "")} ${n}`
    );
  const measured = Number.isFinite(loss) && v.nFlood > 0 && v.nCalm > 0;
  const lossOk = measured && loss <= limitOf(f) &&
    (!e || !Number.isFinite(evalLoss) || evalLoss <= limitOf(f));
  return {
    check,
    ok: measured ? lossOk : null,
    detail:
      `${sent} bad datagrams (${
        Object.entries(f.faults.floodSent).map(([k, n]) => `${k} ${n}`).join(", ")
      }); ` +
      `valid values/s calm ${v.calm.toFixed(1)} vs flood ${v.flood.toFixed(1)}: loss ` +
      `${measured ? (Math.max(0, loss) * 100).toFixed(1) + "%" : "n/a"} (limit ${
        limitOf(f) * 100
      }%)` +
      (e
        ? `; ${evalName} /s calm ${e.calm.toFixed(1)} vs flood ${e.flood.toFixed(1)}`
        : "; no rule-evaluation counter exported") +
      `; agent's drop counters (last process): ${dropped.join(", ") || "none"}`,
  };
}
