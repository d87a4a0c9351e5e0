import assert from "node:assert/strict";
import type mqtt from "mqtt";
import { withSignature } from "../../src/remote/mod.ts";
import { Code } from "../../src/model/mod.ts";
import { sampleRecords } from "../reporters/contract.ts";
import { collect, nowStamp, testClient, until } from "../_helpers/mqtt.ts";
import { startMosquitto } from "../_helpers/mosquitto.ts";
import { startDropProxy } from "../_helpers/tcp_proxy.ts";
import { channelConfig, startTestAgent } from "../_helpers/channel.ts";

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function withAgent(
  extra: Record<string, unknown>,
  body: (
    ctx: {
      client: mqtt.MqttClient;
      results: Awaited<ReturnType<typeof collect>>;
      send(m: unknown): Promise<void>;
    },
  ) => Promise<void>,
) {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-channel-" });
  const agent = await startTestAgent(channelConfig(broker.address, dir, extra));
  const client = await testClient(broker.port);
  try {
    await agent.channel.reporter; // started
    await until(() => agent.channel.connected, "the agent to connect");
    const results = await collect(client, "result/edge1");
    const send = (m: unknown) =>
      client.publishAsync("cmd/edge1", typeof m === "string" ? m : JSON.stringify(m), { qos: 1 })
        .then(() => {});
    await body({ client, results, send });
  } finally {
    await client.endAsync();
    await agent.stop();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a lua-collectd-monitor command gets its result in the same format on CommandResultTopic", async () => {
  await withAgent({}, async ({ results, send }) => {
    await send({
      task_id: 3126260400,
      timestamp: nowStamp(),
      service: "hello",
      command: "exec",
    });
    await results.waitFor(1);
    const r = results.messages[0]!;
    assert.deepEqual(Object.keys(r).sort(), ["code", "message", "task_id", "timestamp"]);
    assert.equal(r.task_id, 3126260400);
    assert.equal(r.code, 0);
    assert.equal(r.message, "Hello World!");
    assert.match(String(r.timestamp), TIMESTAMP);
  });
});

Deno.test("unknown service, unknown command, failing command, duplicate, stale and malformed commands each get their code", async () => {
  await withAgent({ MaxCommandAge: 60 }, async ({ results, send }) => {
    const ts = nowStamp();
    await send({ task_id: 1, timestamp: ts, service: "nope", command: "exec" });
    await send({ task_id: 2, timestamp: ts, service: "hello", command: "nope" });
    await send({ task_id: 3, timestamp: ts, service: "failing", command: "exit3" });
    await results.waitFor(3);
    await send({ task_id: 3, timestamp: ts, service: "hello", command: "exec" });
    await send({
      task_id: 4,
      timestamp: "2020-11-26T00:41:19Z",
      service: "hello",
      command: "exec",
    });
    await send({ task_id: 5, timestamp: ts, service: 5, command: "exec" });
    await send({ task_id: "six", timestamp: ts, service: "hello", command: "exec", extra: 1 });
    await send({ task_id: 7, service: "hello", command: "exec" });
    await results.waitFor(8);
    const byId = new Map(results.messages.map((m) => [JSON.stringify(m.task_id) + m.code, m]));
    const code = (id: unknown, c: number) => {
      const m = byId.get(JSON.stringify(id) + c);
      assert.ok(
        m,
        `expected a result ${c.toString(16)} for ${id}: ${JSON.stringify(results.messages)}`,
      );
      return m;
    };
    code(1, Code.NO_SERVICE);
    code(2, Code.NO_COMMAND);
    assert.match(String(code(3, 3).message), /broken/);
    assert.match(String(code(3, Code.DUPLICATE_TASK).message), /duplicate task_id: 3/);
    assert.match(String(code(4, Code.STALE_COMMAND).message), /too old/);
    assert.match(String(code(5, Code.INVALID_MESSAGE).message), /service/);
    assert.match(String(code("six", Code.INVALID_MESSAGE).message), /extra/);
    code(7, Code.STALE_COMMAND);
    assert.equal(results.messages.length, 8);
  });
});

Deno.test("a payload without a readable task_id is only logged and the agent keeps serving", async () => {
  await withAgent({}, async ({ results, send }) => {
    await send("this is not JSON");
    await send("[1,2]");
    await send({ service: "hello", command: "exec" });
    await send({ task_id: -1, service: "hello", command: "exec" });
    await send({ task_id: 10, timestamp: nowStamp(), service: "hello", command: "exec" });
    await results.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(results.messages.map((m) => [m.task_id, m.code]), [[10, 0]]);
  });
});

Deno.test("a command addressed to another host is ignored, one addressed to this host runs", async () => {
  await withAgent({}, async ({ results, send }) => {
    const ts = nowStamp();
    await send({ task_id: 20, timestamp: ts, service: "hello", command: "exec", host: "edge2" });
    await send({ task_id: 21, timestamp: ts, service: "hello", command: "exec", host: "edge1" });
    await results.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(results.messages.map((m) => [m.task_id, m.code]), [[21, 0]]);
  });
});

Deno.test("a task_id seen before a restart gets 0x1100 after it and the command does not run again", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-channel-" });
  const marker = `${dir}/runs`;
  const config = channelConfig(broker.address, dir, {
    Services: {
      count: { commands: { once: { Argv: ["/bin/sh", "-c", `echo run >> ${marker}`] } } },
    },
  });
  const client = await testClient(broker.port);
  try {
    const results = await collect(client, "result/edge1");
    const command = JSON.stringify({
      task_id: 42,
      timestamp: nowStamp(),
      service: "count",
      command: "once",
    });
    let agent = await startTestAgent(config);
    await until(() => agent.channel.connected, "the agent to connect");
    await client.publishAsync("cmd/edge1", command, { qos: 1 });
    await results.waitFor(1);
    await agent.stop();
    agent = await startTestAgent(config);
    await until(() => agent.channel.connected, "the agent to reconnect");
    await client.publishAsync("cmd/edge1", command, { qos: 1 });
    await results.waitFor(2);
    await agent.stop();
    assert.deepEqual(results.messages.map((m) => [m.task_id, m.code]), [
      [42, 0],
      [42, Code.DUPLICATE_TASK],
    ]);
    assert.equal(await Deno.readTextFile(marker), "run\n");
  } finally {
    await client.endAsync();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with CommandSenders, unsigned, unknown-sender and badly signed commands get 0x1006; a signed one runs", async () => {
  const secret = "0123456789abcdef-ops";
  await withAgent(
    { CommandSenders: [{ Name: "ops", Secret: secret }] },
    async ({ results, send }) => {
      const base = { timestamp: nowStamp(), service: "hello", command: "exec" };
      await send({ task_id: 1, ...base });
      await send(withSignature({ task_id: 2, ...base }, { Name: "eve", Secret: secret }));
      const forged = withSignature({ task_id: 3, ...base }, { Name: "ops", Secret: secret });
      await send({ ...forged, command: "other" });
      await send(withSignature({ task_id: 4, ...base }, { Name: "ops", Secret: secret }));
      await results.waitFor(4);
      const codes = Object.fromEntries(results.messages.map((m) => [m.task_id, m.code]));
      assert.deepEqual(codes, {
        1: Code.BAD_SIGNATURE,
        2: Code.BAD_SIGNATURE,
        3: Code.BAD_SIGNATURE,
        4: 0,
      });
    },
  );
});

Deno.test("the retained status topic says online with the status fields, and offline after stop", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-channel-" });
  const agent = await startTestAgent(channelConfig(broker.address, dir));
  try {
    await until(() => agent.channel.connected, "the agent to connect");
    const late = await testClient(broker.port);
    const status = await collect(late, "status/edge1");
    await status.waitFor(1);
    assert.equal(status.messages[0]!.status, "online");
    assert.equal(status.messages[0]!.host, "edge1");
    assert.equal(status.messages[0]!.version, "test");
    await agent.stop();
    await status.waitFor(2);
    assert.equal(status.messages[1]!.status, "offline");
    await late.endAsync();
    const after = await testClient(broker.port);
    const retained = await collect(after, "status/edge1");
    await retained.waitFor(1);
    assert.equal(retained.messages[0]!.status, "offline");
    await after.endAsync();
  } finally {
    await agent.stop();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("QoS 2 results produced while the only broker is unreachable wait in the spool and are all delivered when it is back", async () => {
  const broker = await startMosquitto();
  const proxy = startDropProxy(broker.port);
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-channel-" });
  const agent = await startTestAgent(
    channelConfig(proxy.address, dir, { QoS: 2, ReconnectInterval: 0.2 }),
  );
  const client = await testClient(broker.port);
  try {
    const results = await collect(client, "result/edge1");
    await until(() => agent.channel.connected, "the agent to connect");
    await proxy.down();
    await until(() => !agent.channel.connected, "the agent to notice the outage");
    const record = sampleRecords()[1]!;
    for (let i = 0; i < 100; i++) {
      await agent.channel.reporter.report({
        ...record,
        result: { ...record.result, task_id: 1000 + i },
        trigger: { kind: "remote", task_id: 1000 + i },
      });
    }
    assert.equal(Deno.readDirSync(`${dir}/mqtt-spool`).toArray().length, 100);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(results.messages.length, 0);
    proxy.up();
    await results.waitFor(100, 15_000);
    assert.deepEqual(
      results.messages.map((m) => m.task_id),
      Array.from({ length: 100 }, (_, i) => 1000 + i),
      "in order, each once",
    );
    await until(
      () => Deno.readDirSync(`${dir}/mqtt-spool`).toArray().length === 0,
      "the spool to empty",
    );
  } finally {
    await client.endAsync();
    await agent.stop();
    await proxy.close();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with ProtocolVersion 5 the round trip works the same", async () => {
  await withAgent({ ProtocolVersion: 5 }, async ({ results, send }) => {
    await send({ task_id: 55, timestamp: nowStamp(), service: "hello", command: "exec" });
    await results.waitFor(1);
    assert.deepEqual([results.messages[0]!.task_id, results.messages[0]!.code], [55, 0]);
  });
});

Deno.test("wrong broker credentials keep the agent disconnected, retrying, with the broker's refusal in the log", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-channel-" });
  const agent = await startTestAgent(channelConfig(broker.address, dir, { Password: "wrong" }));
  try {
    await until(
      () => agent.events.some((e) => /MQTT connection error/.test(e.msg)),
      "the refusal to be logged",
    );
    assert.equal(agent.channel.connected, false);
    const error = agent.events.find((e) => /MQTT connection error/.test(e.msg))!;
    assert.match(String(error.fields?.error), /Not authorized|Bad User Name or Password/i);
    assert.ok(!JSON.stringify(agent.events).includes("wrong"), "the password is never logged");
  } finally {
    await agent.stop();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second command for a service that is still running gets the executor's BUSY code", async () => {
  const services = {
    slow: { commands: { run: { Argv: ["/bin/sh", "-c", "sleep 0.5; echo done"] } } },
  };
  await withAgent({ Services: services }, async ({ results, send }) => {
    await send({ task_id: 1, timestamp: nowStamp(), service: "slow", command: "run" });
    await send({ task_id: 2, timestamp: nowStamp(), service: "slow", command: "run" });
    await results.waitFor(2);
    const codes = Object.fromEntries(results.messages.map((m) => [m.task_id, m.code]));
    assert.deepEqual(codes, { 1: 0, 2: Code.BUSY });
  });
});

Deno.test("the online status is re-published every StatusInterval, so its figures stay live", async () => {
  await withAgent({ StatusInterval: 0.2 }, async ({ client }) => {
    const status = await collect(client, "status/edge1");
    await status.waitFor(4, 5_000); // the retained one, then fresh ones
    assert.ok(status.messages.every((m) => m.status === "online"));
    const stamps = status.messages.map((m) => m.timestamp);
    assert.ok(stamps.length >= 4);
  });
});
