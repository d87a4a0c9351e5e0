/**
 * The compiled-binary constraints, proven without denort: the agent runs from ONE bundled file
 * placed outside the source tree, with exactly the flags scripts/compile bakes in, rules in a
 * separate directory, and the whole local-recovery path works (collectd packet → rule → command →
 * audit). Nothing may read the source tree at run time: the process runs with cwd `/`, its
 * --allow-read names only the config, rules, types.db and StateDir, and the tree is not on them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeValueList } from "../../src/collectd/mod.ts";
import { bundledAgent } from "./_bundle.ts";
import { start } from "../_helpers/run.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const RULE = `
import type { MetricHandlers } from "./edge-agent.d.ts";
export const metrics = {
  disk_full(m) {
    if (m.plugin === "df" && m.type_instance === "used" && Number(m.values[0]) > 90) {
      return { service: "marker", command: "touch" };
    }
  },
} satisfies MetricHandlers;
`;

function freeUdpPort(): number {
  const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (s.addr as Deno.NetAddr).port;
  s.close();
  return port;
}

async function waitForFile(path: string, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const text = await Deno.readTextFile(path);
      if (text.trim() !== "") return text;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (Date.now() > end) throw new Error(`${path} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("the agent bundled into one file outside the tree runs a rule's recovery command under the compile flags", async () => {
  const etc = await Deno.makeTempDir({ prefix: "edge-agent-etc-" });
  const files = await bundledAgent();
  let agent;
  try {
    await Deno.mkdir(join(etc, "rules"));
    await Deno.copyFile(join(root, "rules/edge-agent.d.ts"), join(etc, "rules/edge-agent.d.ts"));
    await Deno.writeTextFile(join(etc, "rules/disk.ts"), RULE);
    const port = freeUdpPort();
    const configFile = join(etc, "config.json");
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        StateDir: "state",
        RulesDir: "rules",
        Listen: [{ Host: "127.0.0.1", Port: port }],
        Services: { marker: { commands: { touch: `/usr/bin/touch ${etc}/state/repaired` } } },
      }),
    );
    // cwd "/", clean environment: nothing may come from the tree or the caller
    agent = start(files.deno, await files.args(configFile), {
      clearEnv: true,
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
    await agent.waitFor(/listening for collectd packets/);
    await agent.waitFor(/rules loaded .*handlers=1 problems=0/);

    const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      await sock.send(
        encodeValueList({
          host: "edge-1",
          plugin: "df",
          plugin_instance: "root",
          type: "percent_bytes",
          type_instance: "used",
          time: Date.now() / 1000,
          interval: 10,
          values: [95.5],
          dstypes: ["gauge"],
        }),
        { transport: "udp", hostname: "127.0.0.1", port },
      );
    } finally {
      sock.close();
    }
    const audit = JSON.parse((await waitForFile(join(etc, "state/audit.jsonl"))).split("\n")[0]!);
    assert.equal(audit.trigger, "rule");
    assert.equal(audit.trigger_name, "disk.ts::metric::disk_full");
    assert.deepEqual([audit.service, audit.command, audit.code], ["marker", "touch", 0]);
    await Deno.stat(join(etc, "state/repaired")); // the command really ran
    // No permission is missing (the receive buffer comes from the launcher, not /proc/sys).
    const denied = agent.lines.filter((l) => /NotCapable|Requires .* access/.test(l));
    assert.deepEqual(denied, []);

    const status = await agent.stop();
    assert.equal(status.code, 0, agent.lines.join("\n"));
  } finally {
    await agent?.stop();
    await files.remove();
    await Deno.remove(etc, { recursive: true });
  }
});
