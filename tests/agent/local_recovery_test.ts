import assert from "node:assert/strict";
import { createAgent } from "../../src/agent.ts";
import { encodeNotification, encodeValueList } from "../../src/collectd/mod.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { defaultHostCommand } from "../../src/evaluator/mod.ts";
import { createLogger, type LogEvent } from "../../src/log/mod.ts";
import { Severity } from "../../src/model/mod.ts";
import { freeUdpPort } from "../_helpers/ports.ts";

const RULE = `
import type { MetricHandlers, NotificationHandlers } from "./edge-agent.d.ts";
export const metrics = {
  disk_full(m) {
    if (m.plugin === "df" && m.type_instance === "used" && Number(m.values[0]) > 90) {
      return { service: "marker", command: "touch" };
    }
  },
} satisfies MetricHandlers;
export const notifications = {
  nginx_down(n) {
    if (n.plugin === "nginx" && n.severity === 1) return { service: "marker", command: "note" };
  },
} satisfies NotificationHandlers;
`;

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-e2e-" });
  await Deno.mkdir(`${dir}/rules`);
  await Deno.copyFile(
    new URL("../../rules/edge-agent.d.ts", import.meta.url),
    `${dir}/rules/edge-agent.d.ts`,
  );
  await Deno.writeTextFile(`${dir}/rules/disk.ts`, RULE);
  const port = freeUdpPort();
  const { config } = parseConfig(
    JSON.stringify({
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: port }],
      Services: {
        marker: {
          commands: {
            touch: `/usr/bin/touch ${dir}/repaired`,
            note: `/usr/bin/touch ${dir}/notified`,
          },
        },
      },
    }),
    `${dir}/config.json`,
  );
  const events: LogEvent[] = [];
  const logger = createLogger({ level: "debug", sink: (e) => events.push(e) });
  const agent = createAgent(config, {
    logger,
    hostName: "edge-1",
    ruleHost: defaultHostCommand(new URL("../../main.ts", import.meta.url).href),
  });
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const send = (bytes: Uint8Array) =>
    sock.send(bytes, { transport: "udp", hostname: "127.0.0.1", port });
  return {
    dir,
    agent,
    events,
    send,
    async cleanup() {
      if (Deno.env.get("E2E_DEBUG")) {
        for (const e of events) {
          console.error(e.level, e.component, e.msg, JSON.stringify(e.fields));
        }
      }
      sock.close();
      await agent.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const auditLines = async (dir: string) =>
  (await Deno.readTextFile(`${dir}/state/audit.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );

Deno.test("a collectd value list over UDP fires a rule whose command runs and is audited", async () => {
  const t = await setup();
  try {
    await t.agent.start();
    const metric = {
      host: "edge-1",
      plugin: "df",
      plugin_instance: "root",
      type: "percent_bytes",
      type_instance: "used",
      time: Date.now() / 1000,
      interval: 10,
      values: [95.5],
      dstypes: ["gauge" as const],
    };
    await t.send(encodeValueList({ ...metric, values: [42] })); // below threshold: nothing
    await t.send(encodeValueList(metric));
    const [line] = await waitFor("the audit line", async () => {
      const lines = await auditLines(t.dir);
      return lines.length > 0 ? lines : undefined;
    });
    assert.equal(line.trigger, "rule");
    assert.equal(line.trigger_name, "disk.ts::metric::disk_full");
    assert.equal(line.service, "marker");
    assert.equal(line.command, "touch");
    assert.deepEqual(line.argv, ["/usr/bin/touch", `${t.dir}/repaired`]);
    assert.equal(line.code, 0);
    await Deno.stat(`${t.dir}/repaired`); // the command really ran
  } finally {
    await t.cleanup();
  }
});

Deno.test("a collectd FAILURE notification fires a notification rule", async () => {
  const t = await setup();
  try {
    await t.agent.start();
    await t.send(encodeNotification({
      host: "edge-1",
      plugin: "nginx",
      plugin_instance: "",
      type: "http",
      type_instance: "",
      time: Date.now() / 1000,
      severity: Severity.FAILURE,
      message: "nginx is not answering",
    }));
    await waitFor("the notified marker", () => Deno.stat(`${t.dir}/notified`));
    // the audit line follows the command's exit (and its output), not its start
    const lines = await waitFor("the audit line", async () => {
      const got = await auditLines(t.dir);
      return got.length > 0 ? got : undefined;
    });
    assert.equal(lines[0].trigger_name, "disk.ts::notification::nginx_down");
  } finally {
    await t.cleanup();
  }
});

Deno.test("a type missing from types.db keeps positional names and is warned about once", async () => {
  const t = await setup();
  try {
    await t.agent.start();
    const metric = {
      host: "edge-1",
      plugin: "custom",
      plugin_instance: "",
      type: "no_such_type_in_types_db",
      type_instance: "",
      time: Date.now() / 1000,
      interval: 10,
      values: [1, 2],
      dstypes: ["gauge" as const, "gauge" as const],
    };
    await t.send(encodeValueList(metric));
    await t.send(encodeValueList(metric));
    const warned = () =>
      t.events.filter((e) => /"no_such_type_in_types_db" is not in types\.db/.test(e.msg));
    await waitFor("the warning", () => Promise.resolve(warned().length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(warned().length, 1);
    assert.equal(warned()[0]!.level, "warn");
  } finally {
    await t.cleanup();
  }
});
