import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/mod.ts";
import { readMaintenance } from "../../src/executor/mod.ts";

async function agent(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
  });
  return { code, stdout, stderr };
}

function configIn(dir: string): string {
  const file = join(dir, "config.json");
  Deno.writeTextFileSync(file, JSON.stringify({ StateDir: "state" }));
  return file;
}

Deno.test("agent maintenance on/status/off writes, shows and removes the switch in StateDir", async () => {
  const dir = await Deno.makeTempDir();
  const config = configIn(dir);
  const on = await agent("maintenance", "on", "--for", "2h", "--reason", "disk swap", "-c", config);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, /maintenance: on until .*\(120 min left\), reason: disk swap, by cli/);
  const m = readMaintenance(join(dir, "state"));
  assert.ok(m && Math.abs(m.until - Date.now() - 2 * 3600_000) < 60_000);
  const status = await agent("maintenance", "status", "--json", "--config", config);
  assert.equal(JSON.parse(status.stdout).maintenance, true);
  assert.equal(JSON.parse(status.stdout).reason, "disk swap");
  const off = await agent("maintenance", "off", "--config", config);
  assert.match(off.stdout, /maintenance: off/);
  assert.equal(readMaintenance(join(dir, "state")), null);
  assert.match((await agent("maintenance", "status", "-c", config)).stdout, /^maintenance: off\n$/);
});

Deno.test("agent maintenance refuses a missing or malformed duration as a usage error", async () => {
  const dir = await Deno.makeTempDir();
  const config = configIn(dir);
  const none = await agent("maintenance", "on", "--config", config);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--for needs a duration/);
  const bad = await agent("maintenance", "on", "--for", "2 hours", "--config", config);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /got "2 hours"/);
  assert.equal((await agent("maintenance", "pause", "--config", config)).code, 2);
});

Deno.test("agent maintenance on refuses a duration over 30 days and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  const config = configIn(dir);
  for (const d of ["999999999999d", "31d", "2592001"]) {
    const out = await agent("maintenance", "on", "--for", d, "--config", config);
    assert.equal(out.code, 2, d);
    assert.match(out.stderr, /longer than the maximum of 30d/);
  }
  const reason = await agent(
    "maintenance",
    "on",
    "--for",
    "1h",
    "--reason",
    "a\u0007",
    "-c",
    config,
  );
  assert.equal(reason.code, 2);
  assert.throws(() => Deno.statSync(join(dir, "state", "maintenance.json")), Deno.errors.NotFound);
  assert.equal((await agent("maintenance", "on", "--for", "30d", "-c", config)).code, 0);
});

Deno.test("agent maintenance status sets an unreadable maintenance.json aside, names it and reports off", async () => {
  const dir = await Deno.makeTempDir();
  const config = configIn(dir);
  const file = join(dir, "state", "maintenance.json");
  for (
    const text of [
      JSON.stringify({ since: 1, until: 8.64e19 }),
      JSON.stringify({ since: Date.now(), until: Date.now() + 40 * 86_400_000 }),
      '{"since": 1, "unt',
      "\u0000\u0001",
    ]
  ) {
    Deno.mkdirSync(join(dir, "state"), { recursive: true });
    Deno.writeTextFileSync(file, text);
    const out = await agent("maintenance", "status", "-c", config);
    assert.equal(out.code, 0);
    assert.equal(out.stdout, "maintenance: off\n");
    assert.match(
      out.stderr,
      new RegExp(`warning: ${file} is unreadable .*set aside as ${file}\\.corrupt-`),
    );
    assert.throws(() => Deno.statSync(file), Deno.errors.NotFound);
  }
  const aside = [...Deno.readDirSync(join(dir, "state"))].filter((e) => e.name.includes("corrupt"));
  assert.equal(aside.length, 4);
});
