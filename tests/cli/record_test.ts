import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeValueList } from "../../src/collectd/mod.ts";
import { readRecording } from "../../src/evaluator/mod.ts";
import { startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";

Deno.test("scripts/agent --record rotates the recording at --record-max-size and keeps --record-keep old files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-record-" });
  const port = freeUdpPort();
  await Deno.mkdir(join(dir, "rules"));
  const path = join(dir, "config.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: port }],
    }),
  );
  const agent = startAgent([
    "--config",
    path,
    "--record",
    "stream.jsonl",
    "--record-max-size",
    "8K",
    "--record-keep",
    "2",
  ]);
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await agent.waitFor(/recording every decoded metric.* max_bytes=8192 keep=2/, 30_000);
    await agent.waitFor(/started in local-only mode/, 30_000);
    for (let i = 0; i < 400; i++) {
      await udp.send(
        encodeValueList({
          host: "web1",
          plugin: "cpu",
          plugin_instance: String(i),
          type: "gauge",
          type_instance: "",
          time: Date.now() / 1000,
          interval: 1,
          values: [i],
          dstypes: ["gauge"],
        }),
        { transport: "udp", hostname: "127.0.0.1", port },
      );
      if (i % 40 === 39) await new Promise((r) => setTimeout(r, 300));
    }
    await new Promise((r) => setTimeout(r, 1500)); // the recorder writes once a second
    agent.kill("SIGTERM");
    assert.equal((await agent.status).code, 0, agent.lines.join("\n"));
    const state = join(dir, "state");
    const files = [...Deno.readDirSync(state)].map((e) => e.name)
      .filter((n) => n.startsWith("stream.jsonl")).sort();
    assert.deepEqual(files, ["stream.jsonl", "stream.jsonl.1", "stream.jsonl.2"]);
    let items = 0;
    for (const f of files) {
      assert.ok(Deno.statSync(join(state, f)).size <= 8192, f);
      items += (await readRecording(join(state, f))).length; // whole lines only
    }
    assert.ok(items > 40, `${items} items kept`);
  } finally {
    udp.close();
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});
