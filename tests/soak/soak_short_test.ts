/**
 * The CI-sized soak: scripts/soak/soak.ts for 50 s with every fault injector (one 60-s cycle without
 * its second broker kill), against the real collectd, two mosquitto brokers and the agent. Its
 * table is printed into the test output.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;

/** Checks that must pass (not be skipped) with the integrated agent: all of them. */
const REQUIRED = [
  "every command got exactly one result",
  "repeated deliveries refused (0x1100), not run",
  "no command ran twice",
  "every rule-triggered run is audited",
  "every remote run is audited",
  "the agent never exited on its own",
  "RSS bounded, no growth trend",
  "valid metrics evaluated through the flood",
  "results carry the expected code",
  "cooldown held against a burst of triggers",
  "rules survive a looping and a broken rule file",
  "faults injected",
];

Deno.test("a 50-s soak with every fault keeps every command's result exactly once and the agent alive", async () => {
  const out = await new Deno.Command(`${root}scripts/deno`, {
    args: [
      "run",
      "-A",
      "--config",
      `${root}deno.json`,
      `${root}scripts/soak/soak.ts`,
      "--seconds",
      "50",
      "--resend-after",
      "15",
      // One 6-s flood gives two 2-s scrape intervals of ~115 collectd values each, sent in
      // ~30-value packets: ±1 packet is ±13%. The 20-min run holds the 10% limit over 20 floods.
      "--flood-loss-limit",
      "0.35",
      "--json",
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  console.log(stdout.split("\n").filter((l) => !l.startsWith("[{")).join("\n"));
  const json = stdout.split("\n").find((l) => l.startsWith("[{"));
  assert.ok(json, `no rows printed; stderr:\n${stderr.slice(-3000)}`);
  const rows: { check: string; ok: boolean | null; detail: string }[] = JSON.parse(json);
  for (const name of REQUIRED) {
    const row = rows.find((r) => r.check === name);
    assert.ok(row, `missing row "${name}"`);
    assert.equal(row.ok, true, `${name}: ${row.detail}\n${stderr.slice(-2000)}`);
  }
  assert.deepEqual(rows.filter((r) => r.ok === false), [], "a check failed");
  assert.equal(out.code, 0, stderr.slice(-2000));
});
