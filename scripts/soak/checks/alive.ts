/** Check: the agent never exited on its own, and stopped cleanly on SIGTERM at the end. */
import type { SoakFacts } from "../facts.ts";
import type { Row } from "../table.ts";

export function checkAlive(f: SoakFacts): Row {
  const ok = f.selfExits.length === 0 && f.finalExit === 0;
  return {
    check: "the agent never exited on its own",
    ok,
    detail: `${f.generations} agent processes (${f.faults.agentKills} SIGKILLed by the soak), ` +
      `${f.selfExits.length} exits of their own` +
      (f.selfExits.length ? ` (${f.selfExits.slice(0, 3).join("; ")})` : "") +
      `; final SIGTERM exit code ${f.finalExit}` +
      (f.peerCrashes.length ? `; peers that crashed: ${f.peerCrashes.join(", ")}` : ""),
  };
}
