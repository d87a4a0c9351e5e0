/** Check: every rule-triggered run (and every remote run) is in the audit file. */
import type { SoakFacts } from "./_soak_facts.ts";
import type { Row } from "./_soak_table.ts";

export function checkAudit(f: SoakFacts): Row {
  const ruleRuns = f.marks.filter((m) => m.label === "rule").length;
  const ruleAudited =
    f.audit.filter((a) =>
      a.trigger === "rule" && a.service === "rulefix" && a.command === "restart" && a.code === 0
    ).length;
  // Runs cut short by our SIGKILL of the agent cannot be audited: allow one per agent kill.
  const missingRule = Math.max(0, ruleRuns - ruleAudited);
  const remoteRan = new Set(
    f.marks.filter((m) => m.label !== "rule" && m.phase !== "done").map((m) => m.label),
  );
  const audited = new Set(
    f.audit.filter((a) => a.trigger === "remote").map((a) =>
      a.service === "slow" ? a.command : a.service
    ),
  );
  const missingRemote = [...remoteRan].filter((l) => !audited.has(l));
  const slack = f.faults.agentKills;
  return {
    check: "every run is in the audit file",
    ok: ruleRuns > 0 && missingRule <= slack && missingRemote.length <= slack,
    detail: `rule-triggered runs: ${ruleRuns} marked, ${ruleAudited} audited; remote runs: ` +
      `${remoteRan.size} marked, ${remoteRan.size - missingRemote.length} audited` +
      (missingRemote.length ? ` (missing ${missingRemote.slice(0, 5).join(", ")})` : "") +
      `; allowed gap ${slack} (one per agent SIGKILL, the run it interrupted)`,
  };
}
