import assert from "node:assert/strict";
import { createCounters } from "../../src/model/mod.ts";
import { createCollectdReport } from "../../src/telemetry/collectd_report.ts";
import { freeUdpPort } from "../_helpers/ports.ts";
import { memoryLogger } from "./_logger.ts";

/** Real collectd 5.12 in server mode (SecurityLevel Sign) writing what it receives as CSV. */
async function startCollectdServer(dir: string, port: number) {
  await Deno.writeTextFile(`${dir}/auth`, "agent: s3cret-pass\n");
  await Deno.writeTextFile(
    `${dir}/collectd.conf`,
    `Hostname "collectd-server"
FQDNLookup false
Interval 1
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
</Plugin>
LoadPlugin network
<Plugin network>
  <Listen "127.0.0.1" "${port}">
    SecurityLevel Sign
    AuthFile "${dir}/auth"
  </Listen>
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "${dir}/csv"
  StoreRates false
</Plugin>
`,
  );
  const child = new Deno.Command("/usr/sbin/collectd", {
    args: ["-f", "-C", `${dir}/collectd.conf`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const until = Date.now() + 15_000;
  while (!seen.includes("Initialization complete") && Date.now() < until) {
    const { value, done } = await out.read();
    if (done) break;
    seen += value;
  }
  void (async () => {
    while (!(await out.read()).done) { /* drain */ }
  })();
  void child.stderr.cancel();
  assert.match(seen, /Initialization complete/, seen);
  return child;
}

Deno.test("a real collectd 5.12 (Sign) receives the own figures as edge-agent-<stage> values", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-telemetry-" });
  const port = freeUdpPort();
  const collectd = await startCollectdServer(dir, port);
  const counters = createCounters();
  counters.counter("edge_agent_collectd_dropped_total", "", { reason: "bad_signature" }).inc(7);
  counters.gauge("edge_agent_mqtt_spool_entries", "").set(3);
  const report = createCollectdReport({
    servers: [{
      Host: "127.0.0.1",
      Port: port,
      SecurityLevel: "Sign",
      Username: "agent",
      Password: "s3cret-pass",
    }],
    counters,
    logger: memoryLogger().logger,
    hostName: "edge1",
    intervalS: 1,
  });
  try {
    await report.start();
    const base = `${dir}/csv/edge1`;
    const find = async (plugin: string, prefix: string) => {
      for await (const e of Deno.readDir(`${base}/${plugin}`)) {
        if (e.name.startsWith(prefix)) {
          return await Deno.readTextFile(`${base}/${plugin}/${e.name}`);
        }
      }
      return null;
    };
    let dropped: string | null = null;
    let spool: string | null = null;
    for (let i = 0; i < 100 && (dropped === null || spool === null); i++) {
      await new Promise((r) => setTimeout(r, 100));
      dropped = await find("edge-agent-collectd", "derive-dropped-bad_signature").catch(() => null);
      spool = await find("edge-agent-mqtt", "gauge-spool_entries").catch(() => null);
    }
    assert.ok(dropped, "collectd wrote no edge-agent-collectd/derive-dropped-bad_signature");
    assert.match(dropped, /^\d+(\.\d+)?,7$/m);
    assert.ok(spool);
    assert.match(spool, /^\d+(\.\d+)?,3(\.0+)?(e\+00)?$/m);
  } finally {
    await report.stop();
    collectd.kill("SIGTERM");
    await collectd.status;
    await Deno.remove(dir, { recursive: true });
  }
});
