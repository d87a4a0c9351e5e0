/** Check: every command published got exactly one result (refusals of re-sends aside). */
import type { SoakFacts } from "./_soak_facts.ts";
import type { Row } from "./_soak_table.ts";

export function checkExactlyOneResult(f: SoakFacts): Row {
  let missing = 0, conflicting = 0, identicalRepeats = 0, refusals = 0, refusalsUnsent = 0;
  const bad: string[] = [];
  for (const t of f.tasks) {
    const mine = f.results.filter((r) => String(r.task_id) === t.task_id);
    const real = mine.filter((r) => r.code !== 0x1100);
    const dup = mine.length - real.length;
    refusals += dup;
    if (dup > 0 && t.sends < 2) refusalsUnsent += dup;
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
  const ok = f.tasks.length > 0 && missing === 0 && conflicting === 0 && refusalsUnsent === 0;
  return {
    check: "every command got exactly one result",
    ok,
    detail:
      `${f.tasks.length} commands: ${f.tasks.length - missing - conflicting} with one result, ` +
      `${missing} without, ${conflicting} with several different ones; operator re-sent ${resent} ` +
      `overdue (same task_id), 0x1100 refusals ${refusals} (${refusalsUnsent} for a task sent ` +
      `once), identical re-deliveries ${identicalRepeats}` +
      (bad.length ? `; e.g. ${bad.slice(0, 3).join("; ")}` : ""),
  };
}

export function checkExpectedCodes(f: SoakFacts): Row {
  const wrong: string[] = [];
  let n = 0;
  for (const t of f.tasks) {
    if (t.expectCode === undefined) continue;
    const r = f.results.find((r) => String(r.task_id) === t.task_id && r.code !== 0x1100);
    if (!r) continue; // counted by the exactly-once check
    n++;
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
      (wrong.length ? `; ${wrong.length} wrong, e.g. ${wrong.slice(0, 3).join("; ")}` : ""),
  };
}

const hex = (c: number) => c >= 0x1000 ? `0x${c.toString(16)}` : String(c);
