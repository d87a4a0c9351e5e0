/**
 * End to end with the real peer: collectd 5.12 → the collectd intake → the rule stage (packets
 * decoded in the sandbox) → fired events.
 */
import assert from "node:assert/strict";
import { createIntake } from "../../src/collectd/mod.ts";
import { createEvaluator } from "../../src/evaluator/mod.ts";
import { createCounters, type RuleEvent } from "../../src/model/mod.ts";
import { startCollectd } from "../_helpers/collectd_peer.ts";
import { memoryLogger, rulesDir, testHostCommand } from "./_helpers.ts";

Deno.test("collectd's own metrics and notifications reach the sandboxed rules and fire", async () => {
  const dir = await rulesDir({
    // The ported Lua example with a threshold any machine is under (1 PB of free memory).
    "memory_free.ts":
      (await Deno.readTextFile(new URL("../../rules/memory_free.ts", import.meta.url)))
        .replace("10 * 1000 * 1000 * 1000", "1e15"),
    "warnings.ts": `export const notifications = {
  memory_used_warning(n: { severity: number; plugin: string }) {
    if (n.severity === 2 && n.plugin === "memory") return { service: "hello", command: "exec" };
  },
};\n`,
  });
  const log = memoryLogger();
  const events: RuleEvent[] = [];
  const ev = createEvaluator({
    rulesDir: dir,
    typesDbText: await Deno.readTextFile("/usr/share/collectd/types.db"),
    services: { hello: { commands: { exec: "/bin/true" } } },
    logger: log,
    onEvent: (e) => events.push(e),
    hostCommand: testHostCommand(),
    watch: false,
  });
  await ev.start();
  const intake = createIntake([{ Host: "127.0.0.1", Port: 0, SecurityLevel: "None" }], {
    logger: memoryLogger(),
    counters: createCounters(),
    onPacket: (plain) => ev.submit(plain),
  });
  try {
    await intake.start();
    const peer = await startCollectd({ port: intake.bound[0]!.port, threshold: true });
    try {
      const deadline = Date.now() + 15_000;
      while (events.length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(events.map((e) => `${e.kind} ${e.handler} ${e.key}`).sort(), [
        "fired memory_free.ts::metric::memory_free_is_under_10GB e2e-host/memory/memory-free",
        "fired warnings.ts::notification::memory_used_warning e2e-host/memory/memory-used",
      ], `collectd:\n${peer.output()}\nagent:\n${log.text()}`);
    } finally {
      await peer.stop();
    }
  } finally {
    await intake.stop();
    await ev.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
