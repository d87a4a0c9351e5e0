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
