/** Check: valid metrics kept being accepted and evaluated through the malformed flood. */
import type { SoakFacts } from "./_soak_facts.ts";
import type { Scrape } from "./_soak_scrape.ts";
import type { Row } from "./_soak_table.ts";

const VALUES = "edge_agent_collectd_values_total";
const DROPPED = "edge_agent_collectd_dropped_total";
/** Highest loss of valid values during a flood that still passes. */
export const FLOOD_LOSS_LIMIT = 0.05;

/** Rate (per s) of `name` between consecutive scrapes of one generation, split by flood. */
function rates(scrapes: Scrape[], name: string, windows: [number, number][]) {
  const inFlood = (t0: number, t1: number) => windows.some(([a, b]) => t0 >= a && t1 <= b + 500);
  const calm: number[] = [], flood: number[] = [];
  for (let i = 1; i < scrapes.length; i++) {
    const a = scrapes[i - 1]!, b = scrapes[i]!;
    if (a.generation !== b.generation) continue;
    const va = a.totals[name], vb = b.totals[name];
    if (va === undefined || vb === undefined || vb < va) continue;
    const r = (vb - va) / ((b.at - a.at) / 1000);
    const touches = windows.some(([s, e]) => a.at < e && b.at > s);
    if (inFlood(a.at, b.at)) flood.push(r);
    else if (!touches) calm.push(r);
  }
  const mean = (x: number[]) => x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN;
  return { calm: mean(calm), flood: mean(flood), nCalm: calm.length, nFlood: flood.length };
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
  const evalName = Object.keys(f.scrapes.at(-1)!.totals).find((n) =>
    /^edge_agent_rules?_.*evaluat.*_total$/.test(n)
  );
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
  const lossOk = measured && loss <= FLOOD_LOSS_LIMIT &&
    (!e || !Number.isFinite(evalLoss) || evalLoss <= FLOOD_LOSS_LIMIT);
  return {
    check,
    ok: measured ? lossOk : null,
    detail:
      `${sent} bad datagrams (${
        Object.entries(f.faults.floodSent).map(([k, n]) => `${k} ${n}`).join(", ")
      }); ` +
      `valid values/s calm ${v.calm.toFixed(1)} vs flood ${v.flood.toFixed(1)}: loss ` +
      `${measured ? (Math.max(0, loss) * 100).toFixed(1) + "%" : "n/a"} (limit ${
        FLOOD_LOSS_LIMIT * 100
      }%)` +
      (e
        ? `; ${evalName} /s calm ${e.calm.toFixed(1)} vs flood ${e.flood.toFixed(1)}`
        : "; no rule-evaluation counter exported") +
      `; agent's drop counters (last process): ${dropped.join(", ") || "none"}`,
  };
}
