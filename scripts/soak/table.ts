/** Soak harness: one row per check, printed as a table. */

/** A check's outcome: `ok` null means "not checked" (the agent does not support it yet). */
export interface Row {
  check: string;
  ok: boolean | null;
  detail: string;
}

/** A plain-text table: check | result | detail (detail wrapped at `width`). */
export function renderTable(rows: readonly Row[], width = 100): string {
  const w0 = Math.max(5, ...rows.map((r) => r.check.length));
  const mark = (r: Row) => r.ok === null ? "SKIP" : r.ok ? "PASS" : "FAIL";
  const lines = [
    `${"check".padEnd(w0)} | result | detail`,
    `${"-".repeat(w0)}-|--------|-${"-".repeat(40)}`,
  ];
  for (const r of rows) {
    const words = r.detail.split(" ");
    const wrapped: string[] = [];
    let cur = "";
    for (const word of words) {
      if (cur && cur.length + word.length + 1 > width) {
        wrapped.push(cur);
        cur = word;
      } else cur = cur ? `${cur} ${word}` : word;
    }
    wrapped.push(cur);
    wrapped.forEach((d, i) =>
      lines.push(
        `${(i === 0 ? r.check : "").padEnd(w0)} | ${i === 0 ? mark(r).padEnd(6) : "      "} | ${d}`,
      )
    );
  }
  return lines.join("\n");
}

/** Whether every checked row passed (skipped rows do not fail a run). */
export function allPassed(rows: readonly Row[]): boolean {
  return rows.every((r) => r.ok !== false);
}
