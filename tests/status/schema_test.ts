import assert from "node:assert/strict";
import { StatusReportSchema } from "../../src/status/mod.ts";
import { runningReport, stoppedReport } from "./_reports.ts";

const root = new URL("../../", import.meta.url);

Deno.test("StatusReportSchema takes a running agent's report and a stopped one's", () => {
  assert.deepEqual(StatusReportSchema.parse(runningReport()), runningReport());
  assert.deepEqual(StatusReportSchema.parse(stoppedReport()), stoppedReport());
});

Deno.test("StatusReportSchema refuses an unknown field, a missing one, another version and a bad time", () => {
  const extra = { ...runningReport(), extra: 1 };
  assert.equal(StatusReportSchema.safeParse(extra).success, false);
  const nested = runningReport() as unknown as { intake: Record<string, unknown> };
  nested.intake.typo = 1;
  assert.equal(StatusReportSchema.safeParse(nested).success, false);
  const { intake: _, ...missing } = runningReport();
  assert.equal(StatusReportSchema.safeParse(missing).success, false);
  assert.equal(StatusReportSchema.safeParse({ ...stoppedReport(), version: 2 }).success, false);
  assert.equal(StatusReportSchema.safeParse({ ...stoppedReport(), time: "noon" }).success, false);
});

Deno.test("every JSON example in docs/status.md is a valid report, and together they show every field", async () => {
  const doc = await Deno.readTextFile(new URL("docs/status.md", root));
  const examples = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]!));
  assert.ok(examples.length >= 2, "a running and a stopped example");
  const seen = new Set<string>();
  for (const e of examples) {
    const parsed = StatusReportSchema.safeParse(e);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    paths(e, "", seen);
  }
  const all = new Set<string>();
  paths(runningReport(), "", all);
  paths(stoppedReport(), "", all);
  for (const p of all) assert.ok(seen.has(p), `docs/status.md shows no ${p}`);
});

/** Every object key path of `v` (array elements as `[]`). */
function paths(v: unknown, at: string, out: Set<string>) {
  if (Array.isArray(v)) { for (const x of v) paths(x, `${at}[]`, out); }
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      out.add(`${at}.${k}`);
      paths(x, `${at}.${k}`, out);
    }
  }
}
