/**
 * How the replacer tells how collectd runs (systemd or a pid file), whether a pid is alive, and
 * what it runs by default (lua-collectd-monitor's defaults), with a recorded fake `exec`; the
 * real programs run in tests/collectd_conf/replace_test.ts and tests/acceptance/.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Exec,
  type ExecOutcome,
  psLiveness,
  systemdMainPid,
  systemdUnit,
} from "../../../src/collectd_conf/replace/_control.ts";
import { createRestarter } from "../../../src/collectd_conf/replace/_restart.ts";
import { Code } from "../../../src/model/mod.ts";

/** An exec that answers from `answer` and records every argv. */
function fakeExec(answer: (argv: string[]) => ExecOutcome): Exec & { calls: string[][] } {
  const calls: string[][] = [];
  const exec = (argv: string[]) => {
    calls.push(argv);
    return Promise.resolve(answer(argv));
  };
  return Object.assign(exec, { calls });
}

const clock = {
  now: () => Date.now(),
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
};

Deno.test("systemdUnit() asks the systemctl of the configured command about its unit; status 0 or 3 means systemd", async () => {
  const exec = fakeExec((argv) => ({ code: argv.includes("collectd-main") ? 3 : 4, output: "" }));
  const service = { commands: { restart: "/bin/true restart collectd-main" } };
  // /bin/true stands in for a systemctl only by its name: not one, so the candidates are asked
  assert.equal(await systemdUnit(service, exec, () => false), null);
  const dir = await Deno.makeTempDir();
  try {
    const systemctl = join(dir, "systemctl");
    await Deno.writeTextFile(systemctl, "#!/bin/sh\n");
    await Deno.chmod(systemctl, 0o755);
    const unit = await systemdUnit(
      { commands: { restart: `${systemctl} --no-ask-password restart collectd-main` } },
      exec,
      () => false,
    );
    assert.deepEqual(unit, { systemctl, unit: "collectd-main" });
    assert.deepEqual(exec.calls.at(-1), [systemctl, "status", "collectd-main"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("systemdUnit() without a systemctl command asks the first systemctl there is about collectd; 1 (not booted) and 4 (no unit) mean a pid file", async () => {
  for (const [code, expected] of [[0, true], [3, true], [1, false], [4, false]] as const) {
    const exec = fakeExec(() => ({ code, output: "" }));
    const unit = await systemdUnit({}, exec, (p) => p === "/bin/systemctl");
    assert.deepEqual(unit !== null, expected, `status ${code}`);
    assert.deepEqual(exec.calls, [["/bin/systemctl", "status", "collectd"]]);
  }
  const none = fakeExec(() => ({ code: 0, output: "" }));
  assert.equal(await systemdUnit({}, none, () => false), null);
  assert.deepEqual(none.calls, []);
});

Deno.test("systemdUnit() reports a systemctl the flags deny instead of taking it for no systemd", async () => {
  const exec = fakeExec(() => ({ code: Code.NOT_PERMITTED, output: "Requires run access" }));
  await assert.rejects(
    () => systemdUnit({}, exec, () => true),
    /Cannot run \/usr\/bin\/systemctl: not permitted by the agent's --allow-run/,
  );
});

Deno.test("systemdMainPid() reads MainPID; 0 is none; anything else is an error, not 'none'", async () => {
  const u = { systemctl: "/usr/bin/systemctl", unit: "collectd" };
  assert.equal(await systemdMainPid(u, fakeExec(() => ({ code: 0, output: "4242" }))), 4242);
  assert.equal(await systemdMainPid(u, fakeExec(() => ({ code: 0, output: "0" }))), null);
  await assert.rejects(
    () => systemdMainPid(u, fakeExec(() => ({ code: 1, output: "Failed to connect to bus" }))),
    /cannot ask systemd for collectd's pid: .* answered 1: Failed to connect to bus/,
  );
});

Deno.test("psLiveness(): a zombie is dead, an unknown pid is dead, a denied or missing ps is an error", async () => {
  const states: Record<string, ExecOutcome> = {
    "1": { code: 0, output: "Ss" },
    "2": { code: 0, output: "Z" },
    "3": { code: 1, output: "" },
    "4": { code: 2, output: "ps: weird" },
  };
  const alive = psLiveness(fakeExec((argv) => states[argv.at(-1)!]!));
  assert.equal(await alive(1), true);
  assert.equal(await alive(2), false, "zombie: kill -0 would say alive");
  assert.equal(await alive(3), false);
  await assert.rejects(
    () => alive(4),
    /cannot tell whether collectd \(pid 4\) is alive: .* answered 2/,
  );

  const denied = psLiveness(fakeExec(() => ({ code: Code.NOT_PERMITTED, output: "x" })));
  await assert.rejects(() => denied(1), /not permitted by the agent's --allow-run/);
  const missing = fakeExec((argv) =>
    argv[0] === "/usr/bin/ps" ? { code: Code.SPAWN_FAILED, output: "" } : { code: 0, output: "S" }
  );
  assert.equal(await psLiveness(missing)(1), true);
  assert.deepEqual(missing.calls.map((c) => c[0]), ["/usr/bin/ps", "/bin/ps"]);
  const none = psLiveness(fakeExec(() => ({ code: Code.SPAWN_FAILED, output: "" })));
  await assert.rejects(() => none(1), /install procps/);
});

Deno.test("without commands and without systemd, collectd is stopped by its pid and started with -P and -C (lua-collectd-monitor's defaults)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pidFile = join(dir, "collectd.pid");
    await Deno.writeTextFile(pidFile, "100\n");
    let running = new Set([100]);
    const exec = fakeExec((argv) => {
      if (argv[0]!.endsWith("systemctl")) return { code: 1, output: "not booted" };
      if (argv[0]!.endsWith("ps")) {
        return running.has(Number(argv.at(-1)))
          ? { code: 0, output: "S" }
          : { code: 1, output: "" };
      }
      if (argv[0]!.endsWith("kill")) {
        running = new Set();
        return { code: 0, output: "" };
      }
      if (argv[0] === "/opt/c/sbin/collectd") {
        running = new Set([200]);
        Deno.writeTextFileSync(argv[2]!, "200\n");
        return { code: 0, output: "" };
      }
      return { code: 127, output: `unexpected ${argv.join(" ")}` };
    });
    const control = await createRestarter({
      run: () => Promise.reject(new Error("no configured command")),
      exec,
      clock,
      pollMs: 5,
    })({ CommandPath: "/opt/c/sbin/collectd" }, "/etc/c/collectd.conf");
    assert.equal(control.describe, "pid file");
    const deadline = Date.now() + 2000;
    const restarted = await control.restart(
      { task_id: 1 },
      { stop: pidFile, start: pidFile },
      deadline,
    );
    assert.deepEqual(restarted, { ok: true });
    const ran = exec.calls.filter((c) => !c[0]!.endsWith("ps")).map((c) => c.join(" "));
    assert.ok(ran.includes("/usr/bin/kill -s TERM 100"), ran.join("\n"));
    assert.ok(ran.includes(`/opt/c/sbin/collectd -P ${pidFile} -C /etc/c/collectd.conf`));
    const confirmed = await control.confirm(pidFile, 100, deadline);
    assert.deepEqual(confirmed, { ok: true, pid: 200, metricsChecked: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("under systemd without commands, collectd is restarted with systemctl and confirmed by its new MainPID", async () => {
  let mainPid = 100;
  const exec = fakeExec((argv) => {
    const verb = argv[1];
    if (verb === "status") return { code: 0, output: "active" };
    if (verb === "restart") {
      mainPid = 300;
      return { code: 0, output: "" };
    }
    if (verb === "show") return { code: 0, output: String(mainPid) };
    if (argv[0]!.endsWith("ps")) return { code: 0, output: "Ss" };
    return { code: 127, output: "unexpected" };
  });
  const control = await createRestarter({
    run: () => Promise.reject(new Error("no configured command")),
    exec,
    clock,
    pollMs: 5,
  })({ ConfigPath: "/etc/collectd/collectd.conf" }, "/etc/collectd/collectd.conf");
  assert.match(control.describe, /^systemd unit collectd \(\/(usr\/)?bin\/systemctl\)$/);
  assert.equal(await control.running("/nonexistent.pid"), 100); // no pid file under systemd
  const deadline = Date.now() + 2000;
  assert.deepEqual(await control.restart({ task_id: 1 }, { stop: "/x", start: "/x" }, deadline), {
    ok: true,
  });
  assert.ok(exec.calls.some((c) => c[1] === "restart" && c[2] === "collectd"));
  assert.deepEqual(await control.confirm("/x", 100, deadline), {
    ok: true,
    pid: 300,
    metricsChecked: false,
  });
});
