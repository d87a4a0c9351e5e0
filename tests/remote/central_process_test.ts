import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeValueList } from "../../src/collectd/mod.ts";
import { type AgentProcess, startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";
import { PASSWORD, startMosquitto, USER } from "../_helpers/mosquitto.ts";

// Central mode as an operator runs it: two agents (scripts/agent, production flags) on a real
// mosquitto; a rule of the central agent sends repairs to the edge agent.

const RULE = `
export const metrics = {
  remote_fix(m) {
    if (m.plugin === "app" && Number(m.values[0]) > 5) {
      return { host: "edge2", service: "fix", command: m.plugin_instance };
    }
  },
};
`;

async function writeConfig(dir: string, fields: Record<string, unknown>) {
  await Deno.mkdir(join(dir, "rules"), { recursive: true });
  const path = join(dir, "config.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      User: USER,
      Password: PASSWORD,
      QoS: 1,
      CommandTopic: "cmd/{host}",
      CommandResultTopic: "result/{host}",
      StateDir: "state",
      RulesDir: "rules",
      ...fields,
    }),
  );
  await Deno.chmod(path, 0o600);
  return path;
}

async function auditLines(dir: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(dir, "state", "audit.jsonl")).catch(() => "");
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("central mode: the sending agent audits each remote repair's result, and a result after RemoteResultTimeout too", async () => {
  const broker = await startMosquitto();
  const centralDir = await Deno.makeTempDir({ prefix: "edge-agent-central-" });
  const edgeDir = await Deno.makeTempDir({ prefix: "edge-agent-edge2-" });
  const port = freeUdpPort();
  await Deno.mkdir(join(centralDir, "rules"));
  await Deno.writeTextFile(join(centralDir, "rules", "remote.ts"), RULE);
  const centralConfig = await writeConfig(centralDir, {
    Host: broker.address,
    HostName: "central",
    RemoteResultTimeout: 1,
    Listen: [{ Host: "127.0.0.1", Port: port }],
  });
  const edgeConfig = await writeConfig(edgeDir, {
    Host: broker.address,
    HostName: "edge2",
    Listen: [{ Host: "127.0.0.1", Port: freeUdpPort() }],
    Services: {
      fix: {
        commands: {
          quick: "/bin/echo quick done",
          slow: { Argv: ["/bin/sh", "-c", "sleep 3; echo slow done"] },
        },
      },
    },
  });
  const agents: AgentProcess[] = [];
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const fire = (command: string) =>
    udp.send(
      encodeValueList({
        host: "web1",
        plugin: "app",
        plugin_instance: command,
        type: "gauge",
        type_instance: "",
        time: Date.now() / 1000,
        interval: 10,
        values: [9],
        dstypes: ["gauge"],
      }),
      { transport: "udp", hostname: "127.0.0.1", port },
    );
  try {
    const edge = startAgent(["--config", edgeConfig]);
    const central = startAgent(["--config", centralConfig]);
    agents.push(edge, central);
    await edge.waitFor(/connected to broker/, 30_000);
    await central.waitFor(/connected to broker/, 30_000);
    await central.waitFor(/rules loaded/, 30_000);

    await fire("quick");
    const quick = await waitFor("the quick result's audit line", async () => {
      return (await auditLines(centralDir)).find((l) => l.command === "quick");
    });
    assert.equal(quick.code, 0);
    assert.equal(quick.host, "edge2");
    assert.equal(quick.trigger, "rule");
    assert.equal(quick.trigger_name, "remote.ts::metric::remote_fix");
    assert.equal(quick.service, "fix");
    assert.deepEqual(quick.argv, [], "nothing ran on the central agent");
    assert.match(String(quick.message), /quick done/);

    await fire("slow");
    const [timedOut, late] = await waitFor("the slow command's two audit lines", async () => {
      const slow = (await auditLines(centralDir)).filter((l) => l.command === "slow");
      return slow.length >= 2 ? slow : undefined;
    });
    assert.equal(timedOut!.code, 0x1008, "answered 0x1008 after RemoteResultTimeout");
    assert.equal(timedOut!.late, undefined);
    assert.equal(late!.code, 0, "the late result is audited too");
    assert.equal(late!.late, true);
    assert.equal(late!.task_id, timedOut!.task_id);
    assert.match(String(late!.message), /slow done/);
    await central.waitFor(/late result from another host/);
    await central.waitFor(/fix\/slow on edge2 failed with code 0x1008 \(4104\)/);
  } finally {
    udp.close();
    for (const a of agents) a.kill("SIGKILL");
    for (const a of agents) await a.status;
    await broker.stop();
    await Deno.remove(centralDir, { recursive: true });
    await Deno.remove(edgeDir, { recursive: true });
  }
});
