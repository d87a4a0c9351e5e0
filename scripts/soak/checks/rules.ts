/** Check: the cooldown held against a burst of triggers, and rules came back after the fixes. */
import type { SoakFacts } from "../facts.ts";
import type { Row } from "../table.ts";

export function checkCooldown(f: SoakFacts): Row {
  const runs = f.marks.filter((m) => m.label === "rule").sort((a, b) => a.at - b.at);
  const cd = f.layout.cooldownS * 1000;
  // Within one agent process the cooldown must hold (state survives restarts only if persisted,
  // so allow one early run per restart).
  let tooSoon = 0;
  for (let i = 1; i < runs.length; i++) {
    if (runs[i]!.at - runs[i - 1]!.at < cd - 250) tooSoon++;
  }
  const seconds = (f.endedAt - f.startedAt) / 1000;
  return {
    check: "cooldown held against a burst of triggers",
    ok: runs.length > 0 && tooSoon <= f.faults.agentKills,
    detail: `the rule triggered every other second for ${seconds.toFixed(0)} s; ` +
      `${runs.length} runs with Cooldown ${f.layout.cooldownS} s, ${tooSoon} closer than the ` +
      `cooldown (allowed: ${f.faults.agentKills}, one per agent restart)`,
  };
}

export function checkRuleRecovery(f: SoakFacts): Row {
  const check = "rules survive a looping and a broken rule file";
  if (f.faults.ruleFixedAt.length === 0) {
    return { check, ok: null, detail: "rule faults not injected" };
  }
  const runs = f.marks.filter((m) => m.label === "rule");
  const resumed = f.faults.ruleFixedAt.map((t) => runs.some((m) => m.at > t && m.at < t + 30_000));
  const okCount = resumed.filter(Boolean).length;
  return {
    check,
    ok: okCount === resumed.length && f.selfExits.length === 0,
    detail: `${f.faults.ruleSwaps} swaps (loop → syntax error → fixed) ×${resumed.length}; ` +
      `rule-triggered runs resumed within 30 s of the fix ${okCount}/${resumed.length} times`,
  };
}
