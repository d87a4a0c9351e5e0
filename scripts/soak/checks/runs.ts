/** Check: no remote command ran twice (each has its own command, which leaves a mark). */
import type { SoakFacts } from "../facts.ts";
import type { Row } from "../table.ts";

export function checkNoDoubleRun(f: SoakFacts): Row {
  const starts = new Map<string, number>();
  for (const m of f.marks) {
    if (m.label === "rule" || m.phase === "done") continue;
    starts.set(m.label, (starts.get(m.label) ?? 0) + 1);
  }
  const twice = [...starts].filter(([, n]) => n > 1);
  const label = (t: { service: string; command: string }) =>
    t.service === "slow" ? t.command : t.service;
  const remote = f.tasks.filter((t) => /^q\d+$/.test(t.service) || t.service === "slow");
  const ran = remote.filter((t) => starts.has(label(t))).length;
  return {
    check: "no command ran twice",
    ok: twice.length === 0,
    detail: `${ran} of ${remote.length} marked commands ran, ${twice.length} more than once` +
      (twice.length ? ` (${twice.slice(0, 5).map(([l, n]) => `${l}×${n}`).join(", ")})` : ""),
  };
}
