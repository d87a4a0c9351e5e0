import assert from "node:assert/strict";
import { join } from "node:path";
import { startAgent } from "../../_helpers/agent_process.ts";
import { freeUdpPort } from "../../_helpers/ports.ts";
import { PASSWORD, startMosquitto, USER } from "../../_helpers/mosquitto.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const SECRET = "pw-" + crypto.randomUUID();
const LOGFILE = "LoadPlugin logfile\n<Plugin logfile>\n  LogLevel info\n  File STDOUT\n</Plugin>\n";

Deno.test("send-config through scripts/agent: the check's result shows what collectd logged to stdout, never config text", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-collectd-check-" });
  await Deno.mkdir(join(dir, "rules"));
  const conf = join(dir, "collectd.conf");
  await Deno.writeTextFile(conf, 'Hostname "web1"\n', { mode: 0o640 });
  const path = join(dir, "config.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      Host: broker.address,
      User: USER,
      Password: PASSWORD,
      QoS: 1,
      HostName: "edge1",
      CommandTopic: "cmd/{host}",
      CommandResultTopic: "result/{host}",
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: freeUdpPort() }],
      Services: {
        collectd: {
          commands: { restart: "/bin/true" },
          ConfigPath: conf,
          PIDPath: join(dir, "collectd.pid"),
          CommandPath: "/usr/sbin/collectd",
          // named, so the plugin policy lets collectd's own check report it missing
          AllowedPlugins: ["nosuchplugin"],
        },
      },
    }),
  );
  await Deno.chmod(path, 0o600);
  const agent = startAgent(["--config", path]);
  const sendConfig = async (text: string) => {
    const child = new Deno.Command(join(ROOT, "scripts/agent"), {
      args: ["send-config", "-", "--config", path, "--to", "edge1", "--timeout", "40"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const out = await child.output();
    const all = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const result = JSON.parse(all.split("Received a result: ")[1]?.split("\n")[0] ?? "null");
    return { code: out.code, all, result };
  };
  try {
    await agent.waitFor(/connected to broker/, 30_000);
    const missing = await sendConfig(`Hostname "web2"\n${LOGFILE}LoadPlugin nosuchplugin\n`);
    assert.equal(missing.code, 4, missing.all);
    assert.equal(missing.result.code, 0x2002);
    assert.match(missing.result.message, /Could not find plugin \\?"nosuchplugin\\?"/);

    const leak = await sendConfig(`Hostname "web2"\n${LOGFILE}Password "x\\\n${SECRET}\nmore\n`);
    assert.equal(leak.result.code, 0x2002, leak.all);
    assert.ok(!leak.all.includes(SECRET), `no config text in the result: ${leak.all}`);
    assert.ok(!agent.lines.some((l) => l.includes(SECRET)), "nor in the agent's log");
    assert.equal(await Deno.readTextFile(conf), 'Hostname "web1"\n', "the old file untouched");
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
