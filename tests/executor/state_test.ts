import assert from "node:assert/strict";
import { join } from "node:path";
import { emptyState, loadState, STATE_FILE, stateWriter } from "../../src/executor/_state.ts";

Deno.test("loadState() starts empty, naming the file, whatever byte executor-state.json was cut at", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await stateWriter(dir)({
      version: 1,
      history: { "web/restart": [1, 2, 3] },
      loops: [{
        handler: "h",
        key: "k",
        service: "web",
        command: "restart",
        attempt: 1,
        phase: "watching",
        at: 5,
        since: 4,
      }],
    });
    const file = join(dir, STATE_FILE);
    const whole = await Deno.readTextFile(file);
    assert.equal((await loadState(dir, () => assert.fail("valid"))).loops.length, 1);
    const variants = [
      ...Array.from({ length: whole.length - 2 }, (_, cut) => whole.slice(0, cut)),
      "\u0000\u0000\u0000",
      JSON.stringify({ version: 2 }),
      JSON.stringify({ ...JSON.parse(whole), history: { x: ["1"] } }),
    ];
    for (const text of variants) {
      await Deno.writeTextFile(file, text);
      const reasons: string[] = [];
      const state = await loadState(dir, (why) => reasons.push(why));
      assert.deepEqual(state, emptyState(), JSON.stringify(text));
      assert.equal(reasons.length, 1);
      assert.match(
        reasons[0]!,
        new RegExp(`^${file} is unreadable .* set aside as ${file}\\.corrupt-`),
      );
      assert.throws(() => Deno.statSync(file), Deno.errors.NotFound);
    }
    const aside = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".corrupt-"));
    assert.equal(aside.length, variants.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
