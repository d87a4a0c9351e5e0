/**
 * scripts/package_deb --config with real fleet configs (Services, Services.collectd without
 * commands, several brokers, TLS files, Telemetry): the package tree it stages, its launcher's
 * two flag sets and its permissions file. Installing it is tests/acceptance/'s job.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PackagedPermissionsSchema } from "../../src/permissions/mod.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

async function stage(config: unknown): Promise<{ code: number; stderr: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-stage-" });
  const file = join(dir, "fleet.json");
  await Deno.writeTextFile(file, typeof config === "string" ? config : JSON.stringify(config));
  const out = await new Deno.Command(join(root, "scripts/package_deb"), {
    args: ["--config", file, "--stage-only", join(dir, "tree")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr), dir };
}

/** The daemon's and the operator's flags as the staged launcher starts them. */
async function launcherFlags(tree: string): Promise<{ daemon: string[]; operator: string[] }> {
  const text = await Deno.readTextFile(join(tree, "usr/bin/edge-agent"));
  const execs = [
    ...text.matchAll(
      /^\s*exec \/usr\/lib\/edge-agent\/deno run --no-config (.*) \/usr\/lib\/edge-agent\/edge-agent\.js "\$@"$/gm,
    ),
  ]
    .map((m) => m[1]!.split(" ").map((f) => f.replace(/^'|'$/g, "")));
  assert.equal(execs.length, 2, text);
  return { operator: execs[0]!, daemon: execs[1]! };
}

Deno.test("package_deb --config builds lua-collectd-monitor's sample: its state goes to /var/lib/edge-agent, said on stderr", async () => {
  const sample = await Deno.readTextFile(join(root, "config/lua-collectd-monitor.json"));
  const { code, stderr, dir } = await stage(sample);
  try {
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /StateDir is not set \(default "state"\): the package uses \/var\/lib\/edge-agent/,
    );
    const tree = join(dir, "tree");
    const installed = JSON.parse(await Deno.readTextFile(join(tree, "etc/edge-agent/config.json")));
    assert.equal(installed.StateDir, "/var/lib/edge-agent");
    assert.equal(installed.RulesDir, "/etc/edge-agent/rules");
    const { daemon, operator } = await launcherFlags(tree);
    assert.ok(
      daemon.some((f) => /^--allow-run=.*\/bin\/systemctl,\/bin\/echo,/.test(f)),
      daemon.join(" "),
    );
    assert.ok(
      daemon.includes("--allow-write=/var/lib/edge-agent,/run/systemd/notify"),
      daemon.join(" "),
    );
    assert.ok(operator.includes("--allow-read") && operator.includes("--allow-net"));
    assert.ok(!daemon.some((f) => f.includes("/etc/edge-agent/state")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("package_deb --config builds a fleet config with Services.collectd, several brokers, TLS files and Telemetry", async () => {
  const fleet = {
    Host: ["mqtt-a.example.org", "mqtt-b.example.org:8884"],
    Secure: true,
    CAFile: "/etc/edge-agent/tls/ca.pem",
    CertFile: "/etc/edge-agent/tls/client.pem",
    KeyFile: "/etc/edge-agent/tls/client.key",
    User: "edge",
    Password: "s3cret-fleet",
    CommandTopic: "edge/{host}/command",
    CommandResultTopic: "edge/{host}/result",
    StateDir: "/var/lib/edge-agent",
    RulesDir: "/etc/edge-agent/rules",
    Listen: [{ Host: "127.0.0.1", Port: 25826 }],
    Telemetry: { Listen: "127.0.0.1:9102", CollectdServers: [{ Host: "10.1.2.3" }] },
    Services: {
      collectd: { ConfigPath: "/etc/collectd/collectd.conf" },
      // on the fleet's hosts, not on this build machine: granted as named, with a warning
      web: { commands: { reload: "/usr/sbin/edge-fleet-web-reload" } },
      hello: { commands: { exec: "/bin/echo hello" } },
    },
  };
  const { code, stderr, dir } = await stage(fleet);
  try {
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /\/usr\/sbin\/edge-fleet-web-reload is not on this machine; granted as named/,
    );
    const tree = join(dir, "tree");
    const { daemon } = await launcherFlags(tree);
    const list = (kind: string) =>
      (daemon.find((f) => f.startsWith(`--allow-${kind}=`)) ?? "").split("=")[1]!.split(",");
    for (
      const net of [
        "mqtt-a.example.org:8883",
        "mqtt-b.example.org:8884",
        "127.0.0.1:9102",
        "10.1.2.3:25826",
      ]
    ) {
      assert.ok(list("net").includes(net), net);
    }
    for (
      const read of [
        "/etc/edge-agent/tls/ca.pem",
        "/etc/edge-agent/tls/client.key",
        "/etc/collectd",
      ]
    ) {
      assert.ok(list("read").includes(read), read);
    }
    for (
      const run of [
        "/usr/sbin/edge-fleet-web-reload",
        "/usr/sbin/collectd",
        "/usr/bin/ps",
        "/usr/bin/systemctl",
        "/usr/bin/kill",
      ]
    ) {
      assert.ok(list("run").includes(run), run);
    }
    assert.ok(list("write").includes("/etc/collectd/collectd.conf.new"));
    const perms = PackagedPermissionsSchema.parse(
      JSON.parse(await Deno.readTextFile(join(tree, "usr/lib/edge-agent/permissions.json"))),
    );
    assert.equal(perms.config, "/etc/edge-agent/config.json");
    assert.ok(perms.daemon.run.some((g) => g.reason.startsWith("Services.web.commands.reload")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("package_deb --config refuses a relative TLS file or collectd path, naming the key", async () => {
  const { code, stderr, dir } = await stage({
    Host: "mqtt",
    Secure: true,
    CAFile: "ca.pem",
    Services: { collectd: { ConfigPath: "collectd.conf" } },
  });
  try {
    assert.notEqual(code, 0);
    assert.match(
      stderr,
      /CAFile: "ca\.pem" is relative: in a package it would resolve under \/etc\/edge-agent/,
    );
    assert.match(stderr, /Services\.collectd\.ConfigPath: "collectd\.conf" is relative/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
