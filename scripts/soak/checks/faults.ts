/** Row: which faults were injected how often (and /healthz as seen during the run). */
import type { SoakFacts } from "../facts.ts";
import type { Row } from "../table.ts";

export function faultSummary(f: SoakFacts): Row {
  const fl = f.faults;
  const h = f.health;
  const up = h.filter((c) => c === 200).length;
  const down = h.filter((c) => c === 503).length;
  return {
    check: "faults injected",
    ok: fl.notes.length === 0 ? true : false,
    detail: `broker SIGKILLs ${fl.brokerKills}, agent SIGKILLs ${fl.agentKills}, floods ` +
      `${fl.floodWindows.length}, rule swaps ${fl.ruleSwaps}, commands sent ${f.tasks.length}; ` +
      `/healthz: ${up}×200 ${down}×503 ${h.length - up - down}×unreachable` +
      (fl.notes.length ? `; problems: ${fl.notes.join("; ")}` : ""),
  };
}
