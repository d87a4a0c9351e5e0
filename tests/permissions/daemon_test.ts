import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import {
  derivePermissions,
  explain,
  PermissionDerivationError,
  permissionFlags,
} from "../../scripts/permission_flags.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const exists = new Set(["/usr/bin/systemctl", "/bin/echo", "/usr/sbin/service"]);
const isExecutable = (p: string) => exists.has(p);

function config(json: unknown, file = "/etc/edge-agent/config.json") {
  return parseConfig(JSON.stringify(json), file).config;
}

Deno.test("derivePermissions() grants --allow-run only to the Services' executables and the agent itself", () => {
  const p = derivePermissions(
    config({
      Services: {
        nginx: { commands: { restart: "/usr/bin/systemctl restart nginx 2>&1" } },
        hello: { commands: { echo: { Argv: ["echo", "hi"] } } },
        web: { commands: { reload: "service apache2 reload" } },
      },
    }),
    { self: "/usr/bin/edge-agent", isExecutable },
  );
  assert.deepEqual(p.run.map((g) => g.value), [
    "/usr/bin/systemctl",
    "/bin/echo", // bare names resolved through the executor's clean PATH, like the executor
    "/usr/sbin/service",
    "/usr/bin/kill", // the executor signals a timed-out command's process group through it
    "/bin/kill",
    "/usr/bin/edge-agent",
  ]);
  assert.match(p.run[0]!.reason, /nginx\/restart/);
  assert.ok(
    permissionFlags(p).includes(
      "--allow-run=/usr/bin/systemctl,/bin/echo,/usr/sbin/service,/usr/bin/kill,/bin/kill," +
        "/usr/bin/edge-agent",
    ),
  );
});

Deno.test("derivePermissions() grants --allow-net only to listeners, brokers and notification servers", () => {
  const p = derivePermissions(
    config({
      Listen: [{ Host: "127.0.0.1", Port: 25826 }, { Host: "::1", Port: 25827 }],
      Host: ["broker-a", "broker-b:1884"],
      Secure: true,
      NotifyServers: [{ Host: "10.0.0.5", Port: 25826 }, { Host: "[fd00::5]", Port: 25826 }],
    }),
    { self: "/usr/bin/edge-agent", isExecutable },
  );
  assert.deepEqual(p.net.map((g) => g.value), [
    "127.0.0.1:25826",
    "[::1]:25827",
    "10.0.0.5:25826",
    "[fd00::5]:25826",
    "0.0.0.0:0", // the ephemeral ports notifications are sent from
    "[::]:0",
    "broker-a:8883", // TLS default port
    "broker-b:1884",
  ]);
});

Deno.test("derivePermissions() grants read/write only to config, rules, types.db, TLS files and StateDir", () => {
  const p = derivePermissions(
    config({
      RulesDir: "rules",
      StateDir: "/var/lib/edge-agent",
      TypesDB: ["types.db"],
      Host: "b",
      CAFile: "ca.pem",
      LogDevice: "syslog",
    }),
    { self: "/usr/bin/edge-agent", isExecutable, notifySocket: "/run/systemd/notify" },
  );
  assert.deepEqual(p.read.map((g) => g.value), [
    "/etc/edge-agent/config.json",
    "/etc/edge-agent/rules",
    "/etc/edge-agent/types.db",
    "/etc/edge-agent/ca.pem",
    "/var/lib/edge-agent",
  ]);
  assert.deepEqual(p.write.map((g) => g.value), [
    "/var/lib/edge-agent",
    "/dev/log",
    "/run/systemd/notify",
  ]);
  assert.ok(p.net.some((g) => g.value === "unix:/run/systemd/notify"));
  assert.ok(p.net.some((g) => g.value === "unix:/var/lib/edge-agent/notify.sock"));
  assert.ok(p.net.some((g) => g.value === "unix:/dev/log"));
  assert.ok(p.net.some((g) => g.value === "unix:/var/lib/edge-agent/syslog.sock"));
  // every granted resource is explained
  for (const line of explain(p).split("\n")) assert.match(line, /\(.+\)$/);
});

Deno.test("without Services only the agent itself may be run", () => {
  const p = derivePermissions(config({}), { self: "/usr/bin/edge-agent", isExecutable });
  assert.deepEqual(p.run.map((g) => g.value), ["/usr/bin/edge-agent"]);
  assert.deepEqual(p.net.map((g) => g.value), ["127.0.0.1:25826"]);
});

Deno.test("Services.collectd adds what collectd.conf replacement touches, and nothing else", () => {
  const p = derivePermissions(
    config({
      Services: {
        collectd: {
          commands: { restart: "/usr/bin/systemctl restart collectd" },
          ConfigPath: "/etc/collectd/collectd.conf",
          CommandPath: "/usr/sbin/collectd",
          PIDPath: "/run/collectd.pid",
        },
      },
    }),
    { self: "/usr/bin/edge-agent", isExecutable },
  );
  const conf = "/etc/collectd/collectd.conf";
  assert.deepEqual(
    p.write.map((g) => g.value).filter((v) => v.startsWith("/etc/collectd")),
    [conf, `${conf}.new`, `${conf}.orig`],
  );
  assert.ok(p.run.some((g) => g.value === "/usr/sbin/collectd"));
  assert.ok(p.read.some((g) => g.value === "/run/collectd.pid"));
});

Deno.test("derivePermissions() refuses what a flag cannot express, saying why", () => {
  assert.throws(
    () =>
      derivePermissions(config({}), {
        self: "/x",
        notifySocket: "@/org/freedesktop/systemd1/notify",
      }),
    (e) => e instanceof PermissionDerivationError && /abstract \$NOTIFY_SOCKET/.test(e.message),
  );
  assert.throws(
    () => derivePermissions(config({ StateDir: "/var/lib/a,b" }), { self: "/x" }),
    /must not contain a comma/,
  );
  assert.throws(
    () =>
      derivePermissions(config({ Services: { s: { commands: { c: "no-such-tool x" } } } }), {
        self: "/x",
        isExecutable,
      }),
    /Services\.s\.commands\.c: "no-such-tool" was not found in PATH/,
  );
});

Deno.test("scripts/agent runs main.ts with exactly the flags derived from the --config it is given (+ deno.json in development)", async () => {
  const dir = await Deno.makeTempDir();
  const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const file = join(dir, "config.json");
  await Deno.writeTextFile(file, JSON.stringify({ Listen: [{ Host: "127.0.0.1", Port: port }] }));
  await Deno.mkdir(join(dir, "rules"));
  const child = new Deno.Command(join(root, "scripts/agent"), {
    args: ["--config", file],
    cwd: dir,
    env: { NOTIFY_SOCKET: "" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("listening")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    assert.match(seen, /listening/);
    const cmdline = (await Deno.readTextFile(`/proc/${child.pid}/cmdline`)).split("\0");
    const { config: c } = parseConfig(await Deno.readTextFile(file), file);
    const expected = permissionFlags(derivePermissions(c));
    const flags = cmdline.filter((a) => a.startsWith("--allow") || a.startsWith("--unstable"));
    // plus, in development only, reading deno.json for the rule-host child's import map
    assert.deepEqual(flags, [
      ...expected.filter((a) => a !== "--no-prompt"),
      `--allow-read=${join(root, "deno.json")}`,
    ]);
    assert.ok(cmdline.includes("--no-prompt"));
    assert.ok(!cmdline.includes("-A") && !cmdline.includes("--allow-all"));
    reader.releaseLock();
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel();
    await Deno.remove(dir, { recursive: true });
  }
});
