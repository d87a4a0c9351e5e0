import assert from "node:assert/strict";
import { join } from "node:path";
import { createJournalStore, JOURNAL_FILE } from "../../../src/collectd_conf/replace/_journal.ts";

Deno.test("a torn replacement journal is set aside, named, and blocks no later replacement", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = createJournalStore(dir);
    const file = join(dir, JOURNAL_FILE);
    for (const text of ['{"task_id":5,"timestamp":"2026-01-0', "[1,2]", "\u0000"]) {
      await Deno.writeTextFile(file, text);
      await assert.rejects(
        store.read(),
        new RegExp(
          `^Error: ${file} is not a valid replacement journal .*set aside as ${file}\\.corrupt-`,
        ),
      );
      assert.equal(await store.read(), null, "gone: a new replacement may start");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
