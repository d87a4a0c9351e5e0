import assert from "node:assert/strict";
import { main } from "../../src/cli/mod.ts";
import { ExitCode } from "../../src/model/mod.ts";
import { VERSION } from "../../src/version.ts";

const root = new URL("../../", import.meta.url).pathname;

async function cli(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
  });
  return { code, stdout, stderr };
}

/**
 * The CLI as a process of its own (`main.ts`): check-config starts the sandboxed rule host as
 * `<entry> __rule-host`, which in-process would be this test file.
 */
async function cliProcess(...argv: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", `${root}deno.json`, `${root}main.ts`, ...argv],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("agent --version prints the version from deno.json", async () => {
  const r = await cli("--version");
  assert.equal(r.code, ExitCode.OK);
  assert.equal(r.stdout, `edge-agent ${VERSION}\n`);
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
});

Deno.test("agent --help lists the commands and the exit codes", async () => {
  const r = await cli("--help");
  assert.equal(r.code, ExitCode.OK);
  assert.match(r.stdout, /agent \[run\] \[--config FILE\]/);
  assert.match(r.stdout, /check-config/);
  assert.match(r.stdout, /Exit codes: 0 ok/);
});

Deno.test("an unknown command is a usage error (exit 2)", async () => {
  const r = await cli("frobnicate");
  assert.equal(r.code, ExitCode.USAGE);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});

Deno.test("an unknown option is a usage error that shows the command's usage", async () => {
  const r = await cli("check-config", "--confgi", "x.json");
  assert.equal(r.code, ExitCode.USAGE);
  assert.match(r.stderr, /Unknown option '--confgi'/);
  assert.match(r.stderr, /Usage: agent check-config/);
});

Deno.test("check-config accepts lua-collectd-monitor's config and prints a summary", async () => {
  // its rules folder (LocalMonitorConfigDir, default "rules" beside it) must be there
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(`${root}config/lua-collectd-monitor.json`, `${dir}/config.json`);
    await Deno.mkdir(`${dir}/rules`);
    const r = await cliProcess("check-config", "--config", `${dir}/config.json`);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.match(r.stdout, /: OK\n/);
    assert.match(r.stdout, /mode: MQTT localhost:1883/);
    assert.match(r.stdout, /services: .*nginx\(restart\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check-config fails when RulesDir is not there instead of reporting 0 handlers as OK", async () => {
  const r = await cliProcess("check-config", "--config", `${root}config/lua-collectd-monitor.json`);
  assert.equal(r.code, ExitCode.CONFIG);
  assert.match(r.stderr, /config\/rules: RulesDir cannot be read \(No such file or directory/);
});

Deno.test("check-config --json never prints the Password", async () => {
  const r = await cli(
    "check-config",
    "--json",
    "--config",
    `${root}config/lua-collectd-monitor.json`,
  );
  assert.equal(r.code, ExitCode.OK, r.stderr);
  assert.equal(JSON.parse(r.stdout).Password, "********");
  assert.doesNotMatch(r.stdout, /"test-user",\s*"Password": "test-user"/);
});

Deno.test("check-config exits 3 with the file and the bad key on a broken config", async () => {
  const file = `${root}tests/testdata/config/misspelled-top-level-key/config.json`;
  const r = await cli("check-config", "--config", file);
  assert.equal(r.code, ExitCode.CONFIG);
  assert.match(r.stderr, new RegExp(`Invalid config ${file}:\\n  - Hots: unknown key`));
});

Deno.test("check-config without --config checks the built-in local-only default", async () => {
  const r = await cliProcess("check-config");
  assert.equal(r.code, ExitCode.OK, r.stderr);
  assert.match(r.stdout, /config: built-in default: OK/);
  assert.match(r.stdout, /mode: local-only/);
  assert.match(r.stdout, /listen: 127\.0\.0\.1:25826 \(None\)/);
});
