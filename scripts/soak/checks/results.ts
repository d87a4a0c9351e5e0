/** Check: every command published got exactly one result (refusals of re-sends aside). */
import type { SoakFacts } from "../facts.ts";
import type { Row } from "../table.ts";

/**
 * Each task has exactly one result that is not a 0x1100 refusal (identical copies of that result,
 * e.g. re-published from the spool, count once). 0x1100 answers are judged by
 * {@linkcode checkRefusedRedeliveries}.
 */
export function checkExactlyOneResult(f: SoakFacts): Row {
  let missing = 0, conflicting = 0, identicalRepeats = 0;
  const bad: string[] = [];
  for (const t of f.tasks) {
    const real = f.results.filter((r) => String(r.task_id) === t.task_id && r.code !== 0x1100);
    const distinct = new Set(real.map((r) => r.raw));
    identicalRepeats += real.length - distinct.size;
    if (distinct.size === 0) {
      missing++;
      bad.push(`${t.task_id} (${t.service}/${t.command}) no result`);
    } else if (distinct.size > 1) {
      conflicting++;
      bad.push(`${t.task_id} (${t.service}/${t.command}) ${distinct.size} different results`);
    }
  }
  const resent = f.tasks.filter((t) => t.sends > 1).length;
  return {
    check: "every command got exactly one result",
    ok: f.tasks.length > 0 && missing === 0 && conflicting === 0,
    detail: `${f.tasks.length} commands: ${f.tasks.length - missing - conflicting} with one ` +
      `result, ${missing} without, ${conflicting} with several different ones; operator re-sent ` +
      `${resent} overdue (same task_id); identical re-deliveries of a result ${identicalRepeats}` +
      (bad.length ? `; e.g. ${bad.slice(0, 3).join("; ")}` : ""),
  };
}

/**
 * A command delivered again (re-sent by the operator, or re-delivered by a broker after a
 * crash: QoS 1 is at-least-once) is answered 0x1100 and not run again (its mark count is 1).
 */
export function checkRefusedRedeliveries(f: SoakFacts): Row {
  const refusals = f.results.filter((r) => r.code === 0x1100);
  const byTask = new Map(f.tasks.map((t) => [t.task_id, t]));
  let resent = 0, redelivered = 0, unknown = 0;
  for (const r of refusals) {
    const t = byTask.get(String(r.task_id));
    if (!t) unknown++;
    else if (t.sends > 1) resent++;
    else redelivered++;
  }
  const runs = new Map<string, number>();
  for (const m of f.marks) {
    if (m.label !== "rule" && m.phase !== "done") runs.set(m.label, (runs.get(m.label) ?? 0) + 1);
  }
  const rerun = refusals.filter((r) => {
    const t = byTask.get(String(r.task_id));
    const label = t ? (t.service === "slow" ? t.command : t.service) : "";
    return (runs.get(label) ?? 0) > 1;
  }).length;
  return {
    check: "repeated deliveries refused (0x1100), not run",
    ok: rerun === 0 && unknown === 0,
    detail: `${refusals.length} answered 0x1100: ${resent} for commands the operator re-sent, ` +
      `${redelivered} for broker re-deliveries of a command sent once (a broker SIGKILLed ` +
      `before it saved the agent's PUBACK); ${rerun} of them ran again` +
      (redelivered ? "; strictly, these tasks got a second (refusal) message" : ""),
  };
}

/**
 * Each result has its command's expected code. A command that happened to be in flight when the
 * soak SIGKILLed the agent is rightly answered 0x1009 (interrupted) after the restart: allowed,
 * at most one per agent kill.
 */
export function checkExpectedCodes(f: SoakFacts): Row {
  const wrong: string[] = [];
  let n = 0;
  let interrupted = 0;
  for (const t of f.tasks) {
    if (t.expectCode === undefined) continue;
    const r = f.results.find((r) => String(r.task_id) === t.task_id && r.code !== 0x1100);
    if (!r) continue; // counted by the exactly-once check
    n++;
    if (r.code === 0x1009 && t.expectCode !== 0x1009 && interrupted < f.faults.agentKills) {
      interrupted++;
      continue;
    }
    if (r.code !== t.expectCode) {
      wrong.push(
        `${t.service}/${t.command} code ${hex(r.code)} (want ${hex(t.expectCode)}): ` +
          r.message.slice(0, 60),
      );
    }
  }
  return {
    check: "results carry the expected code",
    ok: wrong.length === 0,
    detail: `${n} results checked (ok=0, fail=3, hang=0x1010 timeout)` +
      (interrupted ? `; ${interrupted} in flight at an agent SIGKILL answered 0x1009` : "") +
      (wrong.length ? `; ${wrong.length} wrong, e.g. ${wrong.slice(0, 3).join("; ")}` : ""),
  };
}

const hex = (c: number) => c >= 0x1000 ? `0x${c.toString(16)}` : String(c);
