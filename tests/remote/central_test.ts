import assert from "node:assert/strict";
import { Code } from "../../src/model/mod.ts";
import { until } from "../_helpers/mqtt.ts";
import { startMosquitto } from "../_helpers/mosquitto.ts";
import { channelConfig, startTestAgent } from "../_helpers/channel.ts";

Deno.test("central mode: sendCommand() publishes a signed command to another host's topic and resolves with its result", async () => {
  const broker = await startMosquitto();
  const edgeDir = await Deno.makeTempDir({ prefix: "edge-agent-edge-" });
  const centralDir = await Deno.makeTempDir({ prefix: "edge-agent-central-" });
  const ops = { Name: "central", Secret: "central-secret-0123456789" };
  const edge = await startTestAgent(
    channelConfig(broker.address, edgeDir, { CommandSenders: [ops] }),
  );
  const central = await startTestAgent(
    channelConfig(broker.address, centralDir, {
      HostName: "central",
      SignAs: ops,
      RemoteResultTimeout: 0.5,
    }),
  );
  try {
    await until(() => edge.channel.connected && central.channel.connected, "both agents");
    const trigger = { kind: "rule", handler: "nginx.ts::metric::down" } as const;
    const ok = await central.channel.sendCommand(
      "edge1",
      { service: "hello", command: "exec" },
      trigger,
    );
    assert.equal(ok.code, 0, JSON.stringify(ok));
    assert.match(ok.message, /Hello World!/);
    const failed = await central.channel.sendCommand(
      "edge1",
      { service: "nope", command: "x" },
      trigger,
    );
    assert.equal(failed.code, Code.NO_SERVICE);
    const none = await central.channel.sendCommand(
      "ghost",
      { service: "hello", command: "exec" },
      trigger,
    );
    assert.equal(none.code, Code.NO_RESULT);
    assert.match(none.message, /no result from ghost within 0.5 s/);
  } finally {
    await central.stop();
    await edge.stop();
    await broker.stop();
    await Deno.remove(edgeDir, { recursive: true });
    await Deno.remove(centralDir, { recursive: true });
  }
});

Deno.test("stopping the channel ends a central-mode wait at once with 0x1016", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-central-" });
  const central = await startTestAgent(
    channelConfig(broker.address, dir, { HostName: "central", RemoteResultTimeout: 60 }),
  );
  try {
    await until(() => central.channel.connected, "the central agent");
    const pending = central.channel.sendCommand("ghost", { service: "a", command: "b" }, {
      kind: "cli",
    });
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await central.stop();
    const r = await pending;
    assert.equal(r.code, Code.SHUTTING_DOWN);
    assert.ok(performance.now() - started < 5000);
  } finally {
    await central.stop();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
