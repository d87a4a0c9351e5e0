import assert from "node:assert/strict";
import { CLEAN_ENV, createProcessRunner, type RunOutcome } from "../../src/executor/mod.ts";

const env = { ...CLEAN_ENV };

function exited(o: RunOutcome) {
  assert.equal(o.kind, "exited", JSON.stringify(o));
  return o as Extract<RunOutcome, { kind: "exited" }>;
}

/** Pids of live processes whose command line contains `marker`. */
function alive(marker: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (cmd.includes(marker) && state !== "Z") pids.push(Number(e.name));
    } catch { /* gone */ }
  }
  return pids;
}

const marker = () => `3${Math.floor(Math.random() * 1e6) / 1e6 + 1}`.slice(0, 8);

Deno.test("the runner returns a successful command's output and status 0", async () => {
  const o = exited(
    await createProcessRunner().run({
      argv: ["/bin/echo", "Hello World!"],
      env,
      timeoutMs: 10_000,
    }),
  );
  assert.equal(o.code, 0);
  assert.equal(o.output, "Hello World!\n");
  assert.equal(o.timedOut, false);
  assert.equal(o.truncated, false);
});

Deno.test("the runner passes a non-zero exit status through and captures stderr with stdout", async () => {
  const o = exited(
    await createProcessRunner().run({
      argv: ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"],
      env,
      timeoutMs: 10_000,
    }),
  );
  assert.equal(o.code, 3);
  assert.match(o.output, /out\n/);
  assert.match(o.output, /err\n/);
});

Deno.test("commands get only the clean environment, not the agent's", async () => {
  Deno.env.set("EDGE_AGENT_SECRET_PROBE", "leak");
  try {
    const o = exited(
      await createProcessRunner().run({ argv: ["/usr/bin/env"], env, timeoutMs: 10_000 }),
    );
    assert.deepEqual(o.output.trim().split("\n").sort(), [
      "HOME=/",
      "LANG=C.UTF-8",
      `PATH=${CLEAN_ENV.PATH}`,
    ]);
  } finally {
    Deno.env.delete("EDGE_AGENT_SECRET_PROBE");
  }
});

Deno.test("a timeout kills the whole process group: a shell and its grandchild that ignore SIGTERM", async () => {
  const m = marker();
  const started = performance.now();
  const o = exited(
    await createProcessRunner({ graceMs: 300 }).run({
      argv: ["/bin/sh", "-c", `trap '' TERM; /bin/sleep ${m} & echo started; wait; echo survived`],
      env,
      timeoutMs: 300,
    }),
  );
  const took = performance.now() - started;
  assert.equal(o.timedOut, true);
  assert.equal(o.code, 128 + 9, "the leader ended by SIGKILL");
  assert.match(o.output, /started/);
  assert.doesNotMatch(o.output, /survived/);
  assert.ok(took >= 550 && took < 5000, `took ${took} ms`);
  assert.deepEqual(alive(`sleep ${m}`), [], "the grandchild is gone too");
});

Deno.test("a timeout also kills a SIGTERM-ignoring grandchild whose parent obeyed SIGTERM", async () => {
  const m = marker();
  const o = exited(
    await createProcessRunner({ graceMs: 300 }).run({
      argv: ["/bin/sh", "-c", `(trap '' TERM; exec /bin/sleep ${m}) & /bin/sleep 30`],
      env,
      timeoutMs: 300,
    }),
  );
  assert.equal(o.timedOut, true);
  assert.equal(o.code, 128 + 15, "the leader ended by SIGTERM");
  assert.deepEqual(alive(`sleep ${m}`), [], "the grandchild got SIGKILL after the grace period");
});

Deno.test("output over the cap is cut and marked truncated, with the real size counted", async () => {
  const o = exited(
    await createProcessRunner({ maxOutputBytes: 64 * 1024 }).run({
      argv: ["/usr/bin/head", "-c", "200000", "/dev/zero"],
      env,
      timeoutMs: 10_000,
    }),
  );
  assert.equal(o.code, 0);
  assert.equal(o.truncated, true);
  assert.equal(o.outputBytes, 200_000);
  assert.equal(o.output.length, 64 * 1024);
});

Deno.test("a missing executable is a spawn failure, not an exception", async () => {
  const o = await createProcessRunner().run({
    argv: ["/nonexistent/edge-agent-probe"],
    env,
    timeoutMs: 1000,
  });
  assert.equal(o.kind, "spawn_failed");
  assert.equal(o.kind === "spawn_failed" && o.reason, "not_found");
});
