/**
 * The policy inside the replacer, whole replacements included (new pid, metrics back): in-process
 * with a real collectd. replace_policy_test.ts drives the same through scripts/agent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodePacket } from "../../src/collectd/mod.ts";
import {
  type CollectdServiceSettings,
  createConfigReplacer,
  createMetricsProbe,
} from "../../src/collectd_conf/replace/mod.ts";
import { Code, createCounters, type Logger } from "../../src/model/mod.ts";

const DATA = new URL("../testdata/collectd_conf/replace_config/", import.meta.url).pathname;
const CTL = join(DATA, "collectdctl.sh");
const TEMPLATE = await Deno.readTextFile(join(DATA, "collectd.conf.in"));
const EXEC_USER = Deno.uid() === 0 ? "nobody" : Deno.env.get("USER") ?? "nobody";

const silent: Logger = {
  fatal() {},
  error() {},
  warn() {},
  info() {},
  debug() {},
  enabled: () => false,
  child: () => silent,
};

/** collectd under collectdctl.sh sending to a UDP socket of the test, and a replacer for it. */
async function openStand(extra: Partial<CollectdServiceSettings> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-replacer-policy-" });
  const markerDir = await Deno.makeTempDir({ prefix: "edge-agent-replacer-marker-" });
  await Deno.chmod(markerDir, 0o777);
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  const probe = createMetricsProbe();
  const receiving = (async () => {
    const visitor = { metric: (m: { host: string }) => probe.saw(m.host), notification() {} };
    try {
      for await (const [bytes] of socket) decodePacket(bytes, visitor);
    } catch { /* closed */ }
  })();
  const conf = join(dir, "collectd.conf");
  const pidFile = join(dir, "collectd.pid");
  const log = join(dir, "collectd.log");
  const render = (host: string) =>
    TEMPLATE.replaceAll("{{SECRET}}", "none").replaceAll("{{HOST}}", host)
      .replaceAll("{{DIR}}", dir).replaceAll("{{INTERVAL}}", "1")
      .replaceAll("{{SERVER}}", "127.0.0.1").replaceAll("{{PORT}}", String(port));
  const run = async (command: string) => {
    const out = await new Deno.Command("/bin/sh", {
      args: [CTL, command, conf, pidFile, log],
      stdin: "null",
    }).output();
    return { result: { code: out.code, message: "" } };
  };
  await Deno.writeTextFile(conf, render("hostA"));
  await run("start");
  const replacer = createConfigReplacer({
    service: {
      commands: { restart: "/bin/true" },
      ConfigPath: conf,
      PIDPath: pidFile,
      ...extra,
    },
    stateDir: join(dir, "state"),
    logger: silent,
    counters: createCounters(),
    run,
    metricsSeen: probe.seen,
    timeoutMs: 8000,
    pollMs: 100,
  });
  const marker = join(markerDir, "owned");
  return {
    dir,
    conf,
    marker,
    render,
    exec:
      `LoadPlugin exec\n<Plugin exec>\n  Exec "${EXEC_USER}" "/usr/bin/touch" "${marker}"\n</Plugin>\n`,
    replace: (config: string, task_id: number) =>
      replacer.handle({ task_id, timestamp: new Date().toISOString(), config }),
    async close() {
      await run("stop");
      socket.close();
      await receiving;
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(markerDir, { recursive: true });
    },
  };
}

async function exists(path: string) {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("the replacer replaces a config whose plugins come through an allowed Include: new file, collectd back with metrics", async () => {
  const s = await openStand();
  try {
    await Deno.mkdir(join(s.dir, "collectd.conf.d"));
    await Deno.writeTextFile(join(s.dir, "collectd.conf.d", "uptime.conf"), "LoadPlugin uptime\n");
    const good = s.render("hostB") + `Include "${s.dir}/collectd.conf.d/*.conf"\n`;
    const result = await s.replace(good, 1);
    assert.equal(result.code, Code.OK, result.message);
    assert.match(result.message, /sends metrics again/);
    assert.equal(await Deno.readTextFile(s.conf), good);
  } finally {
    await s.close();
  }
});

Deno.test("the replacer refuses exec with 0x2010 without running it, and replaces with it once AllowedPlugins names exec", async () => {
  const refusing = await openStand();
  try {
    const result = await refusing.replace(refusing.render("hostB") + refusing.exec, 2);
    assert.equal(result.code, Code.CONFIG_REFUSED, result.message);
    assert.match(result.message, /^Refused: plugin "exec" \(loaded at the new config line \d+\)/);
    assert.match(result.message, /is unchanged and collectd was not restarted/);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await exists(refusing.marker), false);
  } finally {
    await refusing.close();
  }
  const allowing = await openStand({ AllowedPlugins: ["exec"] });
  try {
    const text = allowing.render("hostB") + allowing.exec;
    const result = await allowing.replace(text, 3);
    assert.equal(result.code, Code.OK, result.message);
    assert.equal(await Deno.readTextFile(allowing.conf), text);
    assert.equal(await exists(allowing.marker), true, "collectd runs the allowed program");
  } finally {
    await allowing.close();
  }
});
