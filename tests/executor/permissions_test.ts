import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("under --allow-run=/bin/echo, a command using another executable is a config error naming the flag", async () => {
  const stateDir = await Deno.makeTempDir();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${root}deno.json`,
      "--no-prompt",
      "--allow-run=/bin/echo",
      "--allow-read",
      `--allow-write=${stateDir}`,
      `${root}tests/testdata/executor/permissions/probe.ts`,
      stateDir,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const got = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(got.problems.length, 1, JSON.stringify(got.problems));
  assert.equal(got.problems[0].path, "Services.hello.commands.nap");
  assert.match(got.problems[0].message, /\/bin\/sleep is not in the --allow-run list/);
  assert.equal(got.direct.kind, "spawn_failed");
  assert.equal(got.direct.reason, "not_permitted");
  assert.deepEqual([got.result.code, got.result.message], [0, "Hello World!\n"]);
});

/** Pids of live processes whose command line contains `marker`. */
function alive(marker: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (cmd.includes(marker) && stat[stat.lastIndexOf(")") + 2] !== "Z") pids.push(+e.name);
    } catch { /* gone */ }
  }
  return pids;
}

/** The probe under exactly `--allow-run=<list>`: no read grant, as the derived flags have none. */
async function timeoutUnder(allowRun: string, marker: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${root}deno.json`,
      "--no-prompt",
      `--allow-run=${allowRun}`,
      `${root}tests/testdata/executor/permissions/timeout_probe.ts`,
      marker,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("under a restricted --allow-run that holds /usr/bin/kill, a timeout still kills the whole group", async () => {
  const marker = "sleep 41.7391";
  const got = await timeoutUnder("/bin/sh,/usr/bin/kill", "41.7391");
  assert.equal(got.outcome.timedOut, true);
  assert.deepEqual(got.warnings, []);
  assert.deepEqual(got.outcome.signals, [
    { signal: "SIGTERM", target: "group" },
    { signal: "SIGKILL", target: "group" },
  ]);
  assert.deepEqual(alive(marker), [], "the SIGTERM-ignoring grandchild was killed");
});

Deno.test("under a restricted --allow-run without a kill helper, a timeout kills the command and warns", async () => {
  const marker = "sleep 42.7391";
  const got = await timeoutUnder("/bin/sh", "42.7391");
  const survivors = alive(marker);
  for (const pid of survivors) Deno.kill(pid, "SIGKILL");
  assert.equal(got.outcome.timedOut, true);
  assert.equal(got.outcome.code, 128 + 9, "the command's own process got SIGKILL");
  assert.match(got.warnings.join("\n"), /holds neither \/usr\/bin\/kill nor \/bin\/kill/);
  assert.deepEqual(got.outcome.signals, [
    { signal: "SIGTERM", target: "leader" },
    { signal: "SIGKILL", target: "leader" },
  ]);
  assert.equal(survivors.length, 1, "documented limitation: its grandchild survived");
});

Deno.test("without read permission on the executables, commands still resolve to the permitted paths", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${root}deno.json`,
      "--no-prompt",
      "--allow-run=/bin/echo",
      `${root}tests/testdata/executor/permissions/resolve_probe.ts`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const got = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual(got.problems, ["Services.hello.commands.nap"]);
  assert.deepEqual(got.argv, { exec: ["/bin/echo", "hi"], bare: ["/bin/echo", "hi"] });
});
