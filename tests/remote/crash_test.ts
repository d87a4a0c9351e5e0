import assert from "node:assert/strict";
import { join } from "node:path";
import { Code } from "../../src/model/mod.ts";
import { AUDIT_FILE } from "../../src/reporters/mod.ts";
import { collect, nowStamp, testClient, until } from "../_helpers/mqtt.ts";
import { startMosquitto } from "../_helpers/mosquitto.ts";
import { startDropProxy } from "../_helpers/tcp_proxy.ts";
import { channelConfig } from "../_helpers/channel.ts";

const CHILD = new URL("./_agent_child.ts", import.meta.url).pathname;
const DENO = new URL("../../scripts/deno", import.meta.url).pathname;

function spawnAgent(configPath: string) {
  const child = new Deno.Command(DENO, {
    args: ["run", "-A", "--no-prompt", CHILD, configPath],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const connected = (async () => {
    let text = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (text.includes("connected")) return true;
    }
    return false;
  })();
  return { child, connected };
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".json")) out.push(e.name);
  } catch {
    // not there yet
  }
  return out;
}

Deno.test("an agent SIGKILLed after running a command but before the broker acknowledged the result delivers it after restart, without running it again", async () => {
  const broker = await startMosquitto();
  const proxy = startDropProxy(broker.port);
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-crash-" });
  const marker = join(dir, "runs");
  const config = channelConfig(proxy.address, dir, {
    CleanSession: false,
    Services: {
      slow: {
        commands: {
          run: { Argv: ["/bin/sh", "-c", `echo run >> ${marker}; sleep 1; echo done`] },
        },
      },
    },
  });
  const configPath = join(dir, "config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      ...JSON.parse(JSON.stringify(config)),
      source: undefined,
      RulesDir: undefined,
    }),
  );
  const client = await testClient(broker.port);
  let agent = spawnAgent(configPath);
  try {
    const results = await collect(client, "result/edge1");
    const status = await collect(client, "status/edge1");
    assert.ok(await agent.connected, "the agent child connected");
    await status.waitFor(1);
    await client.publishAsync(
      "cmd/edge1",
      JSON.stringify({ task_id: 77, timestamp: nowStamp(), service: "slow", command: "run" }),
      { qos: 1 },
    );
    await until(() => {
      try {
        return Deno.statSync(marker).size > 0;
      } catch {
        return false;
      }
    }, "the command to start");
    await new Promise((r) => setTimeout(r, 300)); // let the command's PUBACK through
    proxy.dropClientBytes = true; // the result's PUBLISH never reaches the broker
    const spool = join(dir, "mqtt-spool");
    const end = Date.now() + 10_000;
    while ((await files(spool)).length === 0) {
      if (Date.now() > end) throw new Error("the result was never spooled");
      await new Promise((r) => setTimeout(r, 10));
    }
    agent.child.kill("SIGKILL");
    await agent.child.status;
    proxy.cutAll();
    proxy.dropClientBytes = false;
    await status.waitFor(2);
    assert.equal(status.messages[1]!.status, "offline", "the last will says offline");
    assert.equal(results.messages.length, 0, "no result reached the broker before the kill");

    agent = spawnAgent(configPath);
    assert.ok(await agent.connected, "the restarted agent connected");
    await results.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(results.messages.map((m) => [m.task_id, m.code]), [[77, 0]]);
    assert.match(String(results.messages[0]!.message), /done/);
    assert.equal(await Deno.readTextFile(marker), "run\n", "the command ran once");
    await until(() => Deno.readDirSync(spool).toArray().length === 0, "the spool to empty");
  } finally {
    try {
      agent.child.kill("SIGKILL");
    } catch {
      // exited
    }
    await agent.child.status;
    await agent.child.stdout.cancel().catch(() => {});
    await client.endAsync(true);
    await proxy.close();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an agent SIGKILLed while a command runs answers it after restart with 0x1009, audits it and does not run it again", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-crash-" });
  const marker = join(dir, "runs");
  const config = channelConfig(broker.address, dir, {
    CleanSession: false,
    Services: {
      slow: {
        commands: { run: { Argv: ["/bin/sh", "-c", `echo run >> ${marker}; sleep 3; echo done`] } },
      },
    },
  });
  const configPath = join(dir, "config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      ...JSON.parse(JSON.stringify(config)),
      source: undefined,
      RulesDir: undefined,
    }),
  );
  const client = await testClient(broker.port);
  let agent = spawnAgent(configPath);
  try {
    const results = await collect(client, "result/edge1");
    assert.ok(await agent.connected, "the agent child connected");
    const command = JSON.stringify({
      task_id: 88,
      timestamp: nowStamp(),
      service: "slow",
      command: "run",
    });
    await client.publishAsync("cmd/edge1", command, { qos: 1 });
    await until(() => {
      try {
        return Deno.statSync(marker).size > 0;
      } catch {
        return false;
      }
    }, "the command to start");
    agent.child.kill("SIGKILL");
    await agent.child.status;

    agent = spawnAgent(configPath);
    assert.ok(await agent.connected, "the restarted agent connected");
    await results.waitFor(1);
    await client.publishAsync("cmd/edge1", command, { qos: 1 });
    await results.waitFor(2);
    // The kill may come before the broker got the command's acknowledgement: it then redelivers
    // it to the restarted agent, which refuses it as a duplicate too. Either way the 0x1009
    // answer comes first (the channel answers interrupted commands before it takes messages).
    const [first, ...rest] = results.messages.map((m) => [m.task_id, m.code]);
    assert.deepEqual(first, [88, Code.INTERRUPTED]);
    assert.ok(rest.length >= 1 && rest.length <= 2, JSON.stringify(results.messages));
    for (const r of rest) assert.deepEqual(r, [88, Code.DUPLICATE_TASK]);
    assert.equal(await Deno.readTextFile(marker), "run\n", "the command ran once");
    // The run cut off by the kill has no line of its own; the restart's 0x1009 answer is
    // audited with what the command asked for (it may have run).
    const audit = (await Deno.readTextFile(join(dir, AUDIT_FILE))).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      audit.map((a) => [a.task_id, a.code, a.trigger, a.service, a.command, a.argv]),
      [[88, Code.INTERRUPTED, "remote", "slow", "run", []]],
    );
  } finally {
    try {
      agent.child.kill("SIGKILL");
    } catch {
      // exited
    }
    await agent.child.status;
    await agent.child.stdout.cancel().catch(() => {});
    await client.endAsync(true);
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
