/**
 * Hostile rule files against the agent as shipped: `scripts/agent` under the production flags,
 * collectd packets over UDP from the test's sender, recovery commands really run and audited.
 */
import assert from "node:assert/strict";
import { encodeValueList } from "../../src/collectd/mod.ts";
import { type AgentProcess, startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";
import { start } from "../_helpers/process.ts";

const root = new URL("../../", import.meta.url).pathname;

/** A config (local-only, one UDP listener) and a rules folder holding `rules`. */
async function setup(rules: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-hostile-" });
  await Deno.mkdir(`${dir}/rules`);
  for (const [name, text] of Object.entries(rules)) {
    await Deno.writeTextFile(`${dir}/rules/${name}`, text);
  }
  const port = freeUdpPort();
  const path = `${dir}/config.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: port }],
      Services: {
        disk: { commands: { clean: `/usr/bin/touch ${dir}/cleaned` } },
        forged: { commands: { run: `/usr/bin/touch ${dir}/forged` } },
      },
    }),
  );
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  return {
    dir,
    path,
    /** Sends a df value list (percent used) as collectd would. */
    async sendDf(used: number) {
      const packet = encodeValueList({
        host: "edge-1",
        plugin: "df",
        plugin_instance: "root",
        type: "percent_bytes",
        type_instance: "used",
        time: Date.now() / 1000,
        interval: 10,
        values: [used],
        dstypes: ["gauge"],
      });
      await sock.send(packet, { transport: "udp", hostname: "127.0.0.1", port });
    },
    async [Symbol.asyncDispose]() {
      sock.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const DISK = `export const metrics = {
  disk_full(m: { plugin: string; values: number[] }) {
    if (m.plugin === "df" && m.values[0]! > 90) return { service: "disk", command: "clean" };
  },
};\n`;

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function until(what: string, ok: () => Promise<boolean>, agent: AgentProcess, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}:\n${agent.lines.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("the agent: a rule file that exhausts memory at load is disabled by name, every other rule runs, check-config exits 3", async () => {
  await using t = await setup({
    "a_oom.ts": `const hoard: unknown[] = [];\nfor (;;) hoard.push(new Array(1e6).fill(1.5));\n` +
      `export const metrics = () => {};\n`,
    "b_disk.ts": DISK,
  });
  const agent = startAgent(["--config", t.path]);
  try {
    await agent.waitFor(/started in local-only mode/, 90_000);
    const loaded = agent.lines.find((l) => /rules loaded/.test(l))!;
    assert.match(loaded, /handlers=1 problems=1/, agent.lines.join("\n"));
    assert.ok(
      agent.lines.some((l) =>
        /rule file .*a_oom\.ts crashed the rule host while loading .*it is disabled/.test(l)
      ),
      agent.lines.join("\n"),
    );
    await t.sendDf(95);
    await until("the repair of the other rule", () => exists(`${t.dir}/cleaned`), agent);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
  }
  const check = start(`${root}scripts/agent`, ["check-config", "--config", t.path], { cwd: root });
  const status = await check.status;
  assert.equal(status.code, 3, check.lines.join("\n"));
  assert.ok(
    check.lines.some((l) => /a_oom\.ts:1:1: crashed the rule host while loading/.test(l)),
    check.lines.join("\n"),
  );
});

Deno.test("the agent: a rule cannot forge another handler's repair or a log line, and its console output is escaped", async () => {
  await using t = await setup({
    "a_forge.ts": `try {
  const encode = TextEncoder.prototype.encode;
  TextEncoder.prototype.encode = function (this: TextEncoder, text?: string) {
    if (typeof text === "string" && text.startsWith('{"t":"result"')) {
      text = text.replace('"events":[]', '"events":[{"kind":"fired","handler":"c_innocent.ts::metric::default","key":"edge-1/df-root/percent_bytes-used","actions":[{"service":"forged","command":"run"}],"time":1}]');
    }
    return encode.call(this, text);
  };
} catch (e) {
  console.log("refused:", (e as Error).name);
}
export const metrics = () => {
  console.log("\\r\\u001b[2K2026-01-01T00:00:00.000Z INFO  executor: forged/run succeeded");
};\n`,
    "b_disk.ts": DISK,
    "c_innocent.ts": `export const metrics = () => {};\n`,
  });
  const agent = startAgent(["--config", t.path]);
  try {
    await agent.waitFor(/started in local-only mode/, 60_000);
    for (let i = 0; i < 5; i++) await t.sendDf(50);
    await t.sendDf(95);
    await until("the real repair", () => exists(`${t.dir}/cleaned`), agent);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await exists(`${t.dir}/forged`), false, agent.lines.join("\n"));
    const audit = await Deno.readTextFile(`${t.dir}/state/audit.jsonl`);
    assert.doesNotMatch(audit, /c_innocent/);
    for (const line of agent.lines) {
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(line, /[\r\u001b]/, `a raw control character reached the log: ${line}`);
    }
    assert.ok(agent.lines.some((l) => l.includes("\\r\\x1b[2K2026")), agent.lines.join("\n"));
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
  }
});
