/**
 * The launchers start each command line with its role's flags: the daemon's for `run`, the
 * operator's for the operator commands (scripts/agent here; the package's /usr/bin/edge-agent is
 * tested in tests/acceptance/).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import {
  AGENT_V8_FLAGS,
  derivePermissions,
  OPERATOR_COMMANDS,
  operatorPermissions,
  permissionFlags,
} from "../../src/permissions/mod.ts";
import { COMMANDS } from "../../src/cli/commands.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("the operator commands are the same list in src/permissions, scripts/_flags.sh and the CLI", async () => {
  const sh = await Deno.readTextFile(join(root, "scripts/_flags.sh"));
  const listed = /^OPERATOR_COMMANDS=\(([^)]*)\)$/m.exec(sh)?.[1]?.split(" ");
  assert.deepEqual(listed, [...OPERATOR_COMMANDS]);
  const names = COMMANDS.map((c) => c.name);
  for (const c of OPERATOR_COMMANDS) assert.ok(names.includes(c), c);
  // everything else runs with the daemon's flags: only run and the hidden rule host remain
  assert.deepEqual(names.filter((n) => !(OPERATOR_COMMANDS as readonly string[]).includes(n)), [
    "run",
    "__rule-host",
  ]);
});

Deno.test("operatorPermissions() reads and connects anywhere, writes only StateDir, runs only itself", () => {
  const { config } = parseConfig(
    JSON.stringify({
      StateDir: "/var/lib/edge-agent",
      Services: { s: { commands: { c: "/bin/echo" } } },
    }),
    "/etc/edge-agent/config.json",
  );
  const p = operatorPermissions(config, { self: "/usr/lib/edge-agent/deno" });
  const flags = permissionFlags(p);
  assert.ok(flags.includes("--allow-read"));
  assert.ok(flags.includes("--allow-net"));
  assert.ok(flags.includes("--allow-write=/var/lib/edge-agent"));
  assert.ok(flags.includes("--allow-run=/usr/lib/edge-agent/deno"), "no recovery command");
  assert.ok(!flags.some((f) => f.startsWith("--allow-all") || f === "--allow-run"));
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
    const expected = permissionFlags(derivePermissions(c, { lenient: true }));
    const flags = cmdline.filter((a) => a.startsWith("--allow") || a.startsWith("--unstable"));
    // plus, in development only, reading deno.json for the rule-host child's import map
    const others = ["--no-prompt", "--no-code-cache", `--v8-flags=${AGENT_V8_FLAGS}`];
    assert.deepEqual(flags, [
      ...expected.filter((a) => !others.includes(a)),
      `--allow-read=${join(root, "deno.json")}`,
    ]);
    for (const f of others) assert.ok(cmdline.includes(f), f);
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

Deno.test("scripts/agent starts an operator command with the operator's flags, derived from the same config", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "config.json");
  await Deno.writeTextFile(file, JSON.stringify({ StateDir: join(dir, "state") }));
  await Deno.mkdir(join(dir, "rules"));
  try {
    // maintenance writes StateDir; a file outside every grant of the daemon is readable here
    const out = await new Deno.Command(join(root, "scripts/agent"), {
      args: ["maintenance", "on", "--for", "1m", "--config", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(new TextDecoder().decode(out.stdout), /maintenance: on until/);
    const listed = await new Deno.Command(join(root, "scripts/agent"), {
      args: ["check-config", "--config", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(listed.code, 0, new TextDecoder().decode(listed.stderr));
    assert.match(new TextDecoder().decode(listed.stdout), /permissions: derived from this config/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scripts/agent leaves a config that does not load to the agent, which says why in its own words", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "config.json");
  await Deno.writeTextFile(file, JSON.stringify({ Services: { collectd: { commands: 5 } } }));
  try {
    for (const args of [["--config", file], ["check-config", "--config", file]]) {
      const out = await new Deno.Command(join(root, "scripts/agent"), {
        args,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 3, stderr);
      assert.match(
        stderr,
        new RegExp(`^Invalid config ${file}:\\n  - Services\\.collectd\\.commands: `),
      );
      assert.doesNotMatch(stderr, /permission_flags|Requires .* access/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
