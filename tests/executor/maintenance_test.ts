import assert from "node:assert/strict";
import { join } from "node:path";
import {
  MAINTENANCE_FILE,
  maintenanceDuration,
  readMaintenance,
  startMaintenance,
} from "../../src/executor/mod.ts";

Deno.test("startMaintenance() and maintenanceDuration() refuse more than 30 days", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.throws(() => startMaintenance(dir, 8.64e19), RangeError);
    assert.throws(() => startMaintenance(dir, 30 * 86_400_000 + 1), RangeError);
    assert.throws(() => maintenanceDuration("999999999999d"), /longer than the maximum of 30d/);
    assert.throws(() => maintenanceDuration("1e9"), /not a duration/);
    assert.equal(maintenanceDuration("30d"), 30 * 86_400_000);
    assert.throws(() => Deno.statSync(join(dir, MAINTENANCE_FILE)), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readMaintenance() sets aside a file whose until is not a date or more than 30 days ahead", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = Date.UTC(2026, 0, 1);
    const file = join(dir, MAINTENANCE_FILE);
    const cases = [
      { since: now, until: 8.64e19 },
      { since: now + 40 * 86_400_000, until: now + 41 * 86_400_000 },
      { since: now, until: now - 1 },
      { since: now, until: now + 3_600_000, reason: "bell\u0007" },
    ];
    for (const m of cases) {
      await Deno.writeTextFile(file, JSON.stringify(m));
      const why: string[] = [];
      assert.equal(readMaintenance(dir, now, (w) => why.push(w)), null, JSON.stringify(m));
      assert.match(
        why[0] ?? "",
        new RegExp(`^${file} is unreadable .*set aside as ${file}\\.corrupt-`),
      );
    }
    await Deno.writeTextFile(file, JSON.stringify({ since: now, until: now + 3_600_000 }));
    assert.equal(readMaintenance(dir, now)?.until, now + 3_600_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
