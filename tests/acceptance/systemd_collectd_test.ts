/**
 * The product as shipped, part 2: collectd.conf replacement on a host where collectd runs the
 * way systemd runs it (Type=notify: no fork, no pid file; see _systemd.ts for the stand-in
 * systemctl that answers from that collectd). The package is built from a fleet config whose
 * `Services.collectd` restarts collectd with that systemctl; the installed agent, started as the
 * unit's ExecStart, must find collectd's pid from systemd (MainPID). Shares one install; the last
 * test purges it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildFleetDeb,
  edgeAgent,
  type Install,
  install,
  purgeLeftovers,
  purgeTestInstall,
  startAsUnit,
  type UnitAgent,
} from "./_installed.ts";
import { collectdPids, type Fleet, HOST_NAME, openFleet } from "./_fleet.ts";
import { type SystemdCollectd, systemdCollectd } from "./_systemd.ts";

const VERSION = "0.1.0~test-acceptance-2";
const serial = { sanitizeOps: false, sanitizeResources: false };

let fleet: Fleet | undefined;
let systemd: SystemdCollectd | undefined;
let installed: Install | undefined;
let agent: UnitAgent | undefined;

function running(): { fleet: Fleet; systemd: SystemdCollectd; agent: UnitAgent } {
  if (!fleet || !systemd || !agent) {
    throw new Error("the installed agent is not running (see the first test)");
  }
  return { fleet, systemd, agent };
}

Deno.test({
  name:
    "a .deb whose Services.collectd restarts collectd with systemctl installs and the agent started as the unit's ExecStart reports READY=1",
  ...serial,
  async fn() {
    fleet = await openFleet(({ dir, conf }) => ({
      collectd: {
        commands: { restart: `${join(dir, "systemctl")} restart collectd` },
        ConfigPath: conf,
        ReplaceTimeout: 30,
      },
      repair: { commands: { run: "/bin/true" } },
    }));
    systemd = await systemdCollectd(fleet.dir, fleet.conf);
    await systemd.start();
    installed = await install(
      (await buildFleetDeb(fleet.configFile, fleet.rules, fleet.dir, VERSION)).deb,
    );
    agent = await startAsUnit();
    await agent.process.waitFor(/connected to/i, 30_000);
  },
});

Deno.test({
  name:
    "send-config replaces the config of a collectd supervised the systemd way (no pid file): good → 0 and its new MainPID",
  ...serial,
  async fn() {
    const { fleet, systemd } = running();
    const oldPid = systemd.mainPid()!;
    assert.deepEqual(await collectdPids(fleet.conf), [oldPid]);
    const good = fleet.collectdConf("acc-host-2");
    const r = await edgeAgent(
      ["send-config", "-", "--to", HOST_NAME, "--timeout", "120"],
      good, // from standard input, as `edge-agent send-config - < new.conf`
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const message = JSON.parse(/Received a result: (.*)/.exec(r.stdout)![1]!).message as string;
    const newPid = systemd.mainPid();
    assert.ok(newPid !== null && newPid !== oldPid, message);
    assert.match(message, new RegExp(`collectd runs with pid ${newPid} and sends metrics again`));
    assert.equal(await Deno.readTextFile(fleet.conf), good);
    // the systemd way: collectd wrote no pid file (its config names one)
    assert.equal(await Deno.stat(fleet.pidFile).catch(() => null), null);
  },
});

Deno.test({
  name:
    "send-config of a broken config to a systemd-supervised collectd → 0x2002, collectd.conf and collectd untouched",
  ...serial,
  async fn() {
    const { fleet, systemd } = running();
    const pid = systemd.mainPid();
    const before = await Deno.readTextFile(fleet.conf);
    const r = await edgeAgent(
      ["send-config", "-", "--to", HOST_NAME, "--timeout", "60"],
      'Hostname "acc-host-3"\nLoadPlugin no_such_plugin_here\nfoobar\n',
    );
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /"code":8194/);
    assert.equal(await Deno.readTextFile(fleet.conf), before);
    assert.equal(systemd.mainPid(), pid);
    assert.deepEqual(await collectdPids(fleet.conf), [pid]);
  },
});

Deno.test({
  name:
    "the agent on the systemd host stops with 0 having logged no denied permission, and dpkg --purge leaves nothing",
  ...serial,
  async fn() {
    try {
      const { agent } = running();
      const code = await agent.stop();
      assert.deepEqual(agent.denied(), [], agent.process.lines.join("\n"));
      assert.equal(code, 0, agent.process.lines.join("\n"));
      assert.deepEqual(await purgeLeftovers(installed!.files), []);
    } finally {
      await agent?.stop().catch(() => {});
      await purgeTestInstall().catch(() => {});
      await Deno.remove("/etc/edge-agent", { recursive: true }).catch(() => {});
      installed?.release();
      await systemd?.close();
      await fleet?.close();
    }
  },
});
