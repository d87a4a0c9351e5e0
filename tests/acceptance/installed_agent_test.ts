/**
 * The product as shipped, part 1: a .deb built from a fleet config (several brokers, Telemetry,
 * a relative StateDir, lua-collectd-monitor's `Services.collectd` with only ConfigPath and
 * PIDPath, so a daemonized collectd with a pid file restarted the default way), installed with
 * dpkg, started as the unit's ExecStart, and driven only from outside: collectd, mosquitto_pub,
 * the installed CLI from / without --config, signals. The tests share one install and run in
 * order; the last one stops, purges and cleans up whatever happened before it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  auditEntries,
  buildFleetDeb,
  edgeAgent,
  eventually,
  type Install,
  install,
  purgeLeftovers,
  purgeTestInstall,
  startAsUnit,
  type UnitAgent,
} from "./_installed.ts";
import { StatusReportSchema } from "../../src/status/mod.ts";
import { run } from "../_helpers/run.ts";
import {
  COLLECTD,
  collectdPids,
  COMMAND_TOPIC,
  type Fleet,
  groupMembers,
  HOST_NAME,
  openFleet,
  RESULT_TOPIC,
} from "./_fleet.ts";

const VERSION = "0.1.0~test-acceptance-1";
const serial = { sanitizeOps: false, sanitizeResources: false };
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

let fleet: Fleet | undefined;
let installed: Install | undefined;
let agent: UnitAgent | undefined;

function running(): { fleet: Fleet; agent: UnitAgent } {
  if (!fleet || !agent) throw new Error("the installed agent is not running (see the first test)");
  return { fleet, agent };
}

Deno.test({
  name:
    "a .deb built from a fleet config installs, maps its relative StateDir to /var/lib/edge-agent, and the agent started as the unit's ExecStart reports READY=1",
  ...serial,
  async fn() {
    fleet = await openFleet(({ conf, pidFile, marker }) => ({
      collectd: { ConfigPath: conf, PIDPath: pidFile, ReplaceTimeout: 30 },
      repair: {
        commands: { run: { Argv: ["/bin/sh", "-c", `echo repaired >> ${marker}`], Cooldown: 600 } },
      },
      hello: { commands: { exec: '/bin/echo "Hello World!"' } },
      hang: {
        commands: {
          run: { Argv: ["/bin/sh", "-c", "trap '' TERM; echo pgid=$$; sleep 30"], Timeout: 2 },
        },
      },
    }));
    // collectd as an init script starts it: daemonized, with a pid file
    const started = await new Deno.Command(COLLECTD, {
      args: ["-P", fleet.pidFile, "-C", fleet.conf],
    })
      .output();
    assert.ok(started.success, new TextDecoder().decode(started.stderr));
    await eventually(
      "collectd's pid file",
      () => Deno.readTextFile(fleet!.pidFile).catch(() => ""),
    );

    const built = await buildFleetDeb(fleet.configFile, fleet.rules, fleet.dir, VERSION);
    assert.match(
      built.output,
      /StateDir "state" is relative: the package uses \/var\/lib\/edge-agent/,
    );
    installed = await install(built.deb);
    const config = JSON.parse(await Deno.readTextFile("/etc/edge-agent/config.json"));
    assert.equal(config.StateDir, "/var/lib/edge-agent");
    agent = await startAsUnit();
    await agent.process.waitFor(/MQTT connected|connected to/i, 30_000);
  },
});

Deno.test({
  name:
    "the package's sysctl file raised net.core.rmem_default to 4 MiB and the installed agent logs that its collectd socket got it",
  ...serial,
  async fn() {
    const { fleet, agent } = running();
    const file = "/usr/lib/sysctl.d/60-edge-agent.conf";
    assert.match(await Deno.readTextFile(file), /^net\.core\.rmem_default = 4194304$/m);
    assert.ok(installed!.files.includes(file));
    const conffiles = await run("dpkg-query", ["-W", "-f", "${Conffiles}", "edge-agent"]);
    assert.doesNotMatch(conffiles, /sysctl/); // the package's, overridden in /etc/sysctl.d
    const rmem = Number((await run("sysctl", ["-n", "net.core.rmem_default"])).trim());
    assert.ok(rmem >= 4194304, `net.core.rmem_default is ${rmem} after the install`);
    const line = await agent.process.waitFor(/collectd socket receive buffer: /);
    assert.match(
      line,
      new RegExp(
        `^\\S+ INFO .*collectd socket receive buffer: ${rmem} bytes \\(net\\.core\\.rmem_default\\) ` +
          `addr=127\\.0\\.0\\.1:${fleet.listenPort}$`,
      ),
    );
    assert.equal(agent.process.lines.filter((l) => /receive buffer/.test(l)).length, 1);
  },
});

Deno.test({
  name: "the installed daemon and its rule host run with one malloc arena, as the launcher sets",
  ...serial,
  async fn() {
    const { agent } = running();
    const environ = async (pid: number) =>
      (await Deno.readTextFile(`/proc/${pid}/environ`)).split("\0");
    assert.ok((await environ(agent.process.pid)).includes("MALLOC_ARENA_MAX=1"));
    const children = (await run("pgrep", ["-P", String(agent.process.pid)])).trim().split("\n");
    const hosts = [];
    for (const pid of children.map(Number)) {
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
      if (cmdline.includes("rule-host")) hosts.push(pid);
    }
    assert.equal(hosts.length, 1, `one rule host among the daemon's children ${children}`);
    assert.ok((await environ(hosts[0]!)).includes("MALLOC_ARENA_MAX=1"));
  },
});

Deno.test({
  name:
    "a real collectd's values fire a rule, the repair command runs and an audit line records it",
  ...serial,
  async fn() {
    const { fleet } = running();
    await eventually("the repair's marker", () => Deno.readTextFile(fleet.marker).catch(() => ""));
    const entry = await eventually(
      "the repair's audit line",
      async () =>
        (await auditEntries()).find((e) => e.trigger === "rule" && e.service === "repair"),
    );
    assert.equal(entry.command, "run");
    assert.equal(entry.code, 0);
    assert.match(String(entry.trigger_name), /acceptance_repair\.ts::metric::load_seen/);
    const metrics = await (await fetch(`http://127.0.0.1:${fleet.telemetryPort}/metrics`)).text();
    assert.match(metrics, /^edge_agent_collectd_values_total [1-9]/m);
  },
});

Deno.test({
  name:
    "status from the installed CLI shows the condition collectd's values fired, its run, the listener and the broker",
  ...serial,
  async fn() {
    const { fleet } = running();
    const json = await eventually("status with the condition and its run", async () => {
      const r = await edgeAgent(["status", "--json"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const report = StatusReportSchema.parse(JSON.parse(r.stdout));
      return report.running &&
          report.rules.firing.some((f) => f.handler.endsWith("::load_seen")) &&
          report.recovery.last_runs.some((x) => x.service === "repair")
        ? report
        : null;
    });
    assert.equal(json.agent.config.file, "/etc/edge-agent/config.json");
    assert.equal(json.agent.mode, "mqtt");
    assert.equal(json.agent.state_dir, "/var/lib/edge-agent");
    assert.deepEqual(json.intake.listeners, [`127.0.0.1:${fleet.listenPort}`]);
    assert.equal(json.broker?.connected, true);
    assert.equal(json.broker?.broker, fleet.broker.address);
    const text = await edgeAgent(["status"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^edge-agent .*: running since .*, pid \d+$/m);
    assert.match(text.stdout, /acceptance_repair\.ts::metric::load_seen {2}acc-host\/load\/load$/m);
    assert.match(
      text.stdout,
      /rule acceptance_repair\.ts::metric::load_seen {2}repair\/run {2}code 0 /,
    );
    assert.match(text.stdout, new RegExp(`^ {2}connected: to ${fleet.broker.address} since `, "m"));
  },
});

Deno.test({
  name:
    "a looping rule dropped into /etc/edge-agent/rules is disabled, and status shows why and how to re-enable it",
  ...serial,
  async fn() {
    running();
    const file = "/etc/edge-agent/rules/acceptance_spin.ts";
    await Deno.writeTextFile(
      file,
      "export const metrics = {\n  spin(m: { plugin: string }) {\n" +
        '    if (m.plugin === "memory") for (;;) { /* never returns */ }\n  },\n};\n',
    );
    try {
      const r = await eventually("status with the spin handler disabled", async () => {
        const r = await edgeAgent(["status"]);
        return /^ {2}disabled: acceptance_spin\.ts::metric::spin \(handler\)/m.test(r.stdout)
          ? r
          : null;
      });
      assert.match(r.stdout, /ran past the 50 ms budget .*\(offence 3 of 3\)$/m);
      assert.match(
        r.stdout,
        /→ fix \/etc\/edge-agent\/rules\/acceptance_spin\.ts and save it .*systemctl reload edge-agent/,
      );
      assert.match(r.stdout, /^ {2}host restarts: [3-9]/m);
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test({
  name: "a command published with mosquitto_pub runs and its result comes back on the result topic",
  ...serial,
  async fn() {
    const { fleet } = running();
    const sub = fleet.subscribe(RESULT_TOPIC, 1, 30);
    try {
      await new Promise((r) => setTimeout(r, 500)); // the subscription settles
      await fleet.publish(COMMAND_TOPIC, {
        task_id: 4201,
        timestamp: stamp(),
        service: "hello",
        command: "exec",
      });
      const result = JSON.parse(await sub.waitFor(/"task_id":\s*4201/, 30_000));
      assert.deepEqual([result.message, result.code], ["Hello World!", 0]);
    } finally {
      await sub.stop();
    }
    const audited = await auditEntries();
    assert.ok(audited.some((e) => e.task_id === 4201 && e.trigger === "remote" && e.code === 0));
  },
});

Deno.test({
  name:
    "send-config from the installed CLI replaces a daemonized collectd's config: good → 0 and a new pid, broken → 0x2002 and nothing touched",
  ...serial,
  async fn() {
    const { fleet } = running();
    const oldPid = Number((await Deno.readTextFile(fleet.pidFile)).trim());
    assert.deepEqual(await collectdPids(fleet.conf), [oldPid]);
    const oldText = await Deno.readTextFile(fleet.conf);
    // a file outside every grant of the daemon, and a broker address the config does not name
    const good = join(fleet.dir, "good.conf");
    const goodText = fleet.collectdConf("acc-host-2");
    await Deno.writeTextFile(good, goodText);
    const to = ["--to", HOST_NAME, "--host", fleet.otherBroker, "--timeout", "120"];
    const ok = await edgeAgent(["send-config", good, ...to]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const message = JSON.parse(/Received a result: (.*)/.exec(ok.stdout)![1]!).message as string;
    const newPid = Number(/collectd runs with pid (\d+)/.exec(message)?.[1]);
    assert.ok(newPid > 0 && newPid !== oldPid, message);
    assert.match(message, /sends metrics again/);
    assert.deepEqual(await collectdPids(fleet.conf), [newPid]);
    assert.equal(await Deno.readTextFile(fleet.conf), goodText);
    assert.equal(await Deno.readTextFile(`${fleet.conf}.orig`), oldText);

    const broken = join(fleet.dir, "broken.conf");
    await Deno.writeTextFile(broken, 'Hostname "acc-host-3"\nfoobar\n');
    const bad = await edgeAgent(["send-config", broken, ...to]);
    assert.equal(bad.code, 4, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /"code":8194/); // 0x2002
    assert.equal(await Deno.readTextFile(fleet.conf), goodText, "collectd.conf untouched");
    assert.deepEqual(await collectdPids(fleet.conf), [newPid], "collectd not restarted");
    assert.equal(await Deno.stat(`${fleet.conf}.new`).catch(() => null), null);
  },
});

Deno.test({
  name:
    "a timed-out command that ignores SIGTERM leaves no process of its group, and its result says so",
  ...serial,
  async fn() {
    running();
    const r = await edgeAgent([
      "send-command",
      "hang",
      "run",
      "--to",
      HOST_NAME,
      "--timeout",
      "60",
    ]);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    const result = JSON.parse(/Received a result: (.*)/.exec(r.stdout)![1]!);
    assert.equal(result.code, 0x1010);
    assert.match(
      result.message,
      /timed out after 2 s; the process group got SIGTERM, then SIGKILL/,
    );
    const pgid = Number(/pgid=(\d+)/.exec(result.message)?.[1]);
    assert.ok(pgid > 0, result.message);
    await eventually(
      `no process left in group ${pgid}`,
      async () => (await groupMembers(pgid)).length === 0,
      5000,
    )
      .catch(async (e) => {
        throw new Error(`${e.message}: ${(await groupMembers(pgid)).join(", ")}`);
      });
  },
});

Deno.test({
  name:
    "maintenance on, status and off, check-config and test-rule from the installed CLI without --config use the installed config",
  ...serial,
  async fn() {
    running();
    const on = await edgeAgent(["maintenance", "on", "--for", "10m", "--reason", "acceptance"]);
    assert.equal(on.code, 0, on.stderr);
    const status = await edgeAgent(["maintenance", "status"]);
    assert.match(status.stdout, /^maintenance: on until .*reason: acceptance/);
    const agentStatus = await edgeAgent(["status"]);
    assert.equal(agentStatus.code, 0, agentStatus.stderr);
    assert.match(agentStatus.stdout, /^ {2}maintenance: ON until .*, reason: acceptance, by cli$/m);
    assert.ok(await Deno.stat("/var/lib/edge-agent/maintenance.json"));
    const off = await edgeAgent(["maintenance", "off"]);
    assert.match(off.stdout, /^maintenance: off/);
    assert.match((await edgeAgent(["maintenance", "status"])).stdout, /^maintenance: off\n$/);
    const check = await edgeAgent(["check-config"]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^config: \/etc\/edge-agent\/config\.json: OK$/m);
    assert.match(check.stdout, /^rules: \/etc\/edge-agent\/rules: 1 handler\(s\)/m);
    assert.match(check.stdout, /^permissions: the installed agent's .* cover this config$/m);
    // test-rule on a rule file outside every grant of the daemon, in the sandboxed rule host
    const rule = join(running().fleet.rules, "acceptance_repair.ts");
    const tried = await edgeAgent([
      "test-rule",
      rule,
      "--metric",
      JSON.stringify({ host: "acc-host", plugin: "load", type: "load", values: [0.1, 0.2, 0.3] }),
    ]);
    assert.equal(tried.code, 0, tried.stderr);
    assert.match(tried.stdout, /fired .*load_seen .*would run repair\/run/);
  },
});

Deno.test({
  name:
    "SIGHUP with a config that adds an executable is refused with the documented message and the agent keeps running; check-config says so first, and names a missing executable",
  ...serial,
  async fn() {
    const { fleet, agent } = running();
    const file = "/etc/edge-agent/config.json";
    const original = await Deno.readTextFile(file);
    const config = JSON.parse(original);
    try {
      config.Services.added = { commands: { run: "/usr/bin/env" } };
      await Deno.writeTextFile(file, JSON.stringify(config, null, 2));
      const check = await edgeAgent(["check-config"]);
      assert.equal(check.code, 3);
      assert.match(
        check.stderr,
        /Services\.added\.commands\.run: needs .*--allow-run=\/usr\/bin\/env/,
      );

      agent.process.kill("SIGHUP");
      const line = await agent.process.waitFor(/reload rejected/, 20_000);
      assert.match(
        line,
        /Services\.added\.commands\.run: needs --allow-read=\/usr\/bin\/env .*--allow-run=\/usr\/bin\/env/,
      );
      assert.match(
        line,
        /which this agent does not hold; the installed package's flags were fixed when it was built \(\/usr\/lib\/edge-agent\/permissions\.json\): rebuild the package from the new config/,
      );
      // still serving on the old config
      const sub = fleet.subscribe(RESULT_TOPIC, 1, 30);
      await new Promise((r) => setTimeout(r, 500));
      await fleet.publish(COMMAND_TOPIC, {
        task_id: 4202,
        timestamp: stamp(),
        service: "hello",
        command: "exec",
      });
      assert.match(await sub.waitFor(/"task_id":\s*4202/, 30_000), /"code":\s*0/);
      await sub.stop();

      delete config.Services.added;
      config.Services.gone = { commands: { run: "/usr/sbin/edge-agent-acceptance-missing" } };
      await Deno.writeTextFile(file, JSON.stringify(config, null, 2));
      const missing = await edgeAgent(["check-config"]);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /\/usr\/sbin\/edge-agent-acceptance-missing does not exist/);
    } finally {
      await Deno.writeTextFile(file, original);
    }
  },
});

Deno.test({
  name:
    "the agent stops with 0 having logged no denied permission, and dpkg --purge leaves nothing",
  ...serial,
  async fn() {
    try {
      const { agent } = running();
      const code = await agent.stop();
      const denied = agent.denied();
      assert.deepEqual(denied, [], agent.process.lines.join("\n"));
      assert.equal(code, 0, agent.process.lines.join("\n"));
      // stopped: status says so from the state files, exit 6
      const stopped = await edgeAgent(["status"]);
      assert.equal(stopped.code, 6, stopped.stdout + stopped.stderr);
      assert.match(
        stopped.stdout,
        /^edge-agent: NOT RUNNING \(no status socket \/var\/lib\/edge-agent\/status\.sock\)$/m,
      );
      assert.match(
        stopped.stdout,
        /rule acceptance_repair\.ts::metric::load_seen {2}repair\/run {2}code 0 /,
      );
      assert.match(stopped.stdout, /^ {2}maintenance: off$/m);
      assert.deepEqual(await purgeLeftovers(installed!.files), []);
    } finally {
      await agent?.stop().catch(() => {});
      await purgeTestInstall().catch(() => {});
      await Deno.remove("/etc/edge-agent", { recursive: true }).catch(() => {});
      installed?.release();
      await fleet?.close();
    }
  },
});
