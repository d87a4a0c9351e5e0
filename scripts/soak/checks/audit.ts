/** Checks: every rule-triggered run, and every remote run, is in the audit file. */
import type { SoakFacts } from "../facts.ts";
import type { Row } from "../table.ts";

/** Runs cut short by the soak's SIGKILL of the agent cannot be audited: one gap per kill. */
const slack = (f: SoakFacts) => f.faults.agentKills;

export function checkRuleAudit(f: SoakFacts): Row {
  const ruleRuns = f.marks.filter((m) => m.label === "rule").length;
  const audited =
    f.audit.filter((a) =>
      a.trigger === "rule" && a.service === "rulefix" && a.command === "restart" && a.code === 0
    ).length;
  return {
    check: "every rule-triggered run is audited",
    ok: ruleRuns > 0 && ruleRuns - audited <= slack(f),
    detail: `${ruleRuns} rule-triggered runs marked, ${audited} audited` +
      (ruleRuns === 0 ? " (the rule never fired: is the rule host running?)" : "") +
      `; allowed gap ${slack(f)} (one per agent SIGKILL, the run it interrupted)`,
  };
}

/**
 * A remote run cut off by an agent SIGKILL is audited too: the restart answers it 0x1009 and
 * writes its line (service and command kept with its task id), so no gap is allowed.
 */
export function checkRemoteAudit(f: SoakFacts): Row {
  const ran = new Set(
    f.marks.filter((m) => m.label !== "rule" && m.phase !== "done").map((m) => m.label),
  );
  const audited = new Set(
    f.audit.filter((a) => a.trigger === "remote").map((a) =>
      a.service === "slow" ? a.command : a.service
    ),
  );
  const missing = [...ran].filter((l) => !audited.has(l));
  const interrupted = f.audit.filter((a) => a.trigger === "remote" && a.code === 0x1009).length;
  return {
    check: "every remote run is audited",
    ok: ran.size > 0 && missing.length === 0,
    detail: `${ran.size} remote runs marked, ${ran.size - missing.length} audited` +
      (missing.length ? ` (missing ${missing.slice(0, 5).join(", ")})` : "") +
      `; ${interrupted} of the audit lines are 0x1009 answers to runs cut off by an agent SIGKILL`,
  };
}
