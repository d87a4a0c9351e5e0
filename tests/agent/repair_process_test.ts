import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeValueList } from "../../src/collectd/mod.ts";
import { type AgentProcess, startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";

// Rule-triggered repairs as an operator sees them in the log and the audit file, on
// scripts/agent (the production flags), driven by collectd packets over UDP.

const ROOT = new URL("../../", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `app` metrics above 5 ask for `<plugin_instance>/run`; one series per type_instance. */
const RULE = `
export const metrics = {
  app_down(m) {
    if (m.plugin === "app" && Number(m.values[0]) > 5) {
      return { service: m.plugin_instance, command: "run" };
    }
  },
};
`;

async function setup(services: (dir: string) => Record<string, unknown>) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-repair-" });
  const port = freeUdpPort();
  await Deno.mkdir(join(dir, "rules"));
  await Deno.writeTextFile(join(dir, "rules", "app.ts"), RULE);
  const path = join(dir, "config.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: port }],
      Services: services(dir),
    }),
  );
  const agent = startAgent(["--config", path]);
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  await agent.waitFor(/started in local-only mode/, 30_000);
  return {
    dir,
    path,
    agent,
    /** One value for series `app-<service>/gauge-<series>`. */
    send: (service: string, series: string, value: number) =>
      udp.send(
        encodeValueList({
          host: "web1",
          plugin: "app",
          plugin_instance: service,
          type: "gauge",
          type_instance: series,
          time: Date.now() / 1000,
          interval: 1,
          values: [value],
          dstypes: ["gauge"],
        }),
        { transport: "udp", hostname: "127.0.0.1", port },
      ),
    async audit(): Promise<Record<string, unknown>[]> {
      const text = await Deno.readTextFile(join(dir, "state", "audit.jsonl")).catch(() => "");
      return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
    },
    async cleanup() {
      udp.close();
      agent.kill("SIGKILL");
      await agent.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const index = (agent: AgentProcess, re: RegExp) => agent.lines.findIndex((l) => re.test(l));

Deno.test("during maintenance a trigger over MaxRuns is held like a run: no REPAIR IS NOT WORKING, no 0x1017", async () => {
  const t = await setup(() => ({
    fix: {
      commands: {
        run: { Argv: ["/bin/echo", "fixed"], Cooldown: 0, MaxRuns: 1, Window: 3600, Verify: 0 },
      },
    },
  }));
  try {
    await t.send("fix", "a", 9);
    await t.agent.waitFor(/fix\/run succeeded/);
    await t.send("fix", "a", 1); // cleared
    const on = await new Deno.Command(join(ROOT, "scripts/agent"), {
      args: ["maintenance", "on", "--for", "1h", "--reason", "upgrade", "--config", t.path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(on.code, 0, new TextDecoder().decode(on.stderr));
    await t.send("fix", "a", 9); // over MaxRuns (1 per hour), during maintenance
    await t.agent.waitFor(/fix\/run held back \(maintenance in force\)/);
    await sleep(1000);
    assert.equal(index(t.agent, /REPAIR IS NOT WORKING|repair did not work/), -1, "not escalated");
    const codes = (await t.audit()).map((l) => l.code);
    assert.deepEqual(codes, [0], "no 0x1017 record during maintenance");
  } finally {
    await t.cleanup();
  }
});

Deno.test("a repair's log and audit: the output's first line, verification timed from the run and after its line, none with Verify 0, codes as 0x1010 (4112)", async () => {
  const output = "restarted web\\nworker 1 ok\\nworker 2 ok\\n";
  const t = await setup((dir) => ({
    web: {
      commands: {
        run: {
          Argv: ["/bin/sh", "-c", `echo >> ${dir}/web-starts; sleep 1; printf '${output}'`],
          Cooldown: 3,
          Verify: 60,
        },
      },
    },
    quick: {
      commands: { run: { Argv: ["/bin/sh", "-c", "sleep 1; echo done"], Verify: 0 } },
    },
    hang: { commands: { run: { Argv: ["/bin/sleep", "10"], Timeout: 0.5 } } },
  }));
  const starts = () => Deno.readTextFile(join(t.dir, "web-starts")).then((s) => s.length, () => 0);
  try {
    // Series a runs web/run at once; series b, 0.5 s later, is held by the 3-s cooldown.
    await t.send("web", "a", 9);
    await sleep(500);
    await t.send("web", "b", 9);
    await t.agent.waitFor(/web\/run succeeded/);
    await t.send("web", "a", 1);
    const verifiedA = await t.agent.waitFor(/repair verified: .*key=web1\/app-web\/gauge-a/);
    // The held trigger runs at t=3 s; its condition clears while that run is still going.
    const deadline = Date.now() + 10_000;
    while (await starts() < 2 && Date.now() < deadline) await sleep(20);
    await sleep(300);
    await t.send("web", "b", 1);
    await t.agent.waitFor(/repair verified: .*key=web1\/app-web\/gauge-b/);
    const runLines = t.agent.lines.filter((l) => /web\/run succeeded|repair verified/.test(l));
    assert.equal(runLines.length, 4, runLines.join("\n"));
    assert.match(runLines[0]!, /web\/run succeeded/);
    assert.equal(runLines[1], verifiedA);
    assert.match(runLines[2]!, /web\/run succeeded/, "the run's own line first");
    assert.match(runLines[3]!, /cleared [\d.]+ s after web\/run ran/);
    const b = /cleared ([\d.]+) s after/.exec(runLines[3]!);
    assert.ok(b && Number(b[1]) < 2, `measured from the run (≈0.3 s), not the trigger: ${b}`);

    assert.match(
      runLines[0]!,
      /output="restarted web \[\+2 lines in the audit record\]"/,
      "the first output line at info",
    );
    const web = (await t.audit()).find((l) => l.service === "web")!;
    assert.equal(web.message, "restarted web\nworker 1 ok\nworker 2 ok\n", "the rest audited");

    // Verify 0: the condition clears during the run; nothing is claimed.
    await t.send("quick", "a", 9);
    await sleep(300);
    await t.send("quick", "a", 1);
    await t.agent.waitFor(/quick\/run succeeded .*output=done/);
    await sleep(500);
    assert.equal(index(t.agent, /repair verified.*quick/), -1);

    // Codes: hex as docs/remote.md lists them, with the decimal a result's JSON carries.
    await t.send("hang", "a", 9);
    const hang = await t.agent.waitFor(/hang\/run failed/);
    assert.match(hang, /hang\/run failed with code 0x1010 \(4112\) .*code="0x1010 \(4112\)"/);
    const audited = await t.audit();
    assert.equal(audited.find((l) => l.service === "hang")?.code, 4112);
  } finally {
    await t.cleanup();
  }
});
