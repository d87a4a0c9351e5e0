import assert from "node:assert/strict";
import { defaultConfig, parseConfig } from "../../src/config/mod.ts";
import {
  derivePermissions,
  explain,
  PermissionDerivationError,
  permissionFlags,
} from "../../src/permissions/mod.ts";
import { KILL_HELPERS } from "../../src/executor/mod.ts";

const exists = new Set(["/usr/bin/systemctl", "/bin/echo", "/usr/sbin/service"]);
const isExecutable = (p: string) => exists.has(p);

function config(json: unknown, file = "/etc/edge-agent/config.json") {
  return parseConfig(JSON.stringify(json), file).config;
}

Deno.test("derivePermissions() grants --allow-run only to the Services' executables, the kill helpers and the agent itself", () => {
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
  assert.equal(p.run[0]!.reason, "Services.nginx.commands.restart: recovery command");
  assert.ok(
    permissionFlags(p).includes(
      "--allow-run=/usr/bin/systemctl,/bin/echo,/usr/sbin/service,/usr/bin/kill,/bin/kill," +
        "/usr/bin/edge-agent",
    ),
  );
  // each executable is readable too: the agent tells "does not exist" from "not permitted"
  for (const exe of ["/usr/bin/systemctl", "/bin/echo", "/usr/sbin/service"]) {
    assert.ok(p.read.some((g) => g.value === exe), exe);
  }
  // the kill helpers are run, never stat-ed: no read grant for them
  for (const kill of KILL_HELPERS) assert.ok(!p.read.some((g) => g.value === kill), kill);
});

Deno.test("derivePermissions() grants --allow-net only to listeners, brokers and notification servers", () => {
  const p = derivePermissions(
    config({
      Listen: [{ Host: "127.0.0.1", Port: 25826 }, { Host: "::1", Port: 25827 }],
      Host: ["broker-a", "broker-b:1884"],
      Secure: true,
      CAFile: "/etc/edge-agent/ca.pem",
      NotifyServers: [{ Host: "10.0.0.5", Port: 25826 }, { Host: "[fd00::5]", Port: 25826 }],
      Telemetry: { Listen: "127.0.0.1:9102", CollectdServers: [{ Host: "10.0.0.6" }] },
    }),
    { self: "/usr/bin/edge-agent", isExecutable },
  );
  assert.deepEqual(p.net.map((g) => g.value), [
    "127.0.0.1:25826",
    "[::1]:25827",
    "10.0.0.5:25826",
    "[fd00::5]:25826",
    "127.0.0.1:9102",
    "10.0.0.6:25826",
    "0.0.0.0:0", // the ephemeral ports notifications are sent from
    "[::]:0",
    "broker-a:8883", // TLS default port
    "broker-b:1884",
    // `agent status`: a socket path in the agent's own StateDir, no address or port
    "unix:/etc/edge-agent/state/status.sock",
  ]);
  assert.equal(p.net[1]!.reason, "Listen[1]: collectd listener");
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
  assert.ok(p.net.some((g) => g.value === "unix:/var/lib/edge-agent/status.sock"));
  // every granted resource is explained
  for (const line of explain(p).split("\n")) assert.match(line, /\(.+\)$/);
});

Deno.test("without Services only the agent itself may be run; the built-in default may look for the installed config", () => {
  const p = derivePermissions(config({}), { self: "/usr/bin/edge-agent", isExecutable });
  assert.deepEqual(p.run.map((g) => g.value), ["/usr/bin/edge-agent"]);
  assert.deepEqual(p.net.map((g) => g.value), [
    "127.0.0.1:25826",
    "unix:/etc/edge-agent/state/status.sock",
  ]);
  assert.deepEqual(p.sys.map((g) => g.value), ["hostname"]);
  const builtIn = derivePermissions(defaultConfig("/srv"), { self: "/x", isExecutable });
  // without --config the agent uses /etc/edge-agent/config.json when it exists: it may look
  assert.ok(builtIn.read.some((g) => g.value === "/etc/edge-agent/config.json"));
});

Deno.test("derivePermissions() grants what the system CA bundle and a multicast interface need", () => {
  const p = derivePermissions(
    config({
      Host: "broker",
      Secure: true,
      Listen: [{ Host: "239.192.74.66", Port: 25826, Interface: "eth0" }],
    }),
    { self: "/x", isExecutable },
  );
  // Secure without CAFile reads the system bundle: denied, it would silently use Deno's roots
  assert.ok(p.read.some((g) => g.value === "/etc/ssl/certs/ca-certificates.crt"));
  assert.deepEqual(p.sys.map((g) => g.value), ["hostname", "networkInterfaces"]);
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
  // its folder is read (synced after the rename); include folders will be added there
  assert.ok(p.read.some((g) => g.value === "/etc/collectd"));
  assert.ok(p.run.some((g) => g.value === "/usr/sbin/collectd"));
  assert.ok(p.read.some((g) => g.value === "/run/collectd.pid"));
  // is a pid alive: ps (Deno needs --allow-all for /proc), never a /proc grant
  assert.ok(p.run.some((g) => g.value === "/usr/bin/ps"));
  assert.ok(!p.read.some((g) => g.value.startsWith("/proc")));
  // systemd: is collectd a unit, its MainPID
  assert.ok(p.run.some((g) => g.value === "/usr/bin/systemctl"));
  assert.ok(p.read.some((g) => g.value === "/bin/systemctl"));
});

Deno.test("lua-collectd-monitor's Services.collectd with only ConfigPath gets the defaults' grants", () => {
  const p = derivePermissions(
    config({ Services: { collectd: { ConfigPath: "/opt/collectd/etc/collectd.conf" } } }),
    { self: "/x", isExecutable },
  );
  const run = p.run.map((g) => g.value);
  for (const exe of ["/usr/sbin/collectd", "/usr/bin/systemctl", "/usr/bin/ps", "/usr/bin/kill"]) {
    assert.ok(run.includes(exe), exe);
  }
  for (const pid of ["/var/run/collectd.pid", "/run/collectd.pid"]) {
    assert.ok(p.read.some((g) => g.value === pid), pid);
  }
  assert.ok(p.write.some((g) => g.value === "/opt/collectd/etc/collectd.conf.new"));
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

Deno.test("lenient: a command that cannot be resolved gets read access where it was looked for, so the agent can say so", () => {
  const p = derivePermissions(
    config({
      Services: {
        s: { commands: { gone: "/usr/sbin/not-there x", typo: "no-such-tool" } },
      },
    }),
    { self: "/x", isExecutable, lenient: true },
  );
  assert.ok(!p.run.some((g) => g.value === "/usr/sbin/not-there"));
  assert.ok(p.read.some((g) => g.value === "/usr/sbin/not-there"));
  assert.ok(p.read.some((g) => g.value === "/usr/local/sbin/no-such-tool"));
  assert.ok(p.read.some((g) => g.value === "/bin/no-such-tool"));
});

Deno.test("target elsewhere: an absolute executable missing here is granted as named, with a warning; a bare name is not", () => {
  const warnings: string[] = [];
  const p = derivePermissions(
    config({ Services: { web: { commands: { restart: "/usr/sbin/nginx -s reload" } } } }),
    { self: "/x", isExecutable, target: "elsewhere", onWarning: (w) => warnings.push(w) },
  );
  assert.ok(p.run.some((g) => g.value === "/usr/sbin/nginx"));
  assert.match(
    warnings.join("\n"),
    /Services\.web\.commands\.restart: \/usr\/sbin\/nginx is not on this machine/,
  );
  assert.throws(
    () =>
      derivePermissions(config({ Services: { web: { commands: { r: "nginx -s reload" } } } }), {
        self: "/x",
        isExecutable,
        target: "elsewhere",
      }),
    /"nginx" was not found in PATH/,
  );
});
